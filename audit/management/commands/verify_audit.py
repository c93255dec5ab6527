"""``manage.py verify_audit``: walk the hash chain (or an export) and name the first event tampered with."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.manifest import verify_export
from audit.verification import describe, timed_verification


class Command(BaseCommand):
    """Exit 0 with the count and head hash when intact, exit 1 naming the first broken event or line."""

    help = "Verify the audit log's hash chain, or an export against its manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--record", action="store_true", help="also record the result as a `verify` event (the dashboard shows it)"
        )
        parser.add_argument("--export", type=Path, help="verify this JSON lines export instead of the database")
        parser.add_argument("--manifest", type=Path, help="the manifest audit_export wrote with the export")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"] or options["manifest"]:
            self._verify_export(options["export"], options["manifest"])
            return
        report, start = timed_verification(record=options["record"])
        if not report.intact:
            raise CommandError(describe(report, start), returncode=1)
        self.stdout.write(describe(report, start))

    def _verify_export(self, export: Path | None, manifest_path: Path | None) -> None:
        if export is None or manifest_path is None:
            raise CommandError("--export and --manifest go together")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError(f"{manifest_path} is not a JSON object")
            check = verify_export(export, manifest)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the export or its manifest: {error}") from error
        if not check.intact:
            raise CommandError(f"export does not match its manifest: {check.problem}", returncode=1)
        self.stdout.write(
            f"export intact: {check.count} events, #{manifest['first_seq']} to #{manifest['last_seq']}, "
            f"head {manifest['head_hash']}, sha256 {manifest['sha256']}"
        )
