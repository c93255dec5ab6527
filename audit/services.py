"""The only way events enter the audit log: ``record_event`` appends one to the hash chain."""

import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS

from .anchors import anchor_after
from .append import append_event
from .context import current_run
from .hygiene import bounded_int, clean_text, clean_url, finite_float, json_details, storable_text
from .models import AuditEvent

logger = logging.getLogger(__name__)

URL_MAX_LENGTH = AuditEvent._meta.get_field("url").max_length
ACTOR_MAX_LENGTH = AuditEvent._meta.get_field("actor").max_length
METHOD_MAX_LENGTH = AuditEvent._meta.get_field("method").max_length
SHA256_MAX_LENGTH = AuditEvent._meta.get_field("sha256").max_length
RUN_ID_MAX_LENGTH = AuditEvent._meta.get_field("run_id").max_length
SMALLINT_MAX = 32767  # PositiveSmallIntegerField's range on every backend
BIGINT_MAX = 2**63 - 1


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
    if not (run_id and actor):  # a caller that names both (the test-run recorder) needs no context
        context = current_run()
        run_id, actor = run_id or context.run_id, actor or context.actor
    # Every stored string is redacted and made storable, so no value can make the write fail.
    fields: dict[str, Any] = {
        "kind": storable_text(kind),
        "outcome": storable_text(outcome),
        "method": storable_text(method)[:METHOD_MAX_LENGTH],
        "url": clean_url(url)[:URL_MAX_LENGTH],
        "status_code": bounded_int(status_code, low=0, high=SMALLINT_MAX),
        "duration_ms": None if duration_ms is None else finite_float(duration_ms),
        "bytes": bounded_int(body_bytes, low=-BIGINT_MAX, high=BIGINT_MAX),
        "sha256": storable_text(sha256)[:SHA256_MAX_LENGTH],
        "attempt": bounded_int(attempt, low=0, high=SMALLINT_MAX) or 1,
        "run_id": storable_text(run_id)[:RUN_ID_MAX_LENGTH],
        "product_id": bounded_int(product_id, low=-BIGINT_MAX, high=BIGINT_MAX),
        "actor": clean_text(actor)[:ACTOR_MAX_LENGTH],
        "message": clean_text(message),
        "details": json_details(details),
    }
    try:
        event = append_event(fields, using=using)
    except Exception:
        logger.exception("Could not write the audit event %s/%s for %s", kind, outcome, fields["url"])
        raise
    anchor_after(kind=fields["kind"], outcome=fields["outcome"], using=using)
    return event
