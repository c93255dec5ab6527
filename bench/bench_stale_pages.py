"""Benchmark product pages while the source hangs: p99 of 200 concurrent views of stale products.

Run: ``.venv/bin/python -m bench.bench_stale_pages`` (about a minute). It syncs the mirror's
194 products into a throwaway SQLite database, makes every one older than ``CATALOG_TTL``,
and serves the site with gunicorn (2 workers x 8 threads, DEBUG off) twice:

- with a healthy source (the mirror);
- with a source that accepts connections and never answers.

Each time, 200 clients view stale product pages at once (the refresh queue emptied before
each round), three rounds. Pages never wait on the source, so the two p99s should be close.

Targets: p99 while the source hangs < 2x the p99 with a healthy source; the hanging source
sees 0 connections and the site's audit log 0 requests from the web processes.
"""

import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import benchmark_cli, manage, manage_output, site_env, start_gunicorn, start_mirror, stop

VIEWS = 200
ROUNDS = 3
PRODUCTS = 194
STALE_SETUP = (
    "from datetime import timedelta; from django.utils import timezone; "
    "from catalog.models import Product, ProductRefresh; from django_tasks_db.models import DBTaskResult; "
    "Product.objects.update(last_synced_at=timezone.now() - timedelta(days=2)); "
    "ProductRefresh.objects.all().delete(); DBTaskResult.objects.all().delete()"
)
COUNT_FETCHES = "from audit.models import AuditEvent; print(AuditEvent.objects.filter(kind='fetch').count())"


class HangingSource:
    """Accepts TCP connections and never answers; counts them."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        """Stop listening and drop the connections."""
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def timed_view(session: requests.Session, url: str) -> float:
    """Milliseconds to get one page whole; an error status is a failure."""
    started = time.perf_counter()
    response = session.get(url, timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return (time.perf_counter() - started) * 1000


def p99(samples: list[float]) -> float:
    """The 99th percentile (inclusive method)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def measure(env: dict[str, str], base_url_of_source: str) -> list[float]:
    """Serve the site against this source and time ROUNDS x VIEWS concurrent stale-page views."""
    server, base_url = start_gunicorn(env | {"DUMMYJSON_BASE_URL": base_url_of_source}, workers=2, threads=8)
    samples: list[float] = []
    try:
        urls = [f"{base_url}/products/{1 + i % PRODUCTS}/" for i in range(VIEWS)]
        with ThreadPoolExecutor(max_workers=VIEWS) as pool:
            sessions = [requests.Session() for _ in range(VIEWS)]
            list(pool.map(timed_view, sessions, urls))  # warm up every worker and connection
            for _ in range(ROUNDS):
                manage(env, "shell", "--no-imports", "-c", STALE_SETUP)
                samples += pool.map(timed_view, sessions, urls)
    finally:
        stop(server)
    return samples


def main() -> None:
    """Build the catalog, then measure with a healthy and with a hanging source."""
    benchmark_cli(__doc__)
    work = Path(tempfile.mkdtemp(prefix="bench-stale-"))
    env = site_env(work)
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    mirror, mirror_url = start_mirror()
    hanging = HangingSource()
    try:
        manage(env, "sync_products", "--base-url", mirror_url, "--no-images")
        fetches_before = int(manage_output(env, "shell", "--no-imports", "-c", COUNT_FETCHES))
        healthy = measure(env, mirror_url)
        hung = measure(env, hanging.url)
        web_fetches = int(manage_output(env, "shell", "--no-imports", "-c", COUNT_FETCHES)) - fetches_before
    finally:
        stop(mirror)
        hanging.close()
    print(f"{VIEWS} concurrent views of stale product pages x {ROUNDS} rounds, gunicorn 2 workers x 8 threads")
    for name, samples in (("healthy source", healthy), ("hanging source", hung)):
        print(
            f"{name:>15}: p50 {statistics.median(samples):7.1f} ms, p99 {p99(samples):7.1f} ms, "
            f"max {max(samples):7.1f} ms"
        )
    print(f"p99 hanging / healthy = {p99(hung) / p99(healthy):.2f} (target < 2)")
    print(f"connections the hanging source saw: {len(hanging.accepted)}")
    print(f"requests audited from web processes: {web_fetches}")


if __name__ == "__main__":
    main()
