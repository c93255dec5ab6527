"""The product list page: search, filters, sorting, pages, cards, and its cost in queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.forms import SORT_CHOICES
from catalog.models import ImageKind, ImageStatus
from catalog.persistence import save_page
from catalog.selectors import ORDERINGS
from catalog.validation import validate_product
from tests.factories import make_image, make_product, make_products
from tests.payloads import product as product_payload

pytestmark = pytest.mark.django_db

URL = "/products/"


def ids(response) -> list[int]:
    """The ids of the products on the page, in order."""
    return [product.id for product in response.context["page_obj"].object_list]


def main_of(response) -> str:
    """The page from ``<main>`` on (the header's CSRF token differs from one response to the next)."""
    return response.content.decode().split("<main", 1)[1]


def errors(response) -> dict:
    """The filter form's errors, field by field."""
    return dict(response.context["form"].errors)


def test_site_root_redirects_to_the_product_list(client):
    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/products/")


def test_product_list_shows_published_products_in_id_order(client):
    make_product(2, title="Second")
    make_product(1, title="First")

    response = client.get(URL)

    assert response.status_code == 200
    assert ids(response) == [1, 2]
    assert "2 products" in response.content.decode()


def test_product_list_hides_unpublished_products(client):
    make_product(1)
    make_product(2, is_published=False)

    response = client.get(URL)

    assert ids(response) == [1]
    assert "1 product" in response.content.decode()


def test_product_list_shows_24_products_a_page_with_numbered_page_links(client):
    make_products(30)

    response = client.get(URL)

    assert ids(response) == list(range(1, 25))
    assert '<a href="?page=2">2</a>' in response.content.decode()
    assert '<a href="?page=1" aria-current="page">1</a>' in response.content.decode()


def test_the_second_page_shows_the_rest(client):
    make_products(30)

    response = client.get(URL, {"page": 2})

    assert ids(response) == list(range(25, 31))
    assert "page 2 of 2" in response.content.decode()


@pytest.mark.parametrize(
    ("page", "expected_ids"), [("abc", [1, 2]), ("0", [1, 2]), ("-1", [1, 2]), ("2.5", [1, 2]), ("99", [25, 26])]
)
def test_a_bad_or_past_the_end_page_number_shows_the_first_or_last_page(client, page, expected_ids):
    make_products(26)

    response = client.get(URL, {"page": page})

    assert response.status_code == 200
    assert ids(response)[:2] == expected_ids


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("velvet", {"title": "Velvet Tint"}),
        ("floral", {"description": "A light floral scent."}),
        ("lumen", {"brand": "Lumen"}),
        ("lipstick", {"tags": ["beauty", "lipstick"]}),
    ],
)
def test_search_matches_title_description_brand_and_tags(client, query, fields):
    make_product(1, **{"title": "Plain", "brand": "", **fields})
    make_product(2, title="Something else", brand="Other")

    assert ids(client.get(URL, {"q": query})) == [1]


@pytest.mark.parametrize("query", ["CAFÉ", "cafe", "Cafe Creme", "  café  "])
def test_search_ignores_case_and_accents(client, query):
    make_product(1, title="Café Crème Mug")
    make_product(2, title="Tea Pot")

    assert ids(client.get(URL, {"q": query})) == [1]


def test_search_needs_every_word_in_any_order(client):
    make_product(1, title="Red Lipstick")
    make_product(2, title="Red Mug")

    assert ids(client.get(URL, {"q": "lipstick red"})) == [1]


def test_search_reads_percent_and_underscore_literally(client):
    make_product(1, title="100% cotton")
    make_product(2, title="100 cotton_shirt")

    assert ids(client.get(URL, {"q": "100%"})) == [1]
    assert ids(client.get(URL, {"q": "_"})) == [2]


def test_a_search_longer_than_100_characters_is_reported_and_ignored(client):
    make_product(1)

    response = client.get(URL, {"q": "x" * 101})

    assert ids(response) == [1]
    assert errors(response) == {"q": ["Ensure this value has at most 100 characters (it has 101)."]}


def test_category_filter_shows_only_that_category(client):
    make_product(1, category="beauty")
    make_product(2, category="groceries")

    assert ids(client.get(URL, {"category": "groceries"})) == [2]


def test_an_unknown_category_shows_a_friendly_message_and_no_products(client):
    make_product(1, category="beauty")

    response = client.get(URL, {"category": "spaceships"})

    assert ids(response) == []
    assert "There is no category “spaceships”." in response.content.decode()
    assert "No products found" in response.content.decode()


def test_a_category_that_is_not_a_slug_is_reported_and_ignored(client):
    make_product(1)

    response = client.get(URL, {"category": "<b>bad slug</b>"})

    assert ids(response) == [1]
    assert list(errors(response)) == ["category"]
    assert "<b>bad slug</b>" not in response.content.decode()


def test_brand_filter_matches_the_brand_exactly(client):
    make_product(1, brand="Lumen")
    make_product(2, brand="Lumen Pro")

    assert ids(client.get(URL, {"brand": "Lumen"})) == [1]


def test_price_filters_use_the_final_price_inclusively(client):
    make_product(1, price="10.00")
    make_product(2, price="20.00", discount="50")  # 10.00 after the discount
    make_product(3, price="20.00")
    make_product(4, price="30.00")

    assert ids(client.get(URL, {"min_price": "10", "max_price": "20"})) == [1, 2, 3]
    assert ids(client.get(URL, {"min_price": "10.01"})) == [3, 4]
    assert ids(client.get(URL, {"max_price": "9.99"})) == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"min_price": "abc"}, "min_price", "Enter a number."),
        ({"max_price": "-1"}, "max_price", "Ensure this value is greater than or equal to 0."),
        ({"min_price": "1e999"}, "min_price", "Ensure that there are no more than 12 digits in total."),
        ({"max_price": "NaN"}, "max_price", "Enter a number."),
        ({"min_price": "30", "max_price": "10"}, "max_price", "The maximum price must not be below the minimum price."),
    ],
)
def test_a_bad_price_is_reported_on_its_field_and_ignored(client, params, field, message):
    make_product(1, price="20.00")

    response = client.get(URL, params)

    assert response.status_code == 200
    assert errors(response) == {field: [message]}
    assert message in response.content.decode()


def test_in_stock_hides_products_with_no_stock(client):
    make_product(1, stock=0)
    make_product(2, stock=3)

    assert ids(client.get(URL, {"in_stock": "1"})) == [2]
    assert ids(client.get(URL, {"in_stock": "0"})) == [1, 2]


@pytest.mark.parametrize(
    ("sort", "expected_ids"),
    [
        ("", [1, 2, 3, 4]),
        ("price", [3, 1, 4, 2]),
        ("-price", [2, 1, 4, 3]),
        ("rating", [2, 1, 4, 3]),
        ("-rating", [3, 1, 4, 2]),
        ("title", [4, 2, 1, 3]),
        ("-discount", [3, 4, 1, 2]),
        ("newest", [4, 2, 1, 3]),
    ],
)
def test_each_sort_orders_the_products_with_ties_broken_by_id(client, sort, expected_ids):
    now = timezone.now()
    make_product(1, title="Cup", price="20.00", rating="4.00", discount="0", source_created_at=now - timedelta(days=3))
    make_product(2, title="Bowl", price="50.00", rating="1.00", discount="0", source_created_at=now)
    make_product(3, title="Plate", price="10.00", rating="5.00", discount="50", source_created_at=None)
    make_product(4, title="Apron", price="25.00", rating="4.00", discount="20", source_created_at=now)

    assert ids(client.get(URL, {"sort": sort})) == expected_ids


def test_every_sort_offered_has_an_ordering_and_every_ordering_is_offered():
    assert [value for value, _ in SORT_CHOICES] == list(ORDERINGS)


def test_an_unknown_sort_is_reported_and_the_default_order_used(client):
    make_product(2)
    make_product(1)

    response = client.get(URL, {"sort": "price; DROP TABLE"})

    assert ids(response) == [1, 2]
    assert list(errors(response)) == ["sort"]


def test_filters_compose(client):
    make_product(1, title="Red Mug", brand="Acme", category="kitchen", price="12.00", stock=5)
    make_product(2, title="Red Mug", brand="Acme", category="kitchen", price="8.00", stock=5)
    make_product(3, title="Red Mug", brand="Acme", category="kitchen", price="14.00", stock=0)
    make_product(4, title="Red Mug", brand="Other", category="kitchen", price="13.00", stock=5)
    make_product(5, title="Red Mug", brand="Acme", category="beauty", price="13.00", stock=5)
    make_product(6, title="Blue Mug", brand="Acme", category="kitchen", price="13.00", stock=5)
    make_product(7, title="Red Mug", brand="Acme", category="kitchen", price="11.00", stock=5)
    params = {"q": "red", "category": "kitchen", "brand": "Acme", "min_price": "10", "in_stock": "1", "sort": "-price"}

    assert ids(client.get(URL, params)) == [1, 7]


def test_page_links_keep_every_filter(client):
    make_products(30, brand="Acme")

    response = client.get(URL, {"q": "product", "brand": "Acme", "sort": "title", "page": "1"})

    assert '<a href="?q=product&amp;brand=Acme&amp;sort=title&amp;page=2">2</a>' in response.content.decode()


def test_category_links_keep_the_other_filters_and_go_back_to_the_first_page(client):
    make_product(1, category="beauty")

    response = client.get(URL, {"q": "tint", "page": "1"})

    assert '<a href="?q=tint&amp;category=beauty">' in response.content.decode()


def test_the_sidebar_counts_each_categorys_products_that_pass_the_other_filters(client):
    make_product(1, category="beauty", stock=1)
    make_product(2, category="beauty", stock=0)
    make_product(3, category="groceries", stock=1)
    make_product(4, category="groceries", stock=1, is_published=False)
    make_product(5, category="kitchen", stock=0)

    response = client.get(URL, {"in_stock": "1", "category": "beauty"})

    counts = {category.slug: category.product_count for category in response.context["listing"].categories}
    assert counts == {"beauty": 1, "groceries": 1, "kitchen": 0}
    assert response.context["listing"].all_categories_count == 2
    assert response.context["page_obj"].paginator.count == 1


def test_an_empty_catalog_shows_the_empty_state(client):
    response = client.get(URL)

    assert "No products found" in response.content.decode()
    assert "0 products" in response.content.decode()


def test_the_list_page_never_calls_the_source_even_for_stale_products(client, api):
    make_product(1, last_synced_at=timezone.now() - timedelta(days=30))

    response = client.get(URL)

    assert ids(response) == [1]
    assert api.log == []


def test_a_card_shows_the_stored_thumbnail_with_its_size_lazily(client):
    make_product(1, with_images=True)

    html = client.get(URL).content.decode()

    assert (
        '<img class="card-image" src="/media/products/1/thumbnail.webp" width="30" height="30" '
        'alt="Velvet Matte Lip Tint" loading="lazy" decoding="async">'
    ) in html
    assert "/media/products/1/1.webp" not in html


@pytest.mark.parametrize("status", [ImageStatus.PENDING, ImageStatus.FAILED, ImageStatus.REJECTED])
def test_a_card_without_a_stored_thumbnail_shows_a_placeholder(client, status):
    product = make_product(1)
    make_image(product, kind=ImageKind.THUMBNAIL, position=0, status=status)
    make_image(product, position=1)

    html = client.get(URL).content.decode()

    assert '<div class="card-image placeholder" role="img" aria-label="No image available"></div>' in html
    assert '<img class="card-image"' not in html


def test_a_card_shows_the_final_price_the_list_price_and_the_discount(client):
    make_product(1, price="20.00", discount="12.5", rating="4.31", stock=3)

    html = client.get(URL).content.decode()

    assert '<span class="final-price">$17.50</span>' in html
    assert '<span class="visually-hidden">was </span>$20.00</del>' in html
    assert '<span class="discount">−12.5%</span>' in html
    assert "4.31" in html
    assert '<span class="badge badge-stock-low">Low stock</span>' in html


@pytest.mark.parametrize(
    ("stock", "badge"),
    [
        (0, '<span class="badge badge-stock-out">Out of stock</span>'),
        (9, '<span class="badge badge-stock-low">Low stock</span>'),
        (10, '<span class="badge badge-stock-in">In stock</span>'),
    ],
)
def test_the_stock_badge_says_out_low_or_in_stock(client, stock, badge):
    make_product(1, stock=stock)

    assert badge in client.get(URL).content.decode()


def test_a_title_holding_markup_is_shown_as_text(client):
    make_product(1, title="<script>alert(1)</script>", brand='"><img src=x onerror=alert(1)>')

    html = client.get(URL, {"q": "<script>"}).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_every_filter_field_has_a_label(client):
    html = client.get(URL).content.decode()

    for field in ["id_q", "id_category", "id_brand", "id_min_price", "id_max_price", "id_in_stock", "id_sort"]:
        assert f'for="{field}"' in html


def test_the_brand_menu_lists_published_brands_and_keeps_a_chosen_unknown_one(client):
    make_product(1, brand="Zed")
    make_product(2, brand="Acme")
    make_product(3, brand="Hidden", is_published=False)

    response = client.get(URL, {"brand": "Nobody"})

    choices = response.context["form"].fields["brand"].widget.choices
    assert choices == [("", "All brands"), ("Acme", "Acme"), ("Zed", "Zed"), ("Nobody", "Nobody")]


@pytest.mark.parametrize("staff", [False, True])
def test_the_list_page_runs_at_most_6_queries_whatever_the_page_size(
    client, admin_client, django_assert_max_num_queries, staff
):
    for product_id in range(1, 31):
        make_product(product_id, brand=f"Brand {product_id % 4}", category=f"cat-{product_id % 5}", with_images=True)

    with django_assert_max_num_queries(6):
        response = (admin_client if staff else client).get(URL, {"q": "product", "in_stock": "1", "sort": "-price"})

    assert response.status_code == 200


def test_a_repeated_list_page_reads_no_catalog_rows(client, django_assert_num_queries):
    make_products(3)
    first = client.get(URL, {"q": "product", "sort": "title"})

    with django_assert_num_queries(0):
        again = client.get(URL, {"sort": "title", "q": "product"})

    assert main_of(again) == main_of(first)


def test_a_cached_list_page_shows_a_synced_change_at_once(client, django_capture_on_commit_callbacks):
    make_products(2)
    client.get(URL)
    with django_capture_on_commit_callbacks(execute=True):
        save_page([validate_product(product_payload(id=3, title="Fresh Arrival"))], {}, run_id="run-2")

    assert "Fresh Arrival" in client.get(URL).content.decode()


def test_a_cached_list_page_keeps_each_language_apart(client):
    make_products(2)
    client.get(URL)

    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="pt-BR")

    assert "<h1>Produtos</h1>" in response.content.decode()


def test_the_list_page_answers_head_but_not_post(client):
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405
