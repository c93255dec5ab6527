"""The monitoring dashboard's reads: bounded queries over recent events, shaped for the charts.

Every query is bounded: by count (the last runs), by a sample (the latency percentiles) or
by time (events per hour reads the last seven days through the seq range they span), so
the page does not slow down as the history grows.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Func
from django.db.models.functions import Cast, Substr, TruncHour
from django.utils import timezone

from .models import AuditEvent, Kind, Outcome
from .selectors import events_between

HOURS_SHOWN = 7 * 24
LATENCY_DAYS = 14
LATENCY_SAMPLE = 5000
RUNS_SHOWN = 30
PERCENTILES = {"p50": 0.50, "p95": 0.95}


def _hour_of_event() -> Func:
    # SQLite's TruncHour calls a Python function per row; its stored UTC text
    # ("2026-11-26 10:43:00.000000") truncates to the hour with substr instead.
    if connection.vendor == "sqlite":
        return Substr(Cast("created_at", CharField()), 1, 13)
    return TruncHour("created_at", tzinfo=UTC)


def _as_hour(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
    return value


def events_per_hour(now: datetime) -> tuple[list[datetime], dict[str, list[int]]]:
    """Events per hour by outcome over the last seven days: the hours (UTC), and a count per hour per outcome."""
    first_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first_hour -= timedelta(hours=HOURS_SHOWN - 1)
    hours = [first_hour + timedelta(hours=i) for i in range(HOURS_SHOWN)]
    position = {hour: i for i, hour in enumerate(hours)}
    rows = (
        events_between(AuditEvent.objects.all(), first_hour, None)
        .annotate(hour=_hour_of_event())
        .values_list("hour", "outcome")
        .annotate(events=Count("id"))
        .order_by()
    )
    series: dict[str, list[int]] = {}
    for value, outcome, events in rows:
        hour = _as_hour(value)
        if hour in position:
            series.setdefault(outcome, [0] * HOURS_SHOWN)[position[hour]] += events
    ordered = {outcome: series[outcome] for outcome in Outcome.values if outcome in series}
    return hours, ordered


def nearest_rank(sorted_values: list[float], fraction: float) -> float:
    """The value at ``fraction`` of the sorted values, by the nearest-rank method."""
    return sorted_values[max(math.ceil(fraction * len(sorted_values)) - 1, 0)]


def fetch_latency_per_day(today: date) -> tuple[list[date], dict[str, list[float | None]]]:
    """The p50 and p95 fetch duration (ms) for each of the last fourteen days.

    Each day's percentiles come from its most recent LATENCY_SAMPLE fetches (all of them
    on a quiet day), so the cost stays flat however many fetches a day holds.
    """
    days = [today - timedelta(days=LATENCY_DAYS - 1 - i) for i in range(LATENCY_DAYS)]
    series: dict[str, list[float | None]] = {name: [] for name in PERCENTILES}
    for day in days:
        start = timezone.make_aware(datetime.combine(day, time.min))
        fetches = events_between(AuditEvent.objects.filter(kind=Kind.FETCH), start, start + timedelta(days=1))
        recent = fetches.order_by("-seq").values_list("duration_ms", flat=True)[:LATENCY_SAMPLE]
        durations = sorted(duration for duration in recent if duration is not None)
        for name, fraction in PERCENTILES.items():
            series[name].append(nearest_rank(durations, fraction) if durations else None)
    return days, series


def _recent(kind: str, limit: int = RUNS_SHOWN) -> list[AuditEvent]:
    """The newest events of one kind, oldest first, for charts that read left to right."""
    return list(reversed(AuditEvent.objects.filter(kind=kind).order_by("-seq")[:limit]))


@dataclass(frozen=True)
class RunPoint:
    """One run (sync, test run or lint) as a chart shows it."""

    event: AuditEvent
    status: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The run's time, short."""
        return f"{self.event.created_at:%m-%d %H:%M}"


def recent_syncs() -> list[RunPoint]:
    """The last syncs: duration, failures and how the catalog moved (added, changed, unpublished)."""
    points = []
    for event in _recent(Kind.SYNC):
        products = event.details.get("products", {})
        points.append(
            RunPoint(
                event,
                event.details.get("status", event.outcome),
                {
                    "duration_s": event.details.get("duration_s", (event.duration_ms or 0) / 1000),
                    "failures": len(event.details.get("failures", [])),
                    "added": products.get("created", 0),
                    "changed": products.get("updated", 0),
                    "unpublished": products.get("unpublished", 0),
                    "rejected": products.get("rejected", 0),
                },
            )
        )
    return points


def recent_test_runs() -> list[RunPoint]:
    """The last test runs, one point per run id; a run with only its ``started`` event was interrupted."""
    runs: dict[str, AuditEvent] = {}
    for event in _recent(Kind.TEST_RUN, limit=RUNS_SHOWN * 2):
        if event.outcome != Outcome.STARTED or event.run_id not in runs:
            runs[event.run_id] = event  # the completing event replaces its start
    points = []
    for event in list(runs.values())[-RUNS_SHOWN:]:
        counts = event.details.get("counts", {})
        status = "interrupted" if event.outcome == Outcome.STARTED else event.details.get("status", event.outcome)
        values = {"passed": counts.get("passed", 0), "failed": counts.get("failed", 0) + counts.get("error", 0)}
        points.append(RunPoint(event, status, values))
    return points


def lint_scores() -> list[RunPoint]:
    """The last pylint runs' scores."""
    return [RunPoint(event, event.outcome, {"score": event.details.get("score")}) for event in _recent(Kind.LINT)]


def recent_gates() -> list[RunPoint]:
    """The publish gate's last decisions: held or published, and each field's drift score."""
    decisions = AuditEvent.objects.filter(kind=Kind.GATE, outcome__in=[Outcome.OK, Outcome.HELD]).order_by("-seq")
    points = []
    for event in reversed(decisions[:RUNS_SHOWN]):
        fields = event.details.get("fields", {})
        values = {name: info.get("score") for name, info in fields.items()}
        points.append(RunPoint(event, event.details.get("decision", event.outcome), values))
    return points


def last_verification() -> AuditEvent | None:
    """The newest ``verify`` event (``verify_audit --record`` writes them)."""
    return AuditEvent.objects.filter(kind=Kind.VERIFY).order_by("-seq").first()
