"""One sync at a time, across processes, with a lock that dies with its holder.

PostgreSQL: a session advisory lock, released when the holding connection closes.
SQLite: ``flock`` on a file beside the database, released when the process exits.
Either way a run killed with SIGKILL cannot block the next one.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

SYNC_LOCK_KEY = 0x53594E43  # "SYNC"


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock."""


def lock_file_path() -> Path:
    """The file SQLite runs lock, beside the database (or in MEDIA_ROOT for an in-memory one)."""
    name = str(connection.settings_dict["NAME"])
    if name and name != ":memory:" and not name.startswith("file:"):
        return Path(f"{name}.sync-lock")
    return Path(settings.MEDIA_ROOT) / ".sync-lock"


@contextmanager
def _postgresql_lock(_run_id: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise SyncAlreadyRunning("another sync is running (PostgreSQL advisory lock is held)")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])


@contextmanager
def _file_lock(run_id: str) -> Iterator[None]:
    path = lock_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise SyncAlreadyRunning(f"another sync is running ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, run {run_id}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync_lock(run_id: str) -> AbstractContextManager[None]:
    """Hold the sync lock for the block, or raise SyncAlreadyRunning at once."""
    return _postgresql_lock(run_id) if connection.vendor == "postgresql" else _file_lock(run_id)
