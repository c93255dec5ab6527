"""Read every signed anchor back, for verification: what each anchored event's hash must start with.

An anchor that does not parse, names an unknown key or fails its signature is forgery
(``AnchorForged``, exit 1); a store or key that cannot be read is ``AnchorStoreUnavailable``
or ``KeyUnavailable`` (exit 2).
"""

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .anchor_store import AnchorStore
from .anchors import DIGEST_BYTES, HEAD, PRUNE, parse_document, present_seqs
from .signing import check_signed


class AnchorForged(Exception):
    """An anchor in the store was not signed by a trusted key, or does not parse."""


@dataclass
class AnchorSet:
    """The anchored digest of every covered seq, the signed prune statements, and any seq anchors disagree on."""

    base: int = 1
    last_seq: int = 0
    digests: bytearray = field(default_factory=bytearray)
    covered: bytearray = field(default_factory=bytearray)
    prunes: list[dict[str, Any]] = field(default_factory=list)
    anchors: int = 0
    first_conflict: int | None = None

    def expected(self, seq: int) -> bytes | None:
        """What the event's hash must start with, or None when no anchor covers it."""
        index = seq - self.base
        if index < 0 or index >= len(self.covered) or not self.covered[index]:
            return None
        return bytes(self.digests[index * DIGEST_BYTES : (index + 1) * DIGEST_BYTES])


def _head_range(payload: dict[str, Any]) -> tuple[int, int, bytes, list[int] | None]:
    """The anchor's first and last seq, digests, and the seqs they belong to when not every seq between."""
    first, last = payload.get("first_seq"), payload.get("last_seq")
    try:
        blob = base64.b64decode(payload.get("digests", ""), validate=True)
        bitmap = base64.b64decode(payload["present"], validate=True) if "present" in payload else None
    except (binascii.Error, TypeError, ValueError) as error:
        raise ValueError("unreadable digests") from error
    if not isinstance(first, int) or not isinstance(last, int) or last < first:
        raise ValueError("its range is not one")
    if bitmap is not None and len(bitmap) != (last - first) // 8 + 1:
        raise ValueError("its range and bitmap disagree")
    seqs = None if bitmap is None else present_seqs(first, last, bitmap)
    if len(blob) != (last - first + 1 if seqs is None else len(seqs)) * DIGEST_BYTES:
        raise ValueError("its range and digests disagree")
    return first, last, blob, seqs


def _place_one(anchor_set: AnchorSet, seq: int, digest: bytes) -> None:
    index = seq - anchor_set.base
    if not anchor_set.covered[index]:
        anchor_set.digests[index * DIGEST_BYTES : (index + 1) * DIGEST_BYTES] = digest
        anchor_set.covered[index] = 1
    elif anchor_set.digests[index * DIGEST_BYTES : (index + 1) * DIGEST_BYTES] != digest:
        anchor_set.first_conflict = min(seq, anchor_set.first_conflict or seq)


def _place(anchor_set: AnchorSet, first: int, blob: bytes, seqs: list[int] | None) -> None:
    """Put one anchor's digests in place; where another anchor covered the same seq, they must agree."""
    count = len(blob) // DIGEST_BYTES
    start = first - anchor_set.base
    if seqs is None and anchor_set.covered.find(1, start, start + count) == -1:
        # The common case, a run of seqs no other anchor covered: one copy.
        anchor_set.digests[start * DIGEST_BYTES : (start + count) * DIGEST_BYTES] = blob
        anchor_set.covered[start : start + count] = b"\x01" * count
        return
    for offset, seq in enumerate(range(first, first + count) if seqs is None else seqs):
        _place_one(anchor_set, seq, blob[offset * DIGEST_BYTES : (offset + 1) * DIGEST_BYTES])


def load_anchor_set(store: AnchorStore, keys: dict[str, Ed25519PublicKey]) -> AnchorSet:
    """Check every anchor's signature and gather what they vouch for."""
    heads = []
    anchor_set = AnchorSet()
    for name in store.names():
        data = store.read(name)
        try:
            payload, signature = parse_document(data)
        except ValueError as error:
            raise AnchorForged(f"the anchor {name} is not a signed anchor") from error
        problem = check_signed(payload, signature, keys)
        if problem:
            raise AnchorForged(f"the anchor {name} is forged: {problem}")
        anchor_set.anchors += 1
        if payload.get("type") == HEAD:
            try:
                heads.append(_head_range(payload))
            except ValueError as error:
                raise AnchorForged(f"the anchor {name} is malformed: {error}") from error
        elif payload.get("type") == PRUNE:
            anchor_set.prunes.append(payload)
    if heads:
        anchor_set.base = min(first for first, _, _, _ in heads)
        anchor_set.last_seq = max(last for _, last, _, _ in heads)
        size = anchor_set.last_seq - anchor_set.base + 1
        anchor_set.digests, anchor_set.covered = bytearray(size * DIGEST_BYTES), bytearray(size)
        for first, _, blob, seqs in heads:
            _place(anchor_set, first, blob, seqs)
    return anchor_set
