"""How a batch of events gets its seqs and reaches the database: one round trip in the common case.

``append.py`` decides what to write (chains, links, group commit); this module decides how,
per database:

- PostgreSQL draws seqs from the sequence ``audit_event_seq`` ahead of need (``Reserve``), so
  an append is one autocommit ``INSERT ... RETURNING``. Outside a transaction it goes straight
  through libpq, as a statement prepared once per connection: psycopg's cursor machinery
  (a cursor, its adapters, its wait loop) cost as much as the rest of ``record_event``.
  Inside the caller's transaction it goes through a psycopg cursor, which opens the
  transaction (``BEGIN``) that a bare libpq call would not.
- SQLite numbers and inserts under its write lock (``BEGIN IMMEDIATE``), continuing from the
  highest stored seq: only one writer numbers at a time.
"""

import contextlib
import functools
import hashlib
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, pq

from .models import AuditEvent

logger = logging.getLogger(__name__)

# The PostgreSQL sequence seqs are drawn from (migration 0007).
SEQ_SEQUENCE = "audit_event_seq"
# PostgreSQL: how many seqs a process draws ahead, and for how long it may use them.
RESERVE_SIZE = 64
RESERVE_SECONDS = 1.0
_TABLE = AuditEvent._meta.db_table
# Every column but the primary key, the order rows are given in; each field's column is its name.
COLUMNS = [str(model_field.column) for model_field in AuditEvent._meta.concrete_fields if not model_field.primary_key]
assert all(model_field.column == model_field.attname for model_field in AuditEvent._meta.concrete_fields)
_CREATED_AT = COLUMNS.index("created_at")
_DRAW_SQL = f"SELECT nextval('{SEQ_SEQUENCE}') FROM generate_series(1, %s)"
_DRAW_LIBPQ = _DRAW_SQL.replace("%s", "$1").encode()

# Makes the rows of ``count`` events given their seqs (ascending): column values in ``COLUMNS`` order.
Linker = Callable[[list[int]], list[list[Any]]]


@dataclass
class Reserve:
    """Seqs a process drew ahead from PostgreSQL's sequence: one round trip per many events.

    They are used in order within ``RESERVE_SECONDS`` or dropped (a gap, as a rollback leaves),
    so seq order and time order never disagree by more than that.
    """

    seqs: list[int] = field(default_factory=list)
    drawn_at: float = 0.0

    def take(self, draw: Callable[[int], list[int]], count: int) -> list[int]:
        """``count`` seqs, ascending; a fresh draw when the reserve runs short or old (the rest become a gap)."""
        if len(self.seqs) < count or time.monotonic() - self.drawn_at > RESERVE_SECONDS:
            self.seqs, self.drawn_at = draw(count + RESERVE_SIZE), time.monotonic()
        taken, self.seqs = self.seqs[:count], self.seqs[count:]
        return taken


def insert_events(
    connection: Any, count: int, link: Linker, *, own_transaction: bool, reserve: Reserve | None
) -> list[int]:
    """Number ``count`` events, have ``link`` make their rows, insert them; their ids, ascending.

    With ``own_transaction`` they commit here, in a transaction of their own; otherwise they
    are part of the caller's. PostgreSQL takes seqs from ``reserve`` when given, else draws
    just ``count``. Driver errors come out as Django's.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.vendor != "postgresql":
            return _insert_sqlite(connection, count, link, own_transaction=own_transaction)
        if own_transaction and _idle_in_autocommit(connection.connection):
            return _insert_libpq(connection, count, link, reserve)
        return _insert_psycopg(connection, count, link, reserve)


@functools.lru_cache(maxsize=32)
def _insert_sql(rows: int, mark: str) -> str:
    """A multi-row insert of ``rows`` events; each placeholder is ``mark`` formatted with its number, from 1."""
    marks = iter(range(rows * len(COLUMNS)))
    values = ", ".join("(" + ", ".join(mark.format(next(marks) + 1) for _ in COLUMNS) + ")" for _ in range(rows))
    columns = ", ".join(f'"{name}"' for name in COLUMNS)
    return f"INSERT INTO {_TABLE} ({columns}) VALUES {values} RETURNING id"


# Named after its text, so a session that outlived a deploy never runs an older statement under its name.
_ONE_ROW_STATEMENT = b"audit_insert_" + hashlib.sha256(_insert_sql(1, "${}").encode()).hexdigest()[:16].encode()


def _insert_sqlite(connection: Any, count: int, link: Linker, *, own_transaction: bool) -> list[int]:
    cursor = connection.connection.cursor()
    try:
        if own_transaction:
            cursor.execute("BEGIN IMMEDIATE")
        # Under the database's write lock (IMMEDIATE), no one else is numbering.
        last = int(cursor.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {_TABLE}").fetchone()[0])
        rows = link(list(range(last + 1, last + count + 1)))
        for row in rows:
            row[_CREATED_AT] = connection.ops.adapt_datetimefield_value(row[_CREATED_AT])
        ids = sorted(row[0] for row in cursor.execute(_insert_sql(count, "?"), _flat(rows)).fetchall())
        if own_transaction:
            cursor.execute("COMMIT")
        return ids
    except BaseException:
        if own_transaction:
            _roll_back(cursor)
        raise
    finally:
        cursor.close()


def _roll_back(cursor: Any) -> None:
    try:
        cursor.execute("ROLLBACK")
    except Exception:  # pylint: disable=broad-exception-caught  # the connection may be gone; the first error is the one to raise
        logger.warning("audit: could not roll back a failed append", exc_info=True)


def _insert_psycopg(connection: Any, count: int, link: Linker, reserve: Reserve | None) -> list[int]:
    """Through psycopg's cursor (one that binds on the server, so the insert is prepared): it begins
    the caller's transaction when this is its first statement."""
    with psycopg.Cursor(connection.connection) as cursor:

        def draw(number: int) -> list[int]:
            return sorted(row[0] for row in cursor.execute(_DRAW_SQL, [number]).fetchall())

        seqs = reserve.take(draw, count) if reserve is not None else draw(count)
        cursor.execute(_insert_sql(count, "%s"), _flat(link(seqs)))
        return sorted(row[0] for row in cursor.fetchall())


def _idle_in_autocommit(psycopg_connection: Any) -> bool:
    return (
        bool(psycopg_connection.autocommit)
        and psycopg_connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
    )


# The psycopg connections (database sessions) the one-row insert is prepared on.
_prepared_on: "weakref.WeakSet[Any]" = weakref.WeakSet()


def _insert_libpq(connection: Any, count: int, link: Linker, reserve: Reserve | None) -> list[int]:
    """Autocommit, straight through libpq: the statement commits on its own, in one round trip.

    libpq waits for the server itself, so Ctrl-C lands when the statement returns, not
    during it: an autocommit insert into an append-only table takes no lock that makes it wait.
    """
    pgconn = connection.connection.pgconn
    draw = _draw_libpq(pgconn)
    seqs = reserve.take(draw, count) if reserve is not None else draw(count)
    rows = link(seqs)
    for row in rows:
        row[_CREATED_AT] = row[_CREATED_AT].isoformat()  # PostgreSQL's text form of a timestamptz
    # str.encode: the text that was hashed, even from a str subclass that prints otherwise.
    params = [
        None if value is None else str.encode(value if isinstance(value, str) else str(value)) for value in _flat(rows)
    ]
    if count > 1:  # several threads' events at once: rare enough not to prepare each size
        return sorted(_ints(_checked(pgconn.exec_params(_insert_sql(count, "${}").encode(), params), pgconn)))
    if connection.connection not in _prepared_on:
        _prepare_one_row_insert(pgconn)
        _prepared_on.add(connection.connection)
    try:
        return _ints(_checked(pgconn.exec_prepared(_ONE_ROW_STATEMENT, params), pgconn))
    except errors.InvalidSqlStatementName:
        # The server forgot it (DISCARD ALL, a pooler handing over another server connection):
        # nothing was inserted, so prepare it again and insert once more.
        _prepare_one_row_insert(pgconn)
        return _ints(_checked(pgconn.exec_prepared(_ONE_ROW_STATEMENT, params), pgconn))


def _draw_libpq(pgconn: Any) -> Callable[[int], list[int]]:
    def draw(count: int) -> list[int]:
        return sorted(_ints(_checked(pgconn.exec_params(_DRAW_LIBPQ, [b"%d" % count]), pgconn)))

    return draw


def _prepare_one_row_insert(pgconn: Any) -> None:
    # A session that has it already (a pooled one) has this very statement: the name carries its hash.
    with contextlib.suppress(errors.DuplicatePreparedStatement):
        _checked(pgconn.prepare(_ONE_ROW_STATEMENT, _insert_sql(1, "${}").encode()), pgconn)


def _checked(result: Any, pgconn: Any) -> Any:
    """The result of a libpq call, or psycopg's error for it (OperationalError when the connection is lost)."""
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return result
    if pgconn.status == pq.ConnStatus.BAD:
        raise psycopg.OperationalError(pgconn.error_message.decode(errors="replace").strip())
    raise errors.error_from_result(result)


def _ints(result: Any) -> list[int]:
    return [int(result.get_value(row, 0)) for row in range(result.ntuples)]


def _flat(rows: list[list[Any]]) -> list[Any]:
    return [value for row in rows for value in row]
