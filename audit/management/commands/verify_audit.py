"""``manage.py verify_audit``: walk the hash chain and name the first event that was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_chain
from audit.models import AuditEvent

CHUNK_SIZE = 2000


class Command(BaseCommand):
    """Exit 0 with the count and head hash when intact, exit 1 naming the first broken event."""

    help = "Verify the audit log's hash chain."

    def handle(self, *args, **options):
        events = AuditEvent.objects.order_by("seq").iterator(chunk_size=CHUNK_SIZE)
        try:
            report = verify_chain(events)
        finally:
            events.close()  # release the cursor now, even when the walk stopped early
        if not report.intact:
            raise CommandError(f"audit chain broken at event #{report.broken_seq}: {report.problem}", returncode=1)
        self.stdout.write(f"audit chain intact: {report.count} events, head {report.head_hash}")
