"""The catalog pages: parse the request, call a selector, render. Media files too, when asked to serve them."""

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.static import serve

from audit.context import new_run_id

from . import selectors
from .charts import price_chart
from .forms import ProductFilterForm

MAX_PRODUCT_ID = 2**31 - 1  # the largest id the database column holds
ANONYMOUS_ACTOR = "anonymous"


def actor_of(request: HttpRequest) -> str:
    """Who a read-through is done for, as audit events name them."""
    return request.user.get_username() if request.user.is_authenticated else ANONYMOUS_ACTOR


@require_safe
def product_list(request: HttpRequest) -> HttpResponse:
    """The product grid: search, filters, sorting and pages. Reads the database only, never the source."""
    form = ProductFilterForm(request.GET)
    form.is_valid()  # invalid fields are shown with their error and left out of the filters
    filters = form.filters()
    listing = selectors.product_listing(filters=filters, page_number=request.GET.get("page"))
    form.set_choices(categories=[(item.slug, item.name) for item in listing.categories], brands=listing.brands)
    page = listing.page
    return render(
        request,
        "catalog/product_list.html",
        {
            "form": form,
            "filters": filters,
            "listing": listing,
            "page_obj": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            "is_filtered": filters != selectors.ProductFilters(sort=filters.sort),
        },
    )


@require_safe
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """One product, read through from the source when it is missing or older than ``CATALOG_TTL``."""
    if not 1 <= product_id <= MAX_PRODUCT_ID:
        raise Http404("No such product.")
    run_id = new_run_id()
    page = selectors.product_page(product_id=product_id, actor=actor_of(request), run_id=run_id)
    if page is None:
        raise Http404("No such product.")
    chart = price_chart(page.price_points, until=page.product.last_synced_at)
    response = render(request, "catalog/product_detail.html", {"page": page, "product": page.product, "chart": chart})
    if page.refreshed:
        # Finds the audit events of this page's read-through.
        response["X-Run-Id"] = run_id
    return response


def media_file(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    """A stored file under MEDIA_ROOT, only when ``SERVE_MEDIA`` is on (development, browser tests)."""
    if not getattr(settings, "SERVE_MEDIA", settings.DEBUG):
        raise Http404("Media files are not served here.")
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))
