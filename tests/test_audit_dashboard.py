"""The monitoring dashboard: server-drawn SVG charts of recent activity, with and without data, for staff only."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import dashboard
from audit.charts import horizontal_bars, line_chart, stacked_bars
from audit.models import AuditEvent
from audit.services import record_event
from catalog.models import Category, Product
from tests.tampering import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    """A client logged in as a superuser (no password: hashing one costs more than the test)."""
    client.force_login(get_user_model().objects.create(username="admin", is_staff=True, is_superuser=True))
    return client


def dashboard_page(client) -> str:
    """The dashboard's HTML."""
    response = client.get(reverse("admin:audit_auditevent_dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def record_at(moment, **fields):
    """Record an event as if it happened at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record_event(**fields)


@pytest.fixture
def early_today():
    """One second past midnight (UTC) today: the same day and hour window as now, whenever the test runs."""
    return timezone.make_aware(datetime.combine(timezone.now().date(), time.min)) + timedelta(seconds=1)


def add_product(product_id: int, category: Category, price: str) -> None:
    """A minimal catalog product."""
    now = timezone.now()
    Product.objects.create(
        id=product_id,
        title=f"Product {product_id}",
        category=category,
        price=Decimal(price),
        final_price=Decimal(price),
        raw_sha256="0" * 64,
        first_seen_at=now,
        last_synced_at=now,
    )


@pytest.fixture
def activity(early_today):
    """Fetches, two syncs, a finished and an interrupted test run, a lint run and three products."""
    for duration in (10, 20, 30, 40):
        record_at(early_today, kind="fetch", outcome="ok", duration_ms=duration, url="https://dummyjson.com/products")
    for created, failures in ((3, []), (0, ["page 2: timeout"])):
        details = {"status": "complete", "duration_s": 12.5, "failures": failures}
        details["products"] = {"created": created, "updated": 2, "unpublished": 1}
        record_at(early_today, kind="sync", outcome="ok", details=details)
    record_at(early_today, kind="test_run", outcome="started", run_id="finished")
    finished = {"status": "passed", "counts": {"passed": 7, "failed": 0}}
    record_at(early_today, kind="test_run", outcome="ok", run_id="finished", details=finished)
    record_at(early_today, kind="test_run", outcome="started", run_id="killed")
    record_at(early_today, kind="lint", outcome="error", details={"score": 9.5})
    beauty, groceries = (
        Category.objects.create(slug="beauty", name="Beauty"),
        Category.objects.create(slug="groceries", name="Groceries"),
    )
    add_product(1, beauty, "10.00")
    add_product(2, beauty, "20.00")
    add_product(3, groceries, "4.50")


def test_an_empty_dashboard_says_what_is_missing(staff_client):
    page = dashboard_page(staff_client)

    for note in (
        "No events in the last 7 days.",
        "No fetches in the last 14 days.",
        "No syncs yet.",
        "No test runs yet.",
        "No lint runs yet: `make lint` records them.",
        "No products in the catalog yet.",
        "The chain has not been verified on record yet.",
        "<code>python manage.py verify_audit --record</code>",
    ):
        assert note in page
    assert 'class="audit-chart"' not in page


@pytest.mark.usefixtures("activity")
def test_the_dashboard_draws_every_chart_from_the_data(staff_client, early_today):
    page = dashboard_page(staff_client)
    day, hour = f"{early_today:%m-%d}", f"{early_today:%m-%d %H}:00"

    assert page.count('<svg class="audit-chart"') == 7
    assert f"<title>{hour}: 7 ok</title>" in page
    assert f"<title>{hour}: 2 started</title>" in page
    assert f"<title>{day}: p50 20</title>" in page
    assert f"<title>{day}: p95 40</title>" in page
    assert f"<title>{day} 00:00 complete: 3 added</title>" in page
    assert f"<title>{day} 00:00 complete: failures 1</title>" in page
    assert f"<title>{day} 00:00 passed: 7 passed</title>" in page
    assert f"<title>{day} 00:00: score 9.50</title>" in page
    assert "<title>Beauty: 15</title>" in page
    assert "<title>Groceries: 4.50</title>" in page


@pytest.mark.usefixtures("activity")
def test_the_latest_test_runs_show_an_interrupted_one(staff_client):
    page = dashboard_page(staff_client)

    assert "<td>interrupted</td>" in page
    assert '<a href="/admin/audit/auditevent/?run_id=killed">killed</a>' in page


@pytest.mark.usefixtures("activity")
def test_the_dashboard_shows_the_last_recorded_verification(staff_client):
    call_command("verify_audit", "--record", stdout=StringIO())
    head = AuditEvent.objects.get(seq=10).hash

    page = dashboard_page(staff_client)

    assert f"audit chain intact: 10 events, head {head}; no signed anchor yet</a>" in page
    assert '<p class="audit-ok">' in page


@pytest.mark.usefixtures("activity")
def test_verify_record_puts_a_broken_chain_on_record_too():
    tamper("UPDATE audit_auditevent SET message = 'edited' WHERE seq = 3")

    with pytest.raises(CommandError):
        call_command("verify_audit", "--record")

    verification = dashboard.last_verification()
    assert (verification.kind, verification.outcome) == ("verify", "error")
    assert verification.details | {"duration_s": 0} == {
        "intact": False,
        "count": 2,
        "start_seq": 1,
        "head_hash": AuditEvent.objects.get(seq=2).hash,
        "broken_seq": 3,
        "problem": "event #3 does not match its hash: changed",
        "anchored_through": 0,
        "duration_s": 0,
    }


@pytest.mark.usefixtures("activity")
def test_the_query_count_does_not_grow_with_the_data(staff_client, early_today):
    with CaptureQueriesContext(connection) as before:
        dashboard_page(staff_client)
    for _ in range(20):
        record_at(early_today, kind="fetch", outcome="ok", duration_ms=5)
        record_at(early_today, kind="sync", outcome="ok", details={"products": {}})

    with CaptureQueriesContext(connection) as after:
        dashboard_page(staff_client)

    assert len(after.captured_queries) == len(before.captured_queries)


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("admin:audit_auditevent_dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_users_who_are_not_staff_are_sent_to_the_login_page(client):
    client.force_login(get_user_model().objects.create(username="visitor"))

    assert client.get(reverse("admin:audit_auditevent_dashboard")).status_code == 302


@pytest.mark.usefixtures("activity")
def test_latency_percentiles_are_nearest_rank_per_day(early_today):
    days, series = dashboard.fetch_latency_per_day(early_today.date())

    assert (len(days), days[-1]) == (14, early_today.date())
    assert (series["p50"][-1], series["p95"][-1]) == (20.0, 40.0)
    assert series["p50"][:-1] == [None] * 13


@pytest.mark.usefixtures("activity")
def test_events_per_hour_counts_each_outcome_in_its_hour(early_today):
    hours, series = dashboard.events_per_hour(early_today + timedelta(hours=2))

    assert (len(hours), hours[-3]) == (168, early_today - timedelta(seconds=1))
    assert {outcome: counts[-3] for outcome, counts in series.items()} == {"ok": 7, "started": 2, "error": 1}
    assert sum(sum(counts) for counts in series.values()) == 10


@pytest.mark.usefixtures("activity")
def test_test_runs_keep_one_point_per_run():
    runs = dashboard.recent_test_runs()

    assert [(run.event.run_id, run.status, run.values) for run in runs] == [
        ("finished", "passed", {"passed": 7, "failed": 0}),
        ("killed", "interrupted", {"passed": 0, "failed": 0}),
    ]


def test_chart_labels_are_escaped():
    svg = stacked_bars(["<b>"], {"<script>": [1]}, label="a & b")

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'aria-label="a &amp; b"' in svg


def test_stacked_bars_stack_each_series_on_the_last():
    svg = stacked_bars(["a", "b"], {"ok": [2, 1], "error": [2, 0]}, label="events")

    assert '<rect x="81.0" y="102.0" width="264.0" height="90.0" fill="#2e7d32"><title>a: 2 ok</title></rect>' in svg
    assert '<rect x="81.0" y="12.0" width="264.0" height="90.0" fill="#c62828"><title>a: 2 error</title></rect>' in svg
    assert "<title>b: 0 error</title>" not in svg


def test_a_line_chart_leaves_gaps_for_missing_values():
    svg = line_chart(["a", "b", "c"], {"p50": [10, None, 20]}, label="latency")

    assert svg.count("<circle") == 2
    assert 'points="158.0,102.0 598.0,12.0"' in svg


def test_horizontal_bars_scale_to_the_largest_value():
    svg = horizontal_bars([("Beauty", 15.0), ("Groceries", 7.5)], label="prices")

    assert 'width="468.0" height="14" fill="#1565c0"><title>Beauty: 15</title>' in svg
    assert 'width="234.0" height="14" fill="#1565c0"><title>Groceries: 7.50</title>' in svg
