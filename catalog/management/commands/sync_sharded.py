"""``manage.py sync_sharded``: sync the whole catalog with every running worker's help.

Queues one sharded sync (``catalog/sharded_sync.py``) and, unless ``--no-wait``, follows
it to the end and exits as ``sync_products`` does: 0 ok, 1 failures or rejections, 2 could
not run, 3 held by the publish gate (nothing applied; publish it after review with
``sync_products --accept-drift RUN_ID``), 124 not finished within ``--timeout``.
Workers (``make worker``) must be running.
"""

import sys
import time
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count
from django_tasks import TaskResultStatus

from audit.context import new_run_id
from catalog import conf
from catalog.management.commands.sync_products import positive_int
from catalog.models import ShardState, SyncShard
from catalog.sync_summary import SyncOptions
from catalog.tasks import sharded_sync_task

POLL_SECONDS = 0.5
PROGRESS_EVERY_SECONDS = 5.0
EXIT_NOT_FINISHED = 124
EXIT_TASK_FAILED = 2


class Command(BaseCommand):
    """Queue a sharded sync; wait for it and print its summary."""

    help = "Sync the whole catalog as shards (listing pages, image batches) shared by the running workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", help="API root (default: DUMMYJSON_BASE_URL)")
        parser.add_argument("--no-images", action="store_true", help="skip image downloads")
        parser.add_argument(
            "--refresh-images", action="store_true", help="revalidate every image with a conditional request"
        )
        parser.add_argument("--concurrency", type=positive_int, default=8, help="parallel image downloads per worker")
        parser.add_argument("--page-size", type=positive_int, default=100, help="products per listing page (100)")
        parser.add_argument("--no-wait", action="store_true", help="print the run id and return at once")
        parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the end (3600)")

    def handle(self, *args: Any, **options: Any) -> None:
        sync_options = SyncOptions(
            base_url=(options["base_url"] or conf.base_url()).rstrip("/"),
            images=not options["no_images"],
            refresh_images=options["refresh_images"],
            concurrency=options["concurrency"],
            page_size=options["page_size"],
        )
        run_id = new_run_id()
        result = sharded_sync_task.enqueue(run_id=run_id, options=asdict(sync_options))
        self.stdout.write(f"queued sharded sync, run id: {run_id}")
        if options["no_wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        next_progress = time.monotonic() + PROGRESS_EVERY_SECONDS
        while not result.is_finished:
            if time.monotonic() > deadline:
                self.stderr.write(f"not finished within {options['timeout']:g} s; it goes on in the workers")
                sys.exit(EXIT_NOT_FINISHED)
            if time.monotonic() > next_progress:
                self._progress(run_id)
                next_progress = time.monotonic() + PROGRESS_EVERY_SECONDS
            time.sleep(POLL_SECONDS)
            result.refresh()
        if result.status != TaskResultStatus.SUCCESSFUL:
            self.stderr.write(self.style.ERROR("the sharded sync task failed; see the worker's log"))
            sys.exit(EXIT_TASK_FAILED)
        outcome: dict[str, Any] = result.return_value or {}
        self._report(outcome)
        style = self.style.SUCCESS if outcome["exit_code"] == 0 else self.style.ERROR
        self.stdout.write(style(f"sharded sync {outcome['status']}, exit code {outcome['exit_code']}"))
        if outcome["exit_code"]:
            sys.exit(outcome["exit_code"])

    def _report(self, outcome: dict[str, Any]) -> None:
        """What the run did: counts, failures, the gate's decision and the duration."""
        details = outcome["details"]
        products, images = details["products"], details["images"]
        self.stdout.write(
            f"products: {products['created']} created, {products['updated']} updated, "
            f"{products['unchanged']} unchanged, {products['unpublished']} unpublished, {products['rejected']} rejected"
        )
        self.stdout.write(
            f"images: {images['downloaded']} downloaded, {images['unchanged']} unchanged, "
            f"{images['failed']} failed, {images['rejected']} rejected"
        )
        for failure in details["failures"]:
            self.stderr.write(f"  {failure}")
        if gate := details.get("gate"):
            self.stdout.write(f"gate: {gate['decision']}, {len(gate['reasons'])} failed check(s)")
            for reason in gate["reasons"]:
                self.stderr.write(f"  {reason}")
            if gate["decision"] == "held":
                self.stdout.write(
                    "nothing was published; after reviewing the report, publish this run with\n"
                    f"  python manage.py sync_products --accept-drift {outcome['run_id']}"
                )
        self.stdout.write(f"duration: {details['duration_s']:.2f} s")

    def _progress(self, run_id: str) -> None:
        states = dict(
            SyncShard.objects.filter(run_id=run_id).values_list("state").annotate(count=Count("id")).order_by()
        )
        done = states.get(ShardState.DONE, 0) + states.get(ShardState.FAILED, 0)
        self.stdout.write(f"shards: {done}/{sum(states.values())} done")
