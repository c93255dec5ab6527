"""The catalog pages: parse the request, call a selector, render. Media files too, when asked to serve them."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe
from django.views.static import serve

from . import refreshes, selectors
from .cache import cached_read
from .charts import price_chart
from .forms import ProductFilterForm
from .models import Product
from .storage import resolves_inside

MAX_PRODUCT_ID = 2**31 - 1  # the largest id the database column holds
ANONYMOUS_ACTOR = "anonymous"


def actor_of(request: HttpRequest) -> str:
    """Who a read-through is done for, as audit events name them."""
    return request.user.get_username() if request.user.is_authenticated else ANONYMOUS_ACTOR


def list_content(request: HttpRequest, form: ProductFilterForm, filters: selectors.ProductFilters) -> str:
    """The list page below the header: filters, category counts, cards and page links."""
    listing = selectors.product_listing(filters=filters, page_number=request.GET.get("page"))
    form.set_choices(categories=[(item.slug, item.name) for item in listing.categories], brands=listing.brands)
    page = listing.page
    context = {
        "form": form,
        "filters": filters,
        "listing": listing,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "is_filtered": filters != selectors.ProductFilters(sort=filters.sort),
    }
    return render_to_string("catalog/_product_list_content.html", context, request=request)


@require_safe
def product_list(request: HttpRequest) -> HttpResponse:
    """The product grid: search, filters, sorting and pages. Reads the database only, never the source.

    The part below the header is the same for everyone who asks for the same thing in the same
    language, so it is cached per catalog generation: a repeated page reads no catalog rows.
    """
    form = ProductFilterForm(request.GET)
    form.is_valid()  # invalid fields are shown with their error and left out of the filters
    filters = form.filters()
    asked_for = (get_language(), sorted(request.GET.lists()))
    content = cached_read("list-page", asked_for, lambda: list_content(request, form, filters))
    return render(request, "catalog/product_list.html", {"filters": filters, "content": mark_safe(content)})


def detail_content(request: HttpRequest, product: Product) -> tuple[str, str]:
    """A stored product's page title and everything below the header."""
    page = selectors.product_page(product=product)
    chart = price_chart(page.price_points, until=product.last_synced_at)
    context = {"page": page, "product": product, "chart": chart}
    return product.title, render_to_string("catalog/_product_detail_content.html", context, request=request)


def cached_detail_content(request: HttpRequest, product: Product) -> tuple[str, str]:
    """``detail_content``; for a fresh product kept per catalog generation, its sync time and the
    reader's language and staff status, so a repeated view reads one row. A stale page says how
    old it is and where its refresh stands, which changes by the minute: never kept."""
    if selectors.is_stale(product):
        return detail_content(request, product)
    asked_for = (product.id, product.last_synced_at, get_language(), request.user.is_staff)
    return cached_read("product-page", asked_for, lambda: detail_content(request, product))


@require_safe
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """One product from the stored copy, at once; a missing or stale one has a refresh queued, never awaited."""
    if not 1 <= product_id <= MAX_PRODUCT_ID:
        raise Http404("No such product.")
    product = selectors.stored_product(product_id)
    run_id = None
    if product is None or selectors.is_stale(product):
        run_id = refreshes.product_refresh_request(product_id=product_id, actor=actor_of(request))
    if product is None:
        response = not_in_catalog(request, product_id)
    elif not product.is_published:
        raise Http404("No such product.")
    else:
        title, content = cached_detail_content(request, product)
        response = render(request, "catalog/product_detail.html", {"title": title, "content": mark_safe(content)})
    if run_id:
        # Finds the audit events of the refresh this view queued, once a worker has run it.
        response["X-Run-Id"] = run_id
    return response


def not_in_catalog(request: HttpRequest, product_id: int) -> HttpResponse:
    """A 404 that says the product is not stored yet and whether the source has been asked for it."""
    context = {"product_id": product_id, "refresh": selectors.latest_refresh(product_id)}
    response = render(request, "catalog/product_pending.html", context, status=404)
    response["Cache-Control"] = "no-store"
    return response


def media_file(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    """A stored file under MEDIA_ROOT, only when ``SERVE_MEDIA`` is on (development, browser tests)."""
    if not getattr(settings, "SERVE_MEDIA", settings.DEBUG):
        raise Http404("Media files are not served here.")
    if not resolves_inside(Path(settings.MEDIA_ROOT) / path, settings.MEDIA_ROOT):
        # As Django answers "../" in the path (400): a symlink out of MEDIA_ROOT is refused too.
        raise SuspiciousFileOperation(f"{path!r} resolves outside the media root")
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))
