"""Bring products' images up to date, in parallel: skip what is stored and intact, fetch the rest.

An image whose URL is unchanged and whose file still matches its sha256 costs no
request; past ``CATALOG_IMAGE_MAX_AGE`` (or with ``refresh``) it is revalidated
with ``If-None-Match``, so an unchanged image answers 304 and moves no bytes.
"""

import contextlib
import contextvars
import hashlib
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection, connections, transaction
from django.db.models import Field
from django.utils import timezone

from audit.models import Outcome

from . import conf
from .counts import Counts
from .dummyjson import DummyJSONClient
from .image_download import DownloadResult, download_image
from .models import ImageStatus, ProductImage

HASH_CHUNK_BYTES = 1024 * 1024
WORKER_CLOSE_TIMEOUT_SECONDS = 10
WORKERS_PER_DOWNLOAD = 2
REJECTED_OUTCOMES = frozenset({Outcome.INVALID, Outcome.TOO_LARGE, Outcome.BLOCKED})
UPDATED_FIELDS = ["file", "sha256", "bytes", "format", "width", "height", "etag", "status", "message", "checked_at"]


@dataclass
class ImageCounts(Counts):
    """What became of the images looked at."""

    downloaded: int = 0
    unchanged: int = 0
    failed: int = 0
    rejected: int = 0
    bytes: int = 0


def file_matches(image: ProductImage) -> bool:
    """Whether the stored file exists and still hashes to the recorded sha256."""
    if image.status != ImageStatus.STORED or not image.file.name or not image.file.storage.exists(image.file.name):
        return False
    digest = hashlib.sha256()
    with image.file.storage.open(image.file.name, "rb") as stored:
        while chunk := stored.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest() == image.sha256


def due_for_revalidation(image: ProductImage, *, now: datetime, refresh: bool) -> bool:
    """Whether an intact image should be checked upstream anyway."""
    return refresh or image.checked_at is None or (now - image.checked_at).total_seconds() > conf.image_max_age()


def fetch_image(client: DummyJSONClient, image: ProductImage, *, now: datetime, refresh: bool) -> DownloadResult | None:
    """Download or revalidate one image; None when it is intact and not due (no request)."""
    intact = file_matches(image)
    if intact and not due_for_revalidation(image, now=now, refresh=refresh):
        return None
    return download_image(
        image.source_url,
        transport=client.transport,
        product_id=image.product_id,
        kind=image.kind,
        position=image.position,
        etag=image.etag if intact else "",
    )


def apply_result(image: ProductImage, result: DownloadResult | None, counts: ImageCounts, *, now: datetime) -> bool:
    """Record a result on the image row; False when the row needs no write."""
    if result is None:
        counts.unchanged += 1
        return False
    image.checked_at, image.message = now, result.message[:500]
    if result.outcome == Outcome.NOT_MODIFIED:
        counts.unchanged += 1
    elif result.outcome == Outcome.OK:
        counts.downloaded += 1
        counts.bytes += result.size
        image.file.name, image.sha256, image.bytes = result.name, result.sha256, result.size
        image.format, image.width, image.height = result.format, result.width, result.height
        image.etag, image.status = result.etag[:200], ImageStatus.STORED
    elif result.outcome in REJECTED_OUTCOMES:
        counts.rejected += 1
        image.status = ImageStatus.REJECTED
    else:
        counts.failed += 1
        if image.status != ImageStatus.STORED:
            image.status = ImageStatus.FAILED
    return True


def save_image_rows(images: list[ProductImage]) -> None:
    """UPDATE the rows in one transaction with one prepared statement.

    Django's ``bulk_update`` builds CASE expressions that cost seconds for a few hundred
    rows; ``executemany`` of a plain UPDATE costs milliseconds. Each value goes through
    its field's ``get_db_prep_save``, as ``Model.save`` does.
    """
    if not images:
        return
    database = connections[ProductImage.objects.db]
    fields = [cast(Field[Any, Any], ProductImage._meta.get_field(name)) for name in UPDATED_FIELDS]
    assignments = ", ".join(f"{database.ops.quote_name(str(field.column))} = %s" for field in fields)
    table = database.ops.quote_name(ProductImage._meta.db_table)
    statement = f"UPDATE {table} SET {assignments} WHERE {database.ops.quote_name('id')} = %s"
    rows = [
        [field.get_db_prep_save(field.pre_save(image, add=False), connection=database) for field in fields] + [image.pk]
        for image in images
    ]
    with transaction.atomic(), database.cursor() as cursor:
        cursor.executemany(statement, rows)


Batch = list[tuple[ProductImage, "Future[DownloadResult | None] | DownloadResult | None"]]


class ImageDownloads:
    """Download workers shared by a whole run: a page submits its images, and its results are
    collected later, so one page's downloads overlap the next page's fetch and write.

    With ``concurrency`` 1 everything runs in the caller's thread, with no pool at all.
    """

    def __init__(self, client: DummyJSONClient, *, concurrency: int, refresh: bool = False) -> None:
        self.client, self.refresh = client, refresh
        self.now = timezone.now()
        self.pending: list[Future[DownloadResult | None]] = []
        # Twice as many threads as downloads: the client's request slots keep ``concurrency``
        # downloads in flight while the other threads check, store and audit finished ones.
        self.threads = concurrency * WORKERS_PER_DOWNLOAD
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="images") if concurrency > 1 else None

    def __enter__(self) -> "ImageDownloads":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for future in self.pending:  # Ctrl-C, SIGTERM or an error: start no more downloads
            future.cancel()
        if self.pool:
            self._close_worker_connections()
            self.pool.shutdown(wait=True)

    def submit(self, product_ids: Iterable[int]) -> Batch:
        """Start bringing these products' images up to date."""
        images = list(ProductImage.objects.filter(product_id__in=list(product_ids)))
        if self.pool is None:
            return [(image, self._fetch(image)) for image in images]
        # Each task runs in a copy of this context, so its audit events carry the run id.
        futures = [(image, self.pool.submit(contextvars.copy_context().run, self._fetch, image)) for image in images]
        self.pending += [future for _, future in futures]
        return list(futures)

    def collect(self, batch: Batch) -> ImageCounts:
        """Wait for a batch and record its results on the image rows."""
        counts, changed = ImageCounts(), []
        for image, outcome in batch:
            result = outcome.result() if isinstance(outcome, Future) else outcome
            if apply_result(image, result, counts, now=self.now):
                changed.append(image)
        self.pending = [future for future in self.pending if not future.done()]
        save_image_rows(changed)
        return counts

    def _fetch(self, image: ProductImage) -> DownloadResult | None:
        return fetch_image(self.client, image, now=self.now, refresh=self.refresh)

    def _close_worker_connections(self) -> None:
        """Each worker wrote audit events through a database connection of its own; close them
        before the threads go, or they outlive the run (and keep PostgreSQL test databases busy).
        One blocking task per thread: the barrier makes every thread take exactly one."""
        pool = self.pool
        assert pool is not None  # only called when there are worker threads
        barrier = threading.Barrier(self.threads)

        def close_connection() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=WORKER_CLOSE_TIMEOUT_SECONDS)
            connection.close()

        for _ in range(self.threads):
            pool.submit(close_connection)


def refresh_images(
    client: DummyJSONClient, product_ids: Iterable[int], *, concurrency: int, refresh: bool = False
) -> ImageCounts:
    """Bring the images of these products up to date; downloads run ``concurrency`` at a time."""
    with ImageDownloads(client, concurrency=concurrency, refresh=refresh) as downloads:
        return downloads.collect(downloads.submit(product_ids))
