"""Retention: delete events older than a cut-off in batches, behind a checkpoint that keeps the chains verifiable.

The checkpoint is an ordinary event appended before anything is deleted. Its signed
statement carries the seq and hash of the last pruned event and of each chain's last
pruned event, so ``verify_audit`` can start at the oldest remaining event and link every
chain that goes on; rows deleted without a checkpoint still show up as removed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .anchor_store import anchor_store
from .anchors import write_prune_anchor
from .chain import canonical_time
from .models import AuditEvent, Kind, Outcome
from .services import record_event
from .signing import default_signer
from .verification import (
    CHAIN_HEADS,
    PRUNED_THROUGH_HASH,
    PRUNED_THROUGH_SEQ,
    SIGNED_CHECKPOINT,
    describe,
    verify_stored_chain,
)

DEFAULT_BATCH_SIZE = 10_000


class PruneRefused(Exception):
    """The events to prune do not verify: deleting them would destroy the evidence."""


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed, and the checkpoint that records it (None when nothing was old enough)."""

    cutoff: datetime
    first_seq: int | None = None
    last_seq: int | None = None
    deleted: int = 0
    checkpoint: AuditEvent | None = None


def _last_prunable_seq(cutoff: datetime, using: str) -> int | None:
    # Only a prefix of the chain can go: everything before the first event that is new enough.
    events = AuditEvent.objects.using(using)
    first_kept = events.filter(created_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    if first_kept is not None:
        return int(first_kept) - 1
    last: int | None = events.order_by("-seq").values_list("seq", flat=True).first()
    return last


def _delete_pruned_range(first_seq: int, last_seq: int, using: str) -> int:
    """The one way rows leave the audit table; the model and its querysets refuse deletes.

    On PostgreSQL the app role may not DELETE at all: the owner's SECURITY DEFINER function
    ``audit_prune`` does it, and only for events a prune checkpoint covers.
    """
    connection = connections[using]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT audit_prune(%s, %s)", [first_seq, last_seq])
            return int(cursor.fetchone()[0])
        cursor.execute(f"DELETE FROM {table} WHERE seq >= %s AND seq <= %s", [first_seq, last_seq])
        return int(cursor.rowcount)


def _chain_heads(
    walked: dict[str, tuple[int, str]], pinned: Mapping[str, tuple[int, str]], last_seq: int, using: str
) -> dict[str, list[Any]]:
    """Each chain's last pruned event: those walked now, and those earlier prunes pinned that still go on."""
    going_on = set(AuditEvent.objects.using(using).filter(seq__gt=last_seq).values_list("chain", flat=True).distinct())
    heads = {chain: pin for chain, pin in pinned.items() if chain in going_on} | walked
    return {chain: [seq, hash_] for chain, (seq, hash_) in sorted(heads.items())}


def prune_events(
    *, older_than: timedelta, batch_size: int = DEFAULT_BATCH_SIZE, using: str = DEFAULT_DB_ALIAS
) -> PruneResult:
    """Delete the events older than ``older_than``, oldest first, after recording a checkpoint.

    The events to delete are verified first; a broken chain is refused (``PruneRefused``)
    so that pruning never hides tampering.
    """
    cutoff = timezone.now() - older_than
    oldest = AuditEvent.objects.using(using).order_by("seq").values_list("seq", flat=True).first()
    last_seq = _last_prunable_seq(cutoff, using)
    if oldest is None or last_seq is None or last_seq < oldest:
        return PruneResult(cutoff)
    # A writer's preparations first: with DEBUG on, the key the verification then trusts, and the store.
    signer = default_signer()
    anchor_store().prepare()
    report, start = verify_stored_chain(through_seq=last_seq, using=using)
    if not report.intact:
        raise PruneRefused(f"refusing to prune: {describe(report, start)}")
    statement = {
        "type": "prune",
        PRUNED_THROUGH_SEQ: last_seq,
        PRUNED_THROUGH_HASH: report.head_hash,
        CHAIN_HEADS: _chain_heads(report.chain_heads, start.walk.chain_pins, last_seq, using),
        "pruned_from_seq": oldest,
        "cutoff": canonical_time(cutoff),
        "key_id": signer.key_id,
    }
    signed = {"payload": statement, "signature": signer.sign(statement)}
    checkpoint = record_event(
        kind=Kind.CHECKPOINT,
        outcome=Outcome.OK,
        message=f"pruned events #{oldest} to #{last_seq}, older than {canonical_time(cutoff)}",
        details={
            PRUNED_THROUGH_SEQ: last_seq,
            PRUNED_THROUGH_HASH: report.head_hash,
            SIGNED_CHECKPOINT: signed,
            "pruned_from_seq": oldest,
            "pruned_count": report.count,
            "cutoff": canonical_time(cutoff),
            "older_than_days": older_than / timedelta(days=1),
        },
        using=using,
    )
    # Written before anything is deleted: the store then vouches for the prune on its own.
    write_prune_anchor(signed_checkpoint=signed)
    deleted = 0
    for low in range(oldest, last_seq + 1, batch_size):
        deleted += _delete_pruned_range(low, min(low + batch_size - 1, last_seq), using)
    return PruneResult(cutoff, oldest, last_seq, deleted, checkpoint)
