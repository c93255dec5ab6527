"""The audit event: one append-only, hash-chained row per thing that happened."""

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete recorded history."""


class Kind(models.TextChoices):
    """What was done."""

    FETCH = "fetch", _("fetch")
    DOWNLOAD = "download", _("download")
    SYNC = "sync", _("sync")
    VALIDATION = "validation", _("validation")
    TEST_RUN = "test_run", _("test run")
    LINT = "lint", _("lint")
    ADMIN = "admin", _("admin action")
    CHECKPOINT = "checkpoint", _("prune checkpoint")
    VERIFY = "verify", _("chain verification")
    LOGIN = "login", _("failed login")
    GATE = "gate", _("publish gate")


class Outcome(models.TextChoices):
    """How it ended."""

    OK = "ok", _("ok")
    NOT_MODIFIED = "not_modified", _("not modified")
    HTTP_ERROR = "http_error", _("HTTP error")
    TIMEOUT = "timeout", _("timeout")
    CONNECTION_ERROR = "connection_error", _("connection error")
    INVALID = "invalid", _("invalid")
    BLOCKED = "blocked", _("blocked")
    TOO_LARGE = "too_large", _("too large")
    ERROR = "error", _("error")
    STARTED = "started", _("started")
    HELD = "held", _("held")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Reads only: bulk changes would rewrite history, so they are refused."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be updated.")

    # Not copied onto the manager: AuditEvent.objects.update() would read as allowed.
    update.queryset_only = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditEvent(models.Model):
    """One fetch, download, sync, validation finding or test run.

    ``hash`` is sha256 over the canonical form of the other fields and ``prev_hash``,
    the hash of the event before it in the same ``chain`` (one per writer), so changing,
    removing or reordering a row breaks the chain that ``verify_audit`` walks. Rows are
    created only by ``audit.services.record_event``.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    created_at = models.DateTimeField(_("time"), editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, editable=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, editable=False)
    method = models.CharField(_("method"), max_length=10, blank=True, editable=False)
    url = models.CharField(_("URL"), max_length=2048, blank=True, editable=False)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True, editable=False)
    duration_ms = models.FloatField(_("duration (ms)"), null=True, blank=True, editable=False)
    bytes = models.BigIntegerField(_("bytes"), null=True, blank=True, editable=False)
    sha256 = models.CharField(_("body sha256"), max_length=64, blank=True, editable=False)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1, editable=False)
    run_id = models.CharField(_("run id"), max_length=64, editable=False)
    product_id = models.BigIntegerField(_("product id"), null=True, blank=True, editable=False)
    actor = models.CharField(_("actor"), max_length=150, editable=False)
    message = models.TextField(_("message"), blank=True, editable=False)
    details = models.JSONField(_("details"), default=dict, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    # Not unique, and so not indexed: nothing looks an event up by its hash, and every index costs each append.
    hash = models.CharField(_("hash"), max_length=64, editable=False)
    # The writer's chain that prev_hash links within; empty for events from before chains.
    chain = models.CharField(_("chain"), max_length=32, blank=True, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["run_id", "seq"], name="audit_run_seq"),
            models.Index(fields=["product_id", "seq"], name="audit_product_seq"),
            models.Index(fields=["kind", "seq"], name="audit_kind_seq"),
            models.Index(fields=["created_at"], name="audit_created"),
            # The admin's outcome and status-class filters, newest first without a sort.
            models.Index(fields=["outcome", "seq"], name="audit_outcome_seq"),
            models.Index(fields=["status_code", "seq"], name="audit_status_seq"),
            # Prefix search on URLs: PostgreSQL only serves LIKE 'prefix%' from a
            # pattern_ops index (other backends ignore opclasses and use a range).
            models.Index(fields=["url"], name="audit_url_prefix", opclasses=["varchar_pattern_ops"]),
            # The dashboard's per-day latency reads one kind over a time range.
            models.Index(fields=["kind", "created_at"], name="audit_kind_created"),
            # A chain's head (appends inside a transaction) and its events (anchoring).
            models.Index(fields=["chain", "seq"], name="audit_chain_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")
