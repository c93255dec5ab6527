"""Benchmark the audit admin changelist on 1,000 against 1,000,000 events; prints the ratios.

Run: ``.venv/bin/python bench/bench_audit_admin.py`` (a few minutes on 2 cores). Options:
``--sizes 1000,100000`` for a quicker run, ``--backends sqlite`` to skip PostgreSQL,
``--postgres-url URL`` for another server (default ``$BENCH_POSTGRES_URL``, else the
local ``postgres://postgres@127.0.0.1:5432/test``; skipped when it is not reachable).

Each size runs in a child process with a database of its own: a temporary SQLite file,
or a scratch PostgreSQL database ``audit_bench`` that is dropped afterwards. The child
migrates, bulk-inserts a valid hash chain (hashes computed with ``audit.chain.event_hash``,
rows written with executemany on SQLite and COPY on PostgreSQL, bypassing ``record_event``
for speed), runs ANALYZE as a production database would have, logs in a superuser with
Django's test client and times each view (``--repeat`` requests after
one warm-up). The parent prints the best and the median per view and size, the SQL query
count, and the large/small ratio of the bests (the best run is the one least disturbed by
other work on a shared machine, as ``timeit`` reports): the target is under 2x for every
changelist view; the dashboard is shown for information. Every child is killed after
``--child-timeout`` seconds.
"""

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"
SCRATCH_DATABASE = "audit_bench"
SPAN = timedelta(days=30)
EVENTS_PER_RUN = 500
BATCH_SIZE = 10_000
TARGET_RATIO = 2.0
PLANTED = 60
RARE_PRODUCT = 9999


# --- the child: one database, one size -------------------------------------------------


def _fetch(rng: random.Random, fields: dict) -> None:
    roll = rng.random()
    status, outcome = (200, "ok")
    if roll < 0.03:
        status, outcome = (None, "timeout")
    elif roll < 0.05:
        status, outcome = (rng.choice((500, 502, 503)), "http_error")
    elif roll < 0.07:
        status, outcome = (404, "http_error")
    elif roll < 0.10:
        status, outcome = (304, "not_modified")
    product_id = rng.randint(1, 194)
    listing = rng.random() < 0.3
    url = f"https://dummyjson.com/products?limit=30&skip={rng.randint(0, 6) * 30}" if listing else ""
    fields.update(
        kind="fetch",
        outcome=outcome,
        method="GET",
        url=url or f"https://dummyjson.com/products/{product_id}",
        status_code=status,
        duration_ms=round(rng.lognormvariate(4, 0.6), 3),
        bytes=rng.randint(500, 60_000) if status else None,
        product_id=None if listing else product_id,
    )


def _download(rng: random.Random, fields: dict) -> None:
    product_id = rng.randint(1, 194)
    fields.update(
        kind="download",
        outcome="ok",
        method="GET",
        url=f"https://cdn.dummyjson.com/product-images/{product_id}/{rng.randint(1, 4)}.webp",
        status_code=200,
        duration_ms=round(rng.lognormvariate(5, 0.5), 3),
        bytes=rng.randint(10_000, 400_000),
        product_id=product_id,
    )


def _other(rng: random.Random, fields: dict) -> None:
    roll = rng.random()
    if roll < 0.7:
        fields.update(
            kind="validation",
            outcome="invalid",
            product_id=rng.randint(1, 194),
            message="price: must not be negative",
            details={"rule": "price", "payload_sha256": f"{rng.getrandbits(256):064x}"},
        )
    elif roll < 0.85:
        products = {"created": rng.randint(0, 5), "updated": rng.randint(0, 20), "unchanged": 170, "unpublished": 1}
        fields.update(
            kind="sync",
            outcome=rng.choice(("ok", "ok", "ok", "error")),
            duration_ms=rng.uniform(5_000, 60_000),
            details={"status": "complete", "products": products, "failures": [], "duration_s": 12.5},
        )
    else:
        counts = {"passed": rng.randint(200, 300), "failed": rng.randint(0, 2)}
        fields.update(
            kind="test_run",
            outcome="ok" if not counts["failed"] else "error",
            details={"status": "passed" if not counts["failed"] else "failed", "counts": counts},
        )


# The writer chains of the generated log.
BENCH_CHAINS = ("a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2", "c3c3c3c3c3c3c3c3", "d4d4d4d4d4d4d4d4")


def _blank_event(seq: int, created_at: datetime, run_id: str, chain: str, previous_hash: str) -> dict:
    return {
        "seq": seq,
        "chain": chain,
        "created_at": created_at,
        "method": "",
        "url": "",
        "status_code": None,
        "duration_ms": None,
        "bytes": None,
        "sha256": "",
        "attempt": 1,
        "run_id": run_id,
        "product_id": None,
        "actor": "command:sync_products",
        "message": "",
        "details": {},
        "prev_hash": previous_hash,
    }


def _rare(fields: dict, number: int) -> None:
    # The same PLANTED events at every size: rare filters fill a whole page on 1,000 events
    # too, so both sizes render the same number of rows and only the database work differs.
    fields.update(
        kind="fetch",
        outcome="http_error",
        method="GET",
        url=f"https://dummyjson.com/rare/{number}",
        status_code=500,
        duration_ms=100.0,
        product_id=RARE_PRODUCT,
    )


def _stored_row(fields: dict) -> tuple:
    """The event in export (column) order, its details as the writer stores them: the canonical text hashed."""
    from audit.chain import canonical_json  # pylint: disable=import-outside-toplevel
    from audit.manifest import EXPORT_FIELDS  # pylint: disable=import-outside-toplevel

    return tuple(canonical_json(fields[name]) if name == "details" else fields[name] for name in EXPORT_FIELDS)


def generate_rows(size: int, now: datetime, seed: int = 42):
    """``size`` events spread over the last 30 days, as tuples in export (column) order.

    Four writers' chains take turns, as four processes appending side by side would.
    """
    from audit.chain import event_hash  # pylint: disable=import-outside-toplevel
    from audit.models import GENESIS_HASH  # pylint: disable=import-outside-toplevel

    rng = random.Random(seed)
    start, step = now - SPAN, SPAN / size
    heads, run_id = dict.fromkeys(BENCH_CHAINS, GENESIS_HASH), ""
    for seq in range(1, size + 1):
        if seq % EVENTS_PER_RUN == 1:
            run_id = f"{rng.getrandbits(128):032x}"
        chain = BENCH_CHAINS[seq % len(BENCH_CHAINS)]
        fields = _blank_event(seq, start + step * seq, run_id, chain, heads[chain])
        if seq % (size // PLANTED) == 0:
            _rare(fields, seq)
        else:
            roll = rng.random()
            (_fetch if roll < 0.7 else _download if roll < 0.9 else _other)(rng, fields)
        fields["hash"] = heads[chain] = event_hash(fields)
        yield _stored_row(fields)


def _insert_sqlite(raw_cursor, statement: str, rows) -> None:
    # Django stores SQLite times as naive UTC text.
    batch = []
    for row in rows:
        moment = row[1].astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        batch.append((row[0], moment, *row[2:]))
        if len(batch) == BATCH_SIZE:
            raw_cursor.executemany(statement, batch)
            batch.clear()
    raw_cursor.executemany(statement, batch)


def fill(size: int, now: datetime) -> float:
    """Insert the events (COPY on PostgreSQL, executemany batches on SQLite); return the seconds it took."""
    from django.db import connection, transaction  # pylint: disable=import-outside-toplevel

    from audit.manifest import EXPORT_FIELDS  # pylint: disable=import-outside-toplevel

    started = time.monotonic()
    rows = generate_rows(size, now)
    columns = ", ".join(EXPORT_FIELDS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in EXPORT_FIELDS)
            _insert_sqlite(cursor.cursor, f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})", rows)
        cursor.execute("ANALYZE")
    return time.monotonic() - started


def scenarios(now: datetime) -> dict[str, str]:
    """The changelist views timed, by name: unfiltered, each filter, both searches, a change view."""
    from django.urls import reverse  # pylint: disable=import-outside-toplevel

    from audit.models import AuditEvent  # pylint: disable=import-outside-toplevel

    changelist = reverse("admin:audit_auditevent_changelist")
    middle = AuditEvent.objects.filter(created_at__lte=now - SPAN / 2).order_by("-created_at").first()
    window_end = (now - SPAN / 2).strftime("%Y-%m-%dT%H:%M:%S")
    window_start = (now - SPAN / 2 - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    # Every view below fills its 50-row page at both sizes (PLANTED covers the rare ones).
    return {
        "unfiltered": changelist,
        "page 3": f"{changelist}?p=3",
        "kind=validation": f"{changelist}?kind__exact=validation",
        "outcome=http_error": f"{changelist}?outcome__exact=http_error",
        "status 2xx": f"{changelist}?status_class=2xx",
        "status 5xx": f"{changelist}?status_class=5xx",
        "status none": f"{changelist}?status_class=none",
        "last 7 days": f"{changelist}?period=7d",
        "2 days, 15 days ago": f"{changelist}?since={window_start}&until={window_end}",
        "run id": f"{changelist}?run_id={middle.run_id}",
        "rare product id": f"{changelist}?product_id={RARE_PRODUCT}",
        "search run id": f"{changelist}?q={middle.run_id}",
        "search common URL": f"{changelist}?q=https://dummyjson.com/products?",
        "search rare URL": f"{changelist}?q=https://dummyjson.com/rare/",
        "change view": reverse("admin:audit_auditevent_change", args=[middle.pk]),
        "dashboard": reverse("admin:audit_auditevent_dashboard"),
    }


class QueryLog(list):
    """An execute wrapper that keeps the SQL of every query it lets through."""

    def __call__(self, execute, sql, *args):
        self.append(sql)
        return execute(sql, *args)


def time_views(repeat: int, now: datetime) -> dict[str, dict[str, float]]:
    """Best and median milliseconds per view, and its SQL query count, after one warm-up request each."""
    from django.contrib.auth import get_user_model  # pylint: disable=import-outside-toplevel
    from django.db import connection  # pylint: disable=import-outside-toplevel
    from django.test import Client  # pylint: disable=import-outside-toplevel

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
    client = Client()
    client.force_login(user)
    timings = {}
    for name, url in scenarios(now).items():
        queries = QueryLog()
        with connection.execute_wrapper(queries):
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        timings[name] = {
            "best": min(samples),
            "median": statistics.median(samples),
            "queries": len(queries),
        }
    return timings


def run_child(args: argparse.Namespace) -> None:
    """Set Django up on the given database, fill it, time the views, print one JSON line."""
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DEBUG"] = "0"  # no query log growing with every request
    os.environ["SECURE_SSL_REDIRECT"] = "0"  # the test client speaks plain HTTP
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # required once DEBUG is off
    os.environ.setdefault("AUDIT_SIGNING_KEY_FILE", str(Path(tempfile.gettempdir()) / "bench-audit-admin-key.pem"))
    os.environ.setdefault("AUDIT_ANCHORING", "0")  # the benchmark times views, not anchors
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django  # pylint: disable=import-outside-toplevel
    from django.core.management import call_command  # pylint: disable=import-outside-toplevel

    django.setup()
    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    fill_seconds = fill(args.size, now)
    timings = time_views(args.repeat, now)
    print(json.dumps({"fill_s": round(fill_seconds, 1), "timings": timings}))


# --- the parent: databases, children, the report ---------------------------------------


def postgres_admin(url: str):
    """A connection to the server for CREATE/DROP DATABASE, or None when it is not reachable."""
    import psycopg  # pylint: disable=import-outside-toplevel

    try:
        return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None


def measure(backend: str, size: int, args: argparse.Namespace) -> dict | None:
    """One child run on a fresh database; its JSON result, or None when it failed."""
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        if backend == "sqlite":
            database_url = f"sqlite:///{folder}/bench.sqlite3"
            admin = None
        else:
            admin = postgres_admin(args.postgres_url)
            admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
            admin.execute(f"CREATE DATABASE {SCRATCH_DATABASE}")
            database_url = args.postgres_url.rsplit("/", 1)[0] + f"/{SCRATCH_DATABASE}"
        command = [sys.executable, __file__, "--child", "--size", str(size), "--repeat", str(args.repeat)]
        try:
            completed = subprocess.run(
                [*command, "--database-url", database_url],
                capture_output=True,
                text=True,
                timeout=args.child_timeout,
                check=False,
                cwd=ROOT,
            )
        except subprocess.TimeoutExpired:
            print(f"  {backend} {size:,}: gave up after {args.child_timeout}s")
            return None
        finally:
            if admin is not None:
                admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)")
                admin.close()
    if completed.returncode != 0:
        print(f"  {backend} {size:,}: failed\n{completed.stderr[-2000:]}")
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def report(backend: str, sizes: list[int], results: dict[int, dict]) -> None:
    """Per view: best and median milliseconds at the smallest and largest size, the ratio of the bests."""
    small, large = sizes[0], sizes[-1]
    fills = ", ".join(f"{size:,} in {results[size]['fill_s']}s" for size in sizes)
    print(f"\n{backend}: fill {fills}")
    print(
        f"  {'view':<22}{'best ' + f'{small:,}':>14}{'best ' + f'{large:,}':>16}{'ratio':>8}"
        f"{'median ' + f'{small:,}':>16}{'median ' + f'{large:,}':>18}{'queries':>9}"
    )
    for name, small_timing in results[small]["timings"].items():
        large_timing = results[large]["timings"][name]
        ratio = large_timing["best"] / small_timing["best"]
        verdict = "" if ratio < TARGET_RATIO or name == "dashboard" else "  over target"
        print(
            f"  {name:<22}{small_timing['best']:>12.1f}ms{large_timing['best']:>14.1f}ms{ratio:>7.2f}x"
            f"{small_timing['median']:>14.1f}ms{large_timing['median']:>16.1f}ms"
            f"{small_timing['queries']:>4} /{large_timing['queries']:>3}{verdict}"
        )


def main() -> None:
    """Parse the options; run as the parent, or as one child."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,1000000", help="comma-separated event counts, smallest first")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child-timeout", type=int, default=900)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    sizes = sorted(int(size) for size in args.sizes.split(","))
    for backend in args.backends.split(","):
        if backend == "postgresql":
            connection = postgres_admin(args.postgres_url)
            if connection is None:
                print(f"\npostgresql: not reachable at {args.postgres_url}, skipped")
                continue
            connection.close()
        results = {}
        for size in sizes:
            started = time.monotonic()
            result = measure(backend, size, args)
            if result is None:
                break
            print(f"  {backend} {size:,}: done in {time.monotonic() - started:.0f}s")
            results[size] = result
        if len(results) == len(sizes):
            report(backend, sizes, results)


if __name__ == "__main__":
    main()
