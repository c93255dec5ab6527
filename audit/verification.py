"""Verify the stored chain from where it starts now (genesis or a prune checkpoint) and record the result."""

import re
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import cast

from django.db import DEFAULT_DB_ALIAS

from .chain import ChainReport, verify_chain
from .models import GENESIS_HASH, AuditEvent, Kind, Outcome
from .services import record_event

# The keys a prune checkpoint's details carry: the last pruned event's seq and hash.
PRUNED_THROUGH_SEQ = "pruned_through_seq"
PRUNED_THROUGH_HASH = "pruned_through_hash"
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class ChainStart:
    """Where a walk of the stored chain begins, and the hashes prune checkpoints pinned."""

    seq: int
    hash: str
    pinned: dict[int, str]

    @property
    def pruned(self) -> bool:
        """Whether events before the start were pruned behind a checkpoint."""
        return self.seq > 1


def checkpoint_pins(*, using: str = DEFAULT_DB_ALIAS) -> dict[int, str]:
    """The last pruned seq and its hash, for every prune checkpoint still on record."""
    pins = {}
    details = AuditEvent.objects.using(using).filter(kind=Kind.CHECKPOINT).values_list("details", flat=True)
    for detail in details:
        seq, hash_ = detail.get(PRUNED_THROUGH_SEQ), detail.get(PRUNED_THROUGH_HASH)
        if isinstance(seq, int) and isinstance(hash_, str) and HASH_PATTERN.fullmatch(hash_):
            pins[seq] = hash_
    return pins


def chain_start(oldest: tuple[int, str] | None, pins: dict[int, str]) -> ChainStart:
    """Start at the oldest stored event when a checkpoint covers everything before it, else at #1.

    ``oldest`` is the oldest stored event's seq and previous hash. Starting at #1 when
    rows are missing without a checkpoint makes the walk report them as removed.
    """
    if oldest is None or oldest[0] == 1 or not any(seq >= oldest[0] - 1 for seq in pins):
        return ChainStart(1, GENESIS_HASH, pins)
    first_seq, first_prev_hash = oldest
    # A prune stopped between batches leaves the end of its range: the first row's own
    # link is taken, and the walk meets the checkpoint's pinned event further on.
    return ChainStart(first_seq, pins.get(first_seq - 1, first_prev_hash), pins)


def stored_chain_start(*, using: str = DEFAULT_DB_ALIAS) -> ChainStart:
    """Where verification of the chain stored in ``using`` begins."""
    oldest = AuditEvent.objects.using(using).order_by("seq").values_list("seq", "prev_hash").first()
    return chain_start(oldest, checkpoint_pins(using=using))


def verify_stored_chain(
    *, through_seq: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> tuple[ChainReport, ChainStart]:
    """Walk the stored chain (up to ``through_seq``, when given) from its start."""
    start = stored_chain_start(using=using)
    events = AuditEvent.objects.using(using).order_by("seq")
    if through_seq is not None:
        events = events.filter(seq__lte=through_seq)
    rows = cast(Generator[AuditEvent, None, None], events.iterator(chunk_size=CHUNK_SIZE))
    try:
        report = verify_chain(rows, start_seq=start.seq, start_hash=start.hash, pinned=start.pinned)
    finally:
        rows.close()  # release the cursor now, even when the walk stopped early
    return report, start


def describe(report: ChainReport, start: ChainStart) -> str:
    """One line for people: intact with count and head, or the first broken event."""
    if not report.intact:
        return f"audit chain broken at event #{report.broken_seq}: {report.problem}"
    since = f" from #{start.seq} (earlier events pruned behind a checkpoint)" if start.pruned else ""
    return f"audit chain intact: {report.count} events{since}, head {report.head_hash}"


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
