"""Single-product refreshes queued by page views (single flight and negative cache)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RefreshState(models.TextChoices):
    """Where a queued refresh of one product stands."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    MISSING = "missing", _("the source did not return it")
    FAILED = "failed", _("the source did not answer; the stored copy is kept")


class ProductRefresh(models.Model):
    """The latest refresh asked for one product id: at most one is queued per interval, and its answer is kept.

    Page views read this row to decide whether to queue another refresh (single flight) and to
    remember that the source did not have an id (negative cache). Not a foreign key: an id the
    catalog has never stored can be asked for too.
    """

    product_id = models.PositiveIntegerField(_("DummyJSON id"), primary_key=True)
    state = models.CharField(_("state"), max_length=20, choices=RefreshState.choices, default=RefreshState.QUEUED)
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.CharField(_("requested by"), max_length=150)
    run_id = models.CharField(_("run id"), max_length=64)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("product refresh")
        verbose_name_plural = _("product refreshes")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.get_state_display()}"
