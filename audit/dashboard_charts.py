"""The dashboard's sections: each chart drawn from one of the dashboard's bounded reads."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _  # called per request, in its language

from . import dashboard
from .charts import line_chart, stacked_bars

LATEST_TEST_RUNS_LISTED = 10


@dataclass(frozen=True)
class Section:
    """A titled chart, or a note when there is nothing to draw yet."""

    title: str
    chart: SafeString | None
    empty: str = ""


# Sections other apps add (the catalog's prices): audit draws them without importing those apps.
_extra_sections: list[Callable[[], Section]] = []


def register_section(build: Callable[[], Section]) -> None:
    """Add a section, drawn after audit's own, each time the dashboard is shown (call from ``ready()``)."""
    if build not in _extra_sections:
        _extra_sections.append(build)


def _events_per_hour(now: datetime) -> Section:
    hours, series = dashboard.events_per_hour(now)
    title = _("Events per hour by outcome, last 7 days")
    if not series:
        return Section(title, None, _("No events in the last 7 days."))
    return Section(title, stacked_bars([f"{hour:%m-%d %H:00}" for hour in hours], series, label=title))


def _fetch_latency(now: datetime) -> Section:
    days, series = dashboard.fetch_latency_per_day(now.date())
    title = _("Fetch latency per day (ms), p50 and p95")
    if all(value is None for values in series.values() for value in values):
        return Section(title, None, _("No fetches in the last 14 days."))
    return Section(title, line_chart([f"{day:%m-%d}" for day in days], series, label=title))


def _syncs(points: list[dashboard.RunPoint]) -> list[Section]:
    duration_title = _("Sync duration (s) and failures per run")
    drift_title = _("Catalog drift per sync: products added, changed, unpublished")
    if not points:
        return [Section(duration_title, None, _("No syncs yet.")), Section(drift_title, None, _("No syncs yet."))]
    labels = [f"{point.label} {point.status}" for point in points]
    duration = {name: [point.values[name] for point in points] for name in ("duration_s", "failures")}
    drift = {name: [point.values[name] for point in points] for name in ("added", "changed", "unpublished")}
    return [
        Section(duration_title, line_chart(labels, duration, label=duration_title)),
        Section(drift_title, stacked_bars(labels, drift, label=drift_title)),
    ]


def _gates(points: list[dashboard.RunPoint]) -> list[Section]:
    decisions_title = _("Publish gate: held and published syncs")
    drift_title = _("Drift per field over time (score: 1 = the threshold, above 1 drifted; capped at 10)")
    if not points:
        empty = _("No sync has reached the publish gate yet.")
        return [Section(decisions_title, None, empty), Section(drift_title, None, empty)]
    labels = [f"{point.label} {point.status}" for point in points]
    decisions = {status: [int(point.status == status) for point in points] for status in ("published", "held")}
    names = sorted({name for point in points for name in point.values})
    drift = {name: [point.values.get(name) for point in points] for name in names}
    sections = [Section(decisions_title, stacked_bars(labels, decisions, label=decisions_title))]
    if names:
        sections.append(Section(drift_title, line_chart(labels, drift, label=drift_title)))
    else:
        sections.append(Section(drift_title, None, _("No drift measured yet: the first sync has no reference.")))
    return sections


def _test_runs(points: list[dashboard.RunPoint]) -> Section:
    title = _("Test runs: passed and failed (interrupted runs have no bar)")
    if not points:
        return Section(title, None, _("No test runs yet."))
    labels = [f"{point.label} {point.status}" for point in points]
    series = {name: [point.values[name] for point in points] for name in ("passed", "failed")}
    return Section(title, stacked_bars(labels, series, label=title))


def _lint(points: list[dashboard.RunPoint]) -> Section:
    title = _("Pylint score over time")
    if not points:
        return Section(title, None, _("No lint runs yet: `make lint` records them."))
    labels = [point.label for point in points]
    return Section(title, line_chart(labels, {"score": [point.values["score"] for point in points]}, label=title))


def dashboard_context(now: datetime) -> dict[str, Any]:
    """The dashboard's sections in reading order, the latest test runs and the last verification."""
    test_runs = dashboard.recent_test_runs()
    return {
        "sections": [
            _events_per_hour(now),
            _fetch_latency(now),
            *_syncs(dashboard.recent_syncs()),
            *_gates(dashboard.recent_gates()),
            _test_runs(test_runs),
            _lint(dashboard.lint_scores()),
            *(build() for build in _extra_sections),
        ],
        "test_runs": test_runs[::-1][:LATEST_TEST_RUNS_LISTED],
        "verification": dashboard.last_verification(),
    }
