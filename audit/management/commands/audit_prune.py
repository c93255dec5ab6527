"""``manage.py audit_prune --older-than DAYS``: delete old audit events behind a checkpoint."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.anchor_set import AnchorForged
from audit.anchor_store import AnchorStoreUnavailable
from audit.context import run_context
from audit.retention import DEFAULT_BATCH_SIZE, PruneRefused, prune_events
from audit.signing import KeyUnavailable


def positive_int(value: str) -> int:
    """A whole number above zero, for argparse."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    """Prune in batches; the checkpoint event keeps ``verify_audit`` passing and puts the prune on record."""

    help = "Delete audit events older than DAYS, leaving a checkpoint event that anchors the rest of the chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=positive_int, required=True, metavar="DAYS")
        parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        with run_context(actor="command:audit_prune"):
            try:
                result = prune_events(
                    older_than=timedelta(days=options["older_than"]), batch_size=options["batch_size"]
                )
            except (PruneRefused, AnchorForged) as error:
                raise CommandError(str(error), returncode=1) from error
            except (AnchorStoreUnavailable, KeyUnavailable) as error:
                raise CommandError(f"cannot prune: {error}", returncode=2) from error
        if result.checkpoint is None:
            self.stdout.write(f"nothing to prune: no event is older than {options['older_than']} days")
            return
        self.stdout.write(
            f"pruned {result.deleted} events (#{result.first_seq} to #{result.last_seq}); "
            f"checkpoint #{result.checkpoint.seq} anchors the rest of the chain"
        )
