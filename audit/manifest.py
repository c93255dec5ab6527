"""Export manifests: what an exported trail must hold, and the check that it does, away from the database."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from .chain import HASHED_FIELDS, canonical_time, event_hash, parse_canonical_time
from .signing import Signer, check_signed

EXPORT_FIELDS = (*HASHED_FIELDS, "hash")
MANIFEST_VERSION = 1
# Exports filtered by kind or run skip events, so their lines cannot link to each other.
UNCHAINED_FILTERS = ("kind", "run_id")


def export_line(row: dict[str, Any]) -> bytes:
    """One event as one UTF-8 JSON line, newline included: the bytes the manifest's sha256 covers."""
    return (json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n").encode()


class ExportDigest:
    """The running summary of the lines written: count, seq range, hashes at both ends, sha256."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self.count = 0
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.first_prev_hash: str | None = None
        self.head_hash: str | None = None

    @property
    def sha256(self) -> str:
        """The sha256 of the lines so far."""
        return self._sha256.hexdigest()

    def add(self, row: dict[str, Any], line: bytes) -> None:
        """Account for one line, as the bytes in the file."""
        self._sha256.update(line)
        self.count += 1
        if self.first_seq is None:
            self.first_seq, self.first_prev_hash = row["seq"], row["prev_hash"]
        self.last_seq, self.head_hash = row["seq"], row["hash"]

    def manifest(self, *, filters: dict[str, str | None]) -> dict[str, Any]:
        """The manifest to keep beside the export."""
        return {
            "version": MANIFEST_VERSION,
            "format": "jsonl",
            "count": self.count,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "first_prev_hash": self.first_prev_hash,
            "head_hash": self.head_hash,
            "sha256": self.sha256,
            "chained": not any(filters.get(name) for name in UNCHAINED_FILTERS),
            "filters": filters,
            "exported_at": canonical_time(timezone.now()),
        }


def sign_manifest(manifest: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The manifest with the signer's key id and its signature over everything else."""
    payload = {**manifest, "key_id": signer.key_id}
    return {**payload, "signature": signer.sign(payload)}


def manifest_signature_problem(manifest: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> str:
    """Empty when a trusted key signed the manifest, else why not (an edited manifest fails here)."""
    payload = {name: value for name, value in manifest.items() if name != "signature"}
    problem = check_signed(payload, manifest.get("signature"), keys)
    return f"the manifest is not genuine: {problem}" if problem else ""


@dataclass(frozen=True)
class ExportCheck:
    """What ``verify_export`` found: ``problem`` is empty when the export matches its manifest."""

    count: int
    problem: str = ""
    line: int | None = None

    @property
    def intact(self) -> bool:
        """Whether every line and the totals checked out."""
        return not self.problem


class _BadLine(Exception):
    """One line of the export is wrong; the message says how."""


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        row = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise _BadLine("not a JSON object") from error
    if not isinstance(row, dict):
        raise _BadLine("not a JSON object")
    row.setdefault("chain", "")  # exports from before per-writer chains
    missing = [name for name in EXPORT_FIELDS if name not in row]
    if missing:
        raise _BadLine(f"lacks {', '.join(missing)}")
    try:
        fields = row | {"created_at": parse_canonical_time(row["created_at"])}
    except (TypeError, ValueError) as error:
        raise _BadLine(f"event #{row['seq']} has an unreadable time") from error
    if event_hash(fields) != row["hash"]:
        raise _BadLine(f"event #{row['seq']} does not match its hash: changed")
    return row


def _check_link(row: dict[str, Any], previous_seq: int | None, heads: dict[str, str]) -> None:
    """Seqs ascend, and each event links to the one before it in its chain.

    The first event of a chain in the export may link to an event before the export.
    """
    if previous_seq is not None and row["seq"] <= previous_seq:
        raise _BadLine(f"event #{row['seq']} comes after #{previous_seq}: reordered")
    expected = heads.get(row["chain"])
    if expected is not None and row["prev_hash"] != expected:
        if previous_seq is not None and row["seq"] > previous_seq + 1:
            raise _BadLine(f"expected event #{previous_seq + 1} but found #{row['seq']}: removed or reordered")
        raise _BadLine(f"event #{row['seq']} does not link to the event before it: removed or reordered")


def _check_totals(manifest: dict[str, Any], digest: ExportDigest) -> str:
    found = {
        "count": digest.count,
        "first_seq": digest.first_seq,
        "last_seq": digest.last_seq,
        "head_hash": digest.head_hash,
    }
    for name, value in found.items():
        if manifest.get(name) != value:
            return f"the export's {name} is {value}, the manifest says {manifest.get(name)}"
    if manifest.get("sha256") != digest.sha256:
        return f"the export's sha256 is {digest.sha256}, the manifest says {manifest.get('sha256')}"
    return ""


def verify_export(export_path: Path, manifest: dict[str, Any]) -> ExportCheck:
    """Recompute every line's hash, check the links (for unfiltered exports) and the manifest's totals."""
    digest = ExportDigest()
    previous_seq, first_seq = None, manifest.get("first_seq")
    heads: dict[str, str] = {}
    with open(export_path, "rb") as export:
        for number, raw in enumerate(export, start=1):
            try:
                row = _parse(raw)
                if number == 1 and (row["seq"], row["prev_hash"]) != (first_seq, manifest.get("first_prev_hash")):
                    raise _BadLine(f"expected event #{first_seq} but found #{row['seq']}: removed or reordered")
                if manifest.get("chained", True):
                    _check_link(row, previous_seq, heads)
            except _BadLine as error:
                return ExportCheck(digest.count, f"line {number}: {error}", number)
            digest.add(row, raw)
            previous_seq, heads[row["chain"]] = row["seq"], row["hash"]
    problem = _check_totals(manifest, digest)
    return ExportCheck(digest.count, problem)
