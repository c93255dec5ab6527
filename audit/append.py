"""The hot path of ``record_event``: per-writer chains and group commit, so writers never wait for each other.

Every caller still waits until its event is committed (nothing is lost to a crash, and no
result is used before its event is on record). What writers do not share is a lock:

- Each process appends to a chain of its own (``AuditEvent.chain``, a random id), and keeps
  that chain's head in memory, so an append is one insert and one commit, with no global
  lock and no read of a shared head. Processes commit side by side; PostgreSQL flushes their
  commits together.
- Threads of one process that record at the same time share one transaction: the first
  becomes the leader, appends every event queued so far (one multi-row insert, one commit),
  wakes their callers, and hands the lead to the next waiting thread.
- A caller inside its own ``transaction.atomic`` writes through its own connection, as part
  of that transaction, to a chain of its thread, whose head is read from the database:
  a rollback takes those events away and leaves that chain consistent.

``seq`` orders all events: PostgreSQL draws it from a sequence, SQLite (one writer at a
time) continues from the highest stored. The signed anchors (``anchors.py``) sign each
chain's events; ``walk.py`` verifies every chain.
"""

import functools
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.utils import timezone

from .chain import canonical_event_hash, canonical_json, canonical_time
from .models import GENESIS_HASH, AuditEvent

logger = logging.getLogger(__name__)

# The PostgreSQL sequence seqs are drawn from (migration 0007).
SEQ_SEQUENCE = "audit_event_seq"
# PostgreSQL: how many seqs a process draws ahead, and for how long it may use them.
RESERVE_SIZE = 64
RESERVE_SECONDS = 1.0
# A transaction holds at most this many events (SQLite allows 32,766 parameters per statement).
MAX_BATCH = 500
_TABLE = AuditEvent._meta.db_table
# Every column but the primary key; each field's column is its name.
_NAMES = [str(model_field.column) for model_field in AuditEvent._meta.concrete_fields if not model_field.primary_key]
_ALL_NAMES = [str(model_field.attname) for model_field in AuditEvent._meta.concrete_fields]  # the order from_db expects
assert all(model_field.column == model_field.attname for model_field in AuditEvent._meta.concrete_fields)


def new_chain_id() -> str:
    """A chain's name: random, so two writers never share one."""
    return secrets.token_hex(8)


def _draw(cursor: Any, count: int) -> list[int]:
    cursor.execute(f"SELECT nextval('{SEQ_SEQUENCE}') FROM generate_series(1, %s)", [count])
    return sorted(row[0] for row in cursor.fetchall())


@dataclass
class _Reserve:
    """Seqs a process drew ahead from PostgreSQL's sequence: one round trip per many events.

    They are used in order within ``RESERVE_SECONDS`` or dropped (a gap, as a rollback leaves),
    so seq order and time order never disagree by more than that.
    """

    seqs: list[int] = field(default_factory=list)
    drawn_at: float = 0.0

    def take(self, cursor: Any, count: int) -> list[int]:
        """``count`` seqs, ascending; a fresh draw when the reserve runs short or old (the rest become a gap)."""
        if len(self.seqs) < count or time.monotonic() - self.drawn_at > RESERVE_SECONDS:
            self.seqs, self.drawn_at = _draw(cursor, count + RESERVE_SIZE), time.monotonic()
        taken, self.seqs = self.seqs[:count], self.seqs[count:]
        return taken


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
    """The queue of one database alias, whether some thread is leading it, and the chain it appends to."""

    chain: str = field(default_factory=new_chain_id)
    head: str = GENESIS_HASH
    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[_Pending] = field(default_factory=list)
    leading: bool = False
    reserve: _Reserve = field(default_factory=_Reserve)


_groups: dict[str, _Group] = {}
_thread_chains: dict[tuple[str, int], str] = {}
_owned: dict[str, set[str]] = {}  # alias: every chain this process has written to
_registry_lock = threading.Lock()


def forget_chains() -> None:
    """Start new chains from here on: in a forked child (gunicorn, multiprocessing), which must not
    continue its parent's, and in tests, whose database is emptied under a process that lives on."""
    global _registry_lock  # pylint: disable=global-statement  # a lock held at fork time would never be released
    _registry_lock = threading.Lock()
    _groups.clear()
    _thread_chains.clear()
    _owned.clear()


os.register_at_fork(after_in_child=forget_chains)


def owned_chains(using: str) -> list[str]:
    """The chains this process has appended to through ``using``."""
    with _registry_lock:
        return sorted(_owned.get(using, ()))


def _own(using: str, chain: str) -> None:
    with _registry_lock:
        _owned.setdefault(using, set()).add(chain)


@functools.lru_cache(maxsize=32)
def _insert_sql(vendor: str, rows: int) -> str:
    """A multi-row insert of ``rows`` events, in the driver's own parameter style."""
    mark = "?" if vendor == "sqlite" else "%s"
    row = (
        "("
        + ", ".join(f"{mark}::jsonb" if name == "details" and vendor == "postgresql" else mark for name in _NAMES)
        + ")"
    )
    columns = ", ".join(f'"{name}"' for name in _NAMES)
    return f"INSERT INTO {_TABLE} ({columns}) VALUES {', '.join([row] * rows)} RETURNING id"


def _next_seqs(cursor: Any, vendor: str, count: int, reserve: _Reserve | None) -> list[int]:
    """``count`` new seqs, ascending."""
    if vendor == "postgresql":
        return reserve.take(cursor, count) if reserve is not None else _draw(cursor, count)
    # SQLite: this transaction holds the database's write lock (IMMEDIATE), so no one else is numbering.
    cursor.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {_TABLE}")
    last = int(cursor.fetchone()[0])
    return list(range(last + 1, last + count + 1))


def _stored_head(using: str, chain: str) -> str | None:
    """The hash of the chain's newest stored event (in this connection's transaction), or None."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {_TABLE} WHERE chain = %s ORDER BY seq DESC LIMIT 1", [chain])
        row = cursor.fetchone()
    return str(row[0]) if row else None


def _link(
    batch: list[dict[str, Any]], seqs: list[int], chain: str, head: str, connection: Any
) -> tuple[list[Any], str]:
    """Number, link and hash the events in order; the insert's parameters and the chain's new head."""
    moment, params = timezone.now(), []
    stored_moment = connection.ops.adapt_datetimefield_value(moment)
    for fields, seq in zip(batch, seqs, strict=True):
        fields.update(seq=seq, chain=chain, prev_hash=head, created_at=moment)
        # Spelled once: hashed as this text, and stored as it (SQLite keeps it verbatim).
        details_json = canonical_json(fields["details"])
        fields["hash"] = head = canonical_event_hash(fields, canonical_time(moment), details_json)
        params += [
            stored_moment if name == "created_at" else details_json if name == "details" else fields[name]
            for name in _NAMES
        ]
    return params, head


def _append_batch(  # pylint: disable=too-many-arguments
    batch: list[dict[str, Any]],
    using: str,
    chain: str,
    head: str,
    *,
    own_transaction: bool,
    reserve: _Reserve | None = None,
) -> tuple[list[AuditEvent], str]:
    """Number, link and insert the events after ``head``; the stored events and the chain's new head.

    With ``own_transaction`` the events commit here, in a transaction of their own; otherwise
    they are part of the caller's. The driver's cursor is used directly (its errors still
    come out as Django's): this is the path every audited request takes, and Django's cursor
    wrappers were a third of its cost.
    """
    connection = connections[using]
    connection.ensure_connection()
    vendor = connection.vendor
    # PostgreSQL draws seqs ahead, outside any transaction, and one INSERT statement commits
    # on its own (autocommit): one round trip. SQLite numbers and inserts under its write lock.
    explicit = own_transaction and vendor == "sqlite"
    with connection.wrap_database_errors:
        cursor = _driver_cursor(connection)
        try:
            if explicit:
                cursor.execute("BEGIN IMMEDIATE")
            seqs = _next_seqs(cursor, vendor, len(batch), reserve)
            params, head = _link(batch, seqs, chain, head, connection)
            cursor.execute(_insert_sql(vendor, len(batch)), params)
            ids = sorted(row[0] for row in cursor.fetchall())
            if explicit:
                cursor.execute("COMMIT")
        except BaseException:
            if explicit:
                _roll_back(cursor)
            raise
        finally:
            cursor.close()
    return _stored_events(batch, ids, using), head


def _stored_events(batch: list[dict[str, Any]], ids: list[int], using: str) -> list[AuditEvent]:
    """The events as the database now holds them, built as a query would build them."""
    return [
        AuditEvent.from_db(using, _ALL_NAMES, [primary_key if name == "id" else fields[name] for name in _ALL_NAMES])
        for fields, primary_key in zip(batch, ids, strict=True)
    ]


def _driver_cursor(connection: Any) -> Any:
    """The driver's own cursor; on PostgreSQL one that binds parameters on the server (and so
    prepares the repeated insert), not the client-side binding Django configures."""
    if connection.vendor == "postgresql":
        import psycopg  # pylint: disable=import-outside-toplevel  # only PostgreSQL deployments have it

        return psycopg.Cursor(connection.connection)
    return connection.connection.cursor()


def _roll_back(cursor: Any) -> None:
    try:
        cursor.execute("ROLLBACK")
    except Exception:  # pylint: disable=broad-exception-caught  # the connection may be gone; the first error is the one to raise
        logger.warning("audit: could not roll back a failed append", exc_info=True)


def _lead(group: _Group, using: str) -> None:
    """Append what is queued now as one batch, wake its callers, and pass the lead on."""
    with group.lock:
        batch, group.queue = group.queue[:MAX_BATCH], group.queue[MAX_BATCH:]
    try:
        events, group.head = _append_batch(
            [pending.fields for pending in batch],
            using,
            group.chain,
            group.head,
            own_transaction=True,
            reserve=group.reserve,
        )
    except BaseException as error:  # pylint: disable=broad-exception-caught  # every caller must hear of it; re-raised there
        # Whether the commit happened is unknown: go on in a new chain rather than guess its head.
        group.chain, group.head = new_chain_id(), GENESIS_HASH
        _own(using, group.chain)
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


def _append_in_transaction(fields: dict[str, Any], using: str) -> AuditEvent:
    """Part of the caller's own transaction: its connection, its commit (or rollback), its thread's chain."""
    key = (using, threading.get_ident())
    with _registry_lock:
        chain = _thread_chains.get(key)
    head = None if chain is None else _stored_head(using, chain)
    if chain is None or head is None:
        # None of the chain's events is stored (rolled back, or pruned behind a checkpoint
        # that pinned its last one): a new chain, rather than a second start from genesis.
        chain, head = new_chain_id(), GENESIS_HASH
        with _registry_lock:
            _thread_chains[key] = chain
    _own(using, chain)
    return _append_batch([fields], using, chain, head, own_transaction=False)[0][0]


def append_event(fields: dict[str, Any], *, using: str) -> AuditEvent:
    """Give the cleaned ``fields`` a seq and their chain's link, hash, insert and commit; the stored event."""
    if connections[using].in_atomic_block:
        return _append_in_transaction(fields, using)
    with _registry_lock:
        group = _groups.get(using)
        if group is None:
            group = _groups[using] = _Group()
            _owned.setdefault(using, set()).add(group.chain)
    pending = _Pending(fields)
    with group.lock:
        group.queue.append(pending)
        if not group.leading:
            group.leading = pending.lead = True
    try:
        while True:
            if pending.lead:
                pending.lead = False
                pending.done.clear()
                _lead(group, using)
            pending.done.wait()
            if pending.event is not None or pending.error is not None:
                break
    except BaseException:
        _withdraw(group, pending)  # Ctrl-C while waiting: the other threads must not wait forever
        raise
    if pending.error is not None:
        raise pending.error
    assert pending.event is not None  # set whenever no error was
    return pending.event


def _withdraw(group: _Group, pending: _Pending) -> None:
    """Take a caller's event out of the queue if no leader has taken it yet, and pass on a lead it was handed."""
    with group.lock:
        if pending in group.queue:
            group.queue.remove(pending)
        if pending.lead:
            pending.lead = False
            if group.queue:
                group.queue[0].lead = True
                group.queue[0].done.set()
            else:
                group.leading = False
