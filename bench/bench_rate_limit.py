"""Benchmark the client-side rate limit against the default, rate-limited mirror; prints one run's figures.

Run: ``.venv/bin/python -m bench.bench_rate_limit`` (about half a minute). The mirror runs as a
separate process with its defaults, so the real API's limit applies: 100 API requests per
10 s per client, images not counted. It prints, for a full sync (images included):

- with the default page size (100): 429 responses drawn (target 0);
- with one product per page, so the listing alone takes 194 API requests: 429 responses
  (target 0) and the time against the least the limit forces, ``ceil(n / 100 - 1) x 10 s``
  for n API requests (target: within that plus 5 s of work);
- the same one-per-page sync with the client limit off (``DUMMYJSON_RATE_LIMIT=0``): the
  429 responses the server then sends, for comparison.
"""

import math
import tempfile
import time
from pathlib import Path

from bench.bench_sync import setup_django
from bench.common import benchmark_cli, start_mirror, stop

CONCURRENCY = 8
WINDOW_S = 10
LIMIT = 100


def full_sync(base_url: str, *, page_size: int, rate_limit: str) -> tuple[float, int, int, int]:
    """One full sync: its wall time, API requests, 429 responses and exit code."""
    from django.test import override_settings  # pylint: disable=import-outside-toplevel

    from audit.models import AuditEvent  # pylint: disable=import-outside-toplevel
    from catalog.sync import product_sync  # pylint: disable=import-outside-toplevel
    from catalog.sync_summary import SyncOptions  # pylint: disable=import-outside-toplevel

    first_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    options = SyncOptions(base_url=base_url, concurrency=CONCURRENCY, page_size=page_size)
    with override_settings(DUMMYJSON_RATE_LIMIT=rate_limit, DUMMYJSON_RETRIES=3):
        started = time.perf_counter()
        summary = product_sync(options=options)
        elapsed = time.perf_counter() - started
    fetches = AuditEvent.objects.filter(seq__gt=first_seq, kind="fetch")
    return elapsed, fetches.count(), fetches.filter(status_code=429).count(), summary.exit_code


def report(label: str, run: tuple[float, int, int, int]) -> None:
    """One line per sync: time, API requests, 429s, exit code."""
    elapsed, api_requests, refused, exit_code = run
    print(f"{label:<27}{elapsed:.2f} s, {api_requests} API requests, {refused} x 429, exit {exit_code}")


def main() -> None:
    """Three syncs against one default mirror (a fresh window before each); print the figures."""
    benchmark_cli(__doc__)
    work = Path(tempfile.mkdtemp(prefix="bench-rate-limit-"))
    setup_django(work)
    mirror, base_url = start_mirror()
    try:
        runs = []
        for page_size, rate_limit in ((100, f"{LIMIT}/{WINDOW_S}"), (1, f"{LIMIT}/{WINDOW_S}"), (1, "0")):
            time.sleep(WINDOW_S)  # each run starts with the server's window to itself
            runs.append(full_sync(base_url, page_size=page_size, rate_limit=rate_limit))
    finally:
        stop(mirror)
    print(f"mirror: default limit {LIMIT} API requests per {WINDOW_S} s per client; client limit {LIMIT}/{WINDOW_S}")
    report("full sync, page size 100:", runs[0])
    report("full sync, page size 1:", runs[1])
    forced_s = max(math.ceil(runs[1][1] / LIMIT) - 1, 0) * WINDOW_S
    print(f"  least the limit forces: {forced_s} s; sync - forced = {runs[1][0] - forced_s:.2f} s (target <= 5 s)")
    report("same, client limit off:", runs[2])


if __name__ == "__main__":
    main()
