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

from audit.anchor_store import AnchorStoreUnavailable
from audit.anchors import anchor_run_end
from audit.chain import canonical_time
from audit.manifest import EXPORT_FIELDS, ExportDigest, export_line, sign_manifest
from audit.models import AuditEvent, Kind
from audit.signing import KeyUnavailable, default_signer

CHUNK_SIZE = 2000
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The cell, with a leading quote when a spreadsheet would take its text for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


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
        try:
            # An export ends a run: anchor first, so what it exports is anchored; the signer is checked up front.
            signer = default_signer() if options["manifest"] else None
            anchor_run_end(reason="export")
        except (AnchorStoreUnavailable, KeyUnavailable) as error:
            raise CommandError(f"cannot sign or anchor the export: {error}", returncode=2) from error
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
            assert signer is not None  # made above whenever a manifest is asked for
            manifest = sign_manifest(digest.manifest(filters=filters), signer)
            options["manifest"].write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def _write_csv(self, rows: Iterable[dict[str, Any]]) -> None:
        # RFC 4180's CRLF: with it, the writer also quotes a cell holding a lone CR.
        writer = csv.DictWriter(self.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            cells = {**row, "details": json.dumps(row["details"], sort_keys=True)}
            writer.writerow({name: spreadsheet_safe(value) for name, value in cells.items()})
