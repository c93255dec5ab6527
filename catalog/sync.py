"""``product_sync``: bring the catalog up to date with DummyJSON, one validated page at a time.

Per page: fetch (audited), validate (each violation an audit event), write the page
in one transaction, then bring its images up to date in parallel. A complete
listing unpublishes what vanished upstream. The run ends with one ``sync`` event
carrying options, counts, duration, outcome and the code version.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db import DatabaseError

from audit.context import new_run_id, run_context
from audit.models import Kind, Outcome
from audit.provenance import code_version, package_versions
from audit.services import record_event

from .client_factory import shared_client
from .dummyjson import DummyJSONClient, SourceError
from .image_sync import ImageCounts, ImageDownloads
from .persistence import PageCounts, save_page, unpublish_missing
from .sync_lock import SyncAlreadyRunning, sync_lock
from .validation import CleanProduct, Violation, record_violations, validate_product

# A first page that ends like this means the run could not start: nothing was read.
UNREACHABLE_OUTCOMES = frozenset({Outcome.CONNECTION_ERROR, Outcome.TIMEOUT, Outcome.HTTP_ERROR, Outcome.BLOCKED})
MAX_FAILURES_RECORDED = 50

logger = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_COULD_NOT_RUN = "could_not_run"
STATUS_INTERRUPTED = "interrupted"
EXIT_CODES = {STATUS_OK: 0, STATUS_FAILED: 1, STATUS_COULD_NOT_RUN: 2, STATUS_INTERRUPTED: 130}


@dataclass(frozen=True)
class SyncOptions:  # pylint: disable=too-many-instance-attributes
    """What to sync and how; the command's options."""

    base_url: str | None = None
    limit: int | None = None
    ids: tuple[int, ...] = ()
    category: str | None = None
    images: bool = True
    refresh_images: bool = False
    concurrency: int = 8
    page_size: int = 100

    @property
    def complete_listing(self) -> bool:
        """Whether the run reads the whole catalog, so absence means gone upstream."""
        return self.limit is None and not self.ids and not self.category


@dataclass
class SyncSummary:  # pylint: disable=too-many-instance-attributes
    """What a run did, for the terminal, the sync event and the exit code."""

    run_id: str
    options: SyncOptions
    products: PageCounts = field(default_factory=PageCounts)
    rejected: int = 0
    violations: int = 0
    images: ImageCounts = field(default_factory=ImageCounts)
    failures: list[str] = field(default_factory=list)
    status: str = STATUS_OK
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 all fetched and valid, 1 finished with failures or rejections, 2 could not run, 130 interrupted."""
        if self.status == STATUS_OK and (
            self.rejected or self.violations or self.images.failed or self.images.rejected
        ):
            return EXIT_CODES[STATUS_FAILED]
        return EXIT_CODES[self.status]

    def fail(self, message: str) -> None:
        """Note a failure that does not stop the run."""
        self.failures.append(message)
        if self.status == STATUS_OK:
            self.status = STATUS_FAILED

    def as_details(self) -> dict[str, Any]:
        """The summary as the sync audit event stores it."""
        products = asdict(self.products)
        return {
            "options": asdict(self.options),
            "status": self.status,
            "exit_code": self.exit_code,
            "products": products | {"rejected": self.rejected},
            "images": asdict(self.images),
            "violations": self.violations,
            "failures": self.failures[:MAX_FAILURES_RECORDED],
            "duration_s": round(self.duration_s, 3),
            "code_version": code_version(),
            "versions": package_versions(),
        }


ProgressCallback = Callable[[int, int | None], None]


def product_sync(
    *,
    options: SyncOptions,
    actor: str = "command:sync_products",
    run_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> SyncSummary:
    """Run one sync; never raises for a network or data fault (the summary says what happened).

    ``progress(products_done, total)`` is called after each page, when given.
    """
    summary = SyncSummary(run_id=run_id or new_run_id(), options=options)
    started = time.monotonic()
    try:
        with sync_lock(summary.run_id), run_context(actor=actor, run_id=summary.run_id):
            try:
                _run(summary, progress or (lambda done, total: None))
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


def _run(summary: SyncSummary, progress: ProgressCallback) -> None:
    options = summary.options
    client = shared_client(base_url=options.base_url, max_parallel_requests=options.concurrency)
    if hasattr(default_storage, "remove_partial_files"):
        default_storage.remove_partial_files()  # left by a run killed mid-write
    seen: set[int] = set()
    done, listing_complete, pending = 0, True, None
    downloads = ImageDownloads(client, concurrency=options.concurrency, refresh=options.refresh_images)
    with downloads:
        try:
            for batch, total in _batches(client, summary):
                clean, invalid = _validate(batch, seen, summary)
                try:
                    summary.products.add(save_page(clean, invalid, run_id=summary.run_id))
                except DatabaseError as error:  # the page rolled back whole; go on with the next
                    summary.fail(f"products {done + 1}-{done + len(batch)} could not be stored: {error}")
                    clean = []
                # This page's images download while the next page is fetched and written.
                submitted = downloads.submit([c.id for c in clean]) if options.images else None
                if pending:
                    summary.images.add(downloads.collect(pending))
                pending = submitted
                done += len(batch)
                progress(done, total)
        except SourceError as error:
            listing_complete = False
            _source_failed(summary, error, products_done=done)
        if pending:
            summary.images.add(downloads.collect(pending))
    if options.complete_listing and listing_complete:
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


def _validate(
    batch: list[Any], seen: set[int], summary: SyncSummary
) -> tuple[list[CleanProduct], dict[int, list[Violation]]]:
    """Split a page into clean products and rejected ones; each violation becomes an audit event."""
    clean, invalid = [], {}
    for raw in batch:
        product_id = raw.get("id") if isinstance(raw, dict) else None
        product_id = product_id if isinstance(product_id, int) and not isinstance(product_id, bool) else None
        if product_id is not None and product_id in seen:
            _record_violations(
                summary, product_id, raw, [Violation("id.duplicate", f"id {product_id} is listed again")]
            )
            continue
        result = validate_product(raw)
        if isinstance(result, CleanProduct):
            clean.append(result)
            seen.add(result.id)
            continue
        summary.rejected += 1
        _record_violations(summary, product_id, raw, result)
        if product_id is not None:
            seen.add(product_id)
            invalid[product_id] = result
    return clean, invalid


def _record_violations(summary: SyncSummary, product_id: int | None, raw: object, violations: list[Violation]) -> None:
    summary.violations += len(violations)
    record_violations(product_id, raw, violations)
