"""Bring products' images up to date, in parallel: skip what is stored and intact, fetch the rest.

An image whose URL is unchanged and whose file still matches its sha256 costs no
request; past ``CATALOG_IMAGE_MAX_AGE`` (or with ``refresh``) it is revalidated
with ``If-None-Match``, so an unchanged image answers 304 and moves no bytes.
"""

import contextvars
import hashlib
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from audit.models import Outcome

from . import conf
from .client import DownloadResult, DummyJSONClient
from .models import ImageStatus, ProductImage

HASH_CHUNK_BYTES = 1024 * 1024
WORKER_CLOSE_TIMEOUT_SECONDS = 10
REJECTED_OUTCOMES = frozenset({Outcome.INVALID, Outcome.TOO_LARGE, Outcome.BLOCKED})
UPDATED_FIELDS = ["file", "sha256", "bytes", "format", "width", "height", "etag", "status", "message", "checked_at"]


@dataclass
class ImageCounts:
    """What became of the images looked at."""

    downloaded: int = 0
    unchanged: int = 0
    failed: int = 0
    rejected: int = 0
    bytes: int = 0

    def add(self, other: "ImageCounts") -> None:
        """Accumulate another batch's counts."""
        for name in ("downloaded", "unchanged", "failed", "rejected", "bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@contextmanager
def worker_pool(size: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool whose threads close their own database connections before it goes.

    Each worker writes audit events through a connection of its own; left open they
    would outlive the run (and keep PostgreSQL test databases busy).
    """
    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="images")
    try:
        yield executor
    finally:
        # One blocking task per thread: the barrier makes every thread take exactly one.
        barrier = threading.Barrier(size)

        def close_connection() -> None:
            try:
                barrier.wait(timeout=WORKER_CLOSE_TIMEOUT_SECONDS)
            except threading.BrokenBarrierError:
                pass
            connection.close()

        for _ in range(size):
            executor.submit(close_connection)
        executor.shutdown(wait=True, cancel_futures=False)


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
    return client.download_image(
        image.source_url,
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


def refresh_images(
    client: DummyJSONClient, product_ids: Iterable[int], *, concurrency: int, refresh: bool = False
) -> ImageCounts:
    """Bring the images of these products up to date; downloads run ``concurrency`` at a time."""
    images = list(ProductImage.objects.filter(product_id__in=list(product_ids)))
    counts, now = ImageCounts(), timezone.now()
    if not images:
        return counts
    if concurrency <= 1:
        results = [fetch_image(client, image, now=now, refresh=refresh) for image in images]
    else:
        results = _fetch_in_parallel(client, images, concurrency=concurrency, now=now, refresh=refresh)
    changed = [image for image, result in zip(images, results) if apply_result(image, result, counts, now=now)]
    with transaction.atomic():
        ProductImage.objects.bulk_update(changed, UPDATED_FIELDS, batch_size=500)
    return counts


def _fetch_in_parallel(
    client: DummyJSONClient, images: list[ProductImage], *, concurrency: int, now: datetime, refresh: bool
) -> list[DownloadResult | None]:
    with worker_pool(concurrency) as pool:
        # Each task runs in a copy of this context, so its audit events carry the run id.
        futures = [
            pool.submit(contextvars.copy_context().run, fetch_image, client, image, now=now, refresh=refresh)
            for image in images
        ]
        try:
            results = [future.result() for future in futures]
        except BaseException:  # Ctrl-C or SIGTERM: start no more downloads
            for future in futures:
                future.cancel()
            raise
    return results
