"""Record every pytest session as ``test_run`` audit events in the main database; ``-p audit.pytest_plugin``.

A session writes a ``started`` event when it begins and, when it ends, a second event
with the same run id, the final outcome and the results. A session killed in between
leaves only the first, which the admin and the dashboard show as interrupted. Recording
never changes pytest's exit status: when the main database is missing, unreachable or
not migrated, the plugin prints one warning and the tests go on. ``AUDIT_RECORD_TEST_RUNS=0``
turns it off. The recorder itself lives in ``audit.pytest_recorder``.
"""

from __future__ import annotations

import contextlib
import os

import pytest

ENABLE_ENV = "AUDIT_RECORD_TEST_RUNS"
OFF_VALUES = frozenset({"0", "false", "no", "off"})
PLUGIN_NAME = "audit-test-run-recorder"


def recording_wanted(config: pytest.Config) -> bool:
    """Whether this session should be recorded: not turned off, not an xdist worker, not a dry run."""
    if os.environ.get(ENABLE_ENV, "1").strip().lower() in OFF_VALUES:
        return False
    if hasattr(config, "workerinput"):
        return False  # an xdist worker: the controller records the whole run once
    return not config.getoption("collectonly", False)


def pytest_configure(config: pytest.Config) -> None:
    """Attach a recorder to this session's config (inner pytester sessions get their own)."""
    if recording_wanted(config):
        # Imported here, not at the top: -p plugins load before pytest-cov starts measuring.
        from audit.pytest_recorder import SessionRecorder  # pylint: disable=import-outside-toplevel

        config.pluginmanager.register(SessionRecorder(config), PLUGIN_NAME)


@pytest.fixture(scope="session", autouse=True)
def audit_test_run_started(request: pytest.FixtureRequest) -> None:
    """Write the session's ``started`` event before its first test runs.

    pytest-django blocks database access outside tests; its documented
    ``django_db_blocker`` fixture lets this one write through its own connection.
    """
    recorder = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    if recorder is not None:
        if request.config.pluginmanager.has_plugin("django"):
            recorder.record_start(request.getfixturevalue("django_db_blocker").unblock)
        else:
            recorder.record_start(contextlib.nullcontext)
