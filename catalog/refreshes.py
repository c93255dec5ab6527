"""Queue work for the workers: refreshes for page views and staff, and scheduled syncs; nothing here waits.

One ``ProductRefresh`` row per product id makes page views single-flight: within
``CATALOG_REFRESH_INTERVAL`` of a queued refresh, further views of that id queue
nothing, whether it is stale, being fetched, or unknown to the source (negative cache).
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.context import new_run_id

from . import conf, tasks
from .models import ProductRefresh, RefreshState, ScheduledSync


def refresh_recently_requested(*, product_id: int) -> ProductRefresh | None:
    """The refresh of this id asked for within the interval, if any (a read, no write)."""
    since = timezone.now() - timedelta(seconds=conf.refresh_interval())
    return ProductRefresh.objects.filter(product_id=product_id, requested_at__gte=since).first()


def claim_refresh(*, product_id: int, actor: str, run_id: str, force: bool = False) -> bool:
    """Take the product's refresh slot for this run; False when another run holds it within the interval.

    Atomic across processes: the conditional UPDATE or the primary key lets only one
    of many concurrent callers win.
    """
    now = timezone.now()
    fields = {"state": RefreshState.QUEUED, "requested_at": now, "requested_by": actor, "run_id": run_id}
    rows = ProductRefresh.objects.filter(product_id=product_id)
    if not force:
        rows = rows.filter(requested_at__lt=now - timedelta(seconds=conf.refresh_interval()))
    if rows.update(finished_at=None, **fields):
        return True
    try:
        with transaction.atomic():
            ProductRefresh.objects.create(product_id=product_id, **fields)
    except IntegrityError:  # another caller holds the slot
        return False
    return True


def product_refresh_request(*, product_id: int, actor: str) -> str | None:
    """Queue one refresh of a missing or stale product for a page view; the run id, or None if one is in flight.

    Cheap when called often: a recent request is found by a read, without a write.
    """
    if refresh_recently_requested(product_id=product_id) is not None:
        return None
    run_id = new_run_id()
    with transaction.atomic():
        if not claim_refresh(product_id=product_id, actor=actor, run_id=run_id):
            return None
        tasks.product_refresh_task.enqueue(product_id=product_id, actor=actor, run_id=run_id)
    return run_id


def products_refresh_request(*, product_ids: Iterable[int], actor: str) -> str:
    """Queue a refresh of the products a staff member chose, whatever their age; the run id that will cover it."""
    run_id = new_run_id()
    chosen = sorted(set(product_ids))
    with transaction.atomic():
        for product_id in chosen:
            claim_refresh(product_id=product_id, actor=actor, run_id=run_id, force=True)
        tasks.products_refresh_task.enqueue(product_ids=chosen, actor=actor, run_id=run_id)
    return run_id


def schedule_slot(*, now: datetime, every: float) -> datetime:
    """The start of the schedule slot ``now`` falls in (slots are aligned to the epoch, in UTC)."""
    start = now.timestamp() // every * every
    return datetime.fromtimestamp(start, tz=UTC)


def scheduled_sync_request(*, now: datetime, every: float, images: bool = True) -> ScheduledSync | None:
    """Queue the sync of the slot ``now`` falls in, unless a scheduler already did; the claimed slot or None."""
    slot = schedule_slot(now=now, every=every)
    if ScheduledSync.objects.filter(slot=slot).exists():
        return None
    try:
        with transaction.atomic():
            result = tasks.catalog_sync_task.enqueue(images=images)
            return ScheduledSync.objects.create(slot=slot, queued_at=timezone.now(), task_id=str(result.id))
    except IntegrityError:  # another scheduler claimed the slot first; its sync is queued
        return None
