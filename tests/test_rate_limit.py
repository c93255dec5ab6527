"""The client keeps to the source's rate limit: paced API calls, never a 429 it could avoid."""

import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from audit.models import AuditEvent
from catalog import conf
from catalog.checks import check_catalog_settings
from catalog.rate_limit import RequestRateLimiter
from tests.sync_helpers import sync


@pytest.mark.parametrize(
    ("value", "expected"),
    [("100/10", (100, 10.0)), (" 5/0.5 ", (5, 0.5)), ("0", None), ("off", None), ("OFF", None)],
)
def test_the_setting_reads_requests_per_seconds_or_off(value, expected):
    assert conf.parse_rate_limit(value) == expected


@pytest.mark.parametrize("value", ["100", "fast", "0/10", "10/0", "-1/10"])
def test_a_bad_rate_limit_names_the_expected_form(value):
    with pytest.raises(ImproperlyConfigured) as raised:
        conf.parse_rate_limit(value)
    assert str(raised.value) == (
        f"DUMMYJSON_RATE_LIMIT must be 'requests/seconds', like '100/10', or 0 to turn it off; got {value!r}"
    )


def test_the_default_is_the_real_apis_published_limit(settings):
    del settings.DUMMYJSON_RATE_LIMIT

    assert conf.rate_limit() == (100, 10.0)


def test_the_system_check_reports_a_bad_rate_limit(settings):
    settings.DUMMYJSON_RATE_LIMIT = "lots"

    assert [error.id for error in check_catalog_settings()] == ["catalog.E005"]


def test_requests_beyond_the_limit_wait_for_the_window_after_the_oldest_finished():
    limiter = RequestRateLimiter(max_requests=3, per_seconds=0.3)
    finished = []
    started = time.monotonic()
    for _ in range(6):
        with limiter.slot():
            finished.append(time.monotonic() - started)

    assert finished[2] < 0.1
    assert finished[3] >= 0.3
    assert finished[5] < 0.5


def test_a_request_in_flight_holds_its_slot():
    limiter = RequestRateLimiter(max_requests=1, per_seconds=0.05)
    release, entered = threading.Event(), []

    def hold() -> None:
        with limiter.slot():
            release.wait(2)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    waiter = threading.Thread(target=lambda: entered.append(limiter.slot().__enter__()))
    waiter.start()
    waiter.join(0.2)
    assert not entered  # still waiting: the first request has not finished
    release.set()
    holder.join()
    waiter.join(2)
    assert entered == [None]


@pytest.mark.django_db(transaction=True)
def test_a_sync_against_a_rate_limited_mirror_draws_no_429_and_takes_what_the_limit_forces(mirror_factory, settings):
    mirror = mirror_factory(rate_limit=5, rate_window_s=1.0)
    settings.DUMMYJSON_RATE_LIMIT = "5/1"
    started = time.monotonic()

    result = sync("--base-url", mirror.base_url, "--page-size", "2", "--limit", "20", "--no-images")

    elapsed = time.monotonic() - started
    assert result.exit_code == 0
    fetches = AuditEvent.objects.filter(kind="fetch")
    assert fetches.count() == 10
    assert not fetches.filter(status_code=429).exists()
    # 10 listing pages at 5 per second: the limit forces at least one wait of about a second.
    assert 1.0 <= elapsed < 10.0


@pytest.mark.django_db(transaction=True)
def test_without_the_client_limit_the_same_sync_meets_the_servers_429(mirror_factory, settings):
    # A window no sync outlasts, so the sixth request is refused however slow the machine.
    mirror = mirror_factory(rate_limit=5, rate_window_s=60.0)
    settings.DUMMYJSON_RATE_LIMIT = "0"
    settings.DUMMYJSON_RETRIES = 0

    sync("--base-url", mirror.base_url, "--page-size", "2", "--limit", "20", "--no-images")

    refused = AuditEvent.objects.filter(kind="fetch", status_code=429)
    assert refused.exists()
    assert refused.first().message == "HTTP 429"
