"""The publish gate end to end: sync_products against the mirror's bad (and ordinary) days."""

import hashlib
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from catalog.models import Product, ProductChange, StagedPage, SyncRun
from tests.sync_helpers import sync

pytestmark = pytest.mark.django_db(transaction=True)

MIRROR_TOTAL = 194


def catalog_state() -> list[tuple]:
    """Everything a shopper could see change, product by product."""
    return list(
        Product.objects.order_by("id").values_list("id", "price", "category__slug", "is_published", "raw_sha256")
    )


@pytest.fixture(name="published")
def fixture_published(mirror):
    """The mirror's catalog synced once (without images) and published; the request log emptied."""
    result = sync("--base-url", mirror.base_url, "--no-images")
    assert result.exit_code == 0, result.stdout + result.stderr
    mirror.reset()
    return catalog_state()


def sync_with(mirror, faults: str, *args: str):
    """One sync while the mirror has a bad day."""
    mirror.set_faults(faults)
    return sync("--base-url", mirror.base_url, "--no-images", *args)


def latest_run() -> SyncRun:
    """The newest sync run."""
    return SyncRun.objects.first()


def test_an_ordinary_day_publishes(mirror, published):
    result = sync_with(mirror, "small-changes")

    assert result.exit_code == 0, result.stdout
    assert "gate: published, 0 failed check(s)" in result.stdout
    assert Product.objects.published().count() == MIRROR_TOTAL - 1
    assert Product.objects.get(id=20).price != {row[0]: row[1] for row in published}[20]
    assert latest_run().decision == "published"


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        ("short-listing", "volume: the complete listing has 10 products, 95% fewer than the reference's 194"),
        ("prices-x100", "price changes: 194 of 194 published products change price (100%, limit 20%"),
        ("renamed-field", "schema: required field 'price' is missing in 100% of products"),
        ("moved-category", "golden records: 1 of 24 golden products fail: golden product 1: category is 'fragrances'"),
    ],
)
def test_a_bad_day_is_held_with_exit_3_and_the_catalog_stays_exactly_as_it_was(mirror, published, faults, reason):
    result = sync_with(mirror, faults)

    assert result.exit_code == 3
    assert catalog_state() == published
    assert not ProductChange.objects.filter(run_id=latest_run().run_id).exists()
    assert "sync held by the publish gate: nothing was published" in result.stdout
    assert any(line.startswith(f"  - {reason}") for line in result.stdout.splitlines()), result.stdout
    assert latest_run().status == "held"
    assert latest_run().decision == "held"


@pytest.mark.usefixtures("published")
def test_a_truncated_listing_unpublishes_nothing(mirror):
    sync_with(mirror, "short-listing")

    assert Product.objects.published().count() == MIRROR_TOTAL
    assert Product.objects.get(id=1).price == Decimal("9.99")


@pytest.mark.usefixtures("published")
def test_a_held_run_puts_each_failed_check_and_the_reports_hash_on_the_record(mirror):
    sync_with(mirror, "prices-x100,moved-category")
    run = latest_run()

    failed = AuditEvent.objects.filter(kind="gate", outcome="invalid", run_id=run.run_id)
    assert [event.message for event in failed.order_by("seq")] == run.reasons
    assert len(run.reasons) == 2
    decision = AuditEvent.objects.get(kind="gate", outcome="held", run_id=run.run_id)
    canonical = json.dumps(run.report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert decision.sha256 == run.report_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    gate = AuditEvent.objects.get(kind="sync", run_id=run.run_id).details["gate"]
    assert gate == {
        "decision": "held",
        "reasons": run.reasons,
        "report_sha256": run.report_sha256,
        "profile_sha256": run.profile_sha256,
    }


@pytest.mark.usefixtures("published")
def test_a_held_run_keeps_its_staged_pages_and_a_published_one_drops_them(mirror):
    sync_with(mirror, "prices-x100")

    assert set(StagedPage.objects.values_list("run__run_id", flat=True)) == {latest_run().run_id}
    assert StagedPage.objects.count() == 2  # 194 products in pages of 100


@pytest.mark.usefixtures("published")
def test_accept_drift_publishes_and_records_who_accepted(mirror):
    assert sync_with(mirror, "prices-x100").exit_code == 3

    result = sync_with(mirror, "prices-x100", "--accept-drift", "--actor", "alice")

    assert result.exit_code == 0, result.stdout
    assert "accepted by alice" in result.stdout
    assert Product.objects.get(id=1).price == Decimal("999.00")
    run = latest_run()
    assert (run.status, run.decision, run.accepted_by) == ("published", "published", "alice")
    assert run.report["accepted_by"] == "alice"
    assert run.reasons
    assert AuditEvent.objects.get(kind="gate", outcome="ok", run_id=run.run_id).actor == "alice"
    assert not StagedPage.objects.filter(run=run).exists()


@pytest.mark.usefixtures("published")
def test_the_sync_event_times_each_phase(mirror):
    sync_with(mirror, "")

    phases = AuditEvent.objects.filter(kind="sync").order_by("-seq").first().details["phases"]
    assert set(phases) == {"stage_s", "gate_s", "publish_s"}
    assert all(value >= 0 for value in phases.values())


@pytest.mark.usefixtures("published")
def test_the_published_catalog_is_the_default_reference(mirror):
    first = latest_run().run_id
    sync_with(mirror, "")

    assert latest_run().report["reference"] == {"run_id": first, "rows": MIRROR_TOTAL}


@pytest.mark.usefixtures("published")
def test_reference_picks_another_run(mirror):
    first = latest_run().run_id
    sync_with(mirror, "short-listing")
    held = latest_run().run_id

    result = sync_with(mirror, "", "--reference", held)

    assert latest_run().report["reference"] == {"run_id": held, "rows": 10}
    assert latest_run().report["volume"]["reference"] == 10
    assert result.exit_code == 0
    assert latest_run().run_id not in (first, held)


def refused(*args: str) -> CommandError:
    """The error sync_products stops with, after checking it is exit status 2."""
    with pytest.raises(CommandError) as caught:
        call_command("sync_products", *args)
    assert caught.value.returncode == 2
    return caught.value


def test_an_unknown_reference_is_exit_2_before_anything_is_fetched(mirror):
    error = refused("--base-url", mirror.base_url, "--reference", "no-such-run")

    assert (
        str(error) == "unknown reference run 'no-such-run': no sync run with a profile has that id; nothing was synced"
    )
    assert not list(mirror.requests)
    assert not SyncRun.objects.exists()


def test_a_missing_expectations_file_is_exit_2_naming_it_and_nothing_is_fetched(mirror, settings, tmp_path):
    settings.CATALOG_EXPECTATIONS_FILE = str(tmp_path / "gone.json")

    error = refused("--base-url", mirror.base_url)

    assert str(error).startswith(f"expectations file {tmp_path / 'gone.json'}: not found")
    assert not list(mirror.requests)
    assert not Product.objects.exists()


def test_a_corrupt_expectations_file_is_exit_2_naming_file_and_line(mirror, settings, tmp_path):
    broken = tmp_path / "expectations.json"
    broken.write_text('{"products": [\n  {"id": 1, "title": "A"},\n  {"id": 2 "title": "B"}\n]}\n')
    settings.CATALOG_EXPECTATIONS_FILE = str(broken)

    error = refused("--base-url", mirror.base_url)

    assert re.match(
        rf"expectations file {re.escape(str(broken))}, line 3: not valid JSON: Expecting ',' delimiter", str(error)
    )
    assert not list(mirror.requests)
    assert not Product.objects.exists()


def test_a_first_sync_has_no_reference_and_checks_golden_products(mirror):
    result = sync("--base-url", mirror.base_url, "--no-images")

    assert "gate: published, 0 failed check(s), no reference yet" in result.stdout
    report = latest_run().report
    assert report["golden"] == {"checked": 24, "failures": []}
    assert report["fields"] == []
    assert report["reference"] == {"run_id": None, "rows": 0}


@pytest.mark.usefixtures("published")
def test_a_partial_sync_checks_only_the_golden_products_it_read(mirror):
    result = sync("--base-url", mirror.base_url, "--no-images", "--ids", "2,3")

    assert result.exit_code == 0, result.stdout
    assert latest_run().report["complete_listing"] is False
    assert latest_run().report["fields"] == []


@pytest.mark.usefixtures("published")
def test_accept_drift_with_a_run_id_publishes_exactly_what_was_held(mirror):
    sync_with(mirror, "prices-x100")
    held = latest_run()
    mirror.set_faults(())
    mirror.reset()

    result = sync("--accept-drift", held.run_id, "--actor", "bob")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert not list(mirror.requests)  # nothing fetched again: the staged pages are published
    assert Product.objects.get(id=1).price == Decimal("999.00")
    held.refresh_from_db()
    assert (held.status, held.decision, held.accepted_by) == ("published", "published", "bob")
    assert not StagedPage.objects.exists()
    accepted = AuditEvent.objects.filter(kind="gate", outcome="ok", run_id=held.run_id).get()
    assert (accepted.actor, accepted.sha256) == ("bob", held.report_sha256)


@pytest.mark.parametrize(
    ("run_id", "message"),
    [
        ("no-such-run", "unknown run 'no-such-run': no sync run has that id"),
        (None, "is published, not held: only a held run can be published"),
    ],
)
@pytest.mark.usefixtures("mirror", "published")
def test_accept_drift_refuses_a_run_that_is_not_held(run_id, message):
    error = refused("--accept-drift", run_id or latest_run().run_id)

    assert message in str(error)


@pytest.mark.usefixtures("published")
def test_a_held_run_overtaken_by_a_published_one_cannot_be_published(mirror):
    sync_with(mirror, "prices-x100")
    held = latest_run()
    sync_with(mirror, "small-changes")

    error = refused("--accept-drift", held.run_id)

    assert f"was published after run '{held.run_id}': publishing the older data would undo it" in str(error)
    assert not StagedPage.objects.exists()  # its pages went when the later run published


@pytest.mark.usefixtures("published")
def test_the_hold_explanation_names_the_command_that_publishes_it(mirror):
    result = sync_with(mirror, "prices-x100")

    assert f"  python manage.py sync_products --accept-drift {latest_run().run_id}" in result.stdout
