"""``manage.py audit_export``: write audit events as JSON lines or CSV, with an optional manifest."""

import csv
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from audit.chain import canonical_time
from audit.manifest import EXPORT_FIELDS, ExportDigest, export_line
from audit.models import AuditEvent, Kind

CHUNK_SIZE = 2000


def parse_since(value: str) -> datetime:
    """An ISO 8601 date or time; a bare date means its midnight, naive times are UTC."""
    moment = parse_datetime(value) or parse_datetime(f"{value}T00:00:00")
    if moment is None:
        raise CommandError(f"--since wants an ISO 8601 date or time, got {value!r}")
    return make_aware(moment) if is_naive(moment) else moment


def event_row(event: AuditEvent) -> dict[str, Any]:
    """The event's exported fields, times in canonical UTC."""
    row = {name: getattr(event, name) for name in EXPORT_FIELDS}
    row["created_at"] = canonical_time(event.created_at)
    return row


class Command(BaseCommand):
    """Export events in sequence order, optionally filtered by kind, time and run."""

    help = "Write audit events to stdout or a file (jsonl or csv); --manifest also writes a manifest to verify it by."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
        parser.add_argument("--kind", choices=Kind.values, help="only events of this kind")
        parser.add_argument("--since", help="only events at or after this ISO 8601 time")
        parser.add_argument("--run", dest="run_id", help="only events of this run id")
        parser.add_argument("--output", type=Path, help="write the export to this file (UTF-8) instead of stdout")
        parser.add_argument(
            "--manifest", type=Path, help="also write a manifest (count, seq range, head hash, sha256) to this file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["manifest"] and options["format"] != "jsonl":
            raise CommandError("--manifest needs --format jsonl")
        events = AuditEvent.objects.order_by("seq")
        if options["kind"]:
            events = events.filter(kind=options["kind"])
        if options["since"]:
            events = events.filter(created_at__gte=parse_since(options["since"]))
        if options["run_id"]:
            events = events.filter(run_id=options["run_id"])
        rows = (event_row(event) for event in events.iterator(chunk_size=CHUNK_SIZE))
        if options["format"] == "csv":
            self._write_csv(rows)
            return
        digest = ExportDigest()
        if options["output"]:
            with open(options["output"], "wb") as output:
                for row in rows:
                    line = export_line(row)
                    output.write(line)
                    digest.add(row, line)
        else:
            for row in rows:
                line = export_line(row)
                self.stdout.write(line.decode(), ending="")
                digest.add(row, line)
        if options["manifest"]:
            filters = {name: options[name] for name in ("kind", "since", "run_id")}
            manifest = digest.manifest(filters=filters)
            options["manifest"].write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def _write_csv(self, rows: Iterable[dict[str, Any]]) -> None:
        writer = csv.DictWriter(self.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "details": json.dumps(row["details"], sort_keys=True)})
