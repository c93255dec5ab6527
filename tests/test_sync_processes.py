"""sync_products as real processes: one at a time, and interrupted runs that the next run completes."""

import random
import signal
import time

import pytest
from django.core.management import call_command

from catalog.models import ImageStatus, Product, ProductImage
from tests.sync_helpers import (
    leftover_partial_files,
    lock_held_elsewhere,
    start_sync_process,
    stored_images_match_their_hashes,
    sync,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PROCESS_TIMEOUT_S = 120


@pytest.fixture
def slow_mirror(mirror_factory):
    """A mirror that answers every request after 40 ms, so a sync takes a few seconds."""
    return mirror_factory(latency_ms=40)


def wait_for_progress(process, *, products: int = 1) -> None:
    """Block until the process reports it synced at least one page (or finished)."""
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if Product.objects.count() >= products:
            return
        time.sleep(0.05)


def test_a_second_sync_exits_2_and_changes_nothing_while_one_holds_the_lock(mirror):
    with lock_held_elsewhere():
        result = sync("--base-url", mirror.base_url)

    assert result.exit_code == 2
    assert "another sync is running" in result.stderr
    assert result.stdout.strip() == "sync could not run"
    assert not Product.objects.exists()
    assert not list(mirror.requests)


def test_two_syncs_started_together_one_runs_and_the_other_exits_2(slow_mirror):
    # The whole catalog at 40 ms a request takes seconds: long enough to still run when the second starts.
    first = start_sync_process("--base-url", slow_mirror.base_url, "--page-size", "20")
    wait_for_progress(first)
    second = start_sync_process("--base-url", slow_mirror.base_url, "--page-size", "20")

    second_out, second_err = second.communicate(timeout=PROCESS_TIMEOUT_S)
    first.communicate(timeout=PROCESS_TIMEOUT_S)

    assert (first.returncode, second.returncode) == (0, 2)
    assert "another sync is running (pid" in second_err or "advisory lock" in second_err
    assert "sync could not run" in second_out


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(slow_mirror):
    process = start_sync_process("--base-url", slow_mirror.base_url, "--limit", "30")
    wait_for_progress(process)
    process.kill()
    process.wait(timeout=PROCESS_TIMEOUT_S)

    assert sync("--base-url", slow_mirror.base_url, "--limit", "30").exit_code == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_sync_rolls_back_cleanly_and_the_next_run_completes_it(slow_mirror, signum):
    process = start_sync_process("--base-url", slow_mirror.base_url, "--page-size", "20")
    wait_for_progress(process, products=20)
    process.send_signal(signum)
    out, err = process.communicate(timeout=PROCESS_TIMEOUT_S)

    assert process.returncode == 130, err
    assert "sync interrupted; run it again to complete the work" in out
    assert "Traceback" not in err
    assert Product.objects.count() % 20 == 0  # whole pages only
    assert leftover_partial_files() == []
    assert stored_images_match_their_hashes()

    assert sync("--base-url", slow_mirror.base_url).exit_code == 0
    assert Product.objects.published().count() == 194
    assert not ProductImage.objects.exclude(status=ImageStatus.STORED).exists()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_sync_killed_at_a_random_point_leaves_a_consistent_catalog(slow_mirror, seed):
    process = start_sync_process("--base-url", slow_mirror.base_url, "--page-size", "25")
    time.sleep(random.Random(seed).uniform(0.5, 4.0))
    process.kill()
    process.wait(timeout=PROCESS_TIMEOUT_S)

    assert Product.objects.count() % 25 == 0 or Product.objects.count() == 194
    assert stored_images_match_their_hashes()

    assert sync("--base-url", slow_mirror.base_url).exit_code == 0
    assert leftover_partial_files() == []
    assert stored_images_match_their_hashes()
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == ProductImage.objects.count()
    call_command("verify_audit")
