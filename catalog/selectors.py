"""Reads for the catalog pages: the filtered product list with its facets, and one product page.

Only reads: a page that needs fresher data asks ``catalog.refreshes`` to queue the work.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from . import conf
from .cache import cached_read
from .charts import PricePoint
from .models import Category, ImageKind, ImageStatus, Product, ProductImage, ProductRefresh, RefreshState, Review
from .validation import search_text

PAGE_SIZE = 24
MAX_SEARCH_TERMS = 8
# Every ordering ends with the id, so equal prices or ratings page in a stable order.
ORDERINGS: dict[str, tuple[Any, ...]] = {
    "": ("id",),
    "price": ("final_price", "id"),
    "-price": ("-final_price", "id"),
    "rating": ("rating", "id"),
    "-rating": ("-rating", "id"),
    "title": ("title", "id"),
    "-discount": ("-discount_percentage", "id"),
    "newest": (F("source_created_at").desc(nulls_last=True), "-id"),
}


@dataclass(frozen=True)
class ProductFilters:
    """What the list page was asked for; empty values filter nothing."""

    query: str = ""
    category: str = ""
    brand: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    sort: str = ""


@dataclass
class ProductListing:
    """One page of products, the category sidebar with its counts, and the brands to choose from."""

    page: Page[Product]
    categories: list[Category]
    brands: list[str]
    unknown_category: bool

    @property
    def all_categories_count(self) -> int:
        """How many products match the filters other than the category."""
        return result_count(self.categories, "")


@dataclass
class ProductPage:
    """Everything a product page shows; ``stale`` when the stored copy is older than ``CATALOG_TTL``."""

    product: Product
    gallery: list[ProductImage] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    price_points: list[PricePoint] = field(default_factory=list)
    stale: bool = False
    refresh: ProductRefresh | None = None

    @property
    def source_failed(self) -> bool:
        """Whether the last refresh found the source down, so the stored copy is all there is."""
        return self.refresh is not None and self.refresh.state == RefreshState.FAILED


class CountedPaginator(Paginator):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """A paginator told its count up front, so it runs no COUNT(*) of its own."""

    def __init__(self, object_list: QuerySet[Product], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        # ``Paginator.count`` is a cached_property, which keeps its value in the instance dict.
        self.__dict__["count"] = count


def search_terms(query: str) -> list[str]:
    """The query normalized as ``Product.search_text`` is, split into words that must all match."""
    return search_text(query).split()[:MAX_SEARCH_TERMS]


def matching(filters: ProductFilters, *, prefix: str = "") -> Q:
    """Published products that pass every filter except the category (the sidebar counts per category)."""
    conditions: dict[str, Any] = {f"{prefix}is_published": True}
    if filters.brand:
        conditions[f"{prefix}brand"] = filters.brand
    if filters.min_price is not None:
        conditions[f"{prefix}final_price__gte"] = filters.min_price
    if filters.max_price is not None:
        conditions[f"{prefix}final_price__lte"] = filters.max_price
    if filters.in_stock:
        conditions[f"{prefix}stock__gt"] = 0
    condition = Q(**conditions)
    for term in search_terms(filters.query):
        condition &= Q(**{f"{prefix}search_text__contains": term})
    return condition


def category_facets(filters: ProductFilters) -> list[Category]:
    """Every category with ``product_count``: its products that pass the other filters (one query)."""
    return list(
        Category.objects.annotate(product_count=Count("products", filter=matching(filters, prefix="products__")))
    )


def brand_names() -> list[str]:
    """The brands of published products, A to Z."""
    return list(
        Product.objects.published().exclude(brand="").order_by("brand").values_list("brand", flat=True).distinct()
    )


def product_queryset(filters: ProductFilters) -> QuerySet[Product]:
    """Published products matching every filter, sorted, each with its stored thumbnail prefetched."""
    products = Product.objects.filter(matching(filters))
    if filters.category:
        products = products.filter(category__slug=filters.category)
    thumbnails = ProductImage.objects.filter(kind=ImageKind.THUMBNAIL, status=ImageStatus.STORED)
    return products.order_by(*ORDERINGS.get(filters.sort, ORDERINGS[""])).prefetch_related(
        Prefetch("images", queryset=thumbnails, to_attr="stored_thumbnails")
    )


def result_count(categories: list[Category], category: str) -> int:
    """The number of matching products, read off the sidebar counts instead of a COUNT(*) of its own."""
    if category:
        # product_count is the annotation category_facets adds.
        return sum(getattr(item, "product_count", 0) for item in categories if item.slug == category)
    return sum(getattr(item, "product_count", 0) for item in categories)


def page_number_of(value: Any) -> int:
    """The page asked for; anything that is not a whole number of at least 1 means the first page."""
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


def product_listing(*, filters: ProductFilters, page_number: Any) -> ProductListing:
    """One page of the list (bad or past-the-end page numbers land on the first or last page)."""
    facet_filters = (filters.query, filters.brand, filters.min_price, filters.max_price, filters.in_stock)
    categories = cached_read("facets", facet_filters, lambda: category_facets(filters))
    paginator = CountedPaginator(product_queryset(filters), PAGE_SIZE, count=result_count(categories, filters.category))
    page = paginator.get_page(page_number_of(page_number))  # past the end: the last page
    page.object_list = list(page.object_list)
    return ProductListing(
        page=page,
        categories=categories,
        brands=cached_read("brands", (), brand_names),
        unknown_category=bool(filters.category) and filters.category not in {item.slug for item in categories},
    )


def is_stale(product: Product, *, now: datetime | None = None) -> bool:
    """Whether the stored copy is older than ``CATALOG_TTL``."""
    age = (now or timezone.now()) - product.last_synced_at
    return age.total_seconds() > conf.product_ttl()


def as_price(value: Any) -> Decimal | None:
    """A price as history stores it ("12.49"), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


def price_history(product: Product) -> list[PricePoint]:
    """The price over time: the price first seen, then each change; the current price when it never changed."""
    changes = list(
        product.changes.filter(field="price")
        .order_by("changed_at", "id")
        .values_list("old_value", "new_value", "changed_at")
    )
    if not changes:
        return [PricePoint(product.first_seen_at, product.price)]
    prices = [(product.first_seen_at, as_price(changes[0][0]))]
    prices += [(changed_at, as_price(new_value)) for _, new_value, changed_at in changes]
    return [PricePoint(at, price) for at, price in prices if price is not None]


def stored_product(product_id: int) -> Product | None:
    """The stored product with its category, published or not."""
    return Product.objects.select_related("category").filter(id=product_id).first()


def latest_refresh(product_id: int) -> ProductRefresh | None:
    """Where the latest refresh of this id stands, if one was ever asked for."""
    return ProductRefresh.objects.filter(product_id=product_id).first()


def product_page(*, product: Product) -> ProductPage:
    """What a stored product's page shows, from the database alone (stale or not)."""
    stale = is_stale(product)
    gallery = product.images.filter(kind=ImageKind.IMAGE, status=ImageStatus.STORED).order_by("position")
    return ProductPage(
        product=product,
        gallery=list(gallery),
        reviews=list(product.reviews.all()),
        price_points=price_history(product),
        stale=stale,
        refresh=latest_refresh(product.id) if stale else None,
    )
