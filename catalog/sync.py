"""``product_sync``: bring the catalog up to date with DummyJSON in three phases.

1. Stage: per listing page, fetch (audited), validate (each violation an audit event,
   ``sync_pages``) and store the page as received in the run's staging table; the catalog
   is not touched.
2. Gate: profile the staged data, check it (schema, drift, volume, golden records, price
   changes) and decide; a held run ends here with exit status 3 and nothing applied, so a
   run killed anywhere before phase 3 leaves the catalog exactly as it was.
3. Publish: write each staged page in one transaction, bring its images up to date in
   parallel; a complete listing unpublishes what vanished upstream.

Options, summary and exit codes are in ``sync_summary``; publishing a held run after review
(``--accept-drift RUN_ID``) is in ``held_runs``.

The run ends with one ``sync`` event carrying options, counts, the gate's decision and
artifacts' hashes, duration, outcome and the code version.
"""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from audit.context import new_run_id, run_context
from audit.models import Kind, Outcome
from audit.services import record_event

from . import conf
from .client_factory import shared_client
from .dummyjson import DummyJSONClient, SourceError
from .image_sync import ImageDownloads
from .models import RunStatus, StagedPage, SyncRun
from .persistence import unpublish_missing
from .quality.expectations import GoldenRecord, load_expectations
from .quality.gate import gate_run, reference_profile
from .staging import stage_page, staged_pages
from .sync_lock import SyncAlreadyRunning, sync_lock
from .sync_pages import record_page_violations, store_staged_page
from .sync_summary import (
    STATUS_COULD_NOT_RUN,
    STATUS_HELD,
    STATUS_INTERRUPTED,
    SyncOptions,
    SyncSummary,
)

# A first page that ends like this means the run could not start: nothing was read.
UNREACHABLE_OUTCOMES = frozenset({Outcome.CONNECTION_ERROR, Outcome.TIMEOUT, Outcome.HTTP_ERROR, Outcome.BLOCKED})

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]


def golden_records() -> list[GoldenRecord]:
    """The golden records every sync checks (none when CATALOG_EXPECTATIONS_FILE is empty).

    Raises ExpectationsError for a missing or broken file: callers check it before syncing.
    """
    path = conf.expectations_file()
    return load_expectations(path) if path else []


def product_sync(  # pylint: disable=too-many-arguments
    *,
    options: SyncOptions,
    actor: str = "command:sync_products",
    accepted_by: str = "",
    run_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> SyncSummary:
    """Run one sync; never raises for a network or data fault (the summary says what happened).

    ``progress(products_done, total)`` is called after each page, when given. A missing or
    broken expectations file raises ExpectationsError before anything is fetched; so does
    an unknown ``options.reference`` (UnknownReference). ``accepted_by`` names the person
    who publishes despite the gate (with ``options.accept_drift``).
    """
    golden = golden_records()
    if options.reference:
        reference_profile(options.reference)  # UnknownReference before anything is fetched
    summary = SyncSummary(run_id=run_id or new_run_id(), options=options)
    return recorded_run(
        summary,
        actor=actor,
        work=lambda: _run(summary, progress or (lambda done, total: None), golden=golden, accepted_by=accepted_by),
    )


def recorded_run(summary: SyncSummary, *, actor: str, work: Callable[[], None]) -> SyncSummary:
    """Run ``work`` under the sync lock and the run's context; end with the ``sync`` event, never raising."""
    started = time.monotonic()
    try:
        with sync_lock(summary.run_id), run_context(actor=actor, run_id=summary.run_id):
            try:
                work()
            except KeyboardInterrupt:
                summary.status = STATUS_INTERRUPTED
                summary.failures.append("interrupted before the end; the next run completes the work")
            except Exception as error:  # pylint: disable=broad-exception-caught  # on record, then reported
                logger.exception("sync %s failed", summary.run_id)
                summary.fail(f"unexpected error: {error!r}")
            summary.duration_s = time.monotonic() - started
            record_event(
                kind=Kind.SYNC,
                outcome=Outcome.OK if summary.exit_code == 0 else Outcome.ERROR,
                duration_ms=summary.duration_s * 1000,
                message=f"sync {summary.status}, exit code {summary.exit_code}",
                details=summary.as_details(),
            )
    except SyncAlreadyRunning as error:
        summary.status = STATUS_COULD_NOT_RUN
        summary.failures.append(str(error))
    summary.duration_s = time.monotonic() - started
    return summary


def _run(summary: SyncSummary, progress: ProgressCallback, *, golden: list[GoldenRecord], accepted_by: str) -> None:
    options = summary.options
    client = shared_client(base_url=options.base_url, max_parallel_requests=options.concurrency)
    run = run_started(summary)
    try:
        with timed_phase(summary, "stage_s"):
            run.listing_read_whole = _stage(run, client, summary, progress, golden=golden)
            run.save(update_fields=["listing_read_whole"])
        if summary.status == STATUS_COULD_NOT_RUN:
            return
        with timed_phase(summary, "gate_s"):
            summary.gate = gate_run(
                run=run,
                golden=golden,
                reference_run_id=options.reference,
                accepted_by=(accepted_by or "unknown") if options.accept_drift else "",
            )
        if summary.gate.held:
            summary.status = STATUS_HELD
            return
        publish_phase(run=run, summary=summary, client=client)
    finally:
        finish_run(run)


def run_started(summary: SyncSummary) -> SyncRun:
    """The run's record, once runs killed before they finished are closed (the caller holds the lock)."""
    abandon_stale_runs()
    return SyncRun.objects.create(
        run_id=summary.run_id,
        started_at=timezone.now(),
        options=asdict(summary.options),
        complete_listing=summary.options.complete_listing,
    )


def publish_phase(*, run: SyncRun, summary: SyncSummary, client: DummyJSONClient) -> None:
    """Phase 3, timed; the run is published once every staged page is applied."""
    with timed_phase(summary, "publish_s"):
        publish_run(run=run, summary=summary, client=client)
    run.status = RunStatus.PUBLISHED


@contextmanager
def timed_phase(summary: SyncSummary, phase: str) -> Iterator[None]:
    """Add the time spent in the block to the summary's phase timings (for the record and bench/)."""
    started = time.monotonic()
    try:
        yield
    finally:
        summary.phases[phase] = summary.phases.get(phase, 0.0) + time.monotonic() - started


def finish_run(run: SyncRun) -> None:
    """Close the run's record: one that stopped before publishing all of its pages failed.

    Only a held run keeps its staged pages (``--accept-drift`` may publish them later).
    """
    if run.status in (RunStatus.STAGING, RunStatus.GATING, RunStatus.PUBLISHING):
        run.status = RunStatus.FAILED
    if run.status != RunStatus.HELD:
        run.pages.all().delete()
    if run.status == RunStatus.PUBLISHED:
        # Held runs older than a published one can no longer be published: their pages go.
        StagedPage.objects.filter(run__status=RunStatus.HELD, run__started_at__lt=run.started_at).delete()
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])


def abandon_stale_runs() -> None:
    """Runs killed before they finished (we hold the sync lock, so none is running): drop their pages."""
    stale = SyncRun.objects.filter(status__in=[RunStatus.STAGING, RunStatus.GATING, RunStatus.PUBLISHING])
    for run in stale:
        finish_run(run)


def _stage(
    run: SyncRun,
    client: DummyJSONClient,
    summary: SyncSummary,
    progress: ProgressCallback,
    *,
    golden: list[GoldenRecord],
) -> bool:
    """Phase 1: fetch, validate and stage every listing page; whether the listing was read whole."""
    seen: set[int] = set()
    golden_ids = frozenset(record.id for record in golden)
    done = 0
    try:
        for number, (batch, total) in enumerate(_batches(client, summary)):
            record_page_violations(batch, seen, summary)  # on the record now; publishing re-checks quietly
            stage_page(run=run, number=number, payloads=batch, golden_ids=golden_ids)
            done += len(batch)
            progress(done, total)
    except SourceError as error:
        _source_failed(summary, error, products_done=done)
        return False
    return True


def publish_run(*, run: SyncRun, summary: SyncSummary, client: DummyJSONClient) -> None:
    """Phase 3: apply a run's staged pages through the per-page write path, then their images.

    Callable on its own (a worker publishing a run another one staged and gated); the caller
    holds the sync lock and sets the run's status afterwards.
    """
    options = summary.options
    if hasattr(default_storage, "remove_partial_files"):
        default_storage.remove_partial_files()  # left by a run killed mid-write
    seen: set[int] = set()
    done, pending = 0, None
    downloads = ImageDownloads(client, concurrency=options.concurrency, refresh=options.refresh_images)
    with downloads:
        for _, batch in staged_pages(run):
            clean = store_staged_page(summary, batch, seen, label=f"products {done + 1}-{done + len(batch)}")
            # This page's images download while the next page is written.
            submitted = downloads.submit([c.id for c in clean]) if options.images else None
            if pending:
                summary.images.add(downloads.collect(pending))
            pending = submitted
            done += len(batch)
        if pending:
            summary.images.add(downloads.collect(pending))
    if options.complete_listing and run.listing_read_whole:
        summary.products.unpublished += unpublish_missing(seen, run_id=summary.run_id)


def _source_failed(summary: SyncSummary, error: SourceError, *, products_done: int) -> None:
    """A listing page could not be read: before any product, the run could not run at all."""
    if products_done == 0 and error.outcome in UNREACHABLE_OUTCOMES:
        summary.status = STATUS_COULD_NOT_RUN
        summary.failures.append(f"the source could not be read: {error}")
    else:
        summary.fail(str(error))


def _batches(client: DummyJSONClient, summary: SyncSummary) -> Iterator[tuple[list[Any], int | None]]:
    """Raw products in pages, with the total when the source says it."""
    options = summary.options
    if options.ids:
        for start in range(0, len(options.ids), options.page_size):
            batch = []
            for product_id in options.ids[start : start + options.page_size]:
                if (product := client.get_product(product_id)) is None:
                    summary.fail(f"product {product_id}: not found or not readable")
                else:
                    batch.append(product)
            yield batch, len(options.ids)
        return
    path = f"/products/category/{options.category}" if options.category else "/products"
    received = 0
    for page in client.iter_product_pages(options.page_size, path=path, limit=options.limit):
        received += len(page.products)
        yield page.products, page.total if options.limit is None else min(page.total, options.limit)
    if options.category and not received:
        summary.fail(f"category {options.category!r} has no products")
