"""A sync shared by several workers: listing pages and image batches are tasks; one run id, one lock.

The coordinator (one task) holds the catalog's sync lock for the whole run and reads the
first listing page to learn the total; every further page becomes a shard, queued as a
task for any worker. The coordinator works through pending shards too, so a run finishes
with a single worker and goes faster with more. The pages are then written in order by
the same validation and write path as ``sync_products`` (so the rows are the same), and
each page's images become a shard of their own. Every request is audited under the run's
id, whichever worker sends it; the run ends with one ``sync`` event.
"""

import logging
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from audit.context import run_context
from audit.models import Kind, Outcome
from audit.services import record_event

from .client_factory import shared_client
from .dummyjson import DummyJSONClient, is_envelope
from .image_sync import ImageCounts, refresh_images
from .models import ShardKind, ShardState, SyncShard
from .persistence import save_page, unpublish_missing
from .sync import (  # the single-process sync's own steps, so both write the same rows
    STATUS_COULD_NOT_RUN,
    UNREACHABLE_OUTCOMES,
    SyncOptions,
    SyncSummary,
    _validate,
)
from .sync_lock import SyncAlreadyRunning, sync_lock

logger = logging.getLogger(__name__)

LISTING_PATH = "/products"
LEASE_SECONDS = 300  # a claim older than this is taken over: its worker died
WAIT_SECONDS = 0.2
SHARDED_SYNC_ACTOR = "task:sharded_sync"

Enqueue = Callable[[list[int]], None]


def worker_name() -> str:
    """This process, as a shard's ``claimed_by`` names it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def shard_claim(shard_id: int) -> bool:
    """Take a pending shard (or one whose worker's lease ran out); False when another worker has it."""
    now = timezone.now()
    claimable = Q(state=ShardState.PENDING) | Q(
        state=ShardState.RUNNING, claimed_at__lt=now - timedelta(seconds=LEASE_SECONDS)
    )
    claimed = SyncShard.objects.filter(claimable, id=shard_id).update(
        state=ShardState.RUNNING, claimed_by=worker_name(), claimed_at=now
    )
    return claimed == 1


def shard_run(*, shard_id: int, options: SyncOptions, actor: str) -> bool:
    """Run one shard if this worker can claim it; whether it did."""
    if not shard_claim(shard_id):
        return False
    shard = SyncShard.objects.get(id=shard_id)
    with run_context(actor=actor, run_id=shard.run_id):
        client = shared_client(base_url=options.base_url, max_parallel_requests=options.concurrency)
        try:
            if shard.kind == ShardKind.PAGE:
                read_page(shard, client)
            else:
                counts = refresh_images(
                    client, shard.product_ids, concurrency=options.concurrency, refresh=options.refresh_images
                )
                shard.state, shard.result = ShardState.DONE, asdict(counts)
        except Exception as error:  # pylint: disable=broad-exception-caught  # the shard fails, the run reports it
            logger.exception("shard %s failed", shard_id)
            shard.state, shard.result = ShardState.FAILED, {"error": f"unexpected error: {error!r}"}
    shard.save(update_fields=["state", "payloads", "total", "result"])
    return True


def read_page(shard: SyncShard, client: DummyJSONClient) -> None:
    """Fetch the shard's listing page (audited by the client) and keep its products for the coordinator."""
    attempt = client.get_json(LISTING_PATH, params={"limit": shard.limit, "skip": shard.skip}, expect=is_envelope)
    if attempt.outcome != Outcome.OK:
        message = f"{LISTING_PATH} page at skip={shard.skip} failed: {attempt.outcome} {attempt.message}".strip()
        shard.state, shard.result = ShardState.FAILED, {"error": message, "outcome": attempt.outcome}
        return
    shard.state, shard.payloads, shard.total = ShardState.DONE, attempt.value["products"], attempt.value["total"]


def drain(*, run_id: str, kind: str, options: SyncOptions, actor: str) -> None:
    """Run this kind's pending shards here until none is left, then wait for those other workers run."""
    shards = SyncShard.objects.filter(run_id=run_id, kind=kind)
    while True:
        stale = timezone.now() - timedelta(seconds=LEASE_SECONDS)
        claimable = shards.filter(Q(state=ShardState.PENDING) | Q(state=ShardState.RUNNING, claimed_at__lt=stale))
        if (shard_id := claimable.values_list("id", flat=True).first()) is not None:
            shard_run(shard_id=shard_id, options=options, actor=actor)
            continue
        if not shards.filter(state=ShardState.RUNNING).exists():
            return
        time.sleep(WAIT_SECONDS)


def sharded_sync(
    *, options: SyncOptions, run_id: str, enqueue: Enqueue, actor: str = SHARDED_SYNC_ACTOR
) -> SyncSummary:
    """Sync the whole catalog with every worker's help; never raises for a network or data fault.

    ``enqueue(shard_ids)`` queues one task per shard (tasks call ``shard_run``).
    """
    summary = SyncSummary(run_id=run_id, options=options)
    started = time.monotonic()
    try:
        with sync_lock(run_id), run_context(actor=actor, run_id=run_id):
            coordinate_on_record(summary, enqueue=enqueue, actor=actor, started=started)
    except SyncAlreadyRunning as error:
        summary.status, summary.failures = STATUS_COULD_NOT_RUN, [str(error)]
    summary.duration_s = time.monotonic() - started
    return summary


def coordinate_on_record(summary: SyncSummary, *, enqueue: Enqueue, actor: str, started: float) -> None:
    """Run the coordinator under the lock; whatever happens, the run ends with its ``sync`` event."""
    try:
        coordinate(summary, enqueue=enqueue, actor=actor)
    except Exception as error:  # pylint: disable=broad-exception-caught  # on record, then reported
        logger.exception("sharded sync %s failed", summary.run_id)
        summary.fail(f"unexpected error: {error!r}")
    finally:
        SyncShard.objects.filter(run_id=summary.run_id).update(payloads=None)  # staged products are not kept
    summary.duration_s = time.monotonic() - started
    details = summary.as_details() | {"sharded": shard_tally(summary.run_id)}
    verdict = Outcome.ERROR if summary.exit_code else Outcome.OK
    record_event(
        kind=Kind.SYNC,
        message=f"sharded sync {summary.status}, exit code {summary.exit_code}",
        outcome=verdict,
        details=details,
        duration_ms=summary.duration_s * 1000,
    )


def shard_tally(run_id: str) -> dict[str, object]:
    """How many shards of each kind the run had, and how many workers ran them."""
    shards = SyncShard.objects.filter(run_id=run_id)
    return {
        "pages": shards.filter(kind=ShardKind.PAGE).count(),
        "image_batches": shards.filter(kind=ShardKind.IMAGES).count(),
        "workers": sorted(set(shards.values_list("claimed_by", flat=True))),
    }


def coordinate(summary: SyncSummary, *, enqueue: Enqueue, actor: str) -> None:
    """Plan the pages from the first one, share them out, write them in order, then share out their images."""
    options, run_id = summary.options, summary.run_id
    first = SyncShard.objects.create(run_id=run_id, kind=ShardKind.PAGE, number=0, limit=options.page_size)
    shard_run(shard_id=first.id, options=options, actor=actor)
    first.refresh_from_db()
    if first.state == ShardState.FAILED:
        if first.result.get("outcome") in UNREACHABLE_OUTCOMES:
            summary.status = STATUS_COULD_NOT_RUN
            summary.failures.append(f"the source could not be read: {first.result['error']}")
        else:
            summary.fail(first.result["error"])
        return
    total = first.total or 0
    pages = max(1, math.ceil(total / options.page_size))
    SyncShard.objects.bulk_create(
        SyncShard(
            run_id=run_id, kind=ShardKind.PAGE, number=number, skip=number * options.page_size, limit=options.page_size
        )
        for number in range(1, pages)
    )
    enqueue(
        list(SyncShard.objects.filter(run_id=run_id, kind=ShardKind.PAGE, number__gte=1).values_list("id", flat=True))
    )
    drain(run_id=run_id, kind=ShardKind.PAGE, options=options, actor=actor)
    seen, listing_complete, image_batches = publish_pages(summary, total=total)
    if image_batches:
        SyncShard.objects.bulk_create(
            SyncShard(run_id=run_id, kind=ShardKind.IMAGES, number=number, product_ids=ids)
            for number, ids in enumerate(image_batches)
        )
        enqueue(list(SyncShard.objects.filter(run_id=run_id, kind=ShardKind.IMAGES).values_list("id", flat=True)))
        drain(run_id=run_id, kind=ShardKind.IMAGES, options=options, actor=actor)
        for result in SyncShard.objects.filter(run_id=run_id, kind=ShardKind.IMAGES).values_list("state", "result"):
            collect_images(summary, *result)
    if listing_complete:
        summary.products.unpublished += unpublish_missing(seen, run_id=run_id)


def publish_pages(summary: SyncSummary, *, total: int) -> tuple[set[int], bool, list[list[int]]]:
    """Validate and write the pages in listing order; the ids seen, whether the listing was whole, image batches."""
    seen: set[int] = set()
    listing_complete, image_batches, received = True, [], 0
    pages = SyncShard.objects.filter(run_id=summary.run_id, kind=ShardKind.PAGE).order_by("number")
    for shard_id in list(pages.values_list("id", flat=True)):
        shard = SyncShard.objects.get(id=shard_id)  # one page's products in memory at a time
        if shard.state != ShardState.DONE:
            listing_complete = False
            summary.fail(shard.result.get("error", f"page {shard.number} was not read"))
            continue
        batch = shard.payloads or []
        received += len(batch)
        if len(batch) < shard.limit and shard.skip + len(batch) < total:
            # A short page leaves products unread: they must not be unpublished as gone.
            listing_complete = False
            summary.fail(f"{LISTING_PATH} page at skip={shard.skip} has {len(batch)} products, expected {shard.limit}")
        clean, invalid = _validate(batch, seen, summary)
        try:
            summary.products.add(save_page(clean, invalid, run_id=summary.run_id))
        except DatabaseError as error:  # the page rolled back whole; go on with the next
            summary.fail(f"products {shard.skip + 1}-{shard.skip + len(batch)} could not be stored: {error}")
            clean = []
        if summary.options.images and clean:
            image_batches.append([product.id for product in clean])
    return seen, listing_complete and received >= total, image_batches


def collect_images(summary: SyncSummary, state: str, result: dict[str, Any]) -> None:
    """Add one image batch's tally to the run's; a failed batch is a failure of the run."""
    if state == ShardState.DONE:
        summary.images.add(ImageCounts(**result))
    else:
        summary.fail(result.get("error", "an image batch was not run"))
