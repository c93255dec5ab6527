"""A sync shared by several workers: listing pages and image batches are tasks; one run id, one lock.

The coordinator (one task) holds the catalog's sync lock for the whole run and reads the
first listing page to learn the total; every further page becomes a shard, queued as a
task for any worker. The coordinator works through pending shards too, so a run finishes
with a single worker and goes faster with more. It follows ``sync_products``' three phases:

1. Stage: each page shard fetches its page and stages it (``catalog/staging.py``); the
   coordinator then records the violations page by page, in listing order.
2. Gate: ``gate_run``, exactly as ``product_sync`` calls it; a held run ends here with
   exit status 3 and nothing applied, and ``sync_products --accept-drift RUN_ID`` can
   publish it later like any held run.
3. Publish: the staged pages are written in order by the same write path as
   ``sync_products`` (so the rows are the same); then each page's images become a shard.

Every request is audited under the run's id, whichever worker sends it; the run ends with
one ``sync`` event.
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

from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from audit.anchors import anchor_run_end
from audit.context import run_context
from audit.models import Kind, Outcome
from audit.services import record_event

from .client_factory import shared_client
from .dummyjson import DummyJSONClient, is_envelope
from .image_sync import ImageCounts, refresh_images
from .models import RunStatus, ShardKind, ShardState, SyncRun, SyncShard
from .persistence import unpublish_missing
from .quality.gate import gate_run
from .staging import stage_page, staged_pages
from .sync import (  # the single-process sync's own steps, so both gate alike and write the same rows
    UNREACHABLE_OUTCOMES,
    finish_run,
    golden_records,
    run_started,
)
from .sync_lock import SyncAlreadyRunning, sync_lock
from .sync_pages import record_page_violations, store_staged_page
from .sync_summary import STATUS_COULD_NOT_RUN, STATUS_HELD, SyncOptions, SyncSummary

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
    # This worker's requests are in its own audit chain: sign them now, not when it next writes.
    try:
        anchor_run_end(reason="shard")
    except Exception:  # pylint: disable=broad-exception-caught  # committed: a later anchor or audit_anchor signs them
        logger.exception("shard %s: could not write a signed anchor", shard_id)
    return True


def read_page(shard: SyncShard, client: DummyJSONClient) -> None:
    """Fetch the shard's listing page (audited by the client) and stage it in the run's staging table."""
    attempt = client.get_json(LISTING_PATH, params={"limit": shard.limit, "skip": shard.skip}, expect=is_envelope)
    if attempt.outcome != Outcome.OK:
        message = f"{LISTING_PATH} page at skip={shard.skip} failed: {attempt.outcome} {attempt.message}".strip()
        shard.state, shard.result = ShardState.FAILED, {"error": message, "outcome": attempt.outcome}
        return
    run = SyncRun.objects.get(run_id=shard.run_id)
    golden_ids = frozenset(record.id for record in golden_records())
    stage_page(run=run, number=shard.number, payloads=attempt.value["products"], golden_ids=golden_ids)
    shard.state, shard.payloads, shard.total = ShardState.DONE, None, attempt.value["total"]


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
    """Stage the pages as shards, gate the run as ``product_sync`` does, and publish it only if it passes."""
    options = summary.options
    golden = golden_records()  # a broken expectations file fails the run before anything is fetched
    run = run_started(summary)
    try:
        total = stage_shards(summary, enqueue=enqueue, actor=actor)
        if total is None:
            return
        run.listing_read_whole = check_staged_pages(summary, run, total=total)
        run.save(update_fields=["listing_read_whole"])
        summary.gate = gate_run(
            run=run,
            golden=golden,
            reference_run_id=options.reference,
            accepted_by="unknown" if options.accept_drift else "",
        )
        if summary.gate.held:
            summary.status = STATUS_HELD
            return
        publish_sharded(summary, run, enqueue=enqueue, actor=actor)
        run.status = RunStatus.PUBLISHED
    finally:
        finish_run(run)


def stage_shards(summary: SyncSummary, *, enqueue: Enqueue, actor: str) -> int | None:
    """Phase 1: stage the first page here, share out the others; the listing's total (None: nothing staged)."""
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
        return None
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
    return total


def check_staged_pages(summary: SyncSummary, run: SyncRun, *, total: int) -> bool:
    """Record each staged page's violations in listing order, as ``product_sync`` does; whether the listing is whole."""
    unread = SyncShard.objects.filter(run_id=run.run_id, kind=ShardKind.PAGE).exclude(state=ShardState.DONE)
    for shard in unread.order_by("number"):
        summary.fail(shard.result.get("error", f"page {shard.number} was not read"))
    whole = not unread.exists()
    size, seen, received = summary.options.page_size, set[int](), 0
    for number, batch in staged_pages(run):
        received += len(batch)
        if len(batch) < size and number * size + len(batch) < total:
            # A short page leaves products unread: they must not be unpublished as gone.
            whole = False
            summary.fail(f"{LISTING_PATH} page at skip={number * size} has {len(batch)} products, expected {size}")
        record_page_violations(batch, seen, summary)
    return whole and received >= total


def publish_sharded(summary: SyncSummary, run: SyncRun, *, enqueue: Enqueue, actor: str) -> None:
    """Phase 3: apply the staged pages in order, then share out their images as shards."""
    run_id = summary.run_id
    if hasattr(default_storage, "remove_partial_files"):
        default_storage.remove_partial_files()  # left by a run killed mid-write
    seen, image_batches = apply_staged_pages(summary, run)
    if image_batches:
        SyncShard.objects.bulk_create(
            SyncShard(run_id=run_id, kind=ShardKind.IMAGES, number=number, product_ids=ids)
            for number, ids in enumerate(image_batches)
        )
        enqueue(list(SyncShard.objects.filter(run_id=run_id, kind=ShardKind.IMAGES).values_list("id", flat=True)))
        drain(run_id=run_id, kind=ShardKind.IMAGES, options=summary.options, actor=actor)
        for result in SyncShard.objects.filter(run_id=run_id, kind=ShardKind.IMAGES).values_list("state", "result"):
            collect_images(summary, *result)
    if summary.options.complete_listing and run.listing_read_whole:
        summary.products.unpublished += unpublish_missing(seen, run_id=run_id)


def apply_staged_pages(summary: SyncSummary, run: SyncRun) -> tuple[set[int], list[list[int]]]:
    """Write each staged page through the per-page write path; the ids seen and each page's image batch."""
    seen: set[int] = set()
    image_batches: list[list[int]] = []
    for number, batch in staged_pages(run):
        clean = store_staged_page(summary, batch, seen, label=f"page {number} ({len(batch)} products)")
        if summary.options.images and clean:
            image_batches.append([product.id for product in clean])
    return seen, image_batches


def collect_images(summary: SyncSummary, state: str, result: dict[str, Any]) -> None:
    """Add one image batch's tally to the run's; a failed batch is a failure of the run."""
    if state == ShardState.DONE:
        summary.images.add(ImageCounts(**result))
    else:
        summary.fail(result.get("error", "an image batch was not run"))
