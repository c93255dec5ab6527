"""Staff review the audit log in the admin, read-only for everyone, superusers included, on millions of rows."""

import contextlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Exists, OuterRef, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from .admin_mixins import ReadOnlyAdminMixin
from .dashboard_charts import dashboard_context
from .filters import StatusClassFilter, TimeRangeFilter
from .models import GENESIS_HASH, AuditEvent, Kind, Outcome
from .paginator import LookaheadPaginator
from .selectors import search_events

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts, _FieldsetSpec

# pytest's summary order; details come back with their keys sorted.
COUNT_ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
NO_END_RECORDED = _("started, no end recorded (interrupted or still running)")


EVENT_FIELDS = ("seq", "created_at", "kind", "outcome_label", "actor", "message")
REQUEST_FIELDS = ("method", "url", "status_code", "duration_ms", "bytes", "sha256", "attempt")
TRACE_FIELDS = ("run_events", "product_links", "rule", "chain_neighbours")
TEST_RUN_FIELDS = ("test_summary", "test_failures")
CHAIN_FIELDS = ("chain", "prev_hash", "hash")


def _changelist_url(**filters: object) -> str:
    return f"{reverse('admin:audit_auditevent_changelist')}?{urlencode(filters)}"


def _product_urls(product_id: int) -> list[tuple[str, StrOrPromise]]:
    """Where a product can be seen: its events, its page, and its admin page once the catalog registers one."""
    urls: list[tuple[str, StrOrPromise]] = [(_changelist_url(product_id=product_id), _("its events"))]
    try:
        urls.append((reverse("catalog:product_detail", args=[product_id]), _("product page")))
    except NoReverseMatch:
        urls.append((f"/products/{product_id}/", _("product page")))
    with contextlib.suppress(NoReverseMatch):
        urls.append((reverse("admin:catalog_product_change", args=[product_id]), _("product in the admin")))
    return urls


class NewestFirstChangeList(ChangeList):
    """Always newest first: the seq index serves that order, where sorting by another column sorts every row."""

    def get_ordering(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> list[str | Combinable]:
        return ["-seq"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Browse and inspect events; adding, changing and deleting are refused (403).

    Every filter, the search and the default ordering (-seq) are served by indexes, and
    no page counts the table: the paginator reads one row past the page instead.
    """

    list_display = (
        "seq",
        "created_at",
        "kind",
        "outcome_label",
        "status_code",
        "method",
        "url",
        "duration_ms",
        "product",
        "run",
        "actor",
    )
    list_filter = ("kind", "outcome", StatusClassFilter, TimeRangeFilter)
    # Shown for the search box; get_search_results runs them as exact run id or URL prefix.
    search_fields = ("=run_id", "^url")
    search_help_text = _("An exact run id, or the start of a URL (https://…), case-sensitive.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()  # sorting by any other column would sort millions of rows
    list_per_page = 50
    list_max_show_all = 0  # "show all" would load the whole table
    paginator = LookaheadPaginator
    actions = None
    readonly_fields = (*EVENT_FIELDS, *REQUEST_FIELDS, *TRACE_FIELDS, *TEST_RUN_FIELDS, "pretty_details", *CHAIN_FIELDS)

    def get_fieldsets(self, request: HttpRequest, obj: AuditEvent | None = None) -> "_FieldsetSpec":
        trace: tuple[str, ...] = ("run_events", "product_links", "chain_neighbours")
        if obj is not None and obj.kind == Kind.VALIDATION:
            trace = ("rule", *trace)
        fieldsets: list[tuple[StrOrPromise | None, _FieldOpts]] = [
            (None, {"fields": EVENT_FIELDS}),
            (_("Request"), {"fields": REQUEST_FIELDS}),
            (_("Traceability"), {"fields": trace}),
        ]
        if obj is not None and obj.kind == Kind.TEST_RUN:
            fieldsets.append((_("Test run"), {"fields": TEST_RUN_FIELDS}))
        fieldsets += [(_("Details"), {"fields": ("pretty_details",)}), (_("Hash chain"), {"fields": CHAIN_FIELDS})]
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        # Only a started event asks whether its run ended: one index probe per shown row.
        ended = AuditEvent.objects.filter(run_id=OuterRef("run_id"), kind=OuterRef("kind"), seq__gt=OuterRef("seq"))
        events: QuerySet[AuditEvent] = super().get_queryset(request)
        return events.annotate(
            run_ended=Case(
                When(outcome=Outcome.STARTED, then=Exists(ended)), default=Value(True), output_field=BooleanField()
            )
        )

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return NewestFirstChangeList

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        return search_events(queryset, search_term), False

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[AuditEvent],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> LookaheadPaginator:
        try:
            page_number = int(request.GET.get("p", 1))
        except ValueError:
            page_number = 1
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, page_number=page_number)

    def get_urls(self) -> list[URLPattern]:
        dashboard_view = self.admin_site.admin_view(self.dashboard_view)
        return [path("dashboard/", dashboard_view, name="audit_auditevent_dashboard"), *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        """The monitoring dashboard: charts of recent activity and the last chain verification."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **dashboard_context(timezone.now()),
            "title": _("Audit dashboard"),
            "opts": self.model._meta,
            "changelist_url": reverse("admin:audit_auditevent_changelist"),
        }
        return TemplateResponse(request, "admin/audit/dashboard.html", context)

    @admin.display(description=_("outcome"))
    def outcome_label(self, event: AuditEvent) -> StrOrPromise:
        """The outcome; a start without an end says so."""
        if event.outcome == Outcome.STARTED and not getattr(event, "run_ended", True):
            return NO_END_RECORDED
        return event.get_outcome_display()

    @admin.display(description=_("product"))
    def product(self, event: AuditEvent) -> str:
        """The product id, linking to the product's events."""
        if event.product_id is None:
            return "-"
        return format_html('<a href="?{}">{}</a>', urlencode({"product_id": event.product_id}), event.product_id)

    @admin.display(description=_("run"))
    def run(self, event: AuditEvent) -> str:
        """The run id, shortened, linking to all of the run's events."""
        return format_html(
            '<a href="?{}" title="{}">{}…</a>', urlencode({"run_id": event.run_id}), event.run_id, event.run_id[:8]
        )

    @admin.display(description=_("run"))
    def run_events(self, event: AuditEvent) -> str:
        """A link to every event of the same run."""
        return format_html(
            '<a href="{}">{} ({})</a>', _changelist_url(run_id=event.run_id), _("all its events"), event.run_id
        )

    @admin.display(description=_("product"))
    def product_links(self, event: AuditEvent) -> str:
        """Links to the product's events and pages."""
        if event.product_id is None:
            return "-"
        links = format_html_join(" · ", '<a href="{}">{}</a>', _product_urls(event.product_id))
        return format_html("#{} — {}", event.product_id, links)

    @admin.display(description=_("rule"))
    def rule(self, event: AuditEvent) -> str:
        """The validation rule the product broke."""
        return str(event.details.get("rule", "-"))

    @admin.display(description=_("in the chain"))
    def chain_neighbours(self, event: AuditEvent) -> str:
        """Links to the events just before and after this one in its writer's chain."""
        chain = AuditEvent.objects.filter(chain=event.chain)
        previous = chain.filter(seq__lt=event.seq).order_by("-seq").values_list("seq", "pk").first()
        following = chain.filter(seq__gt=event.seq).order_by("seq").values_list("seq", "pk").first()
        if previous is not None:
            before = self._neighbour_link(_("previous"), *previous)
        elif event.prev_hash == GENESIS_HASH:
            before = format_html("{}", _("the first event"))
        else:
            before = format_html("{} {}", _("previous"), _("pruned"))
        after = self._neighbour_link(_("next"), *following) if following else format_html("{}", _("the newest event"))
        return format_html("{} · {}", before, after)

    @staticmethod
    def _neighbour_link(label: StrOrPromise, seq: int, primary_key: int) -> str:
        url = reverse("admin:audit_auditevent_change", args=[primary_key])
        return format_html('<a href="{}">{} #{}</a>', url, label, seq)

    @admin.display(description=_("summary"))
    def test_summary(self, event: AuditEvent) -> StrOrPromise:
        """Status, counts, duration and the code the run tested."""
        details = event.details
        if event.outcome == Outcome.STARTED:
            return NO_END_RECORDED if not getattr(event, "run_ended", True) else _("started; see the run's events")
        counts = details.get("counts", {})
        ordered = sorted(
            counts, key=lambda name: (COUNT_ORDER.index(name) if name in COUNT_ORDER else len(COUNT_ORDER), name)
        )
        summary = ", ".join(f"{counts[name]} {name}" for name in ordered if counts[name])
        code = details.get("code_version", {})
        return format_html(
            "{} — {} — {}s — exit status {} — commit {}{}",
            details.get("status", event.outcome),
            summary or _("no tests"),
            details.get("duration_s", "?"),
            details.get("exit_status", "?"),
            code.get("commit", "?"),
            _(" (dirty tree)") if code.get("dirty") else "",
        )

    @admin.display(description=_("failures"))
    def test_failures(self, event: AuditEvent) -> str:
        """The failed tests, each with its one-line reason."""
        failures = event.details.get("failures", [])
        if not failures:
            return "-"
        items = format_html_join(
            "", "<li><code>{}</code> ({}): {}</li>", ((f["nodeid"], f["when"], f["reason"]) for f in failures)
        )
        return format_html('<ul class="audit-failures">{}</ul>', items)

    @admin.display(description=_("details"))
    def pretty_details(self, event: AuditEvent) -> str:
        """The details JSON, indented for reading."""
        return format_html("<pre>{}</pre>", json.dumps(event.details, indent=2, sort_keys=True))

    # Viewing follows Django's own rule: the audit.view_auditevent permission (superusers have it).
