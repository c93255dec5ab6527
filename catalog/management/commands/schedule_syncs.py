"""``manage.py schedule_syncs``: queue a whole-catalog sync every ``CATALOG_SYNC_INTERVAL`` seconds for the workers.

This replaces the cron example: run one (or, for availability, several) of these beside
the workers; each schedule slot's sync is queued once however many run. ``--once``
queues the current slot's sync and exits (for a cron job or a test).
"""

import signal
import time
from types import FrameType
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from catalog import conf
from catalog.refreshes import schedule_slot, scheduled_sync_request

EXIT_INTERRUPTED = 130


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> NoReturn:  # pylint: disable=unused-argument
    """SIGTERM stops the scheduler the way Ctrl-C does."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    """Queue scheduled syncs; print each one queued."""

    help = "Queue a catalog sync for the workers every CATALOG_SYNC_INTERVAL seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, help="seconds between syncs (default: CATALOG_SYNC_INTERVAL)")
        parser.add_argument("--once", action="store_true", help="queue the current slot's sync, then exit")
        parser.add_argument("--no-images", action="store_true", help="scheduled syncs skip image downloads")

    def handle(self, *args: Any, **options: Any) -> None:
        every = conf.sync_interval() if options["every"] is None else options["every"]
        if every <= 0:
            raise CommandError("--every must be a positive number of seconds", returncode=2)
        images = not options["no_images"]
        if options["once"]:
            self._queue(every, images)
            return
        signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
        self.stdout.write(f"scheduling a catalog sync every {every:g} s; Ctrl-C stops")
        try:
            while True:
                self._queue(every, images)
                next_slot = schedule_slot(now=timezone.now(), every=every).timestamp() + every
                time.sleep(max(0.0, next_slot - time.time()))
        except KeyboardInterrupt:
            self.stdout.write("scheduler stopped")

    def _queue(self, every: float, images: bool) -> None:
        claimed = scheduled_sync_request(now=timezone.now(), every=every, images=images)
        if claimed is None:
            self.stdout.write("this slot's sync is already queued")
        else:
            self.stdout.write(f"queued the sync of {claimed.slot:%Y-%m-%d %H:%M:%S} UTC (task {claimed.task_id})")
