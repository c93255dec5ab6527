"""Benchmark a sharded sync of a large catalog with 1, 2 and 4 workers against the single-process command.

Run: ``.venv/bin/python -m bench.bench_sharded_sync`` (several minutes at the default
100,000 products; ``--scale 10000`` for a quick look). The mirror serves the catalog with
``--latency-ms`` per response (25 ms by default, a nearby API). Each run starts on a fresh
SQLite database (``DATABASE_URL`` of the environment is ignored), with ``--no-images``:

- ``manage.py sync_products --no-images`` in one process (the baseline);
- ``manage.py sync_sharded --no-images`` with 1, 2 and 4 ``db_worker`` processes running.

It prints each run's wall-clock time, its ratio to the baseline (above 1: faster) and checks
that every run stored the whole catalog.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, exit_on_sigterm, manage, manage_output, site_env, start_mirror, stop

WORKER_COUNTS = (1, 2, 4)
COUNT_PRODUCTS = "from catalog.models import Product; print(Product.objects.count())"


def cli() -> argparse.Namespace:
    """--scale, --latency-ms and --workers."""
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=100_000, help="products in the mirror's catalog (100000)")
    parser.add_argument("--latency-ms", type=int, default=25, help="the mirror's delay per response (25)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=list(WORKER_COUNTS), help="worker counts to try (1 2 4)"
    )
    return parser.parse_args()


def fresh_site(work: Path, name: str) -> dict[str, str]:
    """A migrated, empty database of its own for one run; the environment that uses it."""
    env = site_env(
        work,
        DATABASE_URL=f"sqlite:///{work / name}.sqlite3",
        MEDIA_ROOT=str(work / name / "media"),
        AUDIT_ANCHOR_DIR=str(work / name / "anchors"),
    )
    manage(env, "migrate", "-v0")
    return env


def products_stored(env: dict[str, str]) -> int:
    """How many products the run's database holds."""
    return int(manage_output(env, "shell", "--no-imports", "-c", COUNT_PRODUCTS))


def timed(env: dict[str, str], *args: str) -> float:
    """Seconds a manage.py command takes; it must succeed."""
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def sharded_run(env: dict[str, str], mirror_url: str, workers: int) -> float:
    """Seconds a sharded sync takes with this many worker processes."""
    processes = [
        subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "manage.py", "db_worker", "--queue-name", "sync", "--no-reload", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        return timed(env, "sync_sharded", "--base-url", mirror_url, "--no-images", "--timeout", "3600")
    finally:
        for process in processes:
            stop(process)


def main() -> None:
    """The baseline, then each worker count; a table of times and ratios."""
    options = cli()
    work = Path(tempfile.mkdtemp(prefix="bench-sharded-"))
    mirror, mirror_url = start_mirror("--scale", str(options.scale), "--latency-ms", str(options.latency_ms))
    results: list[tuple[str, float, int]] = []
    try:
        env = fresh_site(work, "single")
        results.append(
            (
                "sync_products (1 process)",
                timed(env, "sync_products", "--base-url", mirror_url, "--no-images"),
                products_stored(env),
            )
        )
        for workers in options.workers:
            env = fresh_site(work, f"sharded-{workers}")
            results.append(
                (f"sync_sharded, {workers} worker(s)", sharded_run(env, mirror_url, workers), products_stored(env))
            )
    finally:
        stop(mirror)
    baseline = results[0][1]
    print(f"{options.scale} products, --no-images, mirror latency {options.latency_ms} ms, SQLite")
    for name, seconds, stored in results:
        print(f"{name:>28}: {seconds:7.1f} s  ratio to sync_products {baseline / seconds:5.2f}  products {stored}")


if __name__ == "__main__":
    main()
