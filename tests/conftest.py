"""Shared fixtures: fast client settings, a private MEDIA_ROOT, and a DummyJSON stand-in on loopback."""

import pytest
from django.core.cache import cache

from catalog.client import new_client


@pytest.fixture(autouse=True)
def isolated_settings(settings, tmp_path):
    """Each test gets its own media folder and a client that does not wait long."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DUMMYJSON_TIMEOUT = "2,2"
    settings.DUMMYJSON_BACKOFF = 0.0
    settings.DUMMYJSON_RETRIES = 3
    settings.DUMMYJSON_DEADLINE = 5.0
    cache.clear()  # cached catalog reads must not leak from one test's data into another's
    return settings


@pytest.fixture
def api(httpserver, settings):
    """pytest-httpserver standing in for DummyJSON, set as the base URL (images served from it too)."""
    settings.DUMMYJSON_BASE_URL = httpserver.url_for("").rstrip("/")
    return httpserver


@pytest.fixture
def dummyjson(api):  # pylint: disable=unused-argument
    """A client pointed at the ``api`` server; closed after the test."""
    client = new_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """Serve on 127.0.0.1, so ``localhost`` can play a second, disallowed host."""
    return ("127.0.0.1", 0)
