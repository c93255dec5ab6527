"""The pytest plugin records each session as test_run events in the main database; make lint records pylint's result.

Inner sessions run with pytester and write to a temporary "main" database named by
AUDIT_TEST_RUNS_DATABASE_URL, never to this session's test database.
"""

import socket
import sqlite3
from io import StringIO
from pathlib import Path

import dj_database_url
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from audit.databases import temporary_alias
from audit.main_database_writer import DATABASE_URL_ENV
from audit.models import AuditEvent
from audit.walk import verify_chain

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ("-p", "audit.pytest_plugin", "-p", "no:django", "-p", "no:cacheprovider")
MIXED_RESULTS = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("no database today")

def test_ok():
    pass

def test_bad():
    assert 1 == 2

def test_needs_broken(broken):
    pass

@pytest.mark.skip(reason="later")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_known_bug():
    assert False
"""


@pytest.fixture
def main_database(tmp_path, django_db_blocker) -> Path:
    """A SQLite file with the audit table, standing in for the project's main database."""
    path = tmp_path / "main.sqlite3"
    settings_dict = dj_database_url.parse(f"sqlite:///{path}")
    with (
        django_db_blocker.unblock(),
        temporary_alias(settings_dict, "plugin_setup") as alias,
        connections[alias].schema_editor() as editor,
    ):
        editor.create_model(AuditEvent)
    return path


def recorded(path: Path, django_db_blocker) -> list[AuditEvent]:
    """The events stored in the database file at ``path``, oldest first."""
    with django_db_blocker.unblock(), temporary_alias(dj_database_url.parse(f"sqlite:///{path}"), "plugin_read"):
        return list(AuditEvent.objects.using("plugin_read").order_by("seq"))


@pytest.fixture
def inner(pytester, monkeypatch, django_db_blocker, main_database):
    """Run an in-process pytest session that records into ``main_database``."""
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{main_database}")
    monkeypatch.delenv("AUDIT_RECORD_TEST_RUNS", raising=False)

    def run(*args: str, plugin: tuple[str, ...] = PLUGIN):
        with django_db_blocker.unblock():
            # An inner Ctrl-C must end the inner session only.
            return pytester.runpytest_inprocess(*plugin, *args, no_reraise_ctrlc=True)

    return run


def test_a_passing_run_records_a_start_and_an_ok_end_with_the_same_run_id(
    inner, pytester, main_database, django_db_blocker
):
    pytester.makepyfile(test_sample="def test_one():\n    pass\n\ndef test_two():\n    pass\n")

    result = inner("-q")

    assert result.ret == 0
    started, finished = recorded(main_database, django_db_blocker)
    assert (started.seq, started.kind, started.outcome, started.actor) == (1, "test_run", "started", "command:pytest")
    assert (finished.seq, finished.outcome, finished.run_id) == (2, "ok", started.run_id)
    assert finished.details["counts"] == {
        "passed": 2,
        "failed": 0,
        "skipped": 0,
        "error": 0,
        "xfailed": 0,
        "xpassed": 0,
    }
    assert (finished.details["status"], finished.details["exit_status"], finished.details["failures"]) == (
        "passed",
        0,
        [],
    )
    assert finished.message.startswith("test run passed: 2 passed in ")


def test_the_run_records_where_when_and_with_which_code(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_sample="def test_one():\n    pass\n")

    inner("-q", "-k", "one")

    started, finished = recorded(main_database, django_db_blocker)
    details = finished.details
    assert details["args"] == [*PLUGIN, "-q", "-k", "one"]
    assert details["host"] == socket.gethostname()
    assert set(details["code_version"]) == {"commit", "dirty"}
    assert len(details["code_version"]["commit"]) == 40
    assert {"python", "django", "pytest", "pytest-django"} <= set(details["versions"])
    assert details["started_at"] == started.details["started_at"] < details["finished_at"]
    assert details["started_seq"] == 1
    assert details["duration_s"] >= 0
    assert finished.duration_ms == pytest.approx(details["duration_s"] * 1000)


def test_the_start_is_on_record_before_the_first_test_runs(inner, pytester, main_database):
    pytester.makepyfile(
        test_sample=f"""
import sqlite3

def test_the_start_is_already_recorded():
    database = sqlite3.connect({str(main_database)!r})
    assert database.execute("SELECT kind, outcome FROM audit_auditevent").fetchall() == [("test_run", "started")]
"""
    )

    assert inner("-q").ret == 0


def test_a_failing_run_counts_every_result_and_names_each_failure(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_sample=MIXED_RESULTS)

    result = inner("-q")

    assert result.ret == 1
    finished = recorded(main_database, django_db_blocker)[-1]
    assert finished.outcome == "error"
    assert finished.details["counts"] == {
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "error": 1,
        "xfailed": 1,
        "xpassed": 0,
    }
    assert finished.details["failures"] == [
        {"nodeid": "test_sample.py::test_bad", "when": "call", "reason": "assert 1 == 2"},
        {"nodeid": "test_sample.py::test_needs_broken", "when": "setup", "reason": "RuntimeError: no database today"},
    ]
    assert (finished.details["status"], finished.details["exit_status"], finished.details["failures_total"]) == (
        "failed",
        1,
        2,
    )


def test_a_collection_error_is_counted_as_an_error(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_broken="import no_such_module_here\n")

    assert inner("-q").ret == 2

    finished = recorded(main_database, django_db_blocker)[-1]
    assert finished.details["counts"]["error"] == 1
    assert finished.details["failures"] == [
        {
            "nodeid": "test_broken.py",
            "when": "collect",
            "reason": "ModuleNotFoundError: No module named 'no_such_module_here'",
        }
    ]


def test_a_module_skipped_at_collection_counts_as_skipped(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_later="import pytest\n\npytest.skip('not yet', allow_module_level=True)\n")

    assert inner("-q").ret == 5

    finished = recorded(main_database, django_db_blocker)[-1]
    assert (finished.details["counts"]["skipped"], finished.details["status"]) == (1, "no tests collected")


def test_an_interrupted_run_records_its_end_as_interrupted(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_sample="def test_first():\n    pass\n\ndef test_stop():\n    raise KeyboardInterrupt\n")

    result = inner("-q")

    assert result.ret == 2
    started, finished = recorded(main_database, django_db_blocker)
    assert (finished.run_id, finished.outcome, finished.details["status"]) == (started.run_id, "error", "interrupted")
    assert finished.details["counts"]["passed"] == 1


@pytest.mark.slow
def test_a_killed_run_leaves_only_its_start(pytester, monkeypatch, main_database, django_db_blocker):
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{main_database}")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings")
    monkeypatch.delenv("AUDIT_RECORD_TEST_RUNS", raising=False)
    pytester.makepyfile(test_sample="import os, signal\n\ndef test_die():\n    os.kill(os.getpid(), signal.SIGKILL)\n")

    result = pytester.runpytest_subprocess(*PLUGIN, "-q")

    assert result.ret == -9
    assert [(event.kind, event.outcome) for event in recorded(main_database, django_db_blocker)] == [
        ("test_run", "started")
    ]


def test_runs_append_to_one_verifiable_chain(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_sample="def test_one():\n    pass\n")

    inner("-q")
    inner("-q")

    events = recorded(main_database, django_db_blocker)
    assert [event.seq for event in events] == [1, 2, 3, 4]
    assert events[0].run_id != events[2].run_id
    assert verify_chain(events).intact


def warnings_in(result) -> list[str]:
    """The plugin's warning lines."""
    return [line for line in result.outlines if line.startswith("WARNING: audit:")]


def test_a_missing_main_database_gives_one_warning_and_the_same_exit_status(pytester, inner, monkeypatch, tmp_path):
    missing = tmp_path / "nowhere.sqlite3"
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{missing}")
    pytester.makepyfile(test_sample="def test_bad():\n    assert False\n")

    result = inner("-q")

    assert result.ret == 1
    assert warnings_in(result) == [
        f"WARNING: audit: this test run was not recorded in {missing}: the database file {missing} does not exist"
    ]
    assert not missing.exists()


def test_an_unmigrated_main_database_gives_one_warning(pytester, inner, monkeypatch, tmp_path):
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{empty}")
    pytester.makepyfile(test_sample="def test_ok():\n    pass\n")

    result = inner("-q")

    assert result.ret == 0
    assert warnings_in(result) == [
        f"WARNING: audit: this test run was not recorded in {empty}: the audit table is missing: "
        + "run `python manage.py migrate`"
    ]


def test_an_unreachable_server_gives_one_warning(pytester, inner, monkeypatch):
    monkeypatch.setenv(DATABASE_URL_ENV, "postgres://postgres@127.0.0.1:1/nothing")
    pytester.makepyfile(test_sample="def test_ok():\n    pass\n")

    result = inner("-q")

    assert result.ret == 0
    [warning] = warnings_in(result)
    assert warning.startswith("WARNING: audit: this test run was not recorded in nothing on 127.0.0.1: ")


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_audit_record_test_runs_0_turns_recording_off(
    inner, pytester, monkeypatch, main_database, django_db_blocker, value
):  # pylint: disable=too-many-arguments
    monkeypatch.setenv("AUDIT_RECORD_TEST_RUNS", value)
    pytester.makepyfile(test_sample="def test_ok():\n    pass\n")

    result = inner("-q")

    assert (result.ret, warnings_in(result)) == (0, [])
    assert not recorded(main_database, django_db_blocker)


def test_an_inner_session_without_the_plugin_records_nothing(inner, pytester, main_database, django_db_blocker):
    pytester.makepyfile(test_sample="def test_ok():\n    pass\n")

    assert inner("-q", plugin=("-p", "no:django", "-p", "no:cacheprovider")).ret == 0
    assert not recorded(main_database, django_db_blocker)


def test_xdist_workers_and_collect_only_record_nothing(inner, pytester, main_database, django_db_blocker):
    pytester.makeconftest(
        "import pytest\n\n@pytest.hookimpl(tryfirst=True)\ndef pytest_configure(config):\n"
        "    if config.getoption('-k') == 'worker':\n        config.workerinput = {}\n"
    )
    pytester.makepyfile(test_sample="def test_worker():\n    pass\n")

    inner("-q", "-k", "worker")
    inner("-q", "--collect-only")

    assert not recorded(main_database, django_db_blocker)


# make lint: audit_record_lint reads pylint's report and records a lint event.

JSON2_REPORT = """{
  "messages": [
    {"type": "convention", "symbol": "missing-module-docstring", "messageId": "C0114"},
    {"type": "convention", "symbol": "invalid-name", "messageId": "C0103"},
    {"type": "warning", "symbol": "unused-import", "messageId": "W0611"}
  ],
  "statistics": {
    "messageTypeCount": {"fatal": 0, "error": 0, "warning": 1, "refactor": 0, "convention": 2, "info": 0},
    "modulesLinted": 3,
    "score": 9.25
  }
}"""
TEXT_REPORT = """************* Module bad
bad.py:1:0: C0114: Missing module docstring (missing-module-docstring)
bad.py:2:0: C0103: Constant name "x" doesn't conform to UPPER_CASE naming style (invalid-name)
bad.py:1:0: W0611: Unused import os (unused-import)

------------------------------------------------------------------
Your code has been rated at 9.25/10 (previous run: 10.00/10, -0.75)
"""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("report", "report_format", "modules"), [(JSON2_REPORT, "json2", 3), (TEXT_REPORT, "text", None)]
)
def test_a_lint_report_is_recorded_with_its_score_and_counts(tmp_path, report, report_format, modules):
    path = tmp_path / "pylint.out"
    path.write_text(report)
    out = StringIO()

    call_command("audit_record_lint", str(path), stdout=out)

    event = AuditEvent.objects.get()
    assert out.getvalue().strip() == "recorded lint event #1: pylint 9.25/10: 1 warning, 2 convention"
    assert (event.kind, event.outcome, event.actor) == ("lint", "error", "command:audit_record_lint")
    assert event.details["by_type"] == {
        "fatal": 0,
        "error": 0,
        "warning": 1,
        "refactor": 0,
        "convention": 2,
        "info": 0,
    }
    assert event.details["by_symbol"] == {"invalid-name": 1, "missing-module-docstring": 1, "unused-import": 1}
    assert (event.details["score"], event.details["messages"], event.details["modules"]) == (9.25, 3, modules)
    assert event.details["report_format"] == report_format


@pytest.mark.django_db
def test_a_clean_lint_report_from_stdin_is_ok(monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO("\n---\nYour code has been rated at 10.00/10\n"))

    call_command("audit_record_lint", stdout=StringIO())

    event = AuditEvent.objects.get()
    assert (event.outcome, event.message, event.details["score"]) == ("ok", "pylint 10.00/10: no messages", 10.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ("pylint crashed", "no 'rated at N/10' line: was pylint's score report turned off?"),
        ('{"messages": []}', "the JSON report has no statistics.score: use pylint's --output-format=json2"),
        ("[]", "the JSON report is not an object: use pylint's --output-format=json2"),
    ],
)
def test_an_unreadable_lint_report_is_a_clear_error_and_records_nothing(tmp_path, report, problem):
    path = tmp_path / "pylint.out"
    path.write_text(report)

    with pytest.raises(CommandError) as caught:
        call_command("audit_record_lint", str(path))

    assert str(caught.value) == f"cannot read the pylint report {path}: {problem}"
    assert not AuditEvent.objects.exists()
