"""A wall-clock deadline over one whole HTTP exchange, headers included: a watchdog shuts the socket.

Socket timeouts bound each read, and a source that trickles one byte per second resets
them forever: the status line and headers alone could take minutes. Here a timer runs
beside the exchange; when it fires, it shuts the connection's socket down, which ends
any read blocked on it at once. The HTTP client asks ``expired`` afterwards to call the
attempt a timeout (a shut socket can look like a short body ending early).

Connections learn which exchange they belong to through a thread-local, set by
``ExchangeDeadline`` for the thread that runs the request; the adapter below makes
requests' connection pools build such connections.
"""

import socket
import threading
from contextlib import suppress
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class ExchangeDeadline:
    """``with ExchangeDeadline(seconds) as deadline:`` around one request and the reading of its body."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._finished = False
        self._connections: list[HTTPConnection] = []
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def __enter__(self) -> "ExchangeDeadline":
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._timer.cancel()
        with self._lock:
            # From here on a late timer must not touch a connection that went back to the pool.
            self._finished = True
        _current.deadline = None

    def watch(self, connection: HTTPConnection) -> None:
        """Put the connection under this deadline (shut at once if it has already passed)."""
        with self._lock:
            self._connections.append(connection)
            if self.expired:
                shut(connection)

    def expire(self) -> None:
        """The timer fired: shut every watched socket, so blocked reads end now."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            for connection in self._connections:
                shut(connection)


def shut(connection: HTTPConnection) -> None:
    """Shut the connection's socket down both ways; a socket already gone is fine."""
    sock = connection.sock
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def watch_current_exchange(connection: HTTPConnection) -> None:
    """Called by a connection about to wait for a response: join the running exchange's deadline, if any."""
    deadline: ExchangeDeadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


class WatchedHTTPConnection(HTTPConnection):
    """An HTTP connection that puts itself under the current exchange's deadline before reading a response."""

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:  # pylint: disable=signature-differs
        watch_current_exchange(self)
        return super().getresponse(*args, **kwargs)


class WatchedHTTPSConnection(HTTPSConnection):
    """The HTTPS counterpart of ``WatchedHTTPConnection``."""

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:  # pylint: disable=signature-differs
        watch_current_exchange(self)
        return super().getresponse(*args, **kwargs)  # pylint: disable=no-member  # inherited from HTTPConnection


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    """A pool of watched HTTP connections."""

    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    """A pool of watched HTTPS connections."""

    ConnectionCls = WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose pools build watched connections (direct connections; proxies are not watched)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # A new dict: the pool manager's default is urllib3's module-level one, shared by everyone.
        self.poolmanager.pool_classes_by_scheme = {
            "http": WatchedHTTPConnectionPool,
            "https": WatchedHTTPSConnectionPool,
        }
