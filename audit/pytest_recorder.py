"""The recorder behind ``audit.pytest_plugin``: counts a session's results and writes its test_run events.

Imported only once a session is configured, after pytest-cov has started measuring.
It uses only what pytest and pytest-django document: the ``started`` event is written
by a session fixture through pytest-django's ``django_db_blocker`` fixture (before the
first test runs), the completing one at ``pytest_unconfigure``, once pytest-django has
lifted its block on database access.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

if TYPE_CHECKING:
    from audit.models import AuditEvent

COUNTED = ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
FAILURE_CATEGORIES = ("failed", "error")
MAX_FAILURES_RECORDED = 50
REASON_MAX_LENGTH = 300
ERROR_LINE_MARK = re.compile(r"^E\s+")
VERSIONED_PACKAGES = ("django", "pytest", "pytest-django", "requests", "urllib3", "pillow", "psycopg")
STATUS_BY_EXIT_CODE = {
    pytest.ExitCode.OK: "passed",
    pytest.ExitCode.TESTS_FAILED: "failed",
    pytest.ExitCode.INTERRUPTED: "interrupted",
    pytest.ExitCode.INTERNAL_ERROR: "internal error",
    pytest.ExitCode.USAGE_ERROR: "usage error",
    pytest.ExitCode.NO_TESTS_COLLECTED: "no tests collected",
}


def failure_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The one line that says why a test failed: the crash message, else the report's last line."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[0] if crash is not None else lines[-1]
    # Tracebacks mark error lines with "E   "; the reason reads better without it.
    return ERROR_LINE_MARK.sub("", line)[:REASON_MAX_LENGTH]


def _django_ready() -> None:
    # pytest-django sets Django up before sessions start; without it (``-p no:django``)
    # DJANGO_SETTINGS_MODULE still names the settings.
    import django  # pylint: disable=import-outside-toplevel
    from django.apps import apps  # pylint: disable=import-outside-toplevel

    if not apps.ready:
        django.setup()


def _user() -> str:
    # getpass raises where the process's user has no name (some containers).
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class SessionEnd:
    """How the session ended, noted at ``pytest_sessionfinish`` and written at unconfigure."""

    exit_status: int
    finished_at: str
    duration_s: float


class SessionRecorder:
    """Counts one session's results and writes its ``started`` and completing events."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.run_id = uuid4().hex
        self.counts = dict.fromkeys(COUNTED, 0)
        self.failures: list[dict[str, str]] = []
        self.context: dict[str, Any] = {}
        self.database: dict[str, Any] | None = None
        self.started_seq: int | None = None
        self.started_monotonic = time.monotonic()
        self.failed_to_record = False
        self.end: SessionEnd | None = None

    def pytest_sessionstart(self) -> None:
        """Gather where, when and with which code, and the main database's settings.

        Runs before pytest-django points the default connection at the test database.
        """
        self.started_monotonic = time.monotonic()
        try:
            _django_ready()
            from audit import main_database_writer  # pylint: disable=import-outside-toplevel
            from audit.provenance import code_version, package_versions  # pylint: disable=import-outside-toplevel

            self.database = main_database_writer.main_database_settings()
            self.context = {
                "started_at": _now(),
                "args": list(self.config.invocation_params.args),
                "invocation_dir": str(self.config.invocation_params.dir),
                "host": socket.gethostname(),
                "user": _user(),
                "pid": os.getpid(),
                "code_version": code_version(),
                "versions": package_versions(VERSIONED_PACKAGES),
            }
        except Exception as error:  # pylint: disable=broad-exception-caught
            self._warn(error)

    def record_start(self, database_access: Callable[[], contextlib.AbstractContextManager[Any]]) -> None:
        """Write the ``started`` event once, inside ``database_access()`` (the session fixture's unblock)."""
        if self.started_seq is not None or self.failed_to_record or self.database is None:
            return
        with database_access():
            event = self._write(outcome="started", message="test run started", details=self.context)
        self.started_seq = event.seq if event else None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Collection errors count as errors, as pytest's summary counts them."""
        if report.failed:
            self._count("error", report)
        elif report.skipped:
            self.counts["skipped"] += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count each phase's result under the category pytest's summary uses."""
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        if category:
            self._count(category, report)

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        """Note how the session ended; the event is written once pytest-django allows it (unconfigure)."""
        self.end = SessionEnd(int(exitstatus), _now(), round(time.monotonic() - self.started_monotonic, 3))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        """Write the completing event (and the start, when no test ran to write it)."""
        if self.end is None:
            return  # the session never finished (pytest itself failed); nothing to report
        self.record_start(contextlib.nullcontext)
        if self.started_seq is None:
            return  # the start was not recorded; one warning is enough
        exitstatus, duration_s = self.end.exit_status, self.end.duration_s
        status = STATUS_BY_EXIT_CODE.get(pytest.ExitCode(exitstatus), f"exit status {exitstatus}")
        results = ", ".join(f"{count} {name}" for name, count in self.counts.items() if count) or "no tests"
        details = self.context | {
            "finished_at": self.end.finished_at,
            "duration_s": duration_s,
            "exit_status": exitstatus,
            "status": status,
            "counts": self.counts,
            "failures": self.failures[:MAX_FAILURES_RECORDED],
            "failures_total": len(self.failures),
            "started_seq": self.started_seq,
        }
        self._write(
            outcome="ok" if exitstatus == pytest.ExitCode.OK else "error",
            message=f"test run {status}: {results} in {duration_s}s (exit status {exitstatus})",
            details=details,
            duration_ms=duration_s * 1000,
        )

    def _count(self, category: str, report: pytest.TestReport | pytest.CollectReport) -> None:
        self.counts[category] = self.counts.get(category, 0) + 1
        if category in FAILURE_CATEGORIES:
            when = getattr(report, "when", "collect")
            self.failures.append({"nodeid": report.nodeid, "when": when, "reason": failure_reason(report)})

    def _write(self, **fields: Any) -> AuditEvent | None:
        if self.failed_to_record or self.database is None:
            return None
        try:
            from audit.main_database_writer import record_test_run_event  # pylint: disable=import-outside-toplevel

            return record_test_run_event(self.database, run_id=self.run_id, **fields)
        except Exception as error:  # pylint: disable=broad-exception-caught
            self._warn(error)
            return None

    def _warn(self, error: Exception) -> None:
        self.failed_to_record = True
        where = ""
        if self.database:
            from audit.main_database_writer import database_label  # pylint: disable=import-outside-toplevel

            where = f" in {database_label(self.database)}"
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        message = f"WARNING: audit: this test run was not recorded{where}: {reason}"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(message, yellow=True)
        else:
            sys.stderr.write(message + "\n")
