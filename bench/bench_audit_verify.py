"""Benchmark ``verify_audit`` on a large log: seconds to check N events against their signed anchors (SQLite).

Run: ``.venv/bin/python bench/bench_audit_verify.py`` (1,000,000 events; a few minutes, most of
them spent building the log). ``--size 100000`` for a quicker run. The target is under 30 s
for 1,000,000 events.

A child process gets a temporary SQLite database, migrates it, bulk-inserts valid hash
chains (the rows of ``bench_audit_admin``: four writers' chains interleaved, hashes from
``audit.chain.event_hash``, written with executemany, bypassing ``record_event`` for speed),
signs anchors over all of it as the end of each writer's run would, then times the whole
verification (``verify_stored_chain``: every anchor's signature, every event's hash and link,
and every event against its anchor) and prints the figures.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 30.0


def run_child(size: int) -> None:
    """Build the log, anchor it, time the verification; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    import django  # pylint: disable=import-outside-toplevel

    django.setup()
    # pylint: disable=import-outside-toplevel
    from django.core.management import call_command

    from audit.anchors import write_head_anchors
    from audit.signing import create_signing_key
    from audit.verification import describe, verify_stored_chain
    from bench.bench_audit_admin import BENCH_CHAINS, fill

    call_command("migrate", verbosity=0)
    create_signing_key(Path(os.environ["AUDIT_SIGNING_KEY_FILE"]))
    fill_s = fill(size, datetime.now(UTC))
    started = time.monotonic()
    # Each writer signs its own chain, so every anchor has a bitmap of the seqs it covers.
    anchors = [name for chain in BENCH_CHAINS for name in write_head_anchors(reason="bench", chains=[chain])]
    anchored = time.monotonic()
    report, start = verify_stored_chain()
    print(
        json.dumps(
            {
                "size": size,
                "fill_s": fill_s,
                "anchors": len(anchors),
                "anchor_s": anchored - started,
                "verify_s": time.monotonic() - anchored,
                "result": describe(report, start)[:120],
            }
        )
    )


def main() -> None:
    """Run the child on a throwaway database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.size)
        return
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as folder:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_SIGNING_KEY_FILE": f"{folder}/audit-key.pem",
            "AUDIT_ANCHOR_DIR": f"{folder}/anchors",
            "AUDIT_RECORD_TEST_RUNS": "0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        completed = subprocess.run(
            [sys.executable, __file__, "--child", "--size", str(args.size)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        print(completed.stderr[-3000:])
        sys.exit(1)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    verdict = "under" if result["verify_s"] < TARGET_S else "OVER"
    built = f"built {result['size']:,} events in {result['fill_s']:.1f} s"
    print(f"{built}; {result['anchors']} anchors in {result['anchor_s']:.1f} s")
    print(f"verify: {result['verify_s']:.1f} s ({verdict} the {TARGET_S:.0f} s target): {result['result']}")


if __name__ == "__main__":
    main()
