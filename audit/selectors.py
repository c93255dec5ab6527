"""Reads for the admin changelist that stay on indexes: time ranges as seq ranges, run id and URL prefix search."""

from datetime import datetime, timedelta

from django.db import connections
from django.db.models import ExpressionWrapper, F, IntegerField, QuerySet
from django.db.models.functions import Substr

from .models import AuditEvent

# record_event stamps created_at as it appends, and a writer uses a seq within a second of
# drawing it (audit/append.py), so time grows with seq to within a second. The slack covers
# that and a wall clock stepped back; the exact time filter still applies on top.
CLOCK_SLACK = timedelta(minutes=10)
# Above every character, so prefix + this bounds every string that starts with prefix.
LAST_CHARACTER = "\U0010ffff"
# A filter matching at least one stored event in DENSITY_DIVISOR finds a 50-row page
# within about 20,000 rows by walking the seq index newest first; a sparser one is better
# served by its own index and a sort of the few rows it matches. Counting up to the
# threshold reads that index only.
DENSITY_DIVISOR = 400
MIN_DENSE_MATCHES = 200


def events_between(
    events: QuerySet[AuditEvent], since: datetime | None, until: datetime | None
) -> QuerySet[AuditEvent]:
    """Events from ``since`` (included) to ``until`` (excluded), bounded by seq so the newest-first scan stays short.

    Two index probes on created_at turn the times into a seq range; the changelist then
    walks the seq index inside that range instead of the whole table.
    """
    by_time = AuditEvent.objects.using(events.db).order_by()
    if since is not None:
        # seq breaks ties between events stamped with the same microsecond.
        low = (
            by_time.filter(created_at__gte=since - CLOCK_SLACK).order_by("created_at", "seq").values_list("seq").first()
        )
        if low is None:
            return events.none()
        events = events.filter(created_at__gte=since, seq__gte=low[0])
    if until is not None:
        high = (
            by_time.filter(created_at__lt=until + CLOCK_SLACK)
            .order_by("-created_at", "-seq")
            .values_list("seq")
            .first()
        )
        if high is None:
            return events.none()
        events = events.filter(created_at__lt=until, seq__lte=high[0])
    return events


def stored_events(events: QuerySet[AuditEvent]) -> int:
    """How many events are stored, from the ends of the seq index: the chain has no gaps."""
    seqs = AuditEvent.objects.using(events.db).order_by("seq").values_list("seq", flat=True)
    first = seqs.first()
    last = seqs.last()
    return 0 if first is None or last is None else last - first + 1


def is_dense(matching: QuerySet[AuditEvent]) -> bool:
    """Whether enough events match that walking newest first finds a page sooner than sorting the matches."""
    threshold = max(stored_events(matching) // DENSITY_DIVISOR, MIN_DENSE_MATCHES)
    return matching.order_by().values("pk")[:threshold].count() >= threshold


def events_with_status_between(events: QuerySet[AuditEvent], low: int, high: int) -> QuerySet[AuditEvent]:
    """Events with ``low <= status_code < high``, planned for a common or a rare status class."""
    matching = events.filter(status_code__gte=low, status_code__lt=high)
    if not is_dense(matching):
        return matching
    # "+ 0" hides the status index, so the planner walks seq instead of sorting every match.
    unindexed = ExpressionWrapper(F("status_code") + 0, output_field=IntegerField())
    return events.alias(unindexed_status=unindexed).filter(unindexed_status__gte=low, unindexed_status__lt=high)


def looks_like_url(term: str) -> bool:
    """Whether a search term is a URL prefix rather than a run id."""
    return "://" in term or term.startswith("/")


def events_with_url_prefix(events: QuerySet[AuditEvent], prefix: str) -> QuerySet[AuditEvent]:
    """Events whose URL starts with ``prefix``, case-sensitively, planned for a common or a rare prefix."""
    matching = events.filter(url__startswith=prefix)
    if connections[events.db].vendor != "postgresql":
        # SQLite's LIKE ignores case and never uses a plain index; a range on the
        # binary-ordered index does both. PostgreSQL serves LIKE from its pattern_ops index.
        matching = matching.filter(url__gte=prefix, url__lt=prefix + LAST_CHARACTER)
    if not is_dense(matching):
        return matching
    # Comparing the URL's first characters uses no index, so the planner walks seq.
    return events.alias(url_start=Substr("url", 1, len(prefix))).filter(url_start=prefix)


def search_events(events: QuerySet[AuditEvent], term: str) -> QuerySet[AuditEvent]:
    """The changelist search: a URL prefix when the term looks like a URL, else an exact run id."""
    term = term.strip()
    if not term:
        return events
    if looks_like_url(term):
        return events_with_url_prefix(events, term)
    return events.filter(run_id=term)
