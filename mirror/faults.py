"""Named, scoped fault injection for the mirror: parsing specs and deciding when each fires.

A fault list is comma-separated specs ``NAME[:VALUE][@SELECTOR]...``, e.g.
``5xx-burst:3,slow:2@images,oversized-image@every=3``.

Faults that refuse a request (checked first, in this order):

- ``5xx-burst[:N=2]``   the first N requests of each distinct request target (path + query) get
                        503, 500, 502, 503, ... then the normal answer, so a retrying client wins.
- ``rate-limit[:N=1]``  the first N requests of each target get 429 with ``Retry-After: 1`` and
                        ``{"message": "request limit exceeded, please wait a few seconds"}``.
- ``throttle[:N=100]``  the real API's limiter: more than N requests in any 10 s window get that
                        429, with Retry-After = seconds until a slot frees (all clients are local).

Faults that damage a normal 200 answer:

- ``slow[:S=10]``       sleep S seconds before sending the status line (beats read timeouts).
- ``trickle[:S=0.5]``   send the body 8 bytes at a time, sleeping S seconds between chunks, so
                        every read succeeds and only a wall-clock deadline stops the download.
- ``truncate[:F=0.5]``  declare the full Content-Length, send only fraction F, close the socket.
- ``bad-json``          (JSON only) 200 with a cut-off JSON body and a matching Content-Length.
- ``oversized-image[:MIB=50]`` (images only) a valid image padded to MIB MiB, streamed.
- ``not-image``         (images only) an HTML page served with the image Content-Type.
- ``wrong-format``      (images only) PNG bytes at .webp/.jpg URLs, JPEG bytes at .png URLs.

Data faults (valid JSON, bad data: see mirror/drift.py): ``short-listing[:N=10]``,
``prices-x100``, ``renamed-field`` (price arrives as cost), ``moved-category[:ID=1]``,
``small-changes`` (an ordinary day: a few prices move by 3 %, the last product is gone).

Selectors narrow where a fault applies (several may be combined; all must match):
``@all`` (default), ``@api`` (JSON endpoints), ``@images`` (``/product-images/...``),
``@ids=3+7+12`` (only ``/products/{id}`` and the images of those products),
``@every=K`` (only products whose id is a multiple of K, same paths as ``ids``).
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RATE_LIMIT_MESSAGE = "request limit exceeded, please wait a few seconds"
THROTTLE_WINDOW_S = 10.0  # the real API allows 100 requests per 10 s per client
BURST_STATUSES = (503, 500, 502)
TRICKLE_CHUNK = 8
MIB = 1024 * 1024
NOT_AN_IMAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Access denied</title></head>"
    b"<body><h1>Access denied</h1><p>This is not an image.</p></body></html>\n"
)

API, IMAGES = "api", "images"
# name -> (default value, kinds it can apply to)
FAULTS: dict[str, tuple[float, frozenset[str]]] = {
    "5xx-burst": (2, frozenset({API, IMAGES})),
    "rate-limit": (1, frozenset({API, IMAGES})),
    "throttle": (100, frozenset({API, IMAGES})),
    "slow": (10.0, frozenset({API, IMAGES})),
    "trickle": (0.5, frozenset({API, IMAGES})),
    "truncate": (0.5, frozenset({API, IMAGES})),
    "bad-json": (0, frozenset({API})),
    "oversized-image": (50, frozenset({IMAGES})),
    "not-image": (0, frozenset({IMAGES})),
    "wrong-format": (0, frozenset({IMAGES})),
    # Data faults (mirror/drift.py): valid JSON with bad data.
    "short-listing": (10, frozenset({API})),
    "prices-x100": (0, frozenset({API})),
    "renamed-field": (0, frozenset({API})),
    "moved-category": (1, frozenset({API})),
    "small-changes": (0, frozenset({API})),
}


@dataclass(frozen=True)
class Fault:
    """One parsed fault spec."""

    name: str
    value: float
    kinds: frozenset[str]
    ids: frozenset[int] | None = None
    every: int | None = None

    def applies(self, kind: str, product_id: int | None) -> bool:
        """Whether this fault covers a request of `kind` about product `product_id`."""
        if kind not in self.kinds:
            return False
        if self.ids is not None and product_id not in self.ids:
            return False
        return self.every is None or (product_id is not None and not product_id % self.every)


# What set_faults() and the constructors accept: "a,b:1", a Fault, or a sequence of either.
FaultSpecs = str | Fault | Sequence[str | Fault] | None


def parse_fault(spec: str) -> Fault:
    """Parse ``NAME[:VALUE][@SELECTOR]...``; raise ValueError with a readable message."""
    head, *selectors = spec.strip().split("@")
    name, _, raw_value = head.partition(":")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    default, kinds = FAULTS[name]
    try:
        value = float(raw_value) if raw_value else default
    except ValueError:
        raise ValueError(f"fault {name!r}: value {raw_value!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"fault {name!r}: value must be a finite number >= 0")
    ids: frozenset[int] | None = None
    every: int | None = None
    for selector in selectors:
        key, _, argument = selector.partition("=")
        if key in (API, IMAGES):
            kinds = kinds & {key}
        elif key == "ids" and all(part.isdigit() for part in argument.split("+")):
            ids = frozenset(int(part) for part in argument.split("+"))
        elif key == "every" and argument.isdigit() and int(argument) > 0:
            every = int(argument)
        elif key != "all":
            raise ValueError(f"fault {name!r}: bad selector {selector!r}")
    if not kinds:
        raise ValueError(f"fault {name!r} cannot apply to {', '.join(selectors)}")
    return Fault(name, value, kinds, ids, every)


def parse_faults(specs: FaultSpecs) -> tuple[Fault, ...]:
    """Parse a comma-separated string, or a sequence of spec strings / Fault objects."""
    if not specs:
        return ()
    if isinstance(specs, (str, Fault)):
        specs = [specs]
    parsed: list[Fault] = []
    for item in specs:
        if isinstance(item, Fault):
            parsed.append(item)
        else:
            parsed.extend(parse_fault(part) for part in item.split(",") if part.strip())
    return tuple(parsed)


class FaultPlan:
    """Active faults plus the per-target counters that make bursts and limits stateful."""

    def __init__(self, specs: FaultSpecs = (), clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = parse_faults(specs)
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: collections.Counter[tuple[str, str]] = collections.Counter()
        self._recent: collections.deque[float] = collections.deque()

    def find(self, name: str, kind: str, product_id: int | None) -> Fault | None:
        """The first active fault called `name` covering this request, if any."""
        return next((fault for fault in self.faults if fault.name == name and fault.applies(kind, product_id)), None)

    def refusal(self, kind: str, target: str, product_id: int | None) -> tuple[int, dict, dict[str, str]] | None:
        """(status, JSON body, extra headers) if a refusing fault answers this request."""
        with self._lock:
            burst = self.find("5xx-burst", kind, product_id)
            if burst:
                seen = self._bump("5xx-burst", target)
                if seen < burst.value:
                    status = BURST_STATUSES[seen % len(BURST_STATUSES)]
                    return status, {"message": f"injected {status} ({seen + 1}/{burst.value:g})"}, {}
            limit = self.find("rate-limit", kind, product_id)
            if limit and self._bump("rate-limit", target) < limit.value:
                return 429, {"message": RATE_LIMIT_MESSAGE}, {"Retry-After": "1"}
            throttle = self.find("throttle", kind, product_id)
            if throttle:
                now = self._clock()
                while self._recent and now - self._recent[0] >= THROTTLE_WINDOW_S:
                    self._recent.popleft()
                if len(self._recent) >= throttle.value:
                    wait = math.ceil(self._recent[0] + THROTTLE_WINDOW_S - now)
                    return 429, {"message": RATE_LIMIT_MESSAGE}, {"Retry-After": str(max(1, wait))}
                self._recent.append(now)
        return None

    def _bump(self, name: str, target: str) -> int:
        """Count one request for (fault, target); return how many came before it."""
        key = (name, target)
        self._seen[key] += 1
        return self._seen[key] - 1
