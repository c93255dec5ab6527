"""Verify the stored chain against the signed anchors, from where it starts now, and record the result.

The hash chain alone shows that rows still link up; anyone who can write the database can
re-link them. The signed anchors, kept outside the database, say what the events were, so
the walk also compares each anchored event with its anchor, and events anchored but gone
are a truncated tail. Only signed prune checkpoints may explain missing early events.
"""

import re
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import DEFAULT_DB_ALIAS

from .anchor_set import AnchorSet, load_anchor_set
from .anchor_store import AnchorStore, anchor_store
from .chain import ChainReport
from .fast_walk import stored_rows, walk
from .models import GENESIS_HASH, AuditEvent, Kind, Outcome
from .services import record_event
from .signing import check_signed, verify_keys

# The keys a prune checkpoint's details carry: the last pruned event's seq and hash, and the signed statement.
PRUNED_THROUGH_SEQ = "pruned_through_seq"
PRUNED_THROUGH_HASH = "pruned_through_hash"
SIGNED_CHECKPOINT = "signed"
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ChainStart:
    """Where a walk of the stored chain begins, the hashes signed prune checkpoints pinned, and forged ones."""

    seq: int
    hash: str
    pinned: dict[int, str]
    forged: dict[int, str] = field(default_factory=dict)
    anchors: AnchorSet | None = None

    @property
    def pruned(self) -> bool:
        """Whether events before the start were pruned behind a checkpoint."""
        return self.seq > 1


def _signed_pin(details: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> tuple[int, str] | None:
    """The pruned-through seq and hash of a checkpoint a trusted key signed, else None."""
    signed = details.get(SIGNED_CHECKPOINT)
    if not isinstance(signed, dict) or not isinstance(signed.get("payload"), dict):
        return None
    payload = signed["payload"]
    if check_signed(payload, signed.get("signature"), keys):
        return None
    seq, hash_ = payload.get(PRUNED_THROUGH_SEQ), payload.get(PRUNED_THROUGH_HASH)
    if (seq, hash_) != (details.get(PRUNED_THROUGH_SEQ), details.get(PRUNED_THROUGH_HASH)):
        return None
    if isinstance(seq, int) and isinstance(hash_, str) and HASH_PATTERN.fullmatch(hash_):
        return seq, hash_
    return None


def checkpoint_pins(
    *, keys: dict[str, Ed25519PublicKey], using: str = DEFAULT_DB_ALIAS
) -> tuple[dict[int, str], dict[int, str]]:
    """The pins of signed prune checkpoints, and the checkpoints no trusted key signed (seq: why)."""
    pins, forged = {}, {}
    checkpoints = AuditEvent.objects.using(using).filter(kind=Kind.CHECKPOINT).values_list("seq", "details")
    for seq, details in checkpoints:
        pin = _signed_pin(details if isinstance(details, dict) else {}, keys)
        if pin is None:
            forged[seq] = "is a prune checkpoint no trusted key signed: forged"
        else:
            pins[pin[0]] = pin[1]
    return pins, forged


def chain_start(
    oldest: tuple[int, str] | None, pins: dict[int, str], forged: dict[int, str] | None = None
) -> ChainStart:
    """Start at the oldest stored event when a signed checkpoint covers everything before it, else at #1.

    ``oldest`` is the oldest stored event's seq and previous hash. Starting at #1 when
    rows are missing without a checkpoint makes the walk report them as removed.
    """
    forged = forged or {}
    if oldest is None or oldest[0] == 1 or not any(seq >= oldest[0] - 1 for seq in pins):
        return ChainStart(1, GENESIS_HASH, pins, forged)
    first_seq, first_prev_hash = oldest
    # A prune stopped between batches leaves the end of its range: the first row's own
    # link is taken, and the walk meets the checkpoint's pinned event further on.
    return ChainStart(first_seq, pins.get(first_seq - 1, first_prev_hash), pins, forged)


def stored_chain_start(
    *, using: str = DEFAULT_DB_ALIAS, keys: dict[str, Ed25519PublicKey] | None = None, anchors: AnchorSet | None = None
) -> ChainStart:
    """Where verification of the chain stored in ``using`` begins."""
    keys = keys if keys is not None else verify_keys()
    oldest = AuditEvent.objects.using(using).order_by("seq").values_list("seq", "prev_hash").first()
    pins, forged = checkpoint_pins(keys=keys, using=using)
    if anchors is not None:
        pins = {**anchors.prunes, **pins}
    start = chain_start(oldest, pins, forged)
    return ChainStart(start.seq, start.hash, start.pinned, start.forged, anchors)


def verify_stored_chain(
    *,
    through_seq: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
    store: AnchorStore | None = None,
    anchored: bool = True,
) -> tuple[ChainReport, ChainStart]:
    """Walk the stored chain (up to ``through_seq``, when given) from its start, against the anchors.

    Raises ``AnchorStoreUnavailable`` or ``KeyUnavailable`` when the anchors or keys cannot
    be read, and ``AnchorForged`` when an anchor is not genuine.
    """
    keys = verify_keys()
    anchors = load_anchor_set(store or anchor_store(), keys) if anchored else None
    start = stored_chain_start(using=using, keys=keys, anchors=anchors)
    suspect = dict(start.forged)
    if anchors is not None and anchors.first_conflict is not None:
        suspect.setdefault(anchors.first_conflict, "is anchored twice with different hashes: rewritten between anchors")
    rows = stored_rows(using=using, through_seq=through_seq)
    try:
        report = walk(
            rows, start_seq=start.seq, start_hash=start.hash, pinned=start.pinned, anchors=anchors, suspect=suspect
        )
    finally:
        rows.close()  # release the cursor now, even when the walk stopped early
    if report.intact and anchors is not None and through_seq is None:
        last_walked = start.seq + report.count - 1
        if anchors.last_seq > last_walked:
            missing = last_walked + 1
            problem = f"event #{missing} is anchored (through #{anchors.last_seq}) but missing: the tail was truncated"
            report = ChainReport(report.count, report.head_hash, missing, problem)
    return report, start


def describe(report: ChainReport, start: ChainStart) -> str:
    """One line for people: intact with count, head and what is anchored, or the first broken event."""
    if not report.intact:
        return f"audit chain broken at event #{report.broken_seq}: {report.problem}"
    since = f" from #{start.seq} (earlier events pruned behind a signed checkpoint)" if start.pruned else ""
    anchors = ""
    if start.anchors is not None:
        last_walked = start.seq + report.count - 1
        if start.anchors.last_seq:
            anchors = f"; signed anchors match through #{start.anchors.last_seq}"
            if last_walked > start.anchors.last_seq:
                anchors += f", {last_walked - start.anchors.last_seq} newer events not anchored yet"
        else:
            anchors = "; no signed anchor yet"
    return f"audit chain intact: {report.count} events{since}, head {report.head_hash}{anchors}"


def record_verification(report: ChainReport, start: ChainStart, *, duration_s: float) -> AuditEvent:
    """Put a verification's result on record as a ``verify`` event, for the dashboard."""
    return record_event(
        kind=Kind.VERIFY,
        outcome=Outcome.OK if report.intact else Outcome.ERROR,
        duration_ms=duration_s * 1000,
        message=describe(report, start),
        details={
            "intact": report.intact,
            "count": report.count,
            "start_seq": start.seq,
            "head_hash": report.head_hash,
            "broken_seq": report.broken_seq,
            "problem": report.problem,
            "anchored_through": start.anchors.last_seq if start.anchors is not None else None,
            "duration_s": round(duration_s, 3),
        },
    )


def timed_verification(*, record: bool = False) -> tuple[ChainReport, ChainStart]:
    """Verify the stored chain and, when asked, record the result."""
    started = time.monotonic()
    report, start = verify_stored_chain()
    if record:
        record_verification(report, start, duration_s=time.monotonic() - started)
    return report, start
