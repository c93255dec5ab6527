"""A sync killed with SIGKILL while the gate decides leaves the catalog exactly as it was."""

import subprocess
import sys
import textwrap

import pytest

from catalog.models import Product, StagedPage, SyncRun
from tests.sync_helpers import PROJECT_ROOT, subprocess_env, sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PROCESS_TIMEOUT_S = 120
# sync_products in a process whose gate stops to say "gating" once it has read the staged pages.
SLOW_GATE = textwrap.dedent(
    """
    import sys, time, django
    django.setup()
    from catalog.quality import gate
    read_pages = gate.run_summary
    def slowly(run):
        summary = read_pages(run)
        print("gating", flush=True)
        time.sleep(60)
        return summary
    gate.run_summary = slowly
    from django.core.management import call_command
    call_command("sync_products", *sys.argv[1:])
    """
)


def test_sigkill_during_the_gate_applies_nothing_and_the_next_run_cleans_up(mirror):
    assert sync("--base-url", mirror.base_url, "--no-images").exit_code == 0
    before = list(Product.objects.order_by("id").values_list("id", "price", "is_published", "raw_sha256"))
    mirror.set_faults("prices-x100")
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-c", SLOW_GATE, "--base-url", mirror.base_url, "--no-images"],
        cwd=PROJECT_ROOT,
        env=subprocess_env(DJANGO_SETTINGS_MODULE="config.settings"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = iter(process.stdout.readline, "")
        assert "gating" in (line.strip() for line in lines)  # progress lines come first
    finally:
        process.kill()
        process.communicate(timeout=PROCESS_TIMEOUT_S)

    killed = SyncRun.objects.first()
    assert (killed.status, killed.decision) == ("gating", "")
    assert list(Product.objects.order_by("id").values_list("id", "price", "is_published", "raw_sha256")) == before

    mirror.set_faults(())
    assert sync("--base-url", mirror.base_url, "--no-images").exit_code == 0
    killed.refresh_from_db()
    assert killed.status == "failed"
    assert not StagedPage.objects.exists()
