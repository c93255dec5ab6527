"""Load test: 50 concurrent clients for 30 s on list, search and detail pages while a sync runs.

Run: ``.venv/bin/python -m bench.bench_load`` (about a minute; needs ``wrk``). Loopback only,
bounded in time: a mirror (25 ms latency) feeds a full sync with images that runs during the
load; gunicorn (4 workers, DEBUG off) serves a throwaway SQLite database in WAL mode.
Target: zero errors. Prints throughput and p50/p99 latency.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, benchmark_cli, manage, run_wrk, site_env, start_gunicorn, start_mirror, stop

CONNECTIONS = 50
SECONDS = 30


def main() -> None:
    """Seed the catalog, start a sync and the load together, print the figures."""
    benchmark_cli(__doc__)
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    mirror, mirror_url = start_mirror("--latency-ms", "25", "--rate-limit", "0")
    env = site_env(work, DUMMYJSON_BASE_URL=mirror_url)
    try:
        manage(env, "migrate", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "sync_products", "--base-url", mirror_url, "--limit", "100", "--no-images")
        server, base_url = start_gunicorn(env)
        try:
            sync = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "manage.py", "sync_products", "--base-url", mirror_url, "--refresh-images"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            paths = ["/products/", "/products/?q=leather&sort=price", "/products/7/"]
            urls = [f"{base_url}{path}" for path in paths]
            result = run_wrk(urls, connections=CONNECTIONS, seconds=SECONDS)
            sync_exit = sync.wait(timeout=300)
        finally:
            stop(server)
    finally:
        stop(mirror)
    print(f"wrk {CONNECTIONS} connections x {SECONDS} s over list, search and detail; a full sync ran meanwhile")
    print(
        f"  {result.requests} requests, {result.requests_per_s:.1f} req/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
    )
    print(f"  errors: {result.errors} (target 0); sync exit code {sync_exit}")


if __name__ == "__main__":
    main()
