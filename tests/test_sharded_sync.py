"""A sharded sync: listing pages and image batches as tasks, the same rows as sync_products, one run id, one lock."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalog.models import Category, Product, ProductImage, StagedPage, SyncRun, SyncShard
from catalog.sharded_sync import shard_claim
from tests.sync_helpers import PROJECT_ROOT, lock_held_elsewhere, subprocess_env, sync

PRODUCT_FIELDS = (
    "id",
    "title",
    "price",
    "final_price",
    "stock",
    "brand",
    "category__slug",
    "is_published",
    "raw_sha256",
)
IMAGE_FIELDS = ("product_id", "kind", "position", "source_url", "status", "sha256", "file")


def catalog_rows() -> tuple[list, list]:
    """The catalog's content, without the times and run ids that differ between two runs."""
    return (
        list(Product.objects.order_by("id").values_list(*PRODUCT_FIELDS)),
        list(ProductImage.objects.order_by("product_id", "kind", "position").values_list(*IMAGE_FIELDS)),
    )


def empty_catalog() -> None:
    """Forget every product and category, as on a fresh database."""
    Product.objects.all().delete()
    Category.objects.all().delete()


def sharded(*args: str) -> tuple[int, str]:
    """Queue a sharded sync and follow it (``sync_sharded``); run the queue in between with the worker."""
    out = StringIO()
    call_command("sync_sharded", "--no-wait", *args, stdout=out)
    run_id = out.getvalue().rsplit(" ", 1)[-1].strip()
    return run_id, out.getvalue()


@pytest.fixture
def logged_mirror(mirror_factory, settings):
    """A mirror of the real 194 products that logs every request; the site's source."""
    server = mirror_factory(log_requests=True)
    settings.DUMMYJSON_BASE_URL = server.base_url
    return server


def test_a_sharded_sync_writes_the_same_rows_as_sync_products(logged_mirror, worker):
    assert sync("--base-url", logged_mirror.base_url, "--page-size", "50").exit_code == 0
    single = catalog_rows()
    empty_catalog()

    sharded("--page-size", "50")
    worker()

    assert catalog_rows() == single
    assert len(single[0]) == 194


def test_every_request_of_a_sharded_sync_is_one_audit_event_under_one_run_id(logged_mirror, worker):
    run_id, _ = sharded("--page-size", "50")
    worker()

    events = AuditEvent.objects.filter(kind__in=["fetch", "download"])
    assert events.count() == len(logged_mirror.requests)
    assert set(events.values_list("run_id", flat=True)) == {run_id}
    sync_event = AuditEvent.objects.get(kind="sync")
    assert (sync_event.run_id, sync_event.outcome) == (run_id, "ok")
    assert sync_event.details["sharded"]["pages"] == 4
    assert sync_event.details["sharded"]["image_batches"] == 4


def test_a_sharded_sync_without_images_requests_only_listing_pages(logged_mirror, worker):
    sharded("--page-size", "50", "--no-images")
    worker()

    assert [target.split("?")[0] for _, target in logged_mirror.requests] == ["/products"] * 4
    assert Product.objects.count() == 194


@pytest.mark.usefixtures("logged_mirror")
def test_a_shard_runs_once_however_many_workers_race_for_it(worker):
    run_id, _ = sharded("--page-size", "50", "--no-images")
    worker()
    shard = SyncShard.objects.filter(run_id=run_id).first()

    assert shard_claim(shard.id) is False


@pytest.mark.usefixtures("logged_mirror")
def test_a_sharded_sync_waits_its_turn_behind_the_catalogs_lock(worker):
    with lock_held_elsewhere():
        sharded("--no-images")
        worker()

    sync_event = AuditEvent.objects.filter(kind="sync")
    assert not sync_event.exists()
    assert not Product.objects.exists()


def test_a_sharded_sync_of_an_unreachable_source_could_not_run(settings, worker):
    settings.DUMMYJSON_BASE_URL = "http://127.0.0.1:9"
    settings.DUMMYJSON_RETRIES = 0

    sharded("--no-images")
    worker()

    assert not Product.objects.exists()
    assert AuditEvent.objects.get(kind="sync").details["status"] == "could_not_run"


@pytest.mark.parametrize("faults", ["prices-x100", "short-listing"])
def test_a_sharded_sync_of_a_bad_day_is_held_and_changes_nothing_live(logged_mirror, worker, faults):
    assert sync("--base-url", logged_mirror.base_url, "--no-images").exit_code == 0
    live = catalog_rows()
    logged_mirror.set_faults(faults)

    run_id, _ = sharded("--no-images")
    worker()

    assert catalog_rows() == live
    run = SyncRun.objects.get(run_id=run_id)
    assert (run.status, run.decision) == ("held", "held")
    assert StagedPage.objects.filter(run=run).exists()  # kept for --accept-drift
    gate_events = AuditEvent.objects.filter(kind="gate", run_id=run_id)
    assert gate_events.filter(outcome="held").count() == 1
    assert gate_events.filter(outcome="invalid").count() == len(run.reasons) >= 1
    sync_event = AuditEvent.objects.get(kind="sync", run_id=run_id)
    assert (sync_event.details["status"], sync_event.details["exit_code"]) == ("held", 3)
    assert sync_event.details["gate"]["decision"] == "held"


def test_a_held_sharded_run_is_published_like_any_held_run(logged_mirror, worker):
    assert sync("--base-url", logged_mirror.base_url, "--no-images").exit_code == 0
    logged_mirror.set_faults("prices-x100")
    run_id, _ = sharded("--no-images")
    worker()
    held_prices = list(Product.objects.order_by("id").values_list("price", flat=True))

    result = sync("--base-url", logged_mirror.base_url, "--no-images", "--accept-drift", run_id, "--actor", "alice")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert SyncRun.objects.get(run_id=run_id).status == "published"
    assert list(Product.objects.order_by("id").values_list("price", flat=True)) != held_prices


@pytest.mark.usefixtures("transactional_db")
@pytest.mark.slow
def test_worker_processes_run_a_sharded_sync_to_the_end(mirror_factory, settings):
    source = mirror_factory(log_requests=True, latency_ms=50)
    settings.DUMMYJSON_BASE_URL = source.base_url
    env = subprocess_env(DUMMYJSON_BASE_URL=source.base_url)
    workers = [
        subprocess.Popen(  # pylint: disable=consider-using-with
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "default,sync",
                "--no-reload",
                "--interval",
                "0.1",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        out = StringIO()
        call_command("sync_sharded", "--page-size", "20", "--no-images", "--timeout", "120", stdout=out)
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=30)

    assert "sharded sync ok, exit code 0" in out.getvalue()
    assert Product.objects.count() == 194
    assert AuditEvent.objects.filter(kind="fetch").count() == len(source.requests) == 10
    # Which worker claims which shard depends on timing (a loaded machine may let one take all).
    assert 1 <= len(AuditEvent.objects.get(kind="sync").details["sharded"]["workers"]) <= 2
