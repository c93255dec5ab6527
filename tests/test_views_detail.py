"""A product's page: every field, the gallery, reviews, the price history, staff links, 404s and query counts."""

from datetime import UTC, datetime

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from catalog.models import ImageKind, ImageStatus
from tests.factories import make_image, make_price_change, make_product, make_review

pytestmark = pytest.mark.django_db

SYNCED = datetime(2025, 5, 1, 12, 30, tzinfo=UTC)


def full_product(**changes):
    """A fresh product with every optional field filled in."""
    fields = {
        "title": "Velvet Matte Lip Tint",
        "description": "A long-wearing lip tint.\nLight floral scent.",
        "price": "12.49",
        "discount": "8.75",
        "brand": "Lumen",
        "sku": "BEA-LUM-LIP-007",
        "tags": ["beauty", "lipstick"],
        "rating": "4.31",
        "stock": 58,
        "weight": 2.0,
        "width": 8.12,
        "height": 21.4,
        "depth": 9.05,
        "warranty_information": "1 month warranty",
        "shipping_information": "Ships in 2 weeks",
        "return_policy": "30 days return policy",
        "availability_status": "In Stock",
        "minimum_order_quantity": 12,
        "raw": {"reviews": [{"reviewerEmail": "ana.souza@x.example.com"}]},
    }
    return make_product(7, **{**fields, **changes})


def page(client, product_id=7):
    """The product page's HTML."""
    response = client.get(f"/products/{product_id}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "expected",
    [
        "<h1>Velvet Matte Lip Tint</h1>",
        "<p>A long-wearing lip tint.<br>Light floral scent.</p>",
        '<span class="final-price">$11.40</span>',
        '<span class="visually-hidden">was </span>$12.49</del>',
        '<span class="discount">8.75% off</span>',
        "Rated 4.31 out of 5",
        '<span class="badge badge-stock-in">In stock</span>',
        "58 units left",
        '<span class="muted">(In Stock)</span>',
        "<p>Minimum order: 12</p>",
        "<dt>Brand</dt><dd>Lumen</dd>",
        "<dt>SKU</dt><dd>BEA-LUM-LIP-007</dd>",
        "<dt>Category</dt><dd>Beauty</dd>",
        "<dd>8.12 × 21.40 × 9.05</dd>",
        "<dt>Weight</dt><dd>2</dd>",
        "<dt>Warranty</dt><dd>1 month warranty</dd>",
        "<dt>Shipping</dt><dd>Ships in 2 weeks</dd>",
        "<dt>Return policy</dt><dd>30 days return policy</dd>",
        "<dt>Minimum order</dt><dd>12</dd>",
        "<dt>Stock</dt><dd>58</dd>",
        '<time datetime="2025-05-01T12:30:00+00:00">May 1, 2025, 12:30 p.m.</time>',
        '<a class="tag" href="/products/?q=lipstick">lipstick</a>',
        '<a href="/products/?category=beauty">Beauty</a>',
    ],
)
def test_the_product_page_shows_every_field(client, settings, expected):
    settings.CATALOG_TTL = 10**10  # the fixed sync time is long past
    full_product(last_synced_at=SYNCED)

    assert expected in page(client)


def test_missing_optional_fields_show_a_dash(client):
    make_product(7, brand="", sku="")

    html = page(client)

    assert "<dt>SKU</dt><dd>—</dd>" in html
    assert "<dt>Weight</dt><dd>—</dd>" in html
    assert "<dt>Dimensions (W × H × D)</dt>\n      <dd>—</dd>" in html


def test_the_gallery_shows_the_stored_gallery_images_in_order_with_their_sizes(client):
    product = make_product(7, title="Mug")
    make_image(product, kind=ImageKind.THUMBNAIL, position=0, size=(30, 30))
    make_image(product, position=2, size=(40, 30))
    make_image(product, position=1, size=(64, 48))
    make_image(product, position=3, status=ImageStatus.FAILED)

    html = page(client)

    first = html.index('src="/media/products/7/1.webp" width="64" height="48" alt="Mug, image 1 of 2" loading="eager"')
    second = html.index('src="/media/products/7/2.webp" width="40" height="30" alt="Mug, image 2 of 2" loading="lazy"')
    assert first < second
    assert "thumbnail.webp" not in html
    assert "3.webp" not in html


def test_a_product_without_stored_gallery_images_shows_a_placeholder(client):
    product = make_product(7)
    make_image(product, position=1, status=ImageStatus.PENDING)

    assert '<div class="gallery-item placeholder" role="img" aria-label="No image available"></div>' in page(client)


def test_reviews_show_rating_comment_and_name_but_never_an_email(client):
    product = full_product()
    make_review(product, rating=4, comment="Lovely colour!", reviewer="Ana Souza")

    html = page(client)

    assert "<blockquote>Lovely colour!</blockquote>" in html
    assert "Ana Souza" in html
    assert "Rated 4 out of 5" in html
    assert "★★★★☆" in html
    assert "@" not in html


def test_a_product_without_reviews_says_so(client):
    make_product(7)

    assert "<p>No reviews yet.</p>" in page(client)


def test_the_price_history_chart_and_table_follow_the_price_changes(client):
    product = make_product(7, price="11.00", first_seen_at=datetime(2025, 1, 1, tzinfo=UTC))
    make_price_change(product, old="12.49", new="10.00", at=datetime(2025, 2, 1, tzinfo=UTC))
    make_price_change(product, old="10.00", new="11.00", at=datetime(2025, 3, 1, tzinfo=UTC))

    html = page(client)

    assert '<svg class="price-chart"' in html
    assert "From $12.49 on Jan. 1, 2025 to $11.00; lowest $10.00, highest $12.49." in html
    assert '<time datetime="2025-01-01T00:00:00+00:00">Jan. 1, 2025</time></td><td>$12.49</td>' in html
    assert '<time datetime="2025-03-01T00:00:00+00:00">March 1, 2025</time></td><td>$11.00</td>' in html


def test_markup_from_the_source_is_shown_as_text_everywhere(client):
    script = "<script>window.__pwned=1</script>"
    product = make_product(
        7,
        title=script,
        description='<img src=x onerror="window.__pwned=1">',
        brand="<b>brand</b>",
        tags=["<i>tag</i>"],
        sku='"><svg onload=alert(1)>',
    )
    make_review(product, comment=script, reviewer="<u>me</u>")

    html = page(client)

    for raw in [script, "<img src=x", "<b>brand</b>", "<i>tag</i>", "<svg onload", "<u>me</u>"]:
        assert raw not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<script" not in html


def test_an_unpublished_product_is_not_found(client, api):
    make_product(7, is_published=False)

    response = client.get("/products/7/")

    assert response.status_code == 404
    assert api.log == []


@pytest.mark.parametrize("path", ["/products/0/", "/products/2147483648/", "/products/99999999999999999999999/"])
def test_an_impossible_id_is_not_found_without_asking_the_source(client, api, path):
    response = client.get(path)

    assert response.status_code == 404
    assert api.log == []


def test_a_non_numeric_id_is_not_found(client):
    assert client.get("/products/abc/").status_code == 404


@pytest.mark.parametrize(
    ("path", "heading"), [("/products/0/", "Page not found"), ("/products/404/", "Not in the catalog yet")]
)
def test_the_not_found_pages_have_the_sites_look(client, path, heading):
    response = client.get(path)

    html = response.content.decode()
    assert response.status_code == 404
    assert f"<h1>{heading}</h1>" in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert '<a class="site-name" href="/products/">Product catalog</a>' in html


def test_the_server_error_page_has_the_sites_look_without_a_request_context():
    response = server_error(RequestFactory().get("/products/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert "csrfmiddlewaretoken" not in html


def test_staff_see_a_link_to_the_products_audit_events(admin_client):
    make_product(7)

    assert '<a href="/admin/audit/auditevent/?product_id=7">Audit events for this product</a>' in page(admin_client)


def test_visitors_see_no_audit_link(client):
    make_product(7)

    assert "auditevent" not in page(client)


def test_the_audit_link_opens_the_admin_filtered_to_the_product(admin_client):
    make_product(7)

    assert admin_client.get("/admin/audit/auditevent/?product_id=7").status_code == 200


@pytest.mark.parametrize("staff", [False, True])
def test_the_product_page_runs_at_most_8_queries_whatever_the_catalog_size(
    client, admin_client, django_assert_max_num_queries, staff
):
    for product_id in range(1, 31):
        product = make_product(product_id, with_images=True, gallery_size=4)
        make_review(product)
        make_price_change(product, old="10.00", new="12.49", at=datetime(2025, 2, 1, tzinfo=UTC))

    with django_assert_max_num_queries(8):
        response = (admin_client if staff else client).get("/products/7/")

    assert response.status_code == 200


def test_a_review_time_keeps_at_most_three_fraction_digits(client):
    review = make_review(make_product(1))
    review.date = datetime(2025, 5, 1, 12, 30, 0, 123456, tzinfo=UTC)
    review.save()

    assert '<time datetime="2025-05-01T12:30:00.123+00:00">' in client.get("/products/1/").content.decode()


def test_a_repeated_product_page_reads_only_the_product_row(client, django_assert_num_queries):
    make_product(1, title="Cached Mug")
    first = client.get("/products/1/")

    with django_assert_num_queries(1):
        again = client.get("/products/1/")

    assert again.content.decode().split("<main", 1)[1] == first.content.decode().split("<main", 1)[1]
    assert "<title>Cached Mug · Product catalog</title>" in again.content.decode()


def test_staff_and_visitors_each_get_their_own_cached_product_page(client, admin_client):
    make_product(1)
    client.get("/products/1/")

    assert "Audit events for this product" in admin_client.get("/products/1/").content.decode()
    assert "Audit events for this product" not in client.get("/products/1/").content.decode()
