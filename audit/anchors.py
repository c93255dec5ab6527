"""Signed anchors: what the database held, signed and written outside it, at the end of every run and often.

An anchor covers a range of events: the last event's seq and hash, and the first 8 bytes of
every event's hash in the range, so ``verify_audit`` can name the first event that differs
even when an attacker recomputed every later hash. Each anchor continues from the last one in
the store. Anchors are written after the events they cover are committed, by the process that
wrote them; a failure to anchor is logged and retried by the next anchor, never raised into
the work that recorded the events.
"""

import base64
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from . import conf
from .anchor_store import ANCHOR_SUFFIX, AnchorStore, anchor_store
from .chain import canonical_json, canonical_time
from .models import AuditEvent, Kind, Outcome
from .signing import Signer, default_signer

logger = logging.getLogger(__name__)

ANCHOR_VERSION = 1
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


def seq_of_name(name: str) -> int | None:
    """The last seq an anchor's name says it covers."""
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def signed_document(payload: dict[str, Any], signer: Signer) -> bytes:
    """The anchor file: the payload and its signature."""
    payload = {**payload, "key_id": signer.key_id}
    return (canonical_json({"payload": payload, "signature": signer.sign(payload)}) + "\n").encode()


def last_anchored_seq(store: AnchorStore) -> int:
    """The highest seq any head anchor in the store covers (0 when none does)."""
    seqs = [seq_of_name(name) for name in store.names() if f"-{HEAD}-" in name]
    return max((seq for seq in seqs if seq is not None), default=0)


def _digest_rows(using: str, first_seq: int, last_seq: int) -> list[tuple[int, str]]:
    rows = AuditEvent.objects.using(using).filter(seq__gte=first_seq, seq__lte=last_seq).order_by("seq")
    return list(rows.values_list("seq", "hash"))


def _contiguous(rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The rows up to the first gap: an anchor vouches only for a run of consecutive events."""
    for index in range(1, len(rows)):
        if rows[index][0] != rows[index - 1][0] + 1:
            return rows[:index]
    return rows


_write_lock = threading.Lock()


def write_head_anchors(*, reason: str, using: str = DEFAULT_DB_ALIAS, store: AnchorStore | None = None) -> list[str]:
    """Anchor every event committed since the store's last anchor; the names written (none when up to date)."""
    with _write_lock:
        store = store or anchor_store()
        store.prepare()
        events = AuditEvent.objects.using(using)
        head = events.order_by("-seq").values_list("seq", flat=True).first()
        oldest = events.order_by("seq").values_list("seq", flat=True).first()
        anchored = last_anchored_seq(store)
        if head is None or oldest is None or head <= anchored:
            if head is not None and head < anchored:
                logger.error("audit: the database ends at #%s but anchors go to #%s: run verify_audit", head, anchored)
            return []
        signer = default_signer()
        written, first = [], max(anchored + 1, oldest)
        while first <= head:
            rows = _contiguous(_digest_rows(using, first, min(first + MAX_EVENTS_PER_ANCHOR - 1, head)))
            if not rows or rows[0][0] != first:
                logger.error("audit: event #%s is missing; not anchoring past it: run verify_audit", first)
                break
            payload = {
                "version": ANCHOR_VERSION,
                "type": HEAD,
                "reason": reason,
                "created_at": canonical_time(timezone.now()),
                "first_seq": first,
                "last_seq": rows[-1][0],
                "head_hash": rows[-1][1],
                "digests": base64.b64encode(b"".join(digest_of(hash_) for _, hash_ in rows)).decode(),
            }
            name = anchor_name(rows[-1][0], HEAD)
            store.append(name, signed_document(payload, signer))
            written.append(name)
            first = rows[-1][0] + 1
        return written


def write_prune_anchor(*, signed_checkpoint: dict[str, Any], store: AnchorStore | None = None) -> str:
    """Put a prune checkpoint's signed statement in the anchor store too."""
    store = store or anchor_store()
    name = anchor_name(signed_checkpoint["payload"]["pruned_through_seq"], PRUNE)
    store.append(name, (canonical_json(signed_checkpoint) + "\n").encode())
    return name


@dataclass
class _Pace:
    """Events recorded since this process last anchored, and when it did."""

    events: int = 0
    since: float = 0.0


_pace: dict[str, _Pace] = {}


def anchor_after(*, kind: str, outcome: str, using: str) -> None:
    """Called after each committed event: anchor at the end of a run, and every N events or T seconds."""
    if not conf.anchoring_enabled():
        return
    pace = _pace.setdefault(using, _Pace(since=time.monotonic()))
    pace.events += 1
    every_events, every_seconds = conf.anchor_every_events(), conf.anchor_every_seconds()
    run_ended = kind in RUN_END_KINDS and outcome != Outcome.STARTED
    if run_ended:
        reason = str(kind)
    elif pace.events >= every_events or time.monotonic() - pace.since >= every_seconds:
        reason = "periodic"
    else:
        return
    pace.events, pace.since = 0, time.monotonic()
    # Only committed events are anchored: inside a caller's transaction, the anchor waits for its commit.
    transaction.on_commit(lambda: _anchor_quietly(reason, using), using=using)


def _anchor_quietly(reason: str, using: str) -> None:
    try:
        write_head_anchors(reason=reason, using=using)
    except Exception:  # pylint: disable=broad-exception-caught  # the events are safe; the next anchor covers them
        logger.exception("audit: could not write a signed anchor (%s)", reason)


def anchor_run_end(*, reason: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Anchor now, at the end of a run that records no closing event of its own (an export)."""
    if not conf.anchoring_enabled():
        return []
    return write_head_anchors(reason=reason, using=using)


def parse_document(data: bytes) -> tuple[dict[str, Any], object]:
    """The payload and signature of an anchor file; ValueError when it is not one."""
    document = json.loads(data)
    if not isinstance(document, dict) or not isinstance(document.get("payload"), dict):
        raise ValueError("not a signed anchor")
    return document["payload"], document.get("signature")
