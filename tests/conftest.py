"""Shared fixtures: fast client settings, a private MEDIA_ROOT, and a DummyJSON stand-in on loopback."""

import os
import signal
import socket

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from pytest_socket import SocketBlockedError

from audit.append import forget_chains
from audit.insert import SEQ_SEQUENCE
from audit.signing import create_signing_key
from catalog.client import new_client
from catalog.process_role import mark_web_process, unmark_web_process

LOOPBACK_NAMES = frozenset({"127.0.0.1", "::1", "localhost"})


@pytest.fixture(autouse=True)
def loopback_names_only(monkeypatch):
    """Only loopback names resolve: pytest-socket (``--allow-hosts``) stops connections elsewhere,
    but offline a name lookup fails first, as a quiet connection error that lets a mis-aimed mock
    pass. Refused here with pytest-socket's own error, which no HTTP library catches."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in LOOPBACK_NAMES:
            raise SocketBlockedError(
                f"a test tried to reach {name!r}: mock the client at the session (see the README) or use the mirror"
            )
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
def audit_signing_key_file(tmp_path_factory):
    """One audit signing key for the whole session (pytest-django turns DEBUG off, so none is made on use)."""
    path = tmp_path_factory.mktemp("audit-key") / "signing-key.pem"
    create_signing_key(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def audit_subprocess_environment(audit_signing_key_file, tmp_path_factory):
    """Processes the tests start sign and anchor in a throwaway place too, never in the project's store."""
    saved = {name: os.environ.get(name) for name in ("AUDIT_ANCHOR_DIR", "AUDIT_SIGNING_KEY_FILE")}
    os.environ["AUDIT_ANCHOR_DIR"] = str(tmp_path_factory.mktemp("subprocess-anchors"))
    os.environ["AUDIT_SIGNING_KEY_FILE"] = str(audit_signing_key_file)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def fresh_audit_chains(request):
    """Each test writes new audit chains and, on PostgreSQL, numbers its events from one past the
    highest stored, as SQLite does: a sequence does not roll back with the test's transaction."""
    forget_chains()
    marker = request.node.get_closest_marker("django_db")
    if marker is None or connection.vendor != "postgresql":
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval('{SEQ_SEQUENCE}', COALESCE(MAX(seq), 0) + 1, false) FROM audit_auditevent")


@pytest.fixture(autouse=True)
def isolated_settings(settings, tmp_path, tmp_path_factory, audit_signing_key_file):
    """Each test gets its own media folder and anchor store, and a client that does not wait long."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Made up front, as a deployment provides it (verify_audit refuses a missing store), outside tmp_path.
    settings.AUDIT_ANCHOR_DIR = str(tmp_path_factory.mktemp("anchors"))
    settings.AUDIT_SIGNING_KEY_FILE = str(audit_signing_key_file)
    settings.AUDIT_VERIFY_KEYS = []
    settings.DUMMYJSON_TIMEOUT = "2,2"
    settings.DUMMYJSON_BACKOFF = 0.0
    settings.DUMMYJSON_RETRIES = 3
    settings.DUMMYJSON_DEADLINE = 5.0
    # Fakes and the shared mirror fixture have no limit; tests of the limiter set their own.
    settings.DUMMYJSON_RATE_LIMIT = "0"
    cache.clear()  # cached catalog reads must not leak from one test's data into another's
    return settings


@pytest.fixture
def api(httpserver, settings):
    """pytest-httpserver standing in for DummyJSON, set as the base URL (images served from it too)."""
    settings.DUMMYJSON_BASE_URL = httpserver.url_for("").rstrip("/")
    yield httpserver
    # A request no handler expected (or an ordered one out of turn) fails the test that made it,
    # so a test cannot pass because its fake answered a call it never meant to allow.
    httpserver.check_assertions()


@pytest.fixture
def dummyjson(api):
    """A client of its own pointed at the ``api`` server; closed after the test."""
    client = new_client(base_url=api.url_for("").rstrip("/"))
    yield client
    client.close()


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """Serve on 127.0.0.1, so ``localhost`` can play a second, disallowed host."""
    return ("127.0.0.1", 0)


@pytest.fixture
def without_gate(settings):
    """Hand-made listings of a few products are not the catalog the golden records and the gate's
    volume and price checks describe: tests of per-product rules turn those checks off."""
    settings.CATALOG_EXPECTATIONS_FILE = ""
    settings.CATALOG_MAX_VOLUME_DROP = 1.0
    settings.CATALOG_MAX_PRICE_CHANGE_SHARE = 1.0
    settings.CATALOG_DATASET_DRIFT_SHARE = 1.0
    settings.CATALOG_MAX_MISSING_INCREASE = 1.0
    return settings


def run_queued_tasks() -> None:
    """Run every queued task to the end with the real database worker (``db_worker --batch``), in this process.

    The worker installs SIGINT/SIGTERM handlers of its own; pytest's are put back after.
    """
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--queue-name", "*", "--verbosity", "0"
        )
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


@pytest.fixture
def worker(transactional_db):  # noqa: ARG001  # pylint: disable=unused-argument
    """``worker()`` runs what page views and the admin queued, as ``make worker`` would.

    The worker closes its connection between tasks, as a long-running process must, so
    tests using it commit for real instead of running inside one rolled-back transaction.
    (``transactional_db`` is asked for its effect; a fixture cannot take ``usefixtures``, and
    as an argument it is set up before the test's own database fixture, as it must be.)
    """
    return run_queued_tasks


@pytest.fixture
def web_process():
    """This test process counts as a web server: the client refuses to send anything."""
    mark_web_process()
    yield
    unmark_web_process()
