"""Walk the stored chains at speed and report the first event removed, reordered, changed, or unlike its anchor.

Events come in ``seq`` order as plain dicts from one cursor (no model instances), and each
is hashed as ``chain.event_hash`` would. Each event must link to the event before it in its
own chain; a chain starts from the genesis hash, or from what a signed prune checkpoint
pinned. Seqs may have gaps (PostgreSQL keeps the numbers a rolled-back transaction drew),
but a missing seq that a signed anchor covers is a removed event.
"""

import json
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections

from .anchor_set import AnchorSet
from .chain import HASHED_FIELDS, canonical_event_hash, canonical_json, canonical_time, event_fields
from .models import GENESIS_HASH, AuditEvent

FETCH_SIZE = 10_000


@dataclass(frozen=True)
class ChainReport:
    """What a walk found: the count and head when intact, else the first break; each chain's last event."""

    count: int
    head_hash: str
    broken_seq: int | None = None
    problem: str = ""
    chain_heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    unanchored: int = 0

    @property
    def intact(self) -> bool:
        """Whether every event checked out."""
        return self.broken_seq is None


@dataclass(frozen=True)
class WalkStart:
    """Where a walk begins and what signed prune checkpoints explain.

    ``seq`` is the first seq expected; events up to ``pruned_through`` may be missing.
    ``chain_pins`` maps a chain to the seq and hash of its last pruned event, where the
    chain continues; ``suspect`` maps seqs already known to be wrong to the reason.
    """

    seq: int = 1
    pruned_through: int = 0
    chain_pins: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    suspect: Mapping[int, str] = field(default_factory=dict)
    # SQLite numbers events without gaps, so there any missing seq after a prune is a removal.
    gaps_are_removals: bool = False


def _canonical_created(value: object) -> str:
    """SQLite keeps ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC; PostgreSQL gives a datetime."""
    if isinstance(value, datetime):
        return canonical_time(value)
    text = str(value).replace(" ", "T")
    if "+" in text:
        text = text.split("+", 1)[0]
    return f"{text}Z" if "." in text else f"{text}.000000Z"


def stored_rows(*, using: str, through_seq: int | None) -> Generator[dict[str, Any], None, None]:
    """Every stored event in seq order: its hashed fields (time canonical, details as stored) and hash."""
    connection = connections[using]
    quote = connection.ops.quote_name
    names = [*HASHED_FIELDS, "hash"]
    columns = [quote(name) for name in names]  # each field's column is its name
    created = names.index("created_at")
    if connection.vendor == "sqlite":
        # The stored text itself, not Django's datetime converter: it is spelled canonically far faster.
        columns[created] = f"{columns[created]} || ''"
    where, params = ("", []) if through_seq is None else (f" WHERE {quote('seq')} <= %s", [through_seq])
    sql = f"SELECT {', '.join(columns)} FROM {quote(AuditEvent._meta.db_table)}{where} ORDER BY {quote('seq')}"
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            for row in batch:
                fields = dict(zip(names, row, strict=True))
                fields["created_at"] = _canonical_created(fields["created_at"])
                yield fields


def memory_rows(events: Iterable[AuditEvent]) -> Generator[dict[str, Any], None, None]:
    """Model instances as ``stored_rows`` gives rows."""
    for event in events:
        fields = event_fields(event)
        fields["created_at"] = canonical_time(fields["created_at"])
        yield fields


def stored_hash_matches(fields: dict[str, Any]) -> bool:
    """Whether the row hashes to its stored hash.

    SQLite keeps the details as the canonical text they were hashed as, so that text is
    tried as it is; otherwise (PostgreSQL's jsonb, older rows) they are parsed and re-spelled.
    """
    details, stored = fields["details"], str(fields["hash"])
    if isinstance(details, str):
        if canonical_event_hash(fields, fields["created_at"], details) == stored:
            return True
        try:
            details = json.loads(details)
        except ValueError:
            return False
    return canonical_event_hash(fields, fields["created_at"], canonical_json(details)) == stored


class _Walk:
    """The state of one walk: each chain's last event, the seqs found missing so far, the anchors."""

    def __init__(self, start: WalkStart, anchors: AnchorSet | None) -> None:
        self.start, self.anchors = start, anchors
        self.heads: dict[str, tuple[int, str]] = {}
        self.gaps: list[tuple[int, int]] = []
        self.previous_seq = start.seq - 1
        self.unanchored = 0

    def first_absent(self, low: int, high: int) -> int | None:
        """The first seq in ``low..high`` found missing, or None."""
        for gap_low, gap_high in self.gaps:
            if gap_high >= low and gap_low <= high:
                return max(gap_low, low)
        return None

    def anchored_missing(self, low: int, high: int) -> int | None:
        """The first seq in ``low..high`` a signed anchor covers, not explained by a prune."""
        anchors = self.anchors
        if anchors is None:
            return None
        low = max(low, self.start.pruned_through + 1, anchors.base)
        high = min(high, anchors.last_seq)
        if low > high:
            return None
        found = anchors.covered.find(1, low - anchors.base, high - anchors.base + 1)
        return None if found < 0 else anchors.base + found

    def link_problem(self, fields: dict[str, Any]) -> tuple[int, str] | None:
        """Where the event fails to link to the event before it in its chain, and why."""
        seq, chain = fields["seq"], fields["chain"]
        head = self.heads.get(chain)
        if head is not None:
            after, expected = head
        else:
            after, expected = self.start.seq - 1, GENESIS_HASH
            pin = self.start.chain_pins.get(chain)
            if pin is not None and seq > pin[0]:
                expected = pin[1]
            elif pin is not None or seq <= self.start.pruned_through:
                expected = fields["prev_hash"]  # in the pruned range: what came before is gone, by a signed prune
        if fields["prev_hash"] == expected:
            return None
        absent = self.first_absent(after + 1, seq - 1)
        if absent is not None:
            return absent, f"expected event #{absent} but found #{seq}: removed or reordered"
        return seq, f"event #{seq} does not link to the event before it: removed or reordered"

    def missing_before(self, seq: int) -> tuple[int, str] | None:
        """A removal in the gap between the previous event and ``seq``: an anchored seq, or on SQLite any."""
        low, high = self.previous_seq + 1, seq - 1
        self.gaps.append((low, high))
        anchored = self.anchored_missing(low, high)
        if anchored is not None:
            return anchored, f"event #{anchored} is anchored (through #{seq - 1} at least) but missing: removed"
        first = max(low, self.start.pruned_through + 1)
        if self.start.gaps_are_removals and first <= high:
            return first, f"expected event #{first} but found #{seq}: removed or reordered"
        return None

    def problem(  # pylint: disable=too-many-return-statements  # one per way to break the chain
        self, fields: dict[str, Any], missing: tuple[int, str] | None
    ) -> tuple[int, str] | None:
        """The first thing wrong with this event (or a removal just before it)."""
        seq, stored = fields["seq"], fields["hash"]
        broken = self.link_problem(fields)
        if broken is not None:
            return broken
        if missing is not None:
            return missing
        if not stored_hash_matches(fields):
            return seq, f"event #{seq} does not match its hash: changed"
        pin = self.start.chain_pins.get(fields["chain"])
        if pin is not None and pin[0] == seq and pin[1] != stored:
            return seq, f"event #{seq} does not match the hash its prune checkpoint recorded: rewritten"
        anchored = None if self.anchors is None else self.anchors.expected(seq)
        if anchored is None:
            self.unanchored += 1
        elif anchored != bytes.fromhex(stored[:16]):
            return seq, f"event #{seq} differs from its signed anchor: changed, inserted, reordered or replaced"
        if seq in self.start.suspect:
            return seq, f"event #{seq} {self.start.suspect[seq]}"
        return None

    def run(self, rows: Iterable[dict[str, Any]], *, to_the_end: bool) -> ChainReport:
        """Walk every row; with ``to_the_end``, anchored events after the last row are a truncated tail."""
        count, head_hash = 0, GENESIS_HASH
        for fields in rows:
            seq = fields["seq"]
            missing = self.missing_before(seq) if seq > self.previous_seq + 1 else None
            broken = self.problem(fields, missing)
            if broken is not None:
                return ChainReport(count, head_hash, broken[0], broken[1], self.heads, self.unanchored)
            self.heads[fields["chain"]] = (seq, fields["hash"])
            self.previous_seq, head_hash, count = seq, fields["hash"], count + 1
        if to_the_end and self.anchors is not None:
            cut = self.anchored_missing(self.previous_seq + 1, self.anchors.last_seq)
            if cut is not None:
                through = self.anchors.last_seq
                problem = f"event #{cut} is anchored (through #{through}) but missing: the tail was truncated"
                return ChainReport(count, head_hash, cut, problem, self.heads, self.unanchored)
        return ChainReport(count, head_hash, chain_heads=self.heads, unanchored=self.unanchored)


def walk(
    rows: Iterable[dict[str, Any]],
    *,
    start: WalkStart | None = None,
    anchors: AnchorSet | None = None,
    to_the_end: bool = True,
) -> ChainReport:
    """Check every row (in seq order) against its chain, its hash, the prune pins and the anchors."""
    return _Walk(start or WalkStart(), anchors).run(rows, to_the_end=to_the_end)


def verify_chain(events: Iterable[AuditEvent], *, start: WalkStart | None = None) -> ChainReport:
    """``walk`` over model instances (in seq order), without anchors."""
    return walk(memory_rows(events), start=start)
