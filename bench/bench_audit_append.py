"""Benchmark audit appends: events/s for 1, 2 and 4 writer processes, on SQLite and PostgreSQL, before and now.

Run: ``.venv/bin/python bench/bench_audit_append.py`` (about six minutes). Options:
``--seconds 5`` per measurement, ``--backends sqlite,postgresql``, ``--postgres-url URL``
(default ``$BENCH_POSTGRES_URL``, else the local ``postgres://postgres@127.0.0.1:5432/test``;
PostgreSQL is skipped when it does not answer).

Each way of writing gets a fresh database per backend (a temporary SQLite file, or a scratch
PostgreSQL database ``audit_append_bench_<way>`` dropped afterwards), migrated once. For each
writer count and 1 or 8 threads per writer (8: the sync's download pool) the ways take turns,
so that a machine whose speed drifts shifts them alike: that many processes start and warm
up; once all are ready they begin together, call the writer in a loop for ``--seconds`` and
report how many events they wrote; the total over the wall time is the figure.

"before" is the one-ORM-transaction-per-event way this project used until now (kept here,
verbatim in spirit, for the comparison); "now" is
``audit.services.record_event`` itself, redaction, anchoring and all. Every event is
committed before the call returns in both. The chain is verified at the end. "bare driver"
(one thread per writer) is the same one-row INSERT as plain Python code would send it, through
the driver's cursor (psycopg's, server-side binding; sqlite3's), with no cleaning, hashing,
chain or anchor: what one commit per event costs on this machine before any audit work.
``record_event`` on PostgreSQL goes under the cursor, straight to libpq, so it can match it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DATABASE = "audit_append_bench"
WRITER_COUNTS = (1, 2, 4)
# One thread per process, as a loop calling record_event; eight, as the sync's download pool.
THREAD_COUNTS = (1, 8)
# The ways that write chained, verifiable events; the bare driver writes plain rows, from one thread.
CHAINED_MODES = ("before", "now")
MODES = (*CHAINED_MODES, "driver")
# Once every writer is ready, they start together this long after.
START_MARGIN_S = 0.5
_before_lock = threading.Lock()


def _before_record_event(**fields) -> None:
    """The previous way: ORM read of the head and ORM save, one transaction per event."""
    # pylint: disable=import-outside-toplevel
    from django.db import connection, transaction
    from django.utils import timezone

    from audit.chain import event_hash
    from audit.models import GENESIS_HASH, AuditEvent

    with _before_lock, transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x4155444954])
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        last_seq, last_hash = last or (0, GENESIS_HASH)
        fields.update(seq=last_seq + 1, prev_hash=last_hash, created_at=timezone.now(), chain="")
        fields["hash"] = event_hash(fields)
        AuditEvent(**fields).save(force_insert=True)


def _driver_writer():
    """The same one-row INSERT through the driver's cursor alone (one thread), with no cleaning,
    hashing, chain or anchor: what a commit per event costs here before any audit work."""
    # pylint: disable=import-outside-toplevel
    from django.db import connection
    from django.utils import timezone

    from audit.models import AuditEvent

    names = [field.column for field in AuditEvent._meta.concrete_fields if field.column not in ("id", "seq")]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        import psycopg

        cursor, mark, seq = psycopg.Cursor(connection.connection), "%s", "nextval('audit_event_seq')"
    else:
        cursor, mark, seq = (
            connection.connection.cursor(),
            "?",
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_auditevent)",
        )
    marks = ", ".join(f"{mark}::jsonb" if name == "details" and mark == "%s" else mark for name in names)
    sql = f"INSERT INTO audit_auditevent (seq, {', '.join(names)}) VALUES ({seq}, {marks}) RETURNING id"

    def write(number: int) -> None:
        row = _event(number) | {"details": json.dumps({"page": number // 30}), "chain": "driver"}
        row |= {"created_at": connection.ops.adapt_datetimefield_value(timezone.now()), "prev_hash": "0" * 64}
        row["hash"] = "1" * 64
        cursor.execute(sql, [row[name] for name in names]).fetchall()

    return write


def _event(number: int) -> dict:
    return {
        "kind": "fetch",
        "outcome": "ok",
        "method": "GET",
        "url": f"https://dummyjson.com/products/{number}",
        "status_code": 200,
        "duration_ms": 12.345,
        "bytes": 1234,
        "sha256": "ab" * 32,
        "attempt": 1,
        "run_id": "bench",
        "product_id": number,
        "actor": "bench",
        "message": "",
        "details": {"page": number // 30},
    }


def run_child(args: argparse.Namespace) -> None:
    """One writer: wait for the start, write for the given seconds, print the count."""
    sys.path.insert(0, str(ROOT))
    import django  # pylint: disable=import-outside-toplevel

    django.setup()
    from audit.services import record_event  # pylint: disable=import-outside-toplevel

    def now_way(number: int) -> None:
        event = _event(number)
        record_event(**{("body_bytes" if name == "bytes" else name): value for name, value in event.items()})

    from django.db import connections  # pylint: disable=import-outside-toplevel

    if args.mode == "driver":
        write = _driver_writer()
    else:
        write = now_way if args.mode == "now" else lambda number: _before_record_event(**_event(number))
    write(0)  # warm up: connection, prepared statements, key
    print("ready", flush=True)  # the parent starts every writer together once all are ready
    start = float(sys.stdin.readline())
    counts = [0] * args.threads
    ends = start + args.seconds

    def loop(slot: int) -> None:
        time.sleep(max(0.0, start - time.time()))
        while time.time() < ends:
            counts[slot] += 1
            write(slot * 10_000_000 + counts[slot])
        connections.close_all()

    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"events": sum(counts)}))


def child_env(database_url: str, work: Path) -> dict[str, str]:
    """A production-like environment (``bench.common.site_env``: DEBUG off, a throwaway key and anchor store)."""
    from bench.common import site_env  # pylint: disable=import-outside-toplevel

    return site_env(work, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")


def measure(database_url: str, work: Path, mode: str, writers: int, threads: int, seconds: float) -> float:  # pylint: disable=too-many-arguments
    """Events per second in total for ``writers`` processes of ``threads`` threads writing the ``mode`` way."""
    command = [sys.executable, __file__, "--child", "--mode", mode, "--seconds", str(seconds)]
    command += ["--threads", str(threads)]
    processes = [
        subprocess.Popen(  # pylint: disable=consider-using-with
            command,
            cwd=ROOT,
            env=child_env(database_url, work),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(writers)
    ]
    # Python and Django take seconds to start: the clock starts when every writer has, so the
    # figure is the writers' rate alone, not their start-up competing with the first writes.
    for process in processes:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            for other in processes:  # the others would wait for a start that never comes
                other.kill()
            _, err = process.communicate(timeout=60)
            raise RuntimeError(f"a writer failed to start:\n{err[-2000:]}")
    start = time.time() + START_MARGIN_S
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(f"{start}\n")
        process.stdin.flush()
    total = 0
    for process in processes:
        out, err = process.communicate(timeout=seconds + 120)
        if process.returncode != 0:
            raise RuntimeError(f"a writer failed:\n{err[-2000:]}")
        total += json.loads(out.strip().splitlines()[-1])["events"]
    return total / seconds


def prepare(database_url: str, work: Path) -> None:
    """Migrate the fresh database (``child_env`` made the signing key and anchor store)."""
    env = child_env(database_url, work) | {"DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)


def verified(database_url: str, work: Path) -> str:
    """verify_audit's line for the database after the runs."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=child_env(database_url, work),
        capture_output=True,
        text=True,
        check=False,
    )
    return (completed.stdout or completed.stderr).strip()[:160]


def run_backend(backend: str, args: argparse.Namespace) -> dict[tuple[str, int, int], float] | None:
    """Every writer count of each way, on a fresh database of ``backend`` per way (their seqs and chains differ)."""
    from bench.bench_audit_admin import postgres_admin  # pylint: disable=import-outside-toplevel

    admin = None
    if backend == "postgresql":
        admin = postgres_admin(args.postgres_url)
        if admin is None:
            print(f"postgresql: skipped, {args.postgres_url} does not answer")
            return None
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-append-") as folder:
        try:
            databases = {}
            for mode in MODES:
                work, database_url = Path(folder) / mode, f"sqlite:///{folder}/{mode}/bench.sqlite3"
                work.mkdir()
                if admin is not None:
                    name = f"{SCRATCH_DATABASE}_{mode}"
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    admin.execute(f"CREATE DATABASE {name}")
                    database_url = args.postgres_url.rsplit("/", 1)[0] + f"/{name}"
                prepare(database_url, work)
                databases[mode] = database_url, work
            # The ways take turns at each writer count, so a machine whose speed drifts over
            # minutes (a shared host) shifts them alike and the ratios hold.
            for threads in THREAD_COUNTS:
                for writers in WRITER_COUNTS:
                    for mode in MODES if threads == 1 else CHAINED_MODES:
                        rate = measure(*databases[mode], mode, writers, threads, args.seconds)
                        results[mode, writers, threads] = rate
                        label = f"{writers} writer(s) x {threads} thread(s)"
                        print(f"  {backend:<10} {mode:<6} {label}: {rate:8,.0f} events/s", flush=True)
            for mode in CHAINED_MODES:
                print(f"  {backend} {mode}: {verified(*databases[mode])}")
            return results
        finally:
            if admin is not None:
                for mode in MODES:
                    admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}_{mode} WITH (FORCE)")
                admin.close()


def report(all_results: dict[str, dict[tuple[str, int, int], float]]) -> None:
    """One table: events/s before, now and through the bare driver, per backend, writer processes and threads each."""
    print("\nbackend     writers  threads each   before (events/s)   now (events/s)   now/before   bare driver")
    for backend, results in all_results.items():
        for threads in THREAD_COUNTS:
            for writers in WRITER_COUNTS:
                before, now = results["before", writers, threads], results["now", writers, threads]
                ratio = f"{now / before:>9.1f}x" if before else "        -"
                driver = results.get(("driver", writers, threads))
                floor = f"{driver:>12,.0f}" if driver else "           -"
                figures = f"{before:>17,.0f}   {now:>14,.0f}   {ratio}   {floor}"
                print(f"{backend:<11} {writers:>7}  {threads:>12}   {figures}")


def main() -> None:
    """Parse the options, run each backend, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    sys.path.insert(0, str(ROOT))
    all_results = {}
    for backend in args.backends.split(","):
        results = run_backend(backend, args)
        if results is not None:
            all_results[backend] = results
    report(all_results)


if __name__ == "__main__":
    main()
