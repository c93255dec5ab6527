"""Signed anchors: what the database held, signed and written outside it, at the end of every run and often.

An anchor covers the events its writer process appended since its last anchor: their seqs
(``first_seq``..``last_seq``, with a ``present`` bitmap when other writers' events lie
between them) and the first 8 bytes of each one's hash, so ``verify_audit`` can name the
first event that differs even when an attacker recomputed every later hash, and knows an
anchored event that has gone missing. Each process anchors only its own chains, after its
events are committed, so an anchor never races a writer still committing. A failure to
anchor is logged, never raised into the work that recorded the events: the process's next
anchor covers them, and ``audit_anchor`` (``sweep.py``) signs what a writer that ended
between anchors left unsigned.
"""

import base64
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, transaction
from django.dispatch import receiver
from django.utils import timezone

from . import conf
from .anchor_store import ANCHOR_SUFFIX, AnchorStore, anchor_store
from .append import owned_chains
from .chain import canonical_json, canonical_time
from .models import AuditEvent, Kind, Outcome
from .signing import Signer, default_signer

logger = logging.getLogger(__name__)

ANCHOR_VERSION = 2
DIGEST_BYTES = 8
MAX_EVENTS_PER_ANCHOR = 50_000
HEAD, PRUNE = "head", "prune"
# Events that close a run (sync, admin refresh, test run, lint, prune): an anchor follows each.
RUN_END_KINDS = frozenset({Kind.SYNC, Kind.ADMIN, Kind.TEST_RUN, Kind.LINT, Kind.CHECKPOINT})


def digest_of(hash_hex: str) -> bytes:
    """The part of an event's hash an anchor keeps."""
    return bytes.fromhex(hash_hex[: DIGEST_BYTES * 2])


def anchor_name(last_seq: int, anchor_type: str) -> str:
    """Names sort by the last seq they cover; the random tail keeps concurrent writers apart."""
    return f"{last_seq:020d}-{anchor_type}-{uuid.uuid4().hex[:12]}{ANCHOR_SUFFIX}"


def present_bitmap(seqs: list[int]) -> bytes:
    """Bit ``seq - seqs[0]`` set for each seq (ascending): which seqs of the range an anchor covers."""
    bits = bytearray((seqs[-1] - seqs[0]) // 8 + 1)
    for seq in seqs:
        offset = seq - seqs[0]
        bits[offset >> 3] |= 1 << (offset & 7)
    return bytes(bits)


def present_seqs(first: int, last: int, bitmap: bytes) -> list[int]:
    """The seqs ``present_bitmap`` marked."""
    return [first + offset for offset in range(last - first + 1) if bitmap[offset >> 3] >> (offset & 7) & 1]


def signed_document(payload: dict[str, Any], signer: Signer) -> bytes:
    """The anchor file: the payload and its signature."""
    payload = {**payload, "key_id": signer.key_id}
    return (canonical_json({"payload": payload, "signature": signer.sign(payload)}) + "\n").encode()


def head_payload(rows: list[tuple[int, str]], *, reason: str) -> dict[str, Any]:
    """The anchor of ``rows`` (seq and hash, ascending)."""
    seqs = [seq for seq, _ in rows]
    payload = {
        "version": ANCHOR_VERSION,
        "type": HEAD,
        "reason": reason,
        "created_at": canonical_time(timezone.now()),
        "first_seq": seqs[0],
        "last_seq": seqs[-1],
        "head_hash": rows[-1][1],
        "digests": base64.b64encode(b"".join(digest_of(hash_) for _, hash_ in rows)).decode(),
    }
    if seqs[-1] - seqs[0] + 1 != len(seqs):
        payload["present"] = base64.b64encode(present_bitmap(seqs)).decode()
    return payload


_write_lock = threading.Lock()
# (store, alias, chain): the last seq of that chain this process has anchored there.
_anchored: dict[tuple[str, str, str], int] = {}


def _fresh_lock_after_fork() -> None:
    global _write_lock  # pylint: disable=global-statement  # a lock held at fork time would never be released
    _write_lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_after_fork)


def sign_rows(rows: list[tuple[int, str]], *, reason: str, store: AnchorStore) -> list[str]:
    """Anchor these events (seq and hash, ascending), in as many anchors as they need; the names written."""
    signer, written = default_signer(), []
    for first in range(0, len(rows), MAX_EVENTS_PER_ANCHOR):
        part = rows[first : first + MAX_EVENTS_PER_ANCHOR]
        name = anchor_name(part[-1][0], HEAD)
        store.append(name, signed_document(head_payload(part, reason=reason), signer))
        written.append(name)
    return written


def _not_anchored(using: str, done: dict[str, int]) -> tuple[list[tuple[int, str]], dict[str, int]]:
    """The seq and hash of each event of these chains after what is ``done``; each chain's newest seq."""
    events = AuditEvent.objects.using(using).filter(chain__in=list(done), seq__gt=min(done.values()))
    rows, newest = [], dict(done)
    for seq, chain, hash_ in events.order_by("seq").values_list("seq", "chain", "hash").iterator():
        if seq > done[chain]:
            rows.append((seq, hash_))
            newest[chain] = seq
    return rows, newest


def write_head_anchors(
    *,
    reason: str,
    using: str = DEFAULT_DB_ALIAS,
    store: AnchorStore | None = None,
    chains: Iterable[str] | None = None,
) -> list[str]:
    """Anchor the committed events of ``chains`` (this process's own, by default) not anchored yet.

    Returns the names of the anchors written.
    """
    with _write_lock:
        store = store or anchor_store()
        store.prepare()
        chains = sorted(owned_chains(using) if chains is None else chains)
        if not chains:
            return []
        where = store.describe()
        done = {chain: _anchored.get((where, using, chain), 0) for chain in chains}
        rows, newest = _not_anchored(using, done)
        if not rows:
            return []
        written = sign_rows(rows, reason=reason, store=store)
        for chain, seq in newest.items():
            _anchored[where, using, chain] = seq
        return written


def write_prune_anchor(*, signed_checkpoint: dict[str, Any], store: AnchorStore | None = None) -> str:
    """Put a prune checkpoint's signed statement in the anchor store too."""
    store = store or anchor_store()
    name = anchor_name(signed_checkpoint["payload"]["pruned_through_seq"], PRUNE)
    store.append(name, (canonical_json(signed_checkpoint) + "\n").encode())
    return name


@dataclass
class _Pace:
    """Events recorded since this process last anchored, when it did, and how often it anchors.

    The settings are read when a window starts, not on every event (this is the hot path), and
    again when a test changes them (``setting_changed``).
    """

    events: int = 0
    since: float = field(default_factory=time.monotonic)
    enabled: bool = field(default_factory=conf.anchoring_enabled)
    every_events: int = 0
    every_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.enabled:  # the pace is not read, nor checked, when anchoring is off
            self.every_events, self.every_seconds = conf.anchor_every_events(), conf.anchor_every_seconds()


_pace: dict[str, _Pace] = {}


@receiver(setting_changed)
def _read_pace_afresh(*, setting: str, **_: Any) -> None:
    if setting.startswith("AUDIT_ANCHOR"):
        _pace.clear()


def anchor_after(*, kind: str, outcome: str, using: str) -> None:
    """Called after each committed event: anchor at the end of a run, and every N events or T seconds."""
    pace = _pace.get(using) or _pace.setdefault(using, _Pace())
    if not pace.enabled:
        return
    pace.events += 1
    if kind in RUN_END_KINDS and outcome != Outcome.STARTED:
        reason = str(kind)
    elif pace.events >= pace.every_events or time.monotonic() - pace.since >= pace.every_seconds:
        reason = "periodic"
    else:
        return
    _pace[using] = _Pace()
    # Only committed events are anchored: inside a caller's transaction, the anchor waits for its commit.
    transaction.on_commit(lambda: _anchor_quietly(reason, using), using=using)


def _anchor_quietly(reason: str, using: str) -> None:
    try:
        write_head_anchors(reason=reason, using=using)
    except Exception:  # pylint: disable=broad-exception-caught  # the events are safe; the next anchor covers them
        logger.exception("audit: could not write a signed anchor (%s)", reason)


def anchor_run_end(*, reason: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Anchor this process's events now, at the end of a run that records no closing event of its own (an export)."""
    if not conf.anchoring_enabled():
        return []
    return write_head_anchors(reason=reason, using=using)


def parse_document(data: bytes) -> tuple[dict[str, Any], object]:
    """The payload and signature of an anchor file; ValueError when it is not one."""
    document = json.loads(data)
    if not isinstance(document, dict) or not isinstance(document.get("payload"), dict):
        raise ValueError("not a signed anchor")
    return document["payload"], document.get("signature")
