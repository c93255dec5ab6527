"""The hash chains: the canonical form of an event and its hash (``walk.py`` verifies them).

Each writer (a process, or a thread inside its own transaction) appends to a chain of its
own, named by ``chain``: every event links to the previous event *of its chain* by
``prev_hash``, so writers never wait for one another. ``seq`` orders all events; it may
have gaps on PostgreSQL (a rolled-back transaction keeps the numbers it drew).
"""

import hashlib
import json
import json.encoder
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import AuditEvent

# The fields a hash covers; adding one changes every hash, so only append. ``chain`` is left
# out of the hashed form when empty, so events written before chains existed keep their hashes.
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
    "chain",
)
# The hashed fields in the canonical (sorted) order, split around ``details``: the canonical
# text is then two flat JSON objects and the details' own canonical text, spliced together.
_BEFORE_DETAILS = ("actor", "attempt", "bytes", "chain", "created_at")
_AFTER_DETAILS = tuple(sorted(set(HASHED_FIELDS) - {*_BEFORE_DETAILS, "details"}))
assert sorted(HASHED_FIELDS) == [*_BEFORE_DETAILS, "details", *_AFTER_DETAILS]  # a wrong split would change every hash

CANONICAL_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _compact_encoder(*, sort_keys: bool) -> Callable[[object], str]:
    """JSON with no spaces and UTF-8 kept, from an encoder built once.

    ``json.dumps`` builds a ``JSONEncoder``, and ``JSONEncoder.encode`` builds json's C encoder,
    on every call: most of the cost on the small objects of a hash, and verifying a million
    events hashes a million times. This builds that C encoder once, with the options
    ``JSONEncoder`` would give it (no circular check: events hold no cycles), and falls back
    to ``JSONEncoder`` where there is no C encoder or it would spell a sample differently.
    """
    encoder = json.JSONEncoder(sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    try:
        chunks = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",", sort_keys, False, True)
    except TypeError:  # another Python's signature
        return encoder.encode

    def encode(value: object) -> str:
        return "".join(chunks(value, 0))

    sample = {"b": [1.5, None, True, -7, 'é\n"\u2028'], "a": {"z": 1e100, "y": ""}}
    return encode if encode(sample) == encoder.encode(sample) else encoder.encode


_flat_json = _compact_encoder(sort_keys=False)
_canonical_json = _compact_encoder(sort_keys=True)


def canonical_json(value: object) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept."""
    return _canonical_json(value)


def canonical_time(moment: datetime) -> str:
    """UTC with microseconds, the precision every supported database keeps."""
    return moment.astimezone(UTC).strftime(CANONICAL_TIME_FORMAT)


def parse_canonical_time(value: str) -> datetime:
    """The moment ``canonical_time`` wrote."""
    return datetime.strptime(value, CANONICAL_TIME_FORMAT).replace(tzinfo=UTC)


def canonical_event_hash(fields: dict[str, Any], created_at: str, details_json: str) -> str:
    """sha256 over ``canonical_json`` of the hashed fields, given the time and details already canonical.

    ``fields`` needs every hashed field but ``created_at`` and ``details``. It is built
    from two flat objects and the details' text, which is what ``canonical_json`` of the
    whole would print, at a fraction of the cost: verifying a million events depends on it.
    """
    before = {"actor": fields["actor"], "attempt": fields["attempt"], "bytes": fields["bytes"]}
    if fields["chain"]:
        before["chain"] = fields["chain"]
    before["created_at"] = created_at
    after = _flat_json({name: fields[name] for name in _AFTER_DETAILS})
    text = f'{_flat_json(before)[:-1]},"details":{details_json},{after[1:]}'
    return hashlib.sha256(text.encode()).hexdigest()


def event_hash(fields: dict[str, Any]) -> str:
    """sha256 over the canonical form of an event's hashed fields (``created_at`` a datetime, ``details`` a dict)."""
    return canonical_event_hash(fields, canonical_time(fields["created_at"]), canonical_json(fields["details"]))


def event_fields(event: "AuditEvent") -> dict[str, Any]:
    """The hashed fields of a stored event, and its hash."""
    return {name: getattr(event, name) for name in (*HASHED_FIELDS, "hash")}
