"""The task engine's jobs: scheduled syncs queued once per slot and run by the database worker."""

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from catalog.models import Product, ScheduledSync
from catalog.refreshes import schedule_slot
from tests.sync_helpers import PROJECT_ROOT, subprocess_env

pytestmark = pytest.mark.django_db


def schedule_once(*args: str) -> str:
    """Run ``schedule_syncs --once`` and return what it printed."""
    out = StringIO()
    call_command("schedule_syncs", "--once", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("now", "every", "slot"),
    [
        (datetime(2026, 11, 30, 12, 59, 59, tzinfo=UTC), 3600, datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
        (datetime(2026, 11, 30, 13, 0, 0, tzinfo=UTC), 3600, datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),
        (datetime(2026, 11, 30, 13, 7, 30, tzinfo=UTC), 300, datetime(2026, 11, 30, 13, 5, tzinfo=UTC)),
    ],
)
def test_a_schedule_slot_starts_at_a_whole_multiple_of_the_interval(now, every, slot):
    assert schedule_slot(now=now, every=every) == slot


def test_the_scheduler_queues_one_sync_per_slot_however_often_it_runs():
    first, second = schedule_once(), schedule_once()

    assert first.startswith("queued the sync of ")
    assert second == "this slot's sync is already queued\n"
    assert ScheduledSync.objects.count() == 1
    assert DBTaskResult.objects.get().task_path == "catalog.tasks.catalog_sync_task"


def test_the_scheduler_refuses_a_non_positive_interval():
    with pytest.raises(CommandError, match="--every must be a positive number of seconds"):
        call_command("schedule_syncs", "--once", "--every", "0")


def test_a_scheduled_sync_is_run_by_the_worker_as_sync_products_would(mirror, settings, worker):
    settings.DUMMYJSON_BASE_URL = mirror.base_url
    schedule_once("--no-images")

    worker()

    assert Product.objects.count() == 194
    sync_event = AuditEvent.objects.get(kind="sync")
    assert (sync_event.actor, sync_event.outcome) == ("task:scheduled_sync", "ok")
    assert DBTaskResult.objects.get().return_value["exit_code"] == 0


@pytest.mark.usefixtures("transactional_db")
@pytest.mark.slow
def test_the_scheduler_keeps_queueing_until_sigterm_stops_it():
    scheduler = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "manage.py", "schedule_syncs", "--every", "1"],
        cwd=PROJECT_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    first = scheduler.stdout.readline()
    deadline = time.monotonic() + 30
    while ScheduledSync.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    scheduler.send_signal(signal.SIGTERM)
    out, _ = scheduler.communicate(timeout=30)

    assert first == "scheduling a catalog sync every 1 s; Ctrl-C stops\n"
    assert out.startswith("queued the sync of ")
    assert out.endswith("scheduler stopped\n")
    assert scheduler.returncode == 0
    assert ScheduledSync.objects.count() >= 2
