"""``manage.py audit_record_lint [REPORT]``: record a pylint run's score and message counts as a ``lint`` event."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from audit.context import run_context
from audit.lint_report import UnreadableReport, parse_lint_report
from audit.models import AuditEvent, Kind, Outcome
from audit.provenance import code_version, package_versions
from audit.services import record_event

DEFAULT_FAIL_UNDER = 10.0


class Command(BaseCommand):
    """Read pylint's json2 (or text) report from a file or stdin and append one ``lint`` event."""

    help = "Record pylint's score and message counts (from --output-format=json2 or text) as a lint audit event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report", nargs="?", default="-", help="pylint's report file; - (the default) for stdin")
        parser.add_argument(
            "--fail-under", type=float, default=DEFAULT_FAIL_UNDER, help="scores below this are recorded as errors"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["report"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
            report = parse_lint_report(text)
        except (OSError, UnreadableReport) as error:
            raise CommandError(f"cannot read the pylint report {source}: {error}") from error
        if AuditEvent._meta.db_table not in connection.introspection.table_names():
            raise CommandError("the database has no audit table yet: run python manage.py migrate")
        passed = report.score >= options["fail_under"]
        summary = ", ".join(f"{count} {name}" for name, count in report.by_type.items() if count) or "no messages"
        with run_context(actor="command:audit_record_lint"):
            event = record_event(
                kind=Kind.LINT,
                outcome=Outcome.OK if passed else Outcome.ERROR,
                message=f"pylint {report.score:.2f}/10: {summary}",
                details={
                    "score": report.score,
                    "fail_under": options["fail_under"],
                    "messages": report.messages,
                    "by_type": report.by_type,
                    "by_symbol": report.by_symbol,
                    "modules": report.modules,
                    "report_format": report.report_format,
                    "code_version": code_version(),
                    "versions": package_versions(("pylint", "pylint-django", "astroid")),
                },
            )
        self.stdout.write(f"recorded lint event #{event.seq}: {event.message}")
