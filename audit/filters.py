"""Changelist filters for audit events that stay on indexes: status class and time range."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from .selectors import events_between, events_with_status_between

# Half-open ranges, so each status class is one range scan on the (status_code, seq) index.
STATUS_CLASSES = {
    "2xx": (200, 300, _("2xx success")),
    "3xx": (300, 400, _("3xx redirect")),
    "4xx": (400, 500, _("4xx client error")),
    "5xx": (500, 600, _("5xx server error")),
}
NO_STATUS = "none"
FIRST_YEAR, LAST_YEAR = 1970, 9000
PERIODS = {
    "1h": (timedelta(hours=1), _("Last hour")),
    "24h": (timedelta(hours=24), _("Last 24 hours")),
    "7d": (timedelta(days=7), _("Last 7 days")),
    "30d": (timedelta(days=30), _("Last 30 days")),
}


class StatusClassFilter(admin.SimpleListFilter):
    """2xx, 3xx, 4xx, 5xx or no status at all (downloads refused before a request, sync runs)."""

    title = _("status class")
    parameter_name = "status_class"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        choices: list[tuple[str, StrOrPromise]] = [(key, label) for key, (_low, _high, label) in STATUS_CLASSES.items()]
        return [*choices, (NO_STATUS, _("no status"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == NO_STATUS:
            return queryset.filter(status_code__isnull=True)
        if value in STATUS_CLASSES:
            low, high, _label = STATUS_CLASSES[value]
            return events_with_status_between(queryset, low, high)
        return queryset


def parse_moment(value: str) -> datetime:
    """An ISO 8601 time, or a date meaning its midnight; naive values are in the current time zone."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise IncorrectLookupParameters(f"not an ISO 8601 date or time: {value!r}")
        moment = datetime.combine(day, datetime.min.time())
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        # Far-off years would overflow the clock slack added around the range.
        raise IncorrectLookupParameters(f"out of range: {value!r}")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class TimeRangeFilter(admin.ListFilter):
    """Presets (last hour, 24 hours, 7 or 30 days), or ``since`` and ``until`` in the URL (the dashboard's links)."""

    title = _("time")
    template = "admin/filter.html"
    period_parameter, since_parameter, until_parameter = "period", "since", "until"

    def __init__(self, request: HttpRequest, params: dict[str, list[str]], model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        for name in self.expected_parameters():
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]

    def expected_parameters(self) -> list[str | None]:
        return [self.period_parameter, self.since_parameter, self.until_parameter]

    def has_output(self) -> bool:
        return True

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The chosen range as (since, until); either end may be open."""
        period = self.used_parameters.get(self.period_parameter)
        if period is not None:
            if period not in PERIODS:
                raise IncorrectLookupParameters(f"unknown period: {period!r}")
            return timezone.now() - PERIODS[period][0], None
        since = str(self.used_parameters.get(self.since_parameter) or "")
        until = str(self.used_parameters.get(self.until_parameter) or "")
        return (parse_moment(since) if since else None, parse_moment(until) if until else None)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        since, until = self.bounds()
        if since is None and until is None:
            return queryset
        return events_between(queryset, since, until)

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        used = self.used_parameters
        yield {
            "selected": not used,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": _("Any time"),
        }
        for key, (_delta, label) in PERIODS.items():
            yield {
                "selected": used.get(self.period_parameter) == key,
                "query_string": changelist.get_query_string(
                    {self.period_parameter: key}, remove=[self.since_parameter, self.until_parameter]
                ),
                "display": label,
            }
        if self.period_parameter not in used and used:
            since = used.get(self.since_parameter, "…")
            until = used.get(self.until_parameter, "…")
            yield {"selected": True, "query_string": changelist.get_query_string(), "display": f"{since} to {until}"}
