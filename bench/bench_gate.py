"""Benchmark the publish gate at 10,000 products (``--scale 10000``, ``--no-images``).

Run: ``.venv/bin/python -m bench.bench_gate`` (a minute or two). Against a mirror process
serving 10,000 products, on a throwaway SQLite database, it runs ``sync_products`` twice as
separate processes: the first has no reference yet (profile and golden checks only), the
second is gated against the first (drift by normalized Wasserstein / Jensen-Shannon, volume,
price changes, golden records). For each it prints the wall time, the peak RSS of the process,
the time of each phase (stage, gate, publish, from the ``sync`` audit event) and the gate's
share: target peak RSS under 300 MB and the gate (profiling plus drift) under +10 % of the rest
of the sync.
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, benchmark_cli, start_mirror, stop

SCALE = 10_000
RSS_TARGET_MB = 300
GATE_TARGET = 0.10


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run a command as a child; its wall time and its own peak RSS (ru_maxrss, KiB on Linux)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # pylint: disable=consider-using-with
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def last_sync_details(database: Path) -> dict:
    """The details of the newest ``sync`` audit event."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT details FROM audit_auditevent WHERE kind = 'sync' ORDER BY seq DESC"
        ).fetchone()
    return json.loads(row[0])


def report(label: str, elapsed: float, rss: int, details: dict) -> None:
    """Print one run's figures."""
    phases, decision = details["phases"], details["gate"]["decision"]
    stage, gate, publish = phases["stage_s"], phases["gate_s"], phases["publish_s"]
    print(f"{label}: {elapsed:.1f} s wall, peak RSS {rss} MB (target < {RSS_TARGET_MB} MB), decision {decision}")
    print(f"  stage {stage:.2f} s, gate {gate:.2f} s, publish {publish:.2f} s")
    # What profiling and drift add to the rest of the sync.
    print(f"  gate / (stage + publish) = {gate / (stage + publish):.3f} (target <= {GATE_TARGET})")


def main() -> None:
    """Two 10,000-product syncs; print time, memory and the gate's share."""
    benchmark_cli(__doc__)
    work = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    database = work / "gate.sqlite3"
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "1"),  # a development run: no production secret needed
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_ROOT": str(work / "media"),
        "LOG_LEVEL": "ERROR",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    mirror, base_url = start_mirror("--scale", str(SCALE))
    try:
        for label in ("first sync (no reference)", "second sync (gated against the first)"):
            command = [sys.executable, "manage.py", "sync_products", "--base-url", base_url, "--no-images"]
            elapsed, rss = peak_rss_mb(command, env)
            report(label, elapsed, rss, last_sync_details(database))
    finally:
        stop(mirror)


if __name__ == "__main__":
    main()
