"""Staff review the audit log in the admin, read-only for everyone, superusers included."""

import json

from django.contrib import admin
from django.utils.html import format_html

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Browse and inspect events; adding, changing and deleting are refused (403)."""

    list_display = (
        "seq",
        "created_at",
        "kind",
        "outcome",
        "status_code",
        "method",
        "url",
        "duration_ms",
        "product_id",
        "run_id",
        "actor",
    )
    list_filter = ("kind", "outcome")
    search_fields = ("=run_id", "^url")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("pretty_details",)
    exclude = ("details",)

    @admin.display(description="details")
    def pretty_details(self, event: AuditEvent) -> str:
        """The details JSON, indented for reading."""
        return format_html("<pre>{}</pre>", json.dumps(event.details, indent=2, sort_keys=True))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff
