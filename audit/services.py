"""The only way events enter the audit log: ``record_event`` appends one to the hash chain."""

import json
import logging
import threading
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .chain import canonical_json, event_hash
from .context import current_run
from .models import GENESIS_HASH, AuditEvent
from .redaction import redact_url

logger = logging.getLogger(__name__)

# Any fixed 64-bit number: the PostgreSQL advisory lock that serializes appends across processes.
CHAIN_LOCK_KEY = 0x4155444954  # "AUDIT"
_append_lock = threading.Lock()
URL_MAX_LENGTH = AuditEvent._meta.get_field("url").max_length
ACTOR_MAX_LENGTH = AuditEvent._meta.get_field("actor").max_length


def _lock_chain(using: str) -> None:
    """Make this transaction the only appender until it ends.

    SQLite needs nothing more: its IMMEDIATE transactions already hold the database's
    write lock. PostgreSQL allows concurrent writers, so they queue on an advisory lock.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def _json_safe(details: dict[str, Any] | None) -> dict[str, Any]:
    """The details as the database will give them back, so the hash survives a round trip."""
    safe: dict[str, Any] = json.loads(canonical_json(json.loads(json.dumps(details or {}, default=str))))
    return safe


def _clean_text(value: str | None) -> str:
    # PostgreSQL rejects NUL in text; an upstream could send one in a message.
    return (value or "").replace("\x00", "\\0")


def record_event(  # pylint: disable=too-many-arguments,too-many-locals
    *,
    kind: str,
    outcome: str,
    method: str = "",
    url: str = "",
    status_code: int | None = None,
    duration_ms: float | None = None,
    body_bytes: int | None = None,
    sha256: str = "",
    attempt: int = 1,
    product_id: int | None = None,
    message: str = "",
    details: dict[str, Any] | None = None,
    run_id: str | None = None,
    actor: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> AuditEvent:
    """Append one event to the chain and return it.

    The run id and actor default to the open ``run_context``. Call this outside the
    caller's own ``transaction.atomic`` block so that the event commits even when that
    work is rolled back. A failure to write raises: an audit trail with silent holes
    would be worse than a failed operation. ``using`` names another database alias,
    for writers that must not touch the default one (the test-run recorder).
    """
    context = current_run()
    fields: dict[str, Any] = {
        "kind": kind,
        "outcome": outcome,
        "method": method,
        "url": redact_url(_clean_text(url))[:URL_MAX_LENGTH],
        "status_code": status_code,
        "duration_ms": None if duration_ms is None else round(float(duration_ms), 3),
        "bytes": body_bytes,
        "sha256": sha256,
        "attempt": attempt,
        "run_id": run_id or context.run_id,
        "product_id": product_id,
        "actor": (actor or context.actor)[:ACTOR_MAX_LENGTH],
        "message": _clean_text(message),
        "details": _json_safe(details),
    }
    try:
        with _append_lock, transaction.atomic(using=using):
            _lock_chain(using)
            last = AuditEvent.objects.using(using).order_by("-seq").values_list("seq", "hash").first()
            last_seq, last_hash = last or (0, GENESIS_HASH)
            fields.update(seq=last_seq + 1, prev_hash=last_hash, created_at=timezone.now())
            fields["hash"] = event_hash(fields)
            event = AuditEvent(**fields)
            event.save(force_insert=True, using=using)
    except Exception:
        logger.exception("Could not write the audit event %s/%s for %s", kind, outcome, fields["url"])
        raise
    return event
