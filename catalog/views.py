"""The catalog pages: parse the request, call a selector, render. Media files too, when asked to serve them."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_safe
from django.views.static import serve

from audit.context import new_run_id

from . import selectors
from .cache import cached_read, cached_value, keep_cached
from .charts import price_chart
from .forms import ProductFilterForm

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


def detail_content(request: HttpRequest, page: selectors.ProductPage) -> tuple[str, str]:
    """A product page's title and everything below the header."""
    chart = price_chart(page.price_points, until=page.product.last_synced_at)
    context = {"page": page, "product": page.product, "chart": chart}
    return page.product.title, render_to_string("catalog/_product_detail_content.html", context, request=request)


def render_detail(request: HttpRequest, title: str, content: str) -> HttpResponse:
    """The product page around its cached or fresh content."""
    return render(request, "catalog/product_detail.html", {"title": title, "content": mark_safe(content)})


@require_safe
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    """One product, read through from the source when it is missing or older than ``CATALOG_TTL``.

    A page shown from the stored copy is cached per catalog generation, so a repeated view
    reads no rows; a product that turns stale meanwhile is read through when the entry
    expires (``READ_TIMEOUT_SECONDS``). A page that read through is not cached.
    """
    if not 1 <= product_id <= MAX_PRODUCT_ID:
        raise Http404("No such product.")
    asked_for = (product_id, get_language(), request.user.is_staff)
    cached = cached_value("product-page", asked_for)
    if cached is not None:
        return render_detail(request, *cached)
    run_id = new_run_id()
    page = selectors.product_page(product_id=product_id, actor=actor_of(request), run_id=run_id)
    if page is None:
        raise Http404("No such product.")
    title_and_content = detail_content(request, page)
    response = render_detail(request, *title_and_content)
    if page.refreshed:
        # Finds the audit events of this page's read-through.
        response["X-Run-Id"] = run_id
    else:
        keep_cached("product-page", asked_for, title_and_content)
    return response


def media_file(request: HttpRequest, path: str) -> HttpResponse:
    """A stored file under MEDIA_ROOT, only when ``SERVE_MEDIA`` is on (development, browser tests)."""
    if not getattr(settings, "SERVE_MEDIA", settings.DEBUG):
        raise Http404("Media files are not served here.")
    return serve(request, path, document_root=settings.MEDIA_ROOT)
