"""Verify the stored chain against the signed anchors, from where it starts now, and record the result.

The hash chain alone shows that rows still link up; anyone who can write the database can
re-link them. The signed anchors, kept outside the database, say what the events were, so
the walk also compares each anchored event with its anchor, and events anchored but gone
are a truncated tail. Only signed prune checkpoints may explain missing early events.
"""

import re
import time
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import DEFAULT_DB_ALIAS, connections

from .anchor_set import AnchorSet, load_anchor_set
from .anchor_store import AnchorStore, anchor_store
from .models import AuditEvent, Kind, Outcome
from .services import record_event
from .signing import check_signed, verify_keys
from .walk import ChainReport, WalkStart, stored_rows, walk

# The keys a prune checkpoint's details carry: the last pruned event's seq and hash, the
# last pruned event of each chain (seq and hash), and the signed statement of all three.
PRUNED_THROUGH_SEQ = "pruned_through_seq"
PRUNED_THROUGH_HASH = "pruned_through_hash"
CHAIN_HEADS = "chain_heads"
SIGNED_CHECKPOINT = "signed"
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ChainStart:
    """Where a walk of the stored chains begins, what signed prunes explain, and the anchors it checks against."""

    walk: WalkStart
    anchors: AnchorSet | None = None

    @property
    def seq(self) -> int:
        """The first seq the walk expects."""
        return self.walk.seq

    @property
    def pruned(self) -> bool:
        """Whether events before the start were pruned behind a checkpoint."""
        return self.walk.pruned_through > 0 and self.walk.seq > 1


def prune_statement(payload: Any) -> dict[str, Any] | None:
    """The signed statement of a prune, when well formed: its pruned-through seq and hash, and chain heads."""
    if not isinstance(payload, dict):
        return None
    seq, hash_ = payload.get(PRUNED_THROUGH_SEQ), payload.get(PRUNED_THROUGH_HASH)
    if not isinstance(seq, int) or not isinstance(hash_, str) or not HASH_PATTERN.fullmatch(hash_):
        return None
    heads = payload.get(CHAIN_HEADS, {"": [seq, hash_]})  # before chains, one chain of them all
    if not isinstance(heads, dict) or not all(
        isinstance(head, list) and len(head) == 2 and isinstance(head[0], int) and isinstance(head[1], str)
        for head in heads.values()
    ):
        return None
    return payload


def _signed_statement(details: dict[str, Any], keys: dict[str, Ed25519PublicKey]) -> dict[str, Any] | None:
    """The prune statement a trusted key signed, when the checkpoint's own fields repeat it, else None."""
    signed = details.get(SIGNED_CHECKPOINT)
    if not isinstance(signed, dict) or not isinstance(signed.get("payload"), dict):
        return None
    payload = signed["payload"]
    if check_signed(payload, signed.get("signature"), keys):
        return None
    if (payload.get(PRUNED_THROUGH_SEQ), payload.get(PRUNED_THROUGH_HASH)) != (
        details.get(PRUNED_THROUGH_SEQ),
        details.get(PRUNED_THROUGH_HASH),
    ):
        return None
    return prune_statement(payload)


def checkpoint_statements(
    *, keys: dict[str, Ed25519PublicKey], using: str = DEFAULT_DB_ALIAS
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The statements of signed prune checkpoints, and the checkpoints no trusted key signed (seq: why)."""
    statements, forged = [], {}
    checkpoints = AuditEvent.objects.using(using).filter(kind=Kind.CHECKPOINT).values_list("seq", "details")
    for seq, details in checkpoints:
        statement = _signed_statement(details if isinstance(details, dict) else {}, keys)
        if statement is None:
            forged[seq] = "is a prune checkpoint no trusted key signed: forged"
        else:
            statements.append(statement)
    return statements, forged


def walk_start(oldest: int | None, statements: list[dict[str, Any]], forged: dict[int, str]) -> WalkStart:
    """Start at #1, or, after signed prunes, at the oldest stored event or just past the pruned range.

    Each chain continues from the last pruned event the latest prune recorded for it.
    """
    pruned_through, pins = 0, {}
    for statement in sorted(statements, key=lambda statement: int(statement[PRUNED_THROUGH_SEQ])):
        pruned_through = max(pruned_through, statement[PRUNED_THROUGH_SEQ])
        heads = statement.get(CHAIN_HEADS, {"": [statement[PRUNED_THROUGH_SEQ], statement[PRUNED_THROUGH_HASH]]})
        pins.update({chain: (seq, hash_) for chain, (seq, hash_) in heads.items()})
    if not pruned_through:
        return WalkStart(suspect=forged)
    first = pruned_through + 1 if oldest is None else min(oldest, pruned_through + 1)
    return WalkStart(seq=first, pruned_through=pruned_through, chain_pins=pins, suspect=forged)


def stored_chain_start(
    *, using: str = DEFAULT_DB_ALIAS, keys: dict[str, Ed25519PublicKey] | None = None, anchors: AnchorSet | None = None
) -> ChainStart:
    """Where verification of the chains stored in ``using`` begins."""
    keys = keys if keys is not None else verify_keys()
    oldest = AuditEvent.objects.using(using).order_by("seq").values_list("seq", flat=True).first()
    statements, forged = checkpoint_statements(keys=keys, using=using)
    if anchors is not None:
        statements += [statement for statement in map(prune_statement, anchors.prunes) if statement is not None]
        if anchors.first_conflict is not None:
            forged.setdefault(
                anchors.first_conflict, "is anchored twice with different hashes: rewritten between anchors"
            )
    start = walk_start(oldest, statements, forged)
    if connections[using].vendor == "sqlite":
        start = replace(start, gaps_are_removals=True)
    return ChainStart(start, anchors)


def verify_stored_chain(
    *,
    through_seq: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
    store: AnchorStore | None = None,
    anchored: bool = True,
) -> tuple[ChainReport, ChainStart]:
    """Walk the stored chains (up to ``through_seq``, when given) from their start, against the anchors.

    Raises ``AnchorStoreUnavailable`` or ``KeyUnavailable`` when the anchors or keys cannot
    be read, and ``AnchorForged`` when an anchor is not genuine.
    """
    keys = verify_keys()
    anchors = load_anchor_set(store or anchor_store(), keys) if anchored else None
    start = stored_chain_start(using=using, keys=keys, anchors=anchors)
    rows = stored_rows(using=using, through_seq=through_seq)
    try:
        report = walk(rows, start=start.walk, anchors=anchors, to_the_end=through_seq is None)
    finally:
        rows.close()  # release the cursor now, even when the walk stopped early
    return report, start


def describe(report: ChainReport, start: ChainStart) -> str:
    """One line for people: intact with count, head and what is anchored, or the first broken event."""
    if not report.intact:
        return f"audit chain broken at event #{report.broken_seq}: {report.problem}"
    since = f" from #{start.seq} (earlier events pruned behind a signed checkpoint)" if start.pruned else ""
    anchors = ""
    if start.anchors is not None:
        if start.anchors.last_seq:
            anchors = f"; signed anchors match through #{start.anchors.last_seq}"
            if report.unanchored:
                anchors += f", {report.unanchored} events not anchored yet"
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
