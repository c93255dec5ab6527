"""``manage.py catalog_expectations``: write or check the golden-records file every sync checks.

``--init`` writes one from the published catalog: the first product of each category, with
its title, category and brand exact and its price and rating within sensible ranges.
Without ``--init`` the file is read (a broken file is an error naming its line) and the
published catalog is checked against it. Exit codes: 0 fine, 1 failures, 2 bad file or input.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog import conf
from catalog.models import Product
from catalog.quality.expectations import ExpectationsError, golden_failures, load_expectations, write_expectations


def golden_candidates() -> list[dict[str, Any]]:
    """The first published product of each category, as payloads (raw, as received)."""
    firsts: dict[str, dict[str, Any]] = {}
    for raw in Product.objects.published().order_by("id").values_list("raw", flat=True).iterator(chunk_size=500):
        firsts.setdefault(raw.get("category"), raw)
    return sorted(firsts.values(), key=lambda raw: raw["id"])


class Command(BaseCommand):
    """Write (--init) or check the golden-records file."""

    help = "Write (--init) or check the golden-records file (CATALOG_EXPECTATIONS_FILE) every sync checks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--init", action="store_true", help="write the file from the published catalog")
        parser.add_argument("--file", help="the file to write or check (default: CATALOG_EXPECTATIONS_FILE)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]) if options["file"] else conf.expectations_file()
        if path is None:
            raise CommandError("CATALOG_EXPECTATIONS_FILE is empty: name a file with --file", returncode=2)
        if options["init"]:
            self._init(path)
            return
        try:
            records = load_expectations(path)
        except ExpectationsError as error:
            raise CommandError(str(error), returncode=2) from None
        products = {
            raw["id"]: raw
            for raw in Product.objects.published().filter(id__in=[r.id for r in records]).values_list("raw", flat=True)
        }
        problems = golden_failures(records, products, require_all=True)
        for problem in problems:
            self.stderr.write(f"  {problem}")
        if problems:
            raise CommandError(f"{len(problems)} golden check(s) fail against the published catalog", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{path}: {len(records)} golden products, all pass"))

    def _init(self, path: Path) -> None:
        candidates = golden_candidates()
        if not candidates:
            raise CommandError("the catalog has no published products: run sync_products first", returncode=2)
        try:
            write_expectations(path, candidates)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}", returncode=2) from None
        self.stdout.write(self.style.SUCCESS(f"wrote {len(candidates)} golden products to {path}"))
