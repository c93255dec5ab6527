"""The real API's rate limit: 100 requests per 10 s per client address, in fixed windows.

DummyJSON uses express-rate-limit's memory store: every client's count starts again
when the shared window turns over. Only API routes count; images come from a CDN
upstream, which this limit does not cover.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

RATE_LIMIT_MESSAGE = "request limit exceeded, please wait a few seconds"
DEFAULT_MAX_REQUESTS = 100
DEFAULT_WINDOW_S = 10.0


class FixedWindowLimiter:
    """Counts requests per client in fixed windows; ``hit`` says how long to wait when one is over."""

    def __init__(
        self,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        window_s: float = DEFAULT_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_requests < 0 or window_s <= 0:
            raise ValueError("the rate limit needs max_requests >= 0 (0: off) and a positive window")
        self.max_requests, self.window_s, self._clock = max_requests, window_s, clock
        self._window_start = clock()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether any limit applies (``max_requests`` 0 turns it off)."""
        return self.max_requests > 0

    def hit(self, client: str) -> int | None:
        """Count one request from ``client``; None when allowed, else the seconds until its window turns."""
        if not self.enabled:
            return None
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.window_s:
                windows_passed = math.floor((now - self._window_start) / self.window_s)
                self._window_start += windows_passed * self.window_s
                self._counts.clear()
            self._counts[client] = self._counts.get(client, 0) + 1
            if self._counts[client] <= self.max_requests:
                return None
            return max(1, math.ceil(self._window_start + self.window_s - now))

    def reset(self) -> None:
        """Forget every count (a new window starts now)."""
        with self._lock:
            self._window_start = self._clock()
            self._counts.clear()
