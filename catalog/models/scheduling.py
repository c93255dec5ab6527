"""Claims that keep concurrent workers from doubling work: scheduled sync slots and sync shards."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledSync(models.Model):
    """One slot of the sync schedule, claimed by the scheduler that queued its sync.

    The slot's start is the primary key, so however many schedulers run, each slot's
    sync is queued once.
    """

    slot = models.DateTimeField(_("slot"), primary_key=True)
    queued_at = models.DateTimeField(_("queued at"))
    task_id = models.CharField(_("task id"), max_length=64)

    class Meta:
        verbose_name = _("scheduled sync")
        verbose_name_plural = _("scheduled syncs")
        ordering = ["-slot"]

    def __str__(self) -> str:
        return f"sync of {self.slot:%Y-%m-%d %H:%M}"


class ShardKind(models.TextChoices):
    """What one shard of a sharded sync covers."""

    PAGE = "page", _("listing page")
    IMAGES = "images", _("image batch")


class ShardState(models.TextChoices):
    """Where one shard stands."""

    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class SyncShard(models.Model):
    """One piece of a sharded sync: a listing page or one page's images, run by whichever worker claims it.

    Claiming is a conditional UPDATE, so a shard runs once even when its task and the
    coordinator race for it; a claim older than the lease is taken over (its worker died).
    """

    run_id = models.CharField(_("run id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=ShardKind.choices)
    number = models.PositiveIntegerField(_("number"))
    state = models.CharField(_("state"), max_length=10, choices=ShardState.choices, default=ShardState.PENDING)
    skip = models.PositiveIntegerField(_("skip"), default=0)
    limit = models.PositiveIntegerField(_("limit"), default=0)
    product_ids = models.JSONField(_("product ids"), default=list, blank=True)
    payloads = models.JSONField(_("products as received"), null=True, blank=True)
    total = models.IntegerField(_("listing total"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sync shard")
        verbose_name_plural = _("sync shards")
        ordering = ["run_id", "kind", "number"]
        constraints = [models.UniqueConstraint(fields=["run_id", "kind", "number"], name="sync_shard_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind} {self.number}: {self.state}"
