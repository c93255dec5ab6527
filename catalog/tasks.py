"""Background work on the task engine (django-tasks): refreshes for page views and staff, scheduled and sharded syncs.

Only workers (``make worker``) run these; a web process only queues them. Each task
is thin: it records where a refresh stands and calls the service that does the work.
"""

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django_tasks import task

from audit.models import Kind, Outcome
from audit.services import record_event

from . import conf
from .models import Product, ProductRefresh, RefreshState
from .selectors import is_stale
from .services import product_refresh
from .sharded_sync import SHARDED_SYNC_ACTOR, shard_run, sharded_sync
from .sync import product_sync
from .sync_summary import SyncOptions

REFRESH_QUEUE = "default"
SYNC_QUEUE = "sync"
SCHEDULED_SYNC_ACTOR = "task:scheduled_sync"


def refresh_outcome(*, product_id: int, actor: str, run_id: str, only_if_stale: bool) -> str:
    """Refresh one product and record how it ended on its ``ProductRefresh`` row; the final state."""
    ProductRefresh.objects.filter(product_id=product_id, run_id=run_id).update(state=RefreshState.RUNNING)
    stored = Product.objects.filter(id=product_id).first()
    if only_if_stale and stored is not None and not is_stale(stored):
        state = RefreshState.DONE  # a sync or another refresh got there first: no request needed
    else:
        result = product_refresh(product_id=product_id, actor=actor, run_id=run_id)
        if result.source_ok:
            state = RefreshState.DONE
        else:
            state = RefreshState.FAILED if result.product is not None else RefreshState.MISSING
    ProductRefresh.objects.filter(product_id=product_id, run_id=run_id).update(state=state, finished_at=timezone.now())
    return state


@task(queue_name=REFRESH_QUEUE)
def product_refresh_task(*, product_id: int, actor: str, run_id: str) -> str:
    """A page view found the product missing or stale: fetch it unless something fresher arrived meanwhile."""
    return refresh_outcome(product_id=product_id, actor=actor, run_id=run_id, only_if_stale=True)


@task(queue_name=REFRESH_QUEUE)
def products_refresh_task(*, product_ids: list[int], actor: str, run_id: str) -> dict[str, list[int]]:
    """A staff member's "Refresh from DummyJSON": every chosen product, under one run id, then one admin event."""
    refreshed: list[int] = []
    failed: list[int] = []
    for product_id in product_ids:
        state = refresh_outcome(product_id=product_id, actor=actor, run_id=run_id, only_if_stale=False)
        (refreshed if state == RefreshState.DONE else failed).append(product_id)
    record_event(
        kind=Kind.ADMIN,
        outcome=Outcome.OK if not failed else Outcome.ERROR,
        actor=actor,
        run_id=run_id,
        message="Refresh from DummyJSON",
        details={"refreshed": refreshed, "failed": failed},
    )
    return {"refreshed": refreshed, "failed": failed}


@task(queue_name=SYNC_QUEUE)
def catalog_sync_task(*, images: bool = True) -> dict[str, object]:
    """A scheduled whole-catalog sync, as ``sync_products`` runs it (its own lock keeps runs from overlapping)."""
    summary = product_sync(options=SyncOptions(base_url=conf.base_url(), images=images), actor=SCHEDULED_SYNC_ACTOR)
    return {"run_id": summary.run_id, "status": summary.status, "exit_code": summary.exit_code}


def sharded_options(options: dict[str, Any]) -> SyncOptions:
    """The sync options a sharded run was queued with (tasks take JSON, not dataclasses)."""
    return SyncOptions(**options)


def enqueue_shards(options: dict[str, object], actor: str) -> Callable[[list[int]], None]:
    """How the coordinator queues its shards: one ``sync_shard_task`` per shard, for any worker."""

    def enqueue(shard_ids: list[int]) -> None:
        for shard_id in shard_ids:
            sync_shard_task.enqueue(shard_id=shard_id, options=options, actor=actor)

    return enqueue


@task(queue_name=SYNC_QUEUE)
def sharded_sync_task(*, run_id: str, options: dict[str, object]) -> dict[str, object]:
    """Coordinate one sharded sync (see ``catalog/sharded_sync.py``); its summary as the task's result."""
    summary = sharded_sync(
        options=sharded_options(options), run_id=run_id, enqueue=enqueue_shards(options, SHARDED_SYNC_ACTOR)
    )
    return {"run_id": summary.run_id, "status": summary.status, "exit_code": summary.exit_code} | {
        "details": summary.as_details()
    }


@task(queue_name=SYNC_QUEUE, priority=10)
def sync_shard_task(*, shard_id: int, options: dict[str, object], actor: str) -> bool:
    """One listing page or image batch of a sharded sync; False when another worker had already run it."""
    return shard_run(shard_id=shard_id, options=sharded_options(options), actor=actor)
