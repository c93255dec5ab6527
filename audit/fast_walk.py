"""The stored chain walked at speed: raw rows from one cursor, each hashed as ``event_hash`` would.

``verify_audit`` must check a million events in seconds, not minutes, so this skips the
ORM (model instances, per-field converters) and works on the tuples the database returns:
the time's canonical spelling is made from SQLite's stored text directly, and only the
details are parsed. It reports exactly what ``chain.verify_chain`` would.
"""

import hashlib
import json
from collections.abc import Generator, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db import connections

from .anchor_set import AnchorSet
from .anchors import DIGEST_BYTES
from .chain import HASHED_FIELDS, ChainReport, canonical_time
from .models import AuditEvent

FETCH_SIZE = 10_000
_SEQ = HASHED_FIELDS.index("seq")
_CREATED = HASHED_FIELDS.index("created_at")
_DETAILS = HASHED_FIELDS.index("details")
_PREVIOUS = HASHED_FIELDS.index("prev_hash")


def _canonical_created(value: object) -> str:
    """SQLite keeps ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC; PostgreSQL gives a datetime."""
    if isinstance(value, datetime):
        return canonical_time(value)
    text = str(value).replace(" ", "T")
    if "+" in text:
        text = text.split("+", 1)[0]
    return f"{text}Z" if "." in text else f"{text}.000000Z"


def stored_rows(*, using: str, through_seq: int | None) -> Generator[list[Any], None, None]:
    """Every stored event in seq order as a tuple: the hashed fields (time canonical, details parsed), then the hash."""
    connection = connections[using]
    quote = connection.ops.quote_name
    names = [quote(name) for name in (*HASHED_FIELDS, "hash")]  # each field's column is its name
    if connection.vendor == "sqlite":
        # The stored text itself, not Django's datetime converter: it is spelled canonically far faster.
        names[_CREATED] = f"{names[_CREATED]} || ''"
    columns = ", ".join(names)
    where, params = ("", []) if through_seq is None else (f" WHERE {quote('seq')} <= %s", [through_seq])
    sql = f"SELECT {columns} FROM {quote(AuditEvent._meta.db_table)}{where} ORDER BY {quote('seq')}"
    loads = json.loads
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            for row in batch:
                row = list(row)
                row[_CREATED] = _canonical_created(row[_CREATED])
                details = row[_DETAILS]
                row[_DETAILS] = loads(details) if isinstance(details, (str, bytes)) else details
                yield row


def _unlike_anchor(anchors: AnchorSet | None, seq: int, stored_hash: str) -> bool:
    """Whether a signed anchor covers the event and says its hash starts otherwise."""
    if anchors is None:
        return False
    index = seq - anchors.base
    if index < 0 or index >= len(anchors.covered) or not anchors.covered[index]:
        return False
    anchored = bytes(anchors.digests[index * DIGEST_BYTES : (index + 1) * DIGEST_BYTES])
    return anchored != bytes.fromhex(stored_hash[: DIGEST_BYTES * 2])


def walk(  # pylint: disable=too-many-arguments,too-many-locals  # one tight loop, kept in one place for speed
    rows: Iterator[list[Any]],
    *,
    start_seq: int,
    start_hash: str,
    pinned: Mapping[int, str],
    anchors: AnchorSet | None,
    suspect: Mapping[int, str],
) -> ChainReport:
    """``verify_chain`` over ``stored_rows``: the first event removed, reordered, changed, or unlike its anchor."""
    dumps, sha256, names = json.dumps, hashlib.sha256, HASHED_FIELDS
    expected_seq, previous_hash, count = start_seq, start_hash, 0
    for row in rows:
        seq, stored_hash = row[_SEQ], row[-1]
        problem = ""
        if seq != expected_seq:
            problem = f"expected event #{expected_seq} but found #{seq}: removed or reordered"
        elif row[_PREVIOUS] != previous_hash:
            problem = f"event #{seq} does not link to the event before it: removed or reordered"
        else:
            payload = dumps(
                dict(zip(names, row, strict=False)), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            if sha256(payload.encode()).hexdigest() != stored_hash:
                problem = f"event #{seq} does not match its hash: changed"
            elif pinned.get(seq, stored_hash) != stored_hash:
                problem = f"event #{seq} does not match the hash its prune checkpoint recorded: rewritten"
            elif _unlike_anchor(anchors, seq, stored_hash):
                problem = f"event #{seq} differs from its signed anchor: changed, inserted, reordered or replaced"
            elif seq in suspect:
                problem = f"event #{seq} {suspect[seq]}"
        if problem:
            return ChainReport(count, previous_hash, expected_seq, problem)
        expected_seq, previous_hash, count = seq + 1, stored_hash, count + 1
    return ChainReport(count, previous_hash)
