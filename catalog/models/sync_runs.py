"""Sync runs and their staged listing pages: what the publish gate reads and decides on."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    """Where a sync run stands: staged pages are gated before anything reaches the catalog."""

    STAGING = "staging", _("staging")
    GATING = "gating", _("gating")
    HELD = "held", _("held")
    PUBLISHING = "publishing", _("publishing")
    PUBLISHED = "published", _("published")
    FAILED = "failed", _("failed")


class Decision(models.TextChoices):
    """What the publish gate decided."""

    PUBLISHED = "published", _("published")
    HELD = "held", _("held")


class SyncRunQuerySet(models.QuerySet["SyncRun"]):
    """Shortcuts for the admin and the gate."""

    def held(self) -> "SyncRunQuerySet":
        """Runs the gate held and nobody has published since."""
        return self.filter(status=RunStatus.HELD)

    def last_published_complete(self) -> "SyncRun | None":
        """The newest run that published a complete listing: its profile is the default reference."""
        published = self.filter(status=RunStatus.PUBLISHED, complete_listing=True, listing_read_whole=True)
        return published.exclude(profile={}).first()


class SyncRun(models.Model):
    """One sync: its options, its data's profile and the gate's report and decision.

    The profile and the report are the run's artifacts; their sha256 also go on the audit
    record, so a downloaded copy can be checked against the tamper-evident log.
    """

    run_id = models.CharField(_("run id"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("started at"), editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.STAGING)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    complete_listing = models.BooleanField(_("complete listing"), default=False)
    listing_read_whole = models.BooleanField(_("listing read whole"), default=True)
    staged_products = models.PositiveIntegerField(_("staged products"), default=0)
    reference_run_id = models.CharField(_("reference run"), max_length=64, blank=True)
    profile = models.JSONField(_("profile"), default=dict, blank=True)
    profile_sha256 = models.CharField(_("profile sha256"), max_length=64, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    report_sha256 = models.CharField(_("report sha256"), max_length=64, blank=True)
    accepted_by = models.CharField(_("accepted by"), max_length=150, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"], name="syncrun_status_started")]

    def __str__(self) -> str:
        return f"{self.run_id} ({self.status})"


class StagedPage(models.Model):
    """One listing page of a run, as received, waiting for the gate: never read by the site."""

    run = models.ForeignKey(SyncRun, models.CASCADE, related_name="pages", verbose_name=_("run"))
    number = models.PositiveIntegerField(_("page"))
    # JSON text, not a JSON column: PostgreSQL's jsonb refuses a NUL (\u0000) that a hostile
    # payload may hold, and the payload must stay exact for validation to reject it later.
    payloads = models.TextField(_("payloads as received (JSON)"), default="[]")
    # The page's mergeable profile summary, so the run's profile never re-reads payloads.
    summary = models.JSONField(_("profile summary"), default=dict)

    class Meta:
        verbose_name = _("staged page")
        verbose_name_plural = _("staged pages")
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="staged_page_unique_number")]

    def __str__(self) -> str:
        return f"{self.run.run_id} page {self.number}"
