"""The hot path of ``record_event``: link events to the chain head and insert them, with group commit.

Every caller still waits until its event is committed (nothing is lost to a crash, and no
result is used before its event is on record), but threads of one process that record at
the same time share one transaction: the first becomes the leader, takes every event queued
so far, appends them in one transaction (one chain lock, one head read, one multi-row
insert, one commit), wakes their callers, and hands the lead to the next waiting thread.
A lone caller's batch is just its own event. A caller inside its own ``transaction.atomic``
writes through its own connection, as part of that transaction, as before.
"""

import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from .chain import event_hash
from .models import GENESIS_HASH, AuditEvent

# Any fixed 64-bit number: the PostgreSQL advisory lock that serializes appends across processes.
CHAIN_LOCK_KEY = 0x4155444954  # "AUDIT"
# A transaction holds at most this many events (SQLite allows 32,766 parameters per statement).
MAX_BATCH = 500
_COLUMNS = [model_field for model_field in AuditEvent._meta.concrete_fields if not model_field.primary_key]
_SEQ_INDEX = [model_field.attname for model_field in _COLUMNS].index("seq")


@dataclass(eq=False)
class _Pending:
    """One caller's event on its way into the log, and how its caller learns the outcome."""

    fields: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    event: AuditEvent | None = None
    error: BaseException | None = None
    lead: bool = False


@dataclass
class _Group:
    """The queue of one database alias, and whether some thread is leading it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[_Pending] = field(default_factory=list)
    leading: bool = False


_groups: dict[str, _Group] = {}
_groups_lock = threading.Lock()
# Appends through a connection inside a transaction are serialized per process here.
_direct_lock = threading.Lock()


def _insert_sql(using: str, rows: int) -> str:
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(model_field.column)) for model_field in _COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    table = quote(AuditEvent._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)} RETURNING {quote('id')}, {quote('seq')}"


def _append_batch(batch: list[dict[str, Any]], using: str) -> list[AuditEvent]:
    """Link and insert the events in order, in one transaction that holds the chain lock."""
    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        cursor.execute(
            f"SELECT {quote('seq')}, {quote('hash')} FROM {quote(AuditEvent._meta.db_table)} "
            f"ORDER BY {quote('seq')} DESC LIMIT 1"
        )
        last_seq, last_hash = cursor.fetchone() or (0, GENESIS_HASH)
        moment, params = timezone.now(), []
        for fields in batch:
            last_seq += 1
            fields.update(seq=last_seq, prev_hash=last_hash, created_at=moment)
            fields["hash"] = last_hash = event_hash(fields)
            params += [
                model_field.get_db_prep_save(fields[model_field.attname], connection) for model_field in _COLUMNS
            ]
        cursor.execute(_insert_sql(using, len(batch)), params)
        ids = {seq: primary_key for primary_key, seq in cursor.fetchall()}
    events = []
    for fields in batch:
        event = AuditEvent(id=ids[fields["seq"]], **fields)
        event._state.adding, event._state.db = False, using  # pylint: disable=protected-access  # as Django's loading does
        events.append(event)
    return events


def _lead(group: _Group, using: str) -> None:
    """Append what is queued now as one batch, wake its callers, and pass the lead on."""
    with group.lock:
        batch, group.queue = group.queue[:MAX_BATCH], group.queue[MAX_BATCH:]
    try:
        events = _append_batch([pending.fields for pending in batch], using)
    except BaseException as error:  # pylint: disable=broad-exception-caught  # every caller must hear of it; re-raised there
        for pending in batch:
            pending.error = error
    else:
        for pending, event in zip(batch, events, strict=True):
            pending.event = event
    finally:
        with group.lock:
            if group.queue:
                group.queue[0].lead = True  # the next waiting thread leads; this caller goes back to its work
                group.queue[0].done.set()
            else:
                group.leading = False
        for pending in batch:
            pending.done.set()


def append_event(fields: dict[str, Any], *, using: str) -> AuditEvent:
    """Give the cleaned ``fields`` the next seq, link and hash them, insert and commit; the stored event."""
    if connections[using].in_atomic_block:
        # Part of the caller's own transaction: its connection, its commit (or rollback).
        with _direct_lock:
            return _append_batch([fields], using)[0]
    with _groups_lock:
        group = _groups.setdefault(using, _Group())
    pending = _Pending(fields)
    with group.lock:
        group.queue.append(pending)
        if not group.leading:
            group.leading = pending.lead = True
    while True:
        if pending.lead:
            pending.lead = False
            pending.done.clear()
            _lead(group, using)
        pending.done.wait()
        if pending.event is not None or pending.error is not None:
            break
    if pending.error is not None:
        raise pending.error
    assert pending.event is not None  # set whenever no error was
    return pending.event
