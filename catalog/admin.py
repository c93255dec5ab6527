"""Staff look after the catalog here; the one write they trigger is a refresh from the source."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from audit.admin_mixins import ReadOnlyAdminMixin
from audit.context import new_run_id
from audit.models import Kind, Outcome
from audit.services import record_event

from .models import Category, Product, ProductChange, ProductImage
from .services import product_refresh
from .sync_run_admin import SyncRunAdmin  # noqa: F401  # pylint: disable=unused-import  # registers itself


class ProductImageInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The product's images as stored, read-only: the sync owns them."""

    model = ProductImage
    extra = 0
    can_delete = False
    fields = ("kind", "position", "status", "format", "width", "height", "bytes", "sha256", "source_url", "checked_at")
    readonly_fields = fields


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Products with links to their audit trail and the "Refresh from DummyJSON" action."""

    list_display = ("id", "title", "category", "price", "stock", "is_published", "last_synced_at", "audit_events")
    list_filter = ("is_published", "category")
    search_fields = ("=id", "title", "brand", "sku")
    list_select_related = ("category",)
    readonly_fields = ("raw_sha256", "etag", "first_seen_at", "last_synced_at", "last_run_id", "audit_events")
    inlines = [ProductImageInline]
    actions = ["refresh_from_dummyjson"]

    @admin.display(description="audit trail")
    def audit_events(self, product: Product) -> str:
        """Links to the events about this product and to the run that last wrote it."""
        events = reverse("admin:audit_auditevent_changelist")
        link = format_html('<a href="{}?product_id={}">events</a>', events, product.id)
        if product.last_run_id:
            link += format_html(' · <a href="{}?run_id={}">last run</a>', events, product.last_run_id)
        return link

    @admin.action(description="Refresh from DummyJSON")
    def refresh_from_dummyjson(self, request, queryset) -> None:
        """Fetch each selected product again under one run id, with the admin user as actor."""
        actor, run_id = request.user.get_username(), new_run_id()
        refreshed, failed = [], []
        for product_id in queryset.values_list("id", flat=True):
            result = product_refresh(product_id=product_id, actor=actor, run_id=run_id)
            (refreshed if result.source_ok else failed).append(product_id)
        record_event(
            kind=Kind.ADMIN,
            outcome=Outcome.OK if not failed else Outcome.ERROR,
            actor=actor,
            run_id=run_id,
            message="Refresh from DummyJSON",
            details={"refreshed": refreshed, "failed": failed},
        )
        if refreshed:
            self.message_user(request, f"Refreshed {len(refreshed)} product(s) from DummyJSON.", messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                f"Could not refresh {', '.join(map(str, failed))}: the source did not answer.",
                messages.WARNING,
            )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """Categories as the source names them."""

    list_display = ("slug", "name")
    search_fields = ("slug", "name")


@admin.register(ProductChange)
class ProductChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Change history: read-only, it is the record of what each run changed."""

    list_display = ("changed_at", "product", "field", "old_value", "new_value", "run_id")
    list_filter = ("field",)
    search_fields = ("=run_id", "=product__id")
    list_select_related = ("product",)
