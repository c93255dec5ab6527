"""The audit log's Ed25519 keys: the signing key, and the public keys an auditor verifies with.

Anyone who can write the database can rewrite the hash chain and recompute every hash;
nobody without the signing key can sign. Anchors, prune checkpoints and export manifests
are therefore signed, and checked with public keys alone. A key is named by its key id,
the first 16 hex digits of the sha256 of its raw public bytes, so that keys can rotate:
``AUDIT_VERIFY_KEYS`` lists the public keys of retired signing keys.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from . import conf
from .chain import canonical_json

KEY_ID_LENGTH = 16
PRIVATE_KEY_MODE = 0o600


class KeyUnavailable(Exception):
    """A key file is missing, unreadable or not an Ed25519 key; the message says which and why."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """The public key's name in anchors and manifests."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM text, to hand to an auditor."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Write a new key, readable by this user only, without ever replacing an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


def load_signing_key(*, create: bool | None = None) -> Ed25519PrivateKey:
    """The private key in ``AUDIT_SIGNING_KEY_FILE``; created (mode 600) on first use when DEBUG is on."""
    path = conf.signing_key_file()
    if path is None:
        raise KeyUnavailable("AUDIT_SIGNING_KEY_FILE is not set")
    create = settings.DEBUG if create is None else create
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        if not create:
            raise KeyUnavailable(f"the audit signing key {path} does not exist") from error
        try:
            return create_signing_key(path)
        except FileExistsError:  # another process created it meanwhile
            data = path.read_bytes()
        except OSError as create_error:
            raise KeyUnavailable(f"cannot create the audit signing key {path}: {create_error}") from create_error
    except OSError as error:
        raise KeyUnavailable(f"cannot read the audit signing key {path}: {error}") from error
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyUnavailable(f"{path} is not a PEM private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnavailable(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (a private key file gives its public half)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise KeyUnavailable(f"cannot read the public key {path}: {error}") from error
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as error:
            raise KeyUnavailable(f"{path} is not a PEM Ed25519 key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise KeyUnavailable(f"{path} is not an Ed25519 key")
    return key


def verify_keys(*, include_signing_key: bool = True) -> dict[str, Ed25519PublicKey]:
    """The trusted public keys by key id: ``AUDIT_VERIFY_KEYS`` and the signing key's own public half."""
    keys = {}
    for path in conf.verify_key_files():
        public = load_public_key(Path(path))
        keys[key_id(public)] = public
    if include_signing_key and conf.signing_key_file() is not None:
        public = load_signing_key(create=False).public_key()
        keys[key_id(public)] = public
    if not keys:
        raise KeyUnavailable("no public key to verify with: set AUDIT_VERIFY_KEYS or AUDIT_SIGNING_KEY_FILE")
    return keys


@dataclass(frozen=True)
class Signer:
    """Signs JSON payloads with one private key, naming the key by its id."""

    private_key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        """The id of the key that signs."""
        return key_id(self.private_key.public_key())

    def sign(self, payload: dict[str, Any]) -> str:
        """The Ed25519 signature of the payload's canonical JSON, in hex (no character redaction could touch)."""
        return self.private_key.sign(canonical_json(payload).encode()).hex()


def signature_valid(payload: dict[str, Any], signature: str, public_key: Ed25519PublicKey) -> bool:
    """Whether ``signature`` is the key's signature of the payload's canonical JSON."""
    try:
        public_key.verify(bytes.fromhex(signature), canonical_json(payload).encode())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def check_signed(payload: dict[str, Any], signature: object, keys: dict[str, Ed25519PublicKey]) -> str:
    """Empty when a trusted key signed the payload (which names the key), else why not."""
    named = payload.get("key_id")
    if named not in keys:
        return f"signed with an unknown key {named!r}"
    if not isinstance(signature, str) or not signature_valid(payload, signature, keys[named]):
        return f"its signature does not verify with key {named}"
    return ""


def default_signer() -> Signer:
    """The signer for ``AUDIT_SIGNING_KEY_FILE``."""
    return Signer(load_signing_key())
