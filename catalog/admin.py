"""Staff look after the catalog here; the one write they trigger is a refresh from the source, run by a worker."""

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html

from audit.admin_mixins import ReadOnlyAdminMixin

from .models import Category, Product, ProductChange, ProductImage, ProductRefresh, RefreshState
from .refreshes import products_refresh_request
from .sync_run_admin import SyncRunAdmin  # noqa: F401  # pylint: disable=unused-import  # registers itself


class ProductImageInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """The product's images as stored, read-only: the sync owns them."""

    model = ProductImage
    extra = 0
    can_delete = False
    fields = ("kind", "position", "status", "format", "width", "height", "bytes", "sha256", "source_url", "checked_at")
    readonly_fields = fields


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Products with links to their audit trail and the "Refresh from DummyJSON" action."""

    list_display = (
        "id",
        "title",
        "category",
        "price",
        "stock",
        "is_published",
        "last_synced_at",
        "refresh_state",
        "audit_events",
    )
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        # The latest refresh of each row in the same query: the list shows where each one stands.
        latest = ProductRefresh.objects.filter(product_id=OuterRef("pk"))
        products: QuerySet[Product] = super().get_queryset(request)
        return products.annotate(
            refresh_state_value=Subquery(latest.values("state")[:1]),
            refresh_requested_at=Subquery(latest.values("requested_at")[:1]),
        )

    @admin.display(description="refresh")
    def refresh_state(self, product: Product) -> str:
        """Queued, running, done or failed: the latest refresh, as the worker left it."""
        # Both are annotations get_queryset adds.
        state = getattr(product, "refresh_state_value", None)
        requested_at = getattr(product, "refresh_requested_at", None)
        if state is None or requested_at is None:
            return "-"
        return f"{RefreshState(state).label} ({date_format(requested_at, 'DATETIME_FORMAT')})"

    @admin.action(description="Refresh from DummyJSON", permissions=["change"])
    def refresh_from_dummyjson(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        """Queue one refresh of the selected products for a worker, under one run id; returns at once."""
        product_ids = list(queryset.values_list("id", flat=True))
        run_id = products_refresh_request(product_ids=product_ids, actor=request.user.get_username())
        events = reverse("admin:audit_auditevent_changelist")
        self.message_user(
            request,
            format_html(
                'Queued a refresh of {} product(s) from DummyJSON; a worker runs it and the "refresh" column '
                'shows where it stands. <a href="{}?run_id={}">Its audit events</a>.',
                len(product_ids),
                events,
                run_id,
            ),
            messages.SUCCESS,
        )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Categories as the source names them."""

    list_display = ("slug", "name")
    search_fields = ("slug", "name")


@admin.register(ProductChange)
class ProductChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Change history: read-only, it is the record of what each run changed."""

    list_display = ("changed_at", "product", "field", "old_value", "new_value", "run_id")
    list_filter = ("field",)
    search_fields = ("=run_id", "=product__id")
    list_select_related = ("product",)


@admin.register(ProductRefresh)
class ProductRefreshAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Refreshes asked for by page views and staff, as the workers left them: read-only."""

    list_display = ("product_id", "state", "requested_at", "requested_by", "finished_at", "run_id")
    list_filter = ("state",)
    search_fields = ("=product_id", "=run_id")
