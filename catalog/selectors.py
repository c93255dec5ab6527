"""Reads for the catalog pages: the filtered product list with its facets, and one product page.

Only reads: a page that needs fresher data asks ``catalog.refreshes`` to queue the work.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from . import conf
from .cache import cached_read
from .charts import PricePoint
from .keyset import SORT_KEYS, SortKey, at_or_after, page_starts
from .models import Category, ImageKind, ImageStatus, Product, ProductImage, ProductRefresh, RefreshState, Review
from .search import relevance, search_condition, search_terms

PAGE_SIZE = 24
# Pages up to here read with a small OFFSET; deeper ones seek from their first row (see keyset.py).
MAX_OFFSET_PAGE = 5
CARD_FIELDS = ("id", "title", "brand", "price", "final_price", "discount_percentage", "rating", "stock")
ORDERINGS: dict[str, tuple[Any, ...]] = {name: tuple(key.ordering()) for name, key in SORT_KEYS.items()}


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

    @property
    def ranked(self) -> bool:
        """Whether results come best match first: a search with no sort of its own."""
        return bool(search_terms(self.query)) and not self.sort


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
    return Q(**conditions) & search_condition(filters.query, prefix=prefix)


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


def matching_products(filters: ProductFilters) -> QuerySet[Product]:
    """Published products matching every filter, unsorted."""
    products = Product.objects.filter(matching(filters))
    if filters.category:
        products = products.filter(category__slug=filters.category)
    return products


def as_cards(products: QuerySet[Product]) -> QuerySet[Product]:
    """Only the columns a product card shows (not the payload), with the stored thumbnail as ``stored_thumbnails``."""
    thumbnails = ProductImage.objects.filter(kind=ImageKind.THUMBNAIL, status=ImageStatus.STORED)
    return products.only(*CARD_FIELDS).prefetch_related(
        Prefetch("images", queryset=thumbnails, to_attr="stored_thumbnails")
    )


def sort_key_of(filters: ProductFilters) -> SortKey:
    """The sort asked for (an unknown one means the default)."""
    return SORT_KEYS.get(filters.sort, SORT_KEYS[""])


def product_queryset(filters: ProductFilters) -> QuerySet[Product]:
    """Published products matching every filter, sorted (best match first for a plain search)."""
    products = matching_products(filters)
    if filters.ranked:
        return as_cards(products.order_by(relevance(filters.query), "id"))
    return as_cards(products.order_by(*sort_key_of(filters).ordering()))


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
    except (TypeError, ValueError, OverflowError):
        return 1


def page_rows(filters: ProductFilters, *, number: int) -> list[Product]:
    """The products of page ``number``: a small OFFSET near the top, a seek from the page's first row deeper down."""
    products = product_queryset(filters)
    offset = (number - 1) * PAGE_SIZE
    if number <= MAX_OFFSET_PAGE or filters.ranked:
        return list(products[offset : offset + PAGE_SIZE])
    key = sort_key_of(filters)
    starts = cached_read(
        "page-starts", (filters, PAGE_SIZE), lambda: page_starts(matching_products(filters), key, page_size=PAGE_SIZE)
    )
    if number > len(starts):  # the catalog changed since the count: an OFFSET still finds the rows
        return list(products[offset : offset + PAGE_SIZE])
    return list(products.filter(at_or_after(key, starts[number - 1]))[:PAGE_SIZE])


def product_listing(*, filters: ProductFilters, page_number: Any) -> ProductListing:
    """One page of the list (bad or past-the-end page numbers land on the first or last page)."""
    facet_filters = (filters.query, filters.brand, filters.min_price, filters.max_price, filters.in_stock)
    categories = cached_read("facets", facet_filters, lambda: category_facets(filters))
    paginator = CountedPaginator(Product.objects.none(), PAGE_SIZE, count=result_count(categories, filters.category))
    number = paginator.get_page(page_number_of(page_number)).number  # past the end: the last page
    page = Page(page_rows(filters, number=number), number, paginator)
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
