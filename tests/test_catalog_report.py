"""catalog_report: the gate's report as JSON with the promised keys, or as a self-contained page."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import SyncRun
from tests.sync_helpers import sync

pytestmark = pytest.mark.django_db(transaction=True)


def report(*args: str) -> str:
    """What catalog_report prints."""
    out = StringIO()
    call_command("catalog_report", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(name="held_run")
def fixture_held_run(mirror) -> SyncRun:
    """A published sync, then one the gate held (prices x100)."""
    sync("--base-url", mirror.base_url, "--no-images")
    mirror.set_faults("prices-x100")
    sync("--base-url", mirror.base_url, "--no-images")
    return SyncRun.objects.first()


def test_json_has_the_promised_keys(held_run):
    body = json.loads(report("--run", held_run.run_id, "--format", "json"))

    assert body["run_id"] == held_run.run_id
    assert body["decision"] == "held"
    assert body["reasons"] == held_run.reasons
    assert body["reasons"][0].startswith("price changes: 194 of 194")
    assert set(body["schema"]) == {"added", "removed", "changed"}
    price = next(row for row in body["fields"] if row["field"] == "price")
    assert {"field", "test", "value", "threshold", "drifted"} <= set(price)
    assert (price["test"], price["drifted"], price["threshold"]) == ("kolmogorov-smirnov", True, 0.005)


def test_without_run_it_reports_the_latest_sync(held_run):
    assert json.loads(report())["run_id"] == held_run.run_id


def test_html_is_one_self_contained_page_a_stranger_can_read(held_run):
    page = report("--run", held_run.run_id, "--format", "html")

    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert "<script" not in page
    assert "src=" not in page
    assert "<link" not in page
    assert "Held: nothing from this sync was published" in page
    assert "price changes: 194 of 194 published products change price" in page
    assert held_run.report_sha256 in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "nope"], "unknown run 'nope': no sync run has that id"),
        ([], "no sync has reached the publish gate yet: run sync_products first"),
    ],
)
def test_an_unknown_run_is_exit_2(args, message):
    with pytest.raises(CommandError, match=message) as caught:
        report(*args)
    assert caught.value.returncode == 2


def test_a_run_that_stopped_before_the_gate_has_no_report():
    SyncRun.objects.create(run_id="cut-short", started_at="2026-11-30T10:00:00Z", status="failed")

    with pytest.raises(CommandError, match="run 'cut-short' stopped before the publish gate \\(failed\\)"):
        report("--run", "cut-short")
