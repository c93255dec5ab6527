"""Helpers for sync tests: run the command in-process or as a subprocess, and check the catalog's state."""

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from catalog.models import ImageStatus, ProductImage
from catalog.sync_lock import SYNC_LOCK_KEY, sync_lock

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CommandResult:
    """What a command run printed and how it exited."""

    exit_code: int
    stdout: str
    stderr: str


def sync(*args: str) -> CommandResult:
    """Run ``sync_products`` in this process."""
    out, err = StringIO(), StringIO()
    try:
        call_command("sync_products", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return CommandResult(code, out.getvalue(), err.getvalue())


def database_url() -> str:
    """A DATABASE_URL for the test database, so a subprocess sees what the test sees."""
    config = connection.settings_dict
    if connection.vendor == "postgresql":
        host, port = config.get("HOST") or "127.0.0.1", config.get("PORT") or 5432
        return f"postgres://{config.get('USER') or 'postgres'}@{host}:{port}/{config['NAME']}"
    return f"sqlite:///{config['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a ``manage.py`` subprocess on the test database and media folder."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        # The test's own anchor store and key, never the project's.
        "AUDIT_ANCHOR_DIR": str(settings.AUDIT_ANCHOR_DIR),
        "AUDIT_SIGNING_KEY_FILE": str(settings.AUDIT_SIGNING_KEY_FILE),
        "DUMMYJSON_BACKOFF": "0",
        "DUMMYJSON_RATE_LIMIT": "0",  # the mirror fixtures have no limit either
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _default_interrupt() -> None:
    # A test run started in the background (CI harnesses, `make test &`) ignores SIGINT, and a
    # child inherits that: Python then never installs its Ctrl-C handler, and the interrupt
    # tests would send a signal nobody hears. The sync must start as a terminal would start it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_sync_process(*args: str, **env: str) -> subprocess.Popen:
    """Start ``manage.py sync_products`` as its own process, with Ctrl-C's default handling."""
    # preexec_fn only resets a signal disposition: nothing that could deadlock after a fork.
    return subprocess.Popen(  # pylint: disable=consider-using-with,subprocess-popen-preexec-fn
        [sys.executable, "manage.py", "sync_products", *args],
        cwd=PROJECT_ROOT,
        env=subprocess_env(**env),
        preexec_fn=_default_interrupt,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def leftover_partial_files() -> list[str]:
    """Temporary files under MEDIA_ROOT that a writer left behind."""
    return sorted(str(path) for path in Path(settings.MEDIA_ROOT).rglob("*.part"))


def stored_images_match_their_hashes() -> bool:
    """Every image recorded as stored exists and hashes to its recorded sha256."""
    for image in ProductImage.objects.filter(status=ImageStatus.STORED):
        path = Path(settings.MEDIA_ROOT) / image.file.name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != image.sha256:
            return False
    return True


@contextmanager
def lock_held_elsewhere() -> Iterator[None]:
    """Hold the sync lock as another process would: on a connection of its own."""
    if connection.vendor != "postgresql":
        with sync_lock("held-by-test"):  # a second flock on a new file description conflicts
            yield
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SYNC_LOCK_KEY])
        yield
    finally:
        other.close()
