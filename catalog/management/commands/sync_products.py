"""``manage.py sync_products``: bring the catalog up to date with DummyJSON.

Exit codes: 0 everything fetched and valid; 1 finished with failures or rejections;
2 could not run (bad options, source unreachable, another sync running); 130 interrupted.
"""

import argparse
import signal
import sys
from types import FrameType
from typing import Any, Never, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog import conf
from catalog.sync import STATUS_COULD_NOT_RUN, SyncOptions, SyncSummary, product_sync

MAX_FAILURES_SHOWN = 10


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def id_list(value: str) -> tuple[int, ...]:
    """An argparse type: ``1,5,9`` as distinct positive ids, in order."""
    ids = [positive_int(part.strip()) for part in value.split(",") if part.strip()]
    if not ids:
        raise argparse.ArgumentTypeError("wants product ids like 1,5,9")
    return tuple(dict.fromkeys(ids))


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> NoReturn:  # pylint: disable=unused-argument
    """SIGTERM ends a run the way Ctrl-C does: the current page rolls back, the summary prints."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    """Fetch, validate and store products and images; print a summary; exit 0, 1, 2 or 130."""

    help = "Sync the catalog from DummyJSON (or the offline mirror)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", help="API root (default: DUMMYJSON_BASE_URL)")
        parser.add_argument("--limit", type=positive_int, help="only the first N products")
        parser.add_argument("--ids", type=id_list, default=(), help="only these ids, like 1,5,9")
        parser.add_argument("--category", help="only this category slug")
        parser.add_argument("--no-images", action="store_true", help="skip image downloads")
        parser.add_argument(
            "--refresh-images", action="store_true", help="revalidate every image with a conditional request"
        )
        parser.add_argument("--concurrency", type=positive_int, default=8, help="parallel image downloads (8)")
        parser.add_argument("--page-size", type=positive_int, default=100, help="products per listing page (100)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] and (options["ids"] or options["category"]):
            raise CommandError("--limit cannot be combined with --ids or --category", returncode=2)
        if options["ids"] and options["category"]:
            raise CommandError("--ids and --category cannot be combined", returncode=2)
        sync_options = SyncOptions(
            base_url=(options["base_url"] or conf.base_url()).rstrip("/"),
            limit=options["limit"],
            ids=options["ids"],
            category=options["category"],
            images=not options["no_images"],
            refresh_images=options["refresh_images"],
            concurrency=options["concurrency"],
            page_size=options["page_size"],
        )
        previous_handler = signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
        progress_bar = tqdm(unit="product", disable=not sys.stderr.isatty(), file=sys.stderr)
        try:
            summary = product_sync(
                options=sync_options, progress=lambda done, total: self._progress(progress_bar, done, total)
            )
        finally:
            progress_bar.close()
            signal.signal(signal.SIGTERM, previous_handler)
        self._print_summary(summary)
        if summary.exit_code:
            sys.exit(summary.exit_code)

    def _progress(self, progress_bar: "tqdm[Never]", done: int, total: int | None) -> None:
        if progress_bar.disable:
            self.stdout.write(f"synced {done}/{total if total is not None else '?'} products")
            return
        progress_bar.total = total
        progress_bar.update(done - progress_bar.n)

    def _print_summary(self, summary: SyncSummary) -> None:
        products, images = summary.products, summary.images
        style = self.style.SUCCESS if summary.exit_code == 0 else self.style.ERROR
        lines = [
            f"products: {products.created} created, {products.updated} updated, {products.unchanged} unchanged, "
            f"{products.unpublished} unpublished, {summary.rejected} rejected",
            f"images: {images.downloaded} downloaded ({images.bytes} bytes), {images.unchanged} unchanged, "
            f"{images.failed} failed, {images.rejected} rejected",
            f"violations: {summary.violations}",
            f"duration: {summary.duration_s:.2f} s",
            f"run id: {summary.run_id}",
        ]
        if summary.status != STATUS_COULD_NOT_RUN:
            self.stdout.write("\n".join(lines))
        for failure in summary.failures[:MAX_FAILURES_SHOWN]:
            self.stderr.write(f"  {failure}")
        if len(summary.failures) > MAX_FAILURES_SHOWN:
            self.stderr.write(f"  ... and {len(summary.failures) - MAX_FAILURES_SHOWN} more")
        verdict = {
            0: "sync ok",
            1: "sync finished with failures or rejections; details: "
            f"python manage.py audit_export --run {summary.run_id}",
            2: "sync could not run",
            130: "sync interrupted; run it again to complete the work",
        }[summary.exit_code]
        self.stdout.write(style(verdict))
