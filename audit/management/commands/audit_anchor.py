"""``manage.py audit_anchor``: sign the committed events no anchor covers yet (writers that ended between anchors)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.anchor_set import AnchorForged
from audit.anchor_store import AnchorStoreUnavailable
from audit.signing import KeyUnavailable
from audit.sweep import anchor_uncovered


def positive_seconds(value: str) -> float:
    """A number of seconds above zero, for argparse."""
    seconds = float(value)
    if seconds <= 0:
        raise ValueError(value)
    return seconds


class Command(BaseCommand):
    """Exit 0 with what was signed; 1 when an anchor in the store is forged; 2 when the store or key is unusable."""

    help = (
        "Sign, in new anchors, every audit event older than --older-than seconds that no anchor covers yet: "
        "the last events of writers that exited or were killed before their next anchor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=positive_seconds,
            default=60.0,
            metavar="SECONDS",
            help="only events at least this old (default 60): younger ones are their writers' to sign",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sweep = anchor_uncovered(older_than=timedelta(seconds=options["older_than"]))
        except AnchorForged as error:
            raise CommandError(f"{error}; run verify_audit", returncode=1) from error
        except (AnchorStoreUnavailable, KeyUnavailable) as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(f"signed {sweep.signed} events no anchor covered, in {len(sweep.anchors)} anchors")
