"""Benchmark sync_products against the mirror at 25 ms latency; prints ratios measured in one run.

Run: ``.venv/bin/python -m bench.bench_sync`` (about a minute; add ``--skip-scale`` to skip
the 10,000-product memory run). Everything runs on loopback, against a mirror started
as a separate process with its rate limit off (the course baseline makes 194 API calls;
``bench_rate_limit`` measures the limit), with a throwaway SQLite database and media folder.

It prints:
- the course's baseline (``get_product`` per id, then each image one after another)
  against a full sync: target at least 8x faster;
- the full sync against the lower bound ``(listing pages + images / concurrency) x latency``:
  target within 1.5x;
- a re-sync with no upstream change against the first sync: target at most 0.1x, with
  only listing requests;
- peak RSS of a 10,000-product sync (``--scale 10000``, ``--no-images``): target under 300 MB.
"""

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import ROOT, exit_on_sigterm, start_mirror, stop

LATENCY_MS = 25
CONCURRENCY = 8
PAGE_SIZE = 100
SCALE = 10_000
TIMEOUT = (3.05, 10)


def course_baseline(base_url: str, folder: Path) -> tuple[float, int]:
    """The course's way, written plainly: each product, then each image, one after another."""
    session = requests.Session()
    started, requests_made = time.perf_counter(), 0
    total = session.get(f"{base_url}/products", params={"limit": 1}, timeout=TIMEOUT).json()["total"]
    for product_id in range(1, total + 1):
        product = session.get(f"{base_url}/products/{product_id}", timeout=TIMEOUT).json()
        requests_made += 1
        for position, url in enumerate([*product["images"], product["thumbnail"]], start=1):
            response = session.get(url, timeout=TIMEOUT)
            requests_made += 1
            (folder / f"{product_id}-{position}").write_bytes(response.content)
    return time.perf_counter() - started, requests_made


def warm_images(base_url: str) -> int:
    """Fetch every image once so the mirror's render cache is warm for every measurement."""
    session = requests.Session()
    products = session.get(f"{base_url}/products", params={"limit": 0}, timeout=TIMEOUT).json()["products"]
    urls = [url for product in products for url in [*product["images"], product["thumbnail"]]]
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(lambda url: session.get(url, timeout=30).content, urls))
    return len(urls)


def measure_sync(base_url: str) -> tuple[float, object]:
    """One in-process sync; its wall time and summary."""
    from catalog.sync import product_sync  # pylint: disable=import-outside-toplevel
    from catalog.sync_summary import SyncOptions  # pylint: disable=import-outside-toplevel

    started = time.perf_counter()
    summary = product_sync(options=SyncOptions(base_url=base_url, concurrency=CONCURRENCY, page_size=PAGE_SIZE))
    return time.perf_counter() - started, summary


def scale_rss(work: Path) -> tuple[int, float]:
    """Peak RSS in MB of a subprocess syncing 10,000 products, and its wall time."""
    mirror, base_url = start_mirror("--scale", str(SCALE), "--rate-limit", "0")
    try:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'scale.sqlite3'}", "MEDIA_ROOT": str(work / "scale")}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "sync_products", "--base-url", base_url, "--no-images"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - started
    finally:
        stop(mirror)
    # ru_maxrss of children is in KiB on Linux: the largest child, the sync (or migrate).
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, elapsed


def setup_django(work: Path) -> None:
    """Django on a throwaway SQLite database and media folder, migrated."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        MEDIA_ROOT=str(work / "media"),
        LOG_LEVEL="ERROR",
    )
    sys.path.insert(0, str(ROOT))
    import django  # pylint: disable=import-outside-toplevel
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    django.setup()
    call_command("migrate", verbosity=0)


def measure_against_latency(work: Path) -> None:
    """Baseline, first sync and re-sync against one mirror with latency; print the ratios."""
    mirror, base_url = start_mirror("--latency-ms", str(LATENCY_MS), "--rate-limit", "0")
    try:
        images = warm_images(base_url)
        (work / "baseline").mkdir()
        baseline_s, baseline_requests = course_baseline(base_url, work / "baseline")
        first_s, first = measure_sync(base_url)
        second_s, second = measure_sync(base_url)
    finally:
        stop(mirror)
    bound_s = (math.ceil(first.products.created / PAGE_SIZE) + images / CONCURRENCY) * LATENCY_MS / 1000
    print(
        f"mirror latency {LATENCY_MS} ms, {first.products.created} products, {images} images, concurrency {CONCURRENCY}"
    )
    print(f"course baseline: {baseline_s:.2f} s for {baseline_requests} requests")
    print(f"full sync:       {first_s:.2f} s ({first.images.downloaded} images downloaded, exit {first.exit_code})")
    print(f"  speed-up over baseline: {baseline_s / first_s:.1f}x (target >= 8x)")
    print(f"  lower bound {bound_s:.2f} s; sync / bound = {first_s / bound_s:.2f} (target <= 1.5)")
    print(f"re-sync:         {second_s:.3f} s ({second.images.downloaded} images downloaded)")
    print(f"  re-sync / first sync = {second_s / first_s:.3f} (target <= 0.1)")


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scale", action="store_true", help="skip the 10,000-product memory run")
    args = parser.parse_args()
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    setup_django(work)
    measure_against_latency(work)
    if not args.skip_scale:
        rss_mb, scale_s = scale_rss(work)
        print(f"{SCALE} products (no images): {scale_s:.1f} s, peak RSS {rss_mb} MB (target < 300 MB)")


if __name__ == "__main__":
    main()
