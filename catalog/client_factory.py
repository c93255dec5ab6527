"""The one way to get a DummyJSON client: ``shared_client()``, built from settings and reused.

One client per distinct configuration, kept for the life of the process, so page
views, admin actions and syncs share pooled connections (and, with them, the
client-side rate limit) instead of opening a new session each time.
"""

import threading

from . import conf
from .attempts import TransportSettings
from .dummyjson import DummyJSONClient
from .transport import Transport
from .url_policy import checked_base_url

_clients: dict[tuple[object, ...], DummyJSONClient] = {}
_clients_lock = threading.Lock()


def transport_settings() -> TransportSettings:
    """The transport's limits as the settings give them now."""
    return TransportSettings(
        timeout=conf.timeout(),
        retries=conf.retries(),
        backoff_factor=conf.backoff_factor(),
        deadline=conf.deadline(),
        rate_limit=conf.rate_limit(),
    )


def new_client(*, base_url: str | None = None, max_parallel_requests: int | None = None) -> DummyJSONClient:
    """A client of its own, for a test or a script that must not share; prefer ``shared_client``.

    Raises ValueError for a base URL with no http(s) scheme or no host.
    """
    root = checked_base_url(base_url or conf.base_url())
    return DummyJSONClient(
        Transport(base_url=root, limits=transport_settings(), max_parallel_requests=max_parallel_requests)
    )


def shared_client(*, base_url: str | None = None, max_parallel_requests: int | None = None) -> DummyJSONClient:
    """The process's client for this base URL and the current settings (a new one once tests change them)."""
    root = checked_base_url(base_url or conf.base_url())
    key = (root, transport_settings(), max_parallel_requests)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = new_client(base_url=root, max_parallel_requests=max_parallel_requests)
        return _clients[key]
