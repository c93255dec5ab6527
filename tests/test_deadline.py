"""The watchdog: one deadline over a whole exchange, headers included, however slowly the bytes trickle."""

import socket
import threading
import time

import pytest
import requests

from audit.models import AuditEvent
from catalog.client import new_client
from catalog.deadline import DeadlineAdapter, ExchangeDeadline

DEADLINE_S = 0.5
SLOW_BYTE_S = 0.05


class TrickleServer:
    """Answers each connection with ``response``, one byte per ``SLOW_BYTE_S``, until the client goes away."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with self.listener:
            connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            for byte in self.response:
                try:
                    connection.send(bytes([byte]))
                except OSError:
                    return
                time.sleep(SLOW_BYTE_S)


@pytest.fixture
def session():
    """A requests session whose connections are watched."""
    with requests.Session() as watched:
        watched.mount("http://", DeadlineAdapter(max_retries=0))
        yield watched


def timed_get(session, url: str) -> tuple[float, ExchangeDeadline, Exception | None]:
    """GET the URL and read its body under the deadline; how long it took, the deadline, and any error."""
    started, error = time.monotonic(), None
    with ExchangeDeadline(DEADLINE_S) as deadline:
        try:
            session.get(url, timeout=(1, 1), stream=True).raw.read()
        except requests.RequestException as raised:
            error = raised
    return time.monotonic() - started, deadline, error


def test_trickled_headers_end_at_the_deadline(session):
    server = TrickleServer(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000 + b"\r\n\r\n")

    took, deadline, error = timed_get(session, server.url)

    assert DEADLINE_S <= took < DEADLINE_S + 0.5
    assert deadline.expired
    assert isinstance(error, requests.ConnectionError)


def test_a_trickled_body_ends_at_the_deadline_and_is_marked_expired(session):
    server = TrickleServer(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"b" * 1000)

    took, deadline, _ = timed_get(session, server.url)

    assert took < DEADLINE_S + 1.5
    assert deadline.expired


def test_a_prompt_answer_is_not_expired_and_the_timer_is_cancelled(session, httpserver):
    httpserver.expect_request("/").respond_with_data(b"ok")

    took, deadline, error = timed_get(session, httpserver.url_for("/"))
    time.sleep(DEADLINE_S)

    assert error is None
    assert took < DEADLINE_S
    assert not deadline.expired


def test_a_timer_firing_after_the_exchange_leaves_pooled_connections_alone(session, httpserver):
    httpserver.expect_request("/").respond_with_data(b"ok")
    with ExchangeDeadline(60) as deadline:
        session.get(httpserver.url_for("/")).raise_for_status()

    deadline.expire()

    assert not deadline.expired
    assert session.get(httpserver.url_for("/")).content == b"ok"


def test_requests_outside_any_deadline_are_not_watched(session, httpserver):
    httpserver.expect_request("/").respond_with_data(b"ok")

    assert session.get(httpserver.url_for("/")).content == b"ok"


@pytest.mark.django_db
def test_the_client_ends_a_trickled_header_response_within_its_deadline(settings):
    server = TrickleServer(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000 + b"\r\n\r\n")
    settings.DUMMYJSON_BASE_URL = server.url.rstrip("/")
    settings.DUMMYJSON_DEADLINE = DEADLINE_S
    settings.DUMMYJSON_RETRIES = 0
    client = new_client()
    started = time.monotonic()

    product = client.get_product(1)

    assert product is None
    assert time.monotonic() - started < DEADLINE_S + 0.5
    event = AuditEvent.objects.get(kind="fetch")
    assert event.outcome == "timeout"
    assert event.message == f"no status line and headers within the {DEADLINE_S} s deadline"
    client.close()
