"""Keyset pages: every sort, read from each page's first row, gives exactly the rows an OFFSET gives."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog import selectors
from catalog.keyset import SORT_KEYS, SortKey, at_or_after, page_starts
from catalog.models import Product
from catalog.selectors import PAGE_SIZE, ProductFilters
from tests.factories import make_product

pytestmark = pytest.mark.django_db

PRODUCTS = 130  # six pages, the last one short


@pytest.fixture
def many_ties():
    """Prices, ratings, titles and discounts that repeat, some dates missing, and unpublished rows between."""
    now = timezone.now()
    for product_id in range(1, PRODUCTS + 1):
        make_product(
            product_id,
            title=f"Item {product_id % 7}",
            price=f"{10 + product_id % 5}.00",
            discount=str(product_id % 3 * 10),
            rating=f"{product_id % 4}.50",
            source_created_at=None if product_id % 6 == 0 else now - timedelta(days=product_id % 9),
            is_published=product_id % 11 != 0,
        )


def offset_pages(sort: str) -> list[list[int]]:
    """The pages as an OFFSET reads them."""
    ordered = list(Product.objects.published().order_by(*SORT_KEYS[sort].ordering()).values_list("id", flat=True))
    return [ordered[start : start + PAGE_SIZE] for start in range(0, len(ordered), PAGE_SIZE)]


@pytest.mark.usefixtures("many_ties")
@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_every_page_read_from_its_start_equals_the_offset_page(monkeypatch, sort):
    monkeypatch.setattr(selectors, "MAX_OFFSET_PAGE", 1)  # every page but the first seeks
    expected = offset_pages(sort)

    pages = [
        [product.id for product in selectors.page_rows(ProductFilters(sort=sort), number=number)]
        for number in range(1, len(expected) + 1)
    ]

    assert pages == expected


@pytest.mark.usefixtures("many_ties")
def test_page_starts_are_the_first_row_of_each_page():
    key = SORT_KEYS["-price"]

    starts = page_starts(Product.objects.published(), key, page_size=PAGE_SIZE)

    first_ids = [page[0] for page in offset_pages("-price")]
    assert [row_id for _, row_id in starts] == first_ids
    assert all(Product.objects.get(id=row_id).final_price == value for value, row_id in starts)


def test_a_null_start_reads_the_undated_rows_after_it():
    make_product(1, source_created_at=None)
    make_product(2, source_created_at=None)
    make_product(3, source_created_at=timezone.now())
    key = SortKey("source_created_at", descending=True, nulls_last=True, id_descending=True)

    rows = Product.objects.filter(at_or_after(key, (None, 2))).order_by(*key.ordering())

    assert [product.id for product in rows] == [2, 1]


def test_a_deep_page_in_a_changed_catalog_still_shows_rows(monkeypatch):
    monkeypatch.setattr(selectors, "MAX_OFFSET_PAGE", 1)
    for product_id in range(1, 30):
        make_product(product_id)
    monkeypatch.setattr(selectors, "page_starts", lambda *args, **kwargs: [])  # as if cached before a sync

    rows = selectors.page_rows(ProductFilters(sort="price"), number=2)

    assert [product.id for product in rows] == list(range(25, 30))


@pytest.mark.usefixtures("many_ties")
def test_a_deep_page_costs_the_queries_page_one_costs(django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_OFFSET_PAGE", 1)
    filters = ProductFilters(sort="-price")
    selectors.product_listing(filters=filters, page_number=5)  # facets, brands and page starts now cached

    with django_assert_num_queries(2):  # the page's rows, their thumbnails
        listing = selectors.product_listing(filters=filters, page_number=5)

    assert [product.id for product in listing.page.object_list] == offset_pages("-price")[4]
