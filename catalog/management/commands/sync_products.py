"""``manage.py sync_products``: bring the catalog up to date with DummyJSON.

Exit codes: 0 everything fetched and valid; 1 finished with failures or rejections;
2 could not run (bad options, unknown --reference, broken expectations file, source
unreachable, another sync running); 3 held by the publish gate (nothing published);
130 interrupted.
"""

import argparse
import getpass
import signal
import sys
from types import FrameType
from typing import Any, Never, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog import conf
from catalog.held_runs import HeldRunError, held_run_publish
from catalog.quality.expectations import ExpectationsError
from catalog.quality.gate import UnknownReference
from catalog.sync import product_sync
from catalog.sync_summary import STATUS_COULD_NOT_RUN, SyncOptions, SyncSummary

MAX_FAILURES_SHOWN = 10
MAX_REASONS_SHOWN = 12
SYNC_AFRESH = ""  # --accept-drift without a run id


def current_user() -> str:
    """Who runs the command, for the record when they accept drift."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


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
        parser.add_argument(
            "--reference",
            metavar="RUN_ID",
            help="measure drift against this run's profile (default: the published catalog's)",
        )
        parser.add_argument(
            "--accept-drift",
            nargs="?",
            const=SYNC_AFRESH,
            metavar="RUN_ID",
            help="publish even if the publish gate fails, after a person reviewed the report (recorded with "
            "--actor): sync afresh, or publish the held run RUN_ID exactly as it was staged",
        )
        parser.add_argument("--actor", help="who accepts the drift, for the audit record (default: the login name)")

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
            reference=options["reference"],
            accept_drift=options["accept_drift"] is not None,
        )
        accepted_by = (options["actor"] or current_user()) if options["accept_drift"] is not None else ""
        previous_handler = signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
        progress_bar = tqdm(unit="product", disable=not sys.stderr.isatty(), file=sys.stderr)
        try:
            if options["accept_drift"]:  # a held run's id
                summary = held_run_publish(run_id=options["accept_drift"], accepted_by=accepted_by)
            else:
                summary = product_sync(
                    options=sync_options,
                    accepted_by=accepted_by,
                    progress=lambda done, total: self._progress(progress_bar, done, total),
                )
        except (ExpectationsError, UnknownReference, HeldRunError) as error:
            raise CommandError(f"{error}; nothing was synced", returncode=2) from None
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
            *self._gate_lines(summary),
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
            3: "sync held by the publish gate: nothing was published, the catalog is exactly as it was",
            130: "sync interrupted; run it again to complete the work",
        }[summary.exit_code]
        self.stdout.write(style(verdict))
        if summary.exit_code == 3:
            self._explain_hold(summary)

    @staticmethod
    def _gate_lines(summary: SyncSummary) -> list[str]:
        gate = summary.gate
        if gate is None:
            return []
        reference = gate.report["reference"]
        against = (
            f"against {reference['run_id']} ({reference['rows']} products)"
            if reference["run_id"]
            else "no reference yet"
        )
        line = f"gate: {gate.decision}, {len(gate.reasons)} failed check(s), {against}"
        if gate.report.get("accepted_by"):
            line += f", accepted by {gate.report['accepted_by']}"
        return [line]

    def _explain_hold(self, summary: SyncSummary) -> None:
        """One screen: what failed, where the report is, how to publish after review."""
        gate = summary.gate
        if gate is None:  # only a run the gate decided is held
            return
        self.stdout.write(f"The new data failed {len(gate.reasons)} check(s):")
        for reason in gate.reasons[:MAX_REASONS_SHOWN]:
            self.stdout.write(f"  - {reason}")
        if len(gate.reasons) > MAX_REASONS_SHOWN:
            self.stdout.write(f"  ... and {len(gate.reasons) - MAX_REASONS_SHOWN} more")
        self.stdout.write(
            f"Report (sha256 {gate.report_sha256[:16]}...):\n"
            f"  python manage.py catalog_report --run {summary.run_id} --format html > report.html\n"
            "If the change is real, publish exactly this data after review with:\n"
            f"  python manage.py sync_products --accept-drift {summary.run_id}"
        )
