"""A client-side rate limit, so the source's own limit (100 requests per 10 s for DummyJSON) is never hit.

A request holds a slot from the moment it starts until ``per_seconds`` after it
finishes: counting from the finish, not the start, keeps the server's count (taken
when a request arrives, somewhere in between) within the limit whatever the latency.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RequestRateLimiter:
    """At most ``max_requests`` requests in flight or finished within the last ``per_seconds``; thread-safe."""

    def __init__(self, *, max_requests: int, per_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_requests < 1 or per_seconds <= 0:
            raise ValueError("a rate limit needs at least 1 request per a positive number of seconds")
        self.max_requests, self.per_seconds = max_requests, per_seconds
        self._clock = clock
        self._in_flight = 0
        self._finished: deque[float] = deque()  # finish times, oldest first
        self._condition = threading.Condition()
        self.waited_s = 0.0  # total time callers spent waiting, for progress and benchmarks

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait until a request may start, then hold its slot for the block."""
        with self._condition:
            started_waiting = self._clock()
            while (wait := self._wait_needed()) is not None:
                self._condition.wait(timeout=wait)
            self.waited_s += self._clock() - started_waiting
            self._in_flight += 1
        try:
            yield
        finally:
            with self._condition:
                self._in_flight -= 1
                self._finished.append(self._clock())
                self._condition.notify()

    def _wait_needed(self) -> float | None:
        """Seconds until a slot frees (None when one is free now); a request in flight frees none."""
        now = self._clock()
        while self._finished and now - self._finished[0] >= self.per_seconds:
            self._finished.popleft()
        if self._in_flight + len(self._finished) < self.max_requests:
            return None
        if not self._finished:
            return self.per_seconds  # every slot is in flight: woken when one finishes
        return self._finished[0] + self.per_seconds - now
