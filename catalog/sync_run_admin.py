"""Sync runs in the admin: held runs first, their reasons, and their artifacts to download.

The profile and report downloads are the canonical JSON the audit record hashed, so
``sha256sum`` of a download equals the ``sha256`` on the run's ``gate`` event.
"""

import json
from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from .models import SyncRun
from .quality.report_html import render_report

ARTIFACTS = ("report.html", "report.json", "profile.json")


def canonical_json(artifact: dict[str, Any]) -> bytes:
    """An artifact as its sha256 was taken: sorted keys, no spaces, UTF-8."""
    return json.dumps(artifact, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Read-only: runs are written by syncs; people read reports and publish with --accept-drift."""

    list_display = ("run_id", "started_at", "status", "decision", "staged_products", "why", "accepted_by", "artifacts")
    list_filter = ("status", "decision", "complete_listing")
    search_fields = ("=run_id",)
    date_hierarchy = "started_at"
    exclude = ("profile", "report")
    readonly_fields = ("why", "artifacts", "audit_events")

    def get_urls(self) -> list[URLPattern]:
        artifact = self.admin_site.admin_view(self.artifact_view)
        return [path("<str:run_id>/<str:name>", artifact, name="catalog_syncrun_artifact"), *super().get_urls()]

    def artifact_view(self, request: HttpRequest, run_id: str, name: str) -> HttpResponse:
        """One artifact of a run: the HTML report inline, JSON as a download."""
        if name not in ARTIFACTS or not self.has_view_permission(request):
            raise Http404
        run = get_object_or_404(SyncRun, run_id=run_id)
        if not run.report:
            raise Http404("this run stopped before the publish gate")
        if name == "report.html":
            reference_id = run.report.get("reference", {}).get("run_id")
            reference = SyncRun.objects.filter(run_id=reference_id).values_list("profile", flat=True).first()
            page = render_report(
                report=run.report, profile=run.profile, reference=reference, report_sha256=run.report_sha256
            )
            return HttpResponse(page, content_type="text/html; charset=utf-8")
        artifact = run.report if name == "report.json" else run.profile
        # The exact bytes that were hashed, which JsonResponse would re-encode differently.
        response = HttpResponse(  # pylint: disable=http-response-with-content-type-json
            canonical_json(artifact), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="{run.run_id}-{name}"'
        return response

    @admin.display(description="why")
    def why(self, run: SyncRun) -> str:
        """The failed checks, one per line."""
        return format_html_join("", "<div>{}</div>", ((reason,) for reason in run.reasons)) or "-"

    @admin.display(description="artifacts")
    def artifacts(self, run: SyncRun) -> str:
        """Links to the report (HTML and JSON) and the profile."""
        if not run.report:
            return "-"
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((reverse("admin:catalog_syncrun_artifact", args=[run.run_id, name]), name) for name in ARTIFACTS),
        )

    @admin.display(description="audit trail")
    def audit_events(self, run: SyncRun) -> str:
        """The run's audit events."""
        return format_html(
            '<a href="{}?run_id={}">events</a>', reverse("admin:audit_auditevent_changelist"), run.run_id
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False
