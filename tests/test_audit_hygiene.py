"""Every stored string is redacted and storable: hostile values never make a write fail or leak a secret."""

import csv
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from audit import signals
from audit.hygiene import bounded_int, clean_details, storable_text
from audit.models import AuditEvent
from audit.redaction import MAX_PORT, PLAIN_URL, UNPARSABLE_URL, redact_text, redact_url
from audit.services import record_event
from audit.walk import verify_chain

SIGNED_URL = "https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Signature=abc123&token=t0k&size=2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no secrets here", "no secrets here"),
        (
            f"redirected to {SIGNED_URL} twice",
            "redirected to https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Signature=REDACTED&token=REDACTED&size=2 twice",
        ),
        ("failed: /products?access_token=s3cr3t&limit=5", "failed: /products?access_token=REDACTED&limit=5"),
        ("http://admin:PASSWORD@host:99999999/x is down", f"{UNPARSABLE_URL} is down"),
        ("limit=5 skip=0", "limit=5 skip=0"),
    ],
)
def test_redact_text_redacts_urls_and_secret_pairs_anywhere(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("url", "plain", "stored"),
    [
        ("https://dummyjson.com/products/1", True, "https://dummyjson.com/products/1"),
        ("http://127.0.0.1:49152/image/1.jpg", True, "http://127.0.0.1:49152/image/1.jpg"),
        ("http://mirror:080/a//b%20c", True, "http://mirror:080/a//b%20c"),
        ("http://mirror:65536/", False, UNPARSABLE_URL),  # no such port
        ("HTTPS://dummyjson.com/products", False, "https://dummyjson.com/products"),  # parsing lowercases the scheme
        ("https://u:pw@dummyjson.com/", False, "https://REDACTED@dummyjson.com/"),
        (
            "https://dummyjson.com/products?limit=30&token=x",
            False,
            "https://dummyjson.com/products?limit=30&token=REDACTED",
        ),
    ],
)
def test_only_urls_that_parsing_would_keep_as_they_are_skip_it(url, plain, stored):
    shortcut = PLAIN_URL.fullmatch(url)

    assert bool(shortcut and int(shortcut["port"] or 0) <= MAX_PORT) is plain
    assert redact_url(url) == stored


def test_storable_text_escapes_nul_and_lone_surrogates():
    assert storable_text("a\x00b\ud800c") == "a\\x00b\\ud800c"


def test_clean_details_walks_lists_and_dicts_keys_included():
    cleaned = clean_details({"k\x00": [{"location": SIGNED_URL}, float("nan")]})

    assert cleaned == {
        "k\\x00": [{"location": SIGNED_URL.replace("abc123", "REDACTED").replace("t0k", "REDACTED")}, "nan"]
    }


@pytest.mark.parametrize(("value", "expected"), [(5, 5), (None, None), (True, None), ("x", None), (70000, None)])
def test_bounded_int_keeps_only_what_the_column_holds(value, expected):
    assert bounded_int(value, low=0, high=32767) == expected


@pytest.mark.django_db
def test_every_stored_string_is_redacted():
    event = record_event(
        kind="fetch",
        outcome="connection_error",
        url="http://admin:PASSWORD@cdn.dummyjson.com:99999999/x.png",
        message="cannot connect to https://dummyjson.com/products?access_token=abc",
        details={
            "location": SIGNED_URL,
            "options": {"base_url": "https://dummyjson.com?apikey=k1"},
            "failures": ["GET https://u:pw@dummyjson.com/products failed"],
        },
    )
    stored = AuditEvent.objects.get(seq=event.seq)

    assert stored.url == UNPARSABLE_URL
    assert stored.message == "cannot connect to https://dummyjson.com/products?access_token=REDACTED"
    assert "abc123" not in str(stored.details)
    assert "t0k" not in str(stored.details)
    assert stored.details["options"]["base_url"] == "https://dummyjson.com?apikey=REDACTED"
    assert stored.details["failures"] == ["GET https://REDACTED@dummyjson.com/products failed"]


@pytest.mark.django_db
def test_values_the_database_refuses_are_escaped_and_the_chain_still_verifies():
    record_event(
        kind="fetch",
        outcome="ok",
        method="GET\x00",
        url="https://dummyjson.com/a\x00b",
        status_code=10**9,
        duration_ms=float("inf"),
        message="nul \x00 and \udc80",
        details={"location": "https://x/\x00", "\x00": float("-inf"), "n": 2**70},
    )
    stored = AuditEvent.objects.get()

    assert stored.message == "nul \\x00 and \\udc80"
    assert (stored.status_code, stored.duration_ms) == (None, None)
    assert stored.details["\\x00"] == "-inf"
    assert verify_chain(AuditEvent.objects.order_by("seq")).intact


@pytest.mark.django_db
def test_failed_logins_have_a_fixed_actor_and_keep_the_attempted_name(client):
    client.post(reverse("admin:login"), {"username": '=HYPERLINK("http://evil")', "password": "x"})

    event = AuditEvent.objects.get(kind="login")
    assert event.actor == "anonymous"
    assert event.details["attempted_username"] == '=HYPERLINK("http://evil")'


@pytest.mark.django_db
def test_a_flood_of_failed_logins_is_counted_not_recorded_one_by_one(client, settings, monkeypatch):
    settings.AXES_FAILURE_LIMIT = 1000
    monkeypatch.setattr(signals, "LOGIN_EVENTS_PER_WINDOW", 3)
    windows = iter([0] * 5 + [1])
    monkeypatch.setattr(signals, "current_window", lambda: next(windows))

    for number in range(6):
        client.post(reverse("admin:login"), {"username": f"name{number}", "password": "x"}, REMOTE_ADDR="10.9.9.9")

    events = list(AuditEvent.objects.filter(kind="login").order_by("seq"))
    assert len(events) == 4
    assert "further failures from this address" in events[2].message
    assert events[3].details["unrecorded_failures_before"] == 2


@pytest.mark.django_db
def test_csv_export_neutralizes_formula_cells():
    for text in ("=HYPERLINK(1)", "+1", "-1", "@SUM(1)", "\tx", "\rx", "plain"):
        record_event(kind="login", outcome="invalid", actor="anonymous", message=text)
    out = StringIO()
    call_command("audit_export", "--format", "csv", stdout=out)

    messages = [row["message"] for row in csv.DictReader(StringIO(out.getvalue(), newline=""))]
    assert messages == ["'=HYPERLINK(1)", "'+1", "'-1", "'@SUM(1)", "'\tx", "'\rx", "plain"]


@pytest.mark.django_db
def test_staff_without_the_view_permission_get_no_audit_page(client):
    client.force_login(get_user_model().objects.create(username="clerk", is_staff=True))

    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_dashboard")).status_code == 403
