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

import os
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models.base import ModelState
from django.utils import timezone

from .chain import canonical_event_hash, canonical_json, canonical_time
from .insert import COLUMNS, Reserve, insert_events
from .models import GENESIS_HASH, AuditEvent

# A transaction holds at most this many events (SQLite allows 32,766 parameters per statement).
MAX_BATCH = 500
_TABLE = AuditEvent._meta.db_table


def new_chain_id() -> str:
    """A chain's name: random, so two writers never share one."""
    return secrets.token_hex(8)


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
    reserve: Reserve = field(default_factory=Reserve)


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


def _stored_head(using: str, chain: str) -> str | None:
    """The hash of the chain's newest stored event (in this connection's transaction), or None."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {_TABLE} WHERE chain = %s ORDER BY seq DESC LIMIT 1", [chain])
        row = cursor.fetchone()
    return str(row[0]) if row else None


def _append_batch(  # pylint: disable=too-many-arguments
    batch: list[dict[str, Any]],
    connection: Any,
    chain: str,
    head: str,
    *,
    own_transaction: bool,
    reserve: Reserve | None = None,
) -> tuple[list[AuditEvent], str]:
    """Number, link and insert the events after ``head``; the stored events and the chain's new head.

    With ``own_transaction`` the events commit here, in a transaction of their own; otherwise
    they are part of the caller's.
    """
    new_head = head

    def link(seqs: list[int]) -> list[list[Any]]:
        """Number, link and hash the events in order: their rows, in ``COLUMNS`` order."""
        nonlocal new_head
        moment, rows = timezone.now(), []
        for fields, seq in zip(batch, seqs, strict=True):
            fields.update(seq=seq, chain=chain, prev_hash=new_head, created_at=moment)
            # Spelled once: hashed as this text, and stored as it (SQLite keeps it verbatim).
            details_json = canonical_json(fields["details"])
            fields["hash"] = new_head = canonical_event_hash(fields, canonical_time(moment), details_json)
            rows.append([details_json if name == "details" else fields[name] for name in COLUMNS])
        return rows

    ids = insert_events(connection, len(batch), link, own_transaction=own_transaction, reserve=reserve)
    return [
        _stored_event(fields, primary_key, connection.alias) for fields, primary_key in zip(batch, ids, strict=True)
    ], new_head


def _stored_event(fields: dict[str, Any], primary_key: int, using: str) -> AuditEvent:
    """The event as the database now holds it, as a query would give it back.

    Built as ``Model.from_db`` builds it, but without the generic ``__init__`` (this is every
    event's path): each field's value in the instance's ``__dict__``, as ``__init__`` leaves it.
    """
    event = AuditEvent.__new__(AuditEvent)
    event.__dict__.update(fields, id=primary_key)
    event._state = ModelState()  # pylint: disable=protected-access  # as Model.__init__ and from_db set it
    event._state.adding, event._state.db = False, using  # pylint: disable=protected-access
    return event


def _append_for_group(group: _Group, batch: list[dict[str, Any]], connection: Any) -> list[AuditEvent]:
    """Append a batch to the process's chain, in a transaction of its own; the stored events."""
    try:
        events, group.head = _append_batch(
            batch, connection, group.chain, group.head, own_transaction=True, reserve=group.reserve
        )
    except BaseException:
        # Whether the commit happened is unknown: go on in a new chain rather than guess its head.
        group.chain, group.head = new_chain_id(), GENESIS_HASH
        _own(connection.alias, group.chain)
        raise
    return events


def _pass_lead(group: _Group) -> None:
    """The next waiting thread leads; the leader goes back to its work."""
    with group.lock:
        if group.queue:
            group.queue[0].lead = True
            group.queue[0].done.set()
        else:
            group.leading = False


def _lead(group: _Group, using: str) -> None:
    """Append what is queued now as one batch, wake its callers, and pass the lead on."""
    with group.lock:
        batch, group.queue = group.queue[:MAX_BATCH], group.queue[MAX_BATCH:]
    try:
        events = _append_for_group(group, [pending.fields for pending in batch], connections[using])
    except BaseException as error:  # pylint: disable=broad-exception-caught  # every caller must hear of it; re-raised there
        for pending in batch:
            pending.error = error
    else:
        for pending, event in zip(batch, events, strict=True):
            pending.event = event
    finally:
        _pass_lead(group)
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
    return _append_batch([fields], connections[using], chain, head, own_transaction=False)[0][0]


def append_event(fields: dict[str, Any], *, using: str) -> AuditEvent:
    """Give the cleaned ``fields`` a seq and their chain's link, hash, insert and commit; the stored event."""
    connection = connections[using]
    if connection.in_atomic_block:
        return _append_in_transaction(fields, using)
    group = _groups.get(using)
    if group is None:
        with _registry_lock:
            group = _groups.get(using) or _groups.setdefault(using, _Group())
            _owned.setdefault(using, set()).add(group.chain)
    with group.lock:
        alone = not group.leading
        if alone:
            group.leading = True
        else:
            pending = _Pending(fields)
            group.queue.append(pending)
    if alone:  # the common case: no other thread of this process is recording
        try:
            return _append_for_group(group, [fields], connection)[0]
        finally:
            _pass_lead(group)  # to whoever queued meanwhile
    try:
        while True:
            pending.done.wait()
            if pending.event is not None or pending.error is not None:
                break
            pending.lead = False  # handed the lead: append the queue, this event with it
            pending.done.clear()
            _lead(group, using)
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
