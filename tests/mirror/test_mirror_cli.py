"""``python -m mirror`` and the pytest fixtures."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mirror.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_its_url_serves_and_exits_cleanly_on_a_signal(signum):
    with subprocess.Popen(
        [sys.executable, "-m", "mirror", "--port", "0", "--scale", "20", "--faults", "rate-limit:1", "--cache-dir", ""],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        line = process.stdout.readline().strip()
        prefix = "mirror: serving 20 products at http://127.0.0.1:"
        assert line.startswith(prefix)
        assert line[len(prefix) :].isdigit()
        base_url = line.rsplit(" ", 1)[1]
        assert requests.get(f"{base_url}/products/1", timeout=5).status_code == 429
        assert requests.get(f"{base_url}/products/1", timeout=5).json()["id"] == 1
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=5)
    assert (process.returncode, stderr) == (0, "mirror: stopped\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--host", "0.0.0.0"], "refusing to bind '0.0.0.0'"),
        (["--faults", "explode"], "unknown fault 'explode'"),
        (["--scale", "-5"], "must be >= 0"),
        (["--image-size", "0"], "must be >= 1"),
    ],
)
def test_cli_rejects_bad_arguments_with_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_help_documents_every_fault(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.args == (0,)
    out = capsys.readouterr().out
    for name in (
        "5xx-burst",
        "rate-limit",
        "throttle",
        "slow",
        "trickle",
        "truncate",
        "bad-json",
        "oversized-image",
        "not-image",
        "wrong-format",
        "@every=K",
    ):
        assert name in out


def test_mirror_fixture_starts_each_test_without_faults_or_logged_requests(mirror, mirror_server):
    assert mirror is mirror_server
    assert (mirror.faults.faults, list(mirror.requests)) == ((), [])
    mirror.set_faults("5xx-burst:9")


def test_mirror_fixture_cleared_the_faults_set_by_the_previous_test(mirror):
    assert requests.get(f"{mirror.base_url}/products/1", timeout=5).status_code == 200


def test_mirror_factory_servers_are_independent(mirror_factory, mirror_server):
    small = mirror_factory(scale=5, faults="bad-json")
    assert small.base_url != mirror_server.base_url
    assert requests.get(f"{small.base_url}/products?limit=0", timeout=5).text.count('"id"') < 10
    assert requests.get(f"{mirror_server.base_url}/products?limit=1", timeout=5).json()["total"] == 194
