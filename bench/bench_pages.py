"""Benchmark the catalog pages against the bare page of the site, under gunicorn, all in one run.

Run: ``.venv/bin/python -m bench.bench_pages --size 10000 --database sqlite`` (or ``--database
postgres``, on ``--database-url``, default the local server's ``bench_pages_<size>``; needs
``wrk``: ``apt-get install wrk``). As a deployer runs the site: DEBUG off, static files
collected, gunicorn with 2 workers; each page is loaded by ``wrk -t2 -c4`` for 8 s, one page
after the other, after one warm-up pass over all of them.

The catalog is the mirror's generated one, loaded through the sync's write path
(``bench.load_catalog``), so a 100,000-product catalog takes minutes, not a sync's hours of
HTTP; a PostgreSQL database that already holds it is reused (``--drop`` removes it afterwards).

The bare page is the admin login form: a page of the site that reads no catalog data.
Targets, against it: the list with search + filter + sort and a deep page, p50 < 2x and
p99 < 4x; the product page, p50 < 2x.
"""

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, LoadResult, exit_on_sigterm, manage, run_wrk, site_env, start_gunicorn, stop

PAGE_SIZE = 24
CONNECTIONS = 4
THREADS = 2
SECONDS = 8
WARM_UP_SECONDS = 2
WORKERS = 2
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Target:
    """A page to load and the ratios to the bare page it must stay under (None: no target)."""

    name: str
    path: str
    max_p50: float | None
    max_p99: float | None


def targets(size: int) -> list[Target]:
    """The bare page first, then the pages the issue names; the deep page is the one before the last."""
    deep_page = max(size // PAGE_SIZE - 1, 1)
    return [
        Target("bare page (admin login)", "/admin/login/", None, None),
        Target("search+filter+sort", "/products/?q=watch&category=mens-watches&sort=-price&page=2", 2, 4),
        Target(f"deep page {deep_page}", f"/products/?sort=-price&page={deep_page}", 2, 4),
        Target("first page", "/products/", 2, 4),
        Target("product page", f"/products/{size // 2}/", 2, None),
    ]


def parse_args() -> argparse.Namespace:
    """The command line; ``--help`` prints this module's docstring."""
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000, help="products in the catalog (default 10000)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL database to use (default: bench_pages_<size> locally)")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database afterwards")
    return parser.parse_args()


def database_url(args: argparse.Namespace, work: Path) -> str:
    """Where the catalog lives: a throwaway SQLite file, or a PostgreSQL database (created when missing)."""
    if args.database == "sqlite":
        return f"sqlite:///{work / 'site.sqlite3'}"
    if args.database_url:
        return args.database_url
    name = f"bench_pages_{args.size}"
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=False, capture_output=True)
    return f"{POSTGRES_SERVER}/{name}"


def ratio_line(target: Target, result: LoadResult, bare: LoadResult) -> str:
    """One page's figures and its ratios to the bare page, marked against the targets."""
    p50, p99 = result.p50_ms / bare.p50_ms, result.p99_ms / bare.p99_ms

    def verdict(ratio: float, limit: float | None) -> str:
        return "" if limit is None else (" ok" if ratio < limit else f" OVER {limit}x")

    return (
        f"{target.name:>26}: {result.requests_per_s:7.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
        f"p99 {result.p99_ms:7.1f} ms  errors {result.errors}  |  "
        f"p50 {p50:5.2f}x{verdict(p50, target.max_p50)}  p99 {p99:5.2f}x{verdict(p99, target.max_p99)}"
    )


def main() -> None:
    """Build or reuse the catalog, serve it, load every page and print the figures."""
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    url = database_url(args, work)
    env = site_env(work, DATABASE_URL=url)
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    subprocess.run(
        [sys.executable, "-m", "bench.load_catalog", "--size", str(args.size)], cwd=ROOT, env=env, check=True
    )
    if args.database == "postgres":
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
    pages = targets(args.size)
    server, base_url = start_gunicorn(env, workers=WORKERS)
    try:
        urls = [base_url + page.path for page in pages]
        run_wrk(urls, connections=CONNECTIONS, seconds=WARM_UP_SECONDS, threads=THREADS)
        results = [run_wrk([u], connections=CONNECTIONS, seconds=SECONDS, threads=THREADS) for u in urls]
    finally:
        stop(server)
        if args.drop and args.database == "postgres":
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", url.rsplit("/", 1)[-1]], check=False)
    print(
        f"{args.size} products on {args.database}, DEBUG off, gunicorn {WORKERS} workers, "
        f"wrk -t{THREADS} -c{CONNECTIONS} {SECONDS} s per page, one run; ratios against the bare page"
    )
    for page, result in zip(pages, results, strict=True):
        print(ratio_line(page, result, results[0]))


if __name__ == "__main__":
    main()
