"""sync_products fed hostile listings: dangerous image URLs, path tricks, odd and oversized fields."""

import re
from pathlib import Path

import pytest
from django.db import DataError

from audit.models import AuditEvent
from catalog.models import ImageStatus, Product, ProductImage
from catalog.persistence import save_page
from tests import payloads
from tests.sync_helpers import sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("without_gate")]


def serve_listing(api, *products: dict) -> str:
    """Serve these products as the whole listing; return the base URL."""
    api.expect_request("/products").respond_with_json(payloads.envelope(list(products), total=len(products)))
    return api.url_for("").rstrip("/")


def files_under(root: Path) -> list[str]:
    """Every file below root, relative to it."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:{port}/1.webp",
        "http://10.0.0.8/1.webp",
        "http://169.254.169.254/latest/1.webp",
        "http://[fe80::1]/1.webp",
        "file:///etc/1.webp",
        "ftp://cdn.dummyjson.com/1.webp",
    ],
)
def test_image_urls_off_the_allow_list_are_blocked_and_no_request_leaves(api, url):
    url = url.format(port=api.port)
    base = serve_listing(api, payloads.product(id=1, images=[url], thumbnail=api.url_for("/x/thumbnail.webp")))
    api.expect_request("/x/thumbnail.webp").respond_with_data(payloads.image_bytes("WEBP"))

    result = sync("--base-url", base)

    assert result.exit_code == 1
    assert ProductImage.objects.get(kind="image").status == ImageStatus.REJECTED
    assert [entry[0].path for entry in api.log] == ["/products", "/x/thumbnail.webp"]
    assert AuditEvent.objects.filter(kind="download", outcome="blocked").count() == 1


def test_a_redirect_from_an_allowed_host_to_another_is_not_followed(api):
    base = serve_listing(api, payloads.product(id=1, images=[api.url_for("/img/1.webp")], thumbnail=""))
    api.expect_request("/img/1.webp").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{api.port}/stolen/1.webp"}
    )

    result = sync("--base-url", base)

    assert result.exit_code == 1
    assert [entry[0].path for entry in api.log] == ["/products", "/img/1.webp"]
    assert list(AuditEvent.objects.filter(kind="download").order_by("seq").values_list("outcome", flat=True)) == [
        "ok",
        "blocked",
    ]


@pytest.mark.parametrize(
    "path",
    ["/product-images/../../../etc/1.webp", "/product-images/a%2F..%2F..%2F/1.webp", "/x/..%252F..%252Fhome/1.webp"],
)
def test_dot_dot_and_encoded_slashes_never_place_a_file_outside_its_folder(api, settings, path):
    image_url = api.url_for("") + path.lstrip("/")
    base = serve_listing(api, payloads.product(id=4, images=[image_url], thumbnail=""))
    api.expect_request(re.compile(r".*\.webp")).respond_with_data(payloads.image_bytes("WEBP"))

    assert sync("--base-url", base).exit_code == 0

    assert files_under(settings.MEDIA_ROOT) == ["products/4/1.webp"]


def test_huge_strings_unicode_and_markup_are_handled_without_a_crash(api):
    base = serve_listing(
        api,
        payloads.product(id=1, title="Ünïcödé ☕ 商品 <b>bold</b> & 'quotes'", images=[], thumbnail=""),
        payloads.product(id=2, description="x" * 1_000_000),
        payloads.product(id=3, title="<script>alert(1)</script>", brand="\u202eevil"),
        payloads.product(id=4, sku=["not", "text"], weight="heavy", dimensions=[1, 2]),
        payloads.product(id=5, reviews=[{"rating": 5, "comment": "ok", "date": "yesterday"}]),
        payloads.product(id=6, brand="nul\x00byte", stock=2**40),
    )

    result = sync("--base-url", base, "--no-images")

    assert result.exit_code == 1
    assert list(Product.objects.values_list("id", "title")) == [(3, "<script>alert(1)</script>")]
    rules = set(AuditEvent.objects.filter(kind="validation").values_list("product_id", "details__rule"))
    assert rules == {
        (1, "images.at_least_one"),
        (2, "description.too_long"),
        (4, "sku.type"),
        (4, "weight.type"),
        (4, "dimensions.type"),
        (5, "reviews.reviews.date.type"),
        (6, "text.nul"),
        (6, "stock.range"),
    }
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "listing",
    [
        {"products": "many", "total": 1},
        {"products": [], "total": "1"},
        [payloads.PRODUCT],
        {"message": "rate limited"},
    ],
)
def test_a_listing_of_the_wrong_shape_is_refused_without_a_crash(api, listing):
    api.expect_request("/products").respond_with_json(listing)

    result = sync("--base-url", api.url_for("").rstrip("/"), "--no-images")

    assert result.exit_code == 1
    assert "failed: invalid body is not of the expected shape" in result.stderr
    assert not Product.objects.exists()


def test_a_listing_item_that_is_not_an_object_is_rejected(api):
    base = serve_listing(api, payloads.product(id=1), "not a product", None, 42)

    result = sync("--base-url", base, "--no-images")

    assert result.exit_code == 1
    assert list(Product.objects.values_list("id", flat=True)) == [1]
    assert AuditEvent.objects.filter(kind="validation", details__rule="product.type").count() == 3


def test_a_page_the_database_refuses_is_reported_and_the_run_goes_on(api, mocker):
    api.expect_request("/products", query_string="limit=1&skip=0").respond_with_json(
        payloads.envelope([payloads.product(id=1)], total=2)
    )
    api.expect_request("/products", query_string="limit=1&skip=1").respond_with_json(
        payloads.envelope([payloads.product(id=2)], total=2, skip=1)
    )

    def refuse_product_1(clean, *args, **kwargs):
        if clean[0].id == 1:
            raise DataError("value too long")
        return save_page(clean, *args, **kwargs)

    # The database is the boundary here: it refuses the first page.
    mocker.patch("catalog.sync_pages.save_page", side_effect=refuse_product_1)

    result = sync("--base-url", api.url_for("").rstrip("/"), "--no-images", "--page-size", "1")

    assert result.exit_code == 1
    assert "products 1-1 could not be stored: value too long" in result.stderr
    assert list(Product.objects.values_list("id", flat=True)) == [2]
