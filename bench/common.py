"""What the benchmarks share: a mirror process, a throwaway Django site, gunicorn and wrk."""

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT_S = 30


def exit_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so the ``finally`` blocks stop the servers a
    benchmark started instead of leaving them behind."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def benchmark_cli(doc: str) -> argparse.Namespace:
    """A command line with ``--help`` from the script's docstring; SIGTERM exits cleanly."""
    exit_on_sigterm()
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()


def start_mirror(*args: str) -> tuple[subprocess.Popen, str]:
    """Start the mirror as its own process on a free port; return it and its base URL."""
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "mirror", "--port", "0", "--cache-dir", str(ROOT / ".mirror-cache"), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    return process, line.rsplit(" ", 1)[-1].strip()


def stop(process: subprocess.Popen) -> None:
    """Terminate a child process and wait for it."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def site_env(work: Path, **extra: str) -> dict[str, str]:
    """Environment for a production-like site on a throwaway SQLite database in ``work``,
    with its own audit signing key and anchor store (DEBUG off does not create them)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'site.sqlite3'}",
        "MEDIA_ROOT": str(work / "media"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        # Required once DEBUG is off: a throwaway key and anchor store beside the throwaway database.
        "AUDIT_SIGNING_KEY_FILE": str(work / "audit-signing-key.pem"),
        "AUDIT_ANCHOR_DIR": str(work / "anchors"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "ERROR",
        "AUDIT_RECORD_TEST_RUNS": "0",
        **extra,
    }
    Path(env["AUDIT_ANCHOR_DIR"]).mkdir(parents=True, exist_ok=True)
    if not Path(env["AUDIT_SIGNING_KEY_FILE"]).exists():
        manage_output(env, "audit_keys", "--create", env["AUDIT_SIGNING_KEY_FILE"])
    return env


def manage(env: dict[str, str], *args: str) -> None:
    """Run a manage.py command to completion, quietly."""
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def manage_output(env: dict[str, str], *args: str) -> str:
    """What a manage.py command prints (it must succeed)."""
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict[str, str], *, workers: int = 4, threads: int = 1) -> tuple[subprocess.Popen, str]:
    """Serve the site with gunicorn on a free port; return the process once it answers."""
    port = free_port()
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base_url}/products/", timeout=2)
            return process, base_url
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow on a busy machine
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not start")


@dataclass(frozen=True)
class LoadResult:
    """What wrk measured."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(urls: list[str], *, connections: int, seconds: int, threads: int = 2) -> LoadResult:
    """Load the URLs (round-robin) with wrk; errors count sockets errors and non-2xx/3xx answers."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    script = ROOT / "bench" / "rotate.lua"
    paths = " ".join(f'"{url.split("/", 3)[3]}"' for url in urls)
    env = {**os.environ, "WRK_PATHS": paths}
    completed = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), urls[0]],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=seconds + 60,
    )
    out = completed.stdout
    percentile = dict(re.findall(r"^\s*(50|99)%\s+([\d.]+(?:us|ms|s))\s*$", out, re.MULTILINE))
    if len(percentile) != 2:
        raise RuntimeError(f"could not read wrk's latency distribution:\n{out}")
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    return LoadResult(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        p50_ms=_milliseconds(percentile["50"]),
        p99_ms=_milliseconds(percentile["99"]),
        requests=int(re.search(r"(\d+) requests in", out)[1]),
        errors=socket_errors + non_2xx,
    )
