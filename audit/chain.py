"""The hash chain: canonical serialization of an event and verification of the whole log."""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .models import GENESIS_HASH

if TYPE_CHECKING:
    from .models import AuditEvent

# The fields a hash covers, in a fixed order; adding one changes every hash, so only append.
HASHED_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "outcome",
    "method",
    "url",
    "status_code",
    "duration_ms",
    "bytes",
    "sha256",
    "attempt",
    "run_id",
    "product_id",
    "actor",
    "message",
    "details",
    "prev_hash",
)


CANONICAL_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def canonical_json(value: object) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_time(moment: datetime) -> str:
    """UTC with microseconds, the precision every supported database keeps."""
    return moment.astimezone(UTC).strftime(CANONICAL_TIME_FORMAT)


def parse_canonical_time(value: str) -> datetime:
    """The moment ``canonical_time`` wrote."""
    return datetime.strptime(value, CANONICAL_TIME_FORMAT).replace(tzinfo=UTC)


def event_hash(fields: dict[str, Any]) -> str:
    """sha256 over the canonical form of an event's hashed fields."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["created_at"] = canonical_time(payload["created_at"])
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _event_problem(  # pylint: disable=too-many-return-statements  # one per way to break the chain
    event: Any,
    expected_seq: int,
    previous_hash: str,
    pinned: Mapping[int, str],
    anchored: Callable[[int], bytes | None] | None,
    suspect: Mapping[int, str],
) -> str:
    """Why this event breaks the chain, or empty when it does not."""
    if event.seq != expected_seq:
        return f"expected event #{expected_seq} but found #{event.seq}: removed or reordered"
    if event.prev_hash != previous_hash:
        return f"event #{event.seq} does not link to the event before it: removed or reordered"
    if event_hash({name: getattr(event, name) for name in HASHED_FIELDS}) != event.hash:
        return f"event #{event.seq} does not match its hash: changed"
    if pinned.get(event.seq, event.hash) != event.hash:
        return f"event #{event.seq} does not match the hash its prune checkpoint recorded: rewritten"
    if anchored is not None and anchored(event.seq) not in (None, bytes.fromhex(event.hash[:16])):
        return f"event #{event.seq} differs from its signed anchor: changed, inserted, reordered or replaced"
    if event.seq in suspect:
        return f"event #{event.seq} {suspect[event.seq]}"
    return ""


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found: the count and head when intact, else the first break."""

    count: int
    head_hash: str
    broken_seq: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        """Whether every event checked out."""
        return self.broken_seq is None


def verify_chain(
    events: Iterable["AuditEvent"],
    *,
    start_seq: int = 1,
    start_hash: str = GENESIS_HASH,
    pinned: Mapping[int, str] | None = None,
    anchored: Callable[[int], bytes | None] | None = None,
    suspect: Mapping[int, str] | None = None,
) -> ChainReport:
    """Walk events in ``seq`` order and report the first one changed, removed or reordered.

    ``pinned`` maps sequence numbers to the hashes that prune checkpoints recorded for
    them; an event still present must keep that hash. ``anchored(seq)`` gives what a
    signed anchor says the event's hash starts with (None when no anchor covers it), and
    ``suspect`` maps seqs already known to be wrong (a forged checkpoint) to the reason.
    """
    pinned, suspect = pinned or {}, suspect or {}
    expected_seq, previous_hash, count = start_seq, start_hash, 0
    for event in events:
        problem = _event_problem(event, expected_seq, previous_hash, pinned, anchored, suspect)
        if problem:
            return ChainReport(count, previous_hash, expected_seq, problem)
        expected_seq, previous_hash, count = event.seq + 1, event.hash, count + 1
    return ChainReport(count, previous_hash)
