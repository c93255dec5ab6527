"""The audit changelist at scale: filters and search on indexes, no table count, and links to trace an event."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import selectors
from audit.context import run_context
from audit.models import AuditEvent
from audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    """A client logged in as a superuser (no password: hashing one costs more than the test)."""
    client.force_login(get_user_model().objects.create(username="admin", is_staff=True, is_superuser=True))
    return client


def changelist(client, query: str = ""):
    """GET the audit changelist with a query string."""
    return client.get(reverse("admin:audit_auditevent_changelist") + query)


def shown(response) -> list[int]:
    """The seqs of the events on the page, in order."""
    assert response.status_code == 200, response
    return [event.seq for event in response.context["cl"].result_list]


def record_at(moment, **fields):
    """Record an event as if it happened at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return record_event(**fields)


@pytest.fixture
def mixed():
    """Eight events across kinds, outcomes, status classes, products and runs."""
    events = [
        ("run-a", {"kind": "fetch", "outcome": "ok", "status_code": 200, "url": "https://dummyjson.com/products/1"}),
        (
            "run-a",
            {"kind": "fetch", "outcome": "http_error", "status_code": 404, "url": "https://dummyjson.com/products/9"},
        ),
        (
            "run-a",
            {"kind": "fetch", "outcome": "http_error", "status_code": 503, "url": "https://dummyjson.com/products?a=1"},
        ),
        (
            "run-b",
            {"kind": "download", "outcome": "ok", "status_code": 200, "url": "https://cdn.dummyjson.com/1/1.webp"},
        ),
        (
            "run-b",
            {"kind": "fetch", "outcome": "not_modified", "status_code": 304, "url": "https://dummyjson.com/products/2"},
        ),
        ("run-b", {"kind": "validation", "outcome": "invalid", "details": {"rule": "price", "payload_sha256": "ab"}}),
        ("run-c", {"kind": "fetch", "outcome": "timeout", "url": "https://dummyjson.com/products/3"}),
        ("run-b", {"kind": "sync", "outcome": "ok", "details": {"status": "complete"}}),
    ]
    products = {1: 1, 2: 9, 4: 1, 5: 2, 6: 2}
    for seq, (run_id, fields) in enumerate(events, start=1):
        with run_context(actor="tester", run_id=run_id):
            record_event(product_id=products.get(seq), **fields)


@pytest.mark.usefixtures("mixed")
def test_the_changelist_shows_time_kind_outcome_status_url_duration_product_run_and_actor(staff_client):
    page = changelist(staff_client).content.decode()

    columns = re.findall(r'<th scope="col" class="column-([a-z_]+)', page)
    assert " ".join(columns) == "seq created_at kind outcome_label status_code method url duration_ms product run actor"


@pytest.mark.usefixtures("mixed")
@pytest.mark.parametrize(
    ("status_class", "expected"),
    [("2xx", [4, 1]), ("3xx", [5]), ("4xx", [2]), ("5xx", [3]), ("none", [8, 7, 6])],
)
@pytest.mark.parametrize("min_dense_matches", [1, 10_000], ids=["dense plan", "sparse plan"])
def test_the_status_class_filter_matches_its_range_with_either_plan(
    staff_client, monkeypatch, status_class, expected, min_dense_matches
):  # pylint: disable=too-many-arguments
    monkeypatch.setattr(selectors, "MIN_DENSE_MATCHES", min_dense_matches)

    assert shown(changelist(staff_client, f"?status_class={status_class}")) == expected


@pytest.mark.usefixtures("mixed")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?kind__exact=validation", [6]),
        ("?outcome__exact=http_error", [3, 2]),
        ("?run_id=run-a", [3, 2, 1]),
        ("?product_id=2", [6, 5]),
        ("?kind__exact=fetch&status_class=4xx", [2]),
    ],
)
def test_filters_by_kind_outcome_run_and_product(staff_client, query, expected):
    assert shown(changelist(staff_client, query)) == expected


@pytest.mark.usefixtures("mixed")
@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("run-b", [8, 6, 5, 4]),
        ("  run-c ", [7]),
        ("run", []),
        ("https://cdn.dummyjson.com/", [4]),
        ("https://dummyjson.com/products/", [7, 5, 2, 1]),
        ("HTTPS://CDN.DUMMYJSON.COM/", []),
        ("dummyjson.com", []),
    ],
)
@pytest.mark.parametrize("min_dense_matches", [1, 10_000], ids=["dense plan", "sparse plan"])
def test_search_is_an_exact_run_id_or_a_case_sensitive_url_prefix(
    staff_client, monkeypatch, term, expected, min_dense_matches
):  # pylint: disable=too-many-arguments
    monkeypatch.setattr(selectors, "MIN_DENSE_MATCHES", min_dense_matches)

    assert shown(staff_client.get(reverse("admin:audit_auditevent_changelist"), {"q": term})) == expected


@pytest.fixture
def spread():
    """Events 40 days, 3 days, 2 hours and 30 minutes ago (seq 1 to 4)."""
    now = timezone.now()
    for age in (timedelta(days=40), timedelta(days=3), timedelta(hours=2), timedelta(minutes=30)):
        record_at(now - age, kind="fetch", outcome="ok")
    return now


@pytest.mark.usefixtures("spread")
@pytest.mark.parametrize(
    ("period", "expected"),
    [("1h", [4]), ("24h", [4, 3]), ("7d", [4, 3, 2]), ("30d", [4, 3, 2])],
)
def test_the_time_filter_presets_show_recent_events(staff_client, period, expected):
    assert shown(changelist(staff_client, f"?period={period}")) == expected


def test_the_time_filter_takes_since_and_until(staff_client, spread):
    since = (spread - timedelta(days=4)).isoformat()
    until = (spread - timedelta(hours=1)).isoformat()

    response = staff_client.get(reverse("admin:audit_auditevent_changelist"), {"since": since, "until": until})

    assert shown(response) == [3, 2]


def test_the_time_filter_takes_bare_dates(staff_client, spread):
    yesterday = (spread - timedelta(days=1)).date().isoformat()

    assert shown(changelist(staff_client, f"?until={yesterday}")) == [2, 1]


@pytest.mark.usefixtures("spread")
@pytest.mark.parametrize("query", ["?since=yesterday", "?period=2h", "?since=0001-01-01", "?until=9999-12-31"])
def test_a_bad_time_filter_sends_back_to_the_error_page(staff_client, query):
    response = changelist(staff_client, query)

    assert response.status_code == 302
    assert response["Location"] == "/admin/audit/auditevent/?e=1"


def test_events_stamped_with_the_same_microsecond_all_fall_in_the_range(staff_client):
    moment = timezone.now() - timedelta(hours=3)
    for _ in range(4):
        record_at(moment, kind="fetch", outcome="ok")
    since, until = (moment - timedelta(hours=1)).isoformat(), (moment + timedelta(hours=1)).isoformat()

    response = staff_client.get(reverse("admin:audit_auditevent_changelist"), {"since": since, "until": until})

    assert shown(response) == [4, 3, 2, 1]


@pytest.mark.usefixtures("spread")
def test_a_time_range_with_no_events_is_empty_without_scanning(staff_client):
    with CaptureQueriesContext(connection) as queries:
        assert shown(changelist(staff_client, "?since=2999-01-01")) == []

    assert not any('"audit_auditevent"."seq" >=' in query["sql"] for query in queries.captured_queries)


@pytest.fixture
def sixty():
    """Sixty fetch events."""
    for n in range(60):
        record_event(kind="fetch", outcome="ok", url=f"https://dummyjson.com/products/{n}")


@pytest.mark.usefixtures("sixty")
def test_pages_read_one_row_ahead_instead_of_counting(staff_client):
    with CaptureQueriesContext(connection) as queries:
        first = changelist(staff_client)

    assert shown(first) == list(range(60, 10, -1))
    assert "more than 50 audit events" in first.content.decode()
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert any("LIMIT 51" in query["sql"] for query in queries.captured_queries)


@pytest.mark.usefixtures("sixty")
def test_the_last_page_knows_the_total(staff_client):
    last = changelist(staff_client, "?p=2")

    assert shown(last) == list(range(10, 0, -1))
    assert "60 audit events" in last.content.decode()


@pytest.mark.usefixtures("sixty")
def test_there_is_no_show_all_link_and_no_column_sorting(staff_client):
    response = changelist(staff_client, "?o=7")

    assert shown(response)[:3] == [60, 59, 58]
    assert "all=" not in response.content.decode()
    assert 'class="sortable' not in response.content.decode()


@pytest.mark.usefixtures("sixty")
def test_a_page_past_the_end_is_an_error_redirect(staff_client):
    assert changelist(staff_client, "?p=9").status_code == 302


def test_the_changelist_links_to_the_dashboard(staff_client):
    page = changelist(staff_client).content.decode()

    assert f'href="{reverse("admin:audit_auditevent_dashboard")}"' in page


def test_the_admin_index_links_to_the_dashboard(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert '<p id="audit-dashboard-link"><a href="/admin/audit/auditevent/dashboard/">Audit dashboard</a>' in page


@pytest.mark.usefixtures("mixed")
def test_staff_without_the_view_permission_are_refused(client):
    client.force_login(get_user_model().objects.create(username="clerk", is_staff=True))

    assert changelist(client).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_change", args=[AuditEvent.objects.first().pk])).status_code in (
        302,
        403,
    )
    assert client.get(reverse("admin:audit_auditevent_dashboard")).status_code == 403


@pytest.mark.usefixtures("mixed")
def test_staff_with_the_view_permission_can_read_the_log(client):
    staff = get_user_model().objects.create(username="reviewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent", content_type__app_label="audit"))
    client.force_login(staff)

    assert shown(changelist(client, "?kind__exact=sync")) == [8]
    assert client.get(reverse("admin:audit_auditevent_dashboard")).status_code == 200


@pytest.mark.usefixtures("mixed")
def test_users_who_are_not_staff_are_sent_to_the_login_page(client):
    client.force_login(get_user_model().objects.create(username="visitor"))

    response = changelist(client)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def change_page(client, seq: int) -> str:
    """The change view of the event with ``seq``."""
    response = client.get(reverse("admin:audit_auditevent_change", args=[AuditEvent.objects.get(seq=seq).pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("mixed")
def test_the_change_view_links_to_the_run_the_product_and_both_neighbours(staff_client):
    page = change_page(staff_client, 5)

    assert '<a href="/admin/audit/auditevent/?run_id=run-b">all its events (run-b)</a>' in page
    assert '<a href="/admin/audit/auditevent/?product_id=2">its events</a>' in page
    assert '<a href="/products/2/">product page</a>' in page
    assert '<a href="/admin/catalog/product/2/change/">product in the admin</a>' in page
    assert re.search(r'<a href="/admin/audit/auditevent/\d+/change/">previous #4</a>', page)
    assert re.search(r'<a href="/admin/audit/auditevent/\d+/change/">next #6</a>', page)


@pytest.mark.usefixtures("mixed")
def test_the_first_and_newest_events_say_so_instead_of_linking(staff_client):
    assert "the first event · <a" in change_page(staff_client, 1)
    assert "</a> · the newest event" in change_page(staff_client, 8)


@pytest.mark.usefixtures("mixed")
def test_a_validation_event_shows_its_rule_and_product(staff_client):
    page = change_page(staff_client, 6)

    assert re.search(r'<div class="readonly">price</div>', page)
    assert '<a href="/admin/audit/auditevent/?product_id=2">its events</a>' in page


@pytest.mark.usefixtures("mixed")
def test_the_changelist_links_each_row_to_its_product_and_run(staff_client):
    page = changelist(staff_client, "?kind__exact=download").content.decode()

    assert '<a href="?product_id=1">1</a>' in page
    assert '<a href="?run_id=run-b" title="run-b">run-b…</a>' in page


@pytest.fixture
def test_runs():
    """A finished test run with one failure, and a run that only started."""
    failure = {"nodeid": "tests/test_x.py::test_y", "when": "call", "reason": "AssertionError: assert 1 == 2"}
    finished = {
        "status": "failed",
        "counts": {"passed": 3, "failed": 1},
        "duration_s": 1.5,
        "exit_status": 1,
        "code_version": {"commit": "abc123", "dirty": True},
        "failures": [failure],
    }
    record_event(kind="test_run", outcome="started", run_id="finished-run")
    record_event(kind="test_run", outcome="error", run_id="finished-run", details=finished)
    record_event(kind="test_run", outcome="started", run_id="killed-run")


@pytest.mark.usefixtures("test_runs")
def test_a_test_run_shows_its_summary_and_failures(staff_client):
    page = change_page(staff_client, 2)

    assert "failed — 3 passed, 1 failed — 1.5s — exit status 1 — commit abc123 (dirty tree)" in page
    assert "<li><code>tests/test_x.py::test_y</code> (call): AssertionError: assert 1 == 2</li>" in page


@pytest.mark.usefixtures("test_runs")
def test_a_run_that_only_started_shows_as_interrupted(staff_client):
    rows = {event.seq: event for event in changelist(staff_client, "?kind__exact=test_run").context["cl"].result_list}
    page = changelist(staff_client, "?run_id=killed-run").content.decode()

    assert (rows[1].run_ended, rows[3].run_ended) == (True, False)
    assert "started, no end recorded (interrupted or still running)" in page
    assert "started, no end recorded (interrupted or still running)" in change_page(staff_client, 3)
