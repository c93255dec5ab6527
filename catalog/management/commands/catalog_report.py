"""``manage.py catalog_report [--run RUN_ID] [--format json|html]``: the publish gate's report on a sync.

``json`` prints the report object (``run_id``, ``decision``, ``reasons``, ``fields``, ``schema``
and more); ``html`` prints a self-contained page (inline SVG, no JavaScript). Without
``--run`` it reports the latest sync that reached the gate. Exit 2 for an unknown run.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.models import SyncRun
from catalog.quality.report_html import render_report


def report_run(run_id: str | None) -> SyncRun:
    """The run to report on: the named one, or the latest with a report."""
    runs = SyncRun.objects.exclude(report={})
    if run_id is None:
        latest: SyncRun | None = runs.first()
        if latest is None:
            raise CommandError("no sync has reached the publish gate yet: run sync_products first", returncode=2)
        return latest
    run: SyncRun | None = SyncRun.objects.filter(run_id=run_id).first()
    if run is None:
        raise CommandError(f"unknown run {run_id!r}: no sync run has that id", returncode=2)
    if not run.report:
        raise CommandError(
            f"run {run_id!r} stopped before the publish gate ({run.status}): it has no report", returncode=2
        )
    return run


def reference_of(run: SyncRun) -> dict[str, Any] | None:
    """The profile the run was compared with, when it is stored (a run's, not the live catalog's)."""
    reference_id = run.report.get("reference", {}).get("run_id")
    return (
        SyncRun.objects.filter(run_id=reference_id).values_list("profile", flat=True).first() if reference_id else None
    )


class Command(BaseCommand):
    """Print a sync's data-quality report as JSON or HTML."""

    help = "Print the publish gate's report on a sync (default: the latest) as JSON or self-contained HTML."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run", metavar="RUN_ID", help="the sync's run id (default: the latest sync)")
        parser.add_argument("--format", choices=("json", "html"), default="json", help="json (default) or html")

    def handle(self, *args: Any, **options: Any) -> None:
        run = report_run(options["run"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(run.report, indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            render_report(
                report=run.report, profile=run.profile, reference=reference_of(run), report_sha256=run.report_sha256
            ),
            ending="",
        )
