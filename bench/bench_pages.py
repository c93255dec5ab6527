"""Benchmark the list page at 10,000 products under gunicorn: filtered against bare, one run.

Run: ``.venv/bin/python -m bench.bench_pages`` (about two minutes; needs ``wrk``:
``apt-get install wrk``). It syncs 10,000 products from the mirror (``--scale 10000``,
no images) into a throwaway SQLite database, serves the site with gunicorn (4 workers,
DEBUG off), and loads two pages with the same wrk settings, one after the other:

- the bare list page ``/products/``;
- the list page with a search, a filter and a sort.

Target: the filtered page takes under 3x the time of the bare page (p50).
"""

import tempfile
from pathlib import Path

from bench.common import benchmark_cli, manage, run_wrk, site_env, start_gunicorn, start_mirror, stop

SCALE = 10_000
CONNECTIONS = 16
SECONDS = 15


def main() -> None:
    """Build the catalog, serve it, load both pages and print the figures."""
    benchmark_cli(__doc__)
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = site_env(work)
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    mirror, mirror_url = start_mirror("--scale", str(SCALE), "--rate-limit", "0")
    try:
        manage(env, "sync_products", "--base-url", mirror_url, "--no-images")
    finally:
        stop(mirror)
    server, base_url = start_gunicorn(env)
    try:
        bare = f"{base_url}/products/"
        filtered = f"{base_url}/products/?q=steel&category=smartphones&min_price=10&sort=-rating"
        run_wrk([bare, filtered], connections=CONNECTIONS, seconds=3)  # warm up every worker
        bare_result = run_wrk([bare], connections=CONNECTIONS, seconds=SECONDS)
        filtered_result = run_wrk([filtered], connections=CONNECTIONS, seconds=SECONDS)
    finally:
        stop(server)
    print(f"{SCALE} products, gunicorn 4 workers, wrk {CONNECTIONS} connections x {SECONDS} s per page")
    for name, result in (("bare list", bare_result), ("search+filter+sort", filtered_result)):
        print(
            f"{name:>20}: {result.requests_per_s:8.1f} req/s, p50 {result.p50_ms:6.1f} ms, "
            f"p99 {result.p99_ms:6.1f} ms, errors {result.errors}"
        )
    print(f"filtered / bare (p50) = {filtered_result.p50_ms / bare_result.p50_ms:.2f} (target < 3)")


if __name__ == "__main__":
    main()
