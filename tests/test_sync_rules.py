"""sync_products against hand-made listings: validation rules, change history, unpublishing."""

import pytest

from audit.models import AuditEvent
from catalog.models import Product, ProductChange
from tests import payloads
from tests.sync_helpers import sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("without_gate")]


@pytest.fixture
def listing(api):
    """Serve a one-page listing of the given products on the ``api`` server."""

    def serve(*products: dict) -> None:
        api.clear()
        api.expect_request("/products").respond_with_json(payloads.envelope(list(products), total=len(products)))

    return serve


def good(product_id: int, **changes) -> dict:
    """A valid product with this id; its images are on a host we never download from in these tests."""
    return payloads.product(id=product_id, **changes)


def validation_rules() -> list[tuple[int | None, str]]:
    """(product id, rule) of every validation event, oldest first."""
    return [
        (event.product_id, event.details["rule"])
        for event in AuditEvent.objects.filter(kind="validation").order_by("seq")
    ]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"price": -1}, "price.negative"),
        ({"price": "12.49"}, "price.type"),
        ({"rating": 5.01}, "rating.range"),
        ({"rating": -0.5}, "rating.negative"),
        ({"stock": -3}, "stock.negative"),
        ({"stock": 2.5}, "stock.type"),
        ({"discountPercentage": 101}, "discountPercentage.range"),
        ({"discountPercentage": -1}, "discountPercentage.negative"),
        ({"title": ""}, "title.missing"),
        ({"title": "x" * 256}, "title.too_long"),
        ({"title": None}, "title.missing"),
        ({"images": []}, "images.at_least_one"),
        ({"images": ["https://cdn.dummyjson.com/p/front.webp"]}, "images.numeric_name"),
        ({"images": ["https://cdn.dummyjson.com/p/1.bmp"]}, "images.format"),
        ({"thumbnail": "https://cdn.dummyjson.com/p/1.webp"}, "images.thumbnail_name"),
        ({"meta": {"barcode": 451287700318}}, "meta.barcode.type"),
        ({"reviews": [{"rating": 9, "comment": "!"}]}, "reviews.rating"),
        ({"tags": "beauty"}, "tags.type"),
    ],
)
def test_a_product_that_breaks_a_rule_is_rejected_with_a_validation_event(api, listing, changes, rule):
    listing(good(1), good(2, **changes))

    result = sync("--base-url", api.url_for("").rstrip("/"), "--no-images")

    assert result.exit_code == 1
    assert list(Product.objects.values_list("id", flat=True)) == [1]
    assert validation_rules() == [(2, rule)]
    assert "1 rejected" in result.stdout
    assert "violations: 1" in result.stdout


def test_a_product_without_an_integer_id_is_rejected(api, listing):
    listing(good(1), {**good(2), "id": "2"})

    sync("--base-url", api.url_for("").rstrip("/"), "--no-images")

    assert validation_rules() == [(None, "id.type")]


def test_a_duplicate_id_keeps_the_first_copy(api, listing):
    listing(good(1, title="First copy"), good(1, title="Second copy"))

    result = sync("--base-url", api.url_for("").rstrip("/"), "--no-images")

    assert Product.objects.get().title == "First copy"
    assert validation_rules() == [(1, "id.duplicate")]
    assert result.exit_code == 1


def test_hostile_text_is_stored_as_text(api, listing):
    title = "<script>alert('x')</script> Café ☕"
    listing(good(1, title=title, description="<img src=x onerror=alert(1)>"))

    sync("--base-url", api.url_for("").rstrip("/"), "--no-images")

    product = Product.objects.get()
    assert product.title == title
    assert "cafe" in product.search_text


def test_an_existing_product_that_turns_invalid_is_unpublished_not_changed(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1, price=10.0))
    sync("--base-url", base, "--no-images")

    listing(good(1, price=-5.0))
    result = sync("--base-url", base, "--no-images")

    product = Product.objects.get()
    assert (product.is_published, product.unpublished_reason, str(product.price)) == (
        False,
        "invalid: price.negative",
        "10.00",
    )
    assert "1 unpublished, 1 rejected" in result.stdout


def test_valid_data_in_a_later_run_publishes_the_product_again(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1, price=10.0))
    sync("--base-url", base, "--no-images")
    listing(good(1, price=-5.0))
    sync("--base-url", base, "--no-images")

    listing(good(1, price=12.0))
    assert sync("--base-url", base, "--no-images").exit_code == 0

    product = Product.objects.get()
    assert (product.is_published, product.unpublished_reason, str(product.price)) == (True, "", "12.00")


def test_every_changed_field_is_recorded_with_old_and_new_values_and_the_run(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1, price=10.0, stock=5))
    sync("--base-url", base, "--no-images")

    listing(good(1, price=12.5, stock=4))
    result = sync("--base-url", base, "--no-images")

    run_id = AuditEvent.objects.filter(kind="sync").first().run_id
    changes = {
        change.field: (change.old_value, change.new_value, change.run_id) for change in ProductChange.objects.all()
    }
    assert changes == {
        "price": ("10.00", "12.50", run_id),
        "final_price": ("9.13", "11.41", run_id),
        "stock": (5, 4, run_id),
    }
    assert "0 created, 1 updated, 0 unchanged" in result.stdout
    assert Product.objects.get().last_run_id == run_id


def test_a_product_gone_upstream_is_unpublished_never_deleted(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1), good(2), good(3))
    sync("--base-url", base, "--no-images")

    listing(good(1), good(2))
    result = sync("--base-url", base, "--no-images")

    assert list(Product.objects.published().values_list("id", flat=True)) == [1, 2]
    gone = Product.objects.get(id=3)
    assert (gone.is_published, gone.unpublished_reason) == (False, "gone upstream")
    assert ProductChange.objects.get(product_id=3).field == "is_published"
    assert "1 unpublished" in result.stdout


def test_a_product_that_comes_back_is_published_again(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1), good(2))
    sync("--base-url", base, "--no-images")
    listing(good(1))
    sync("--base-url", base, "--no-images")

    listing(good(1), good(2))
    sync("--base-url", base, "--no-images")

    assert Product.objects.published().count() == 2


def test_a_listing_that_fails_midway_keeps_earlier_pages_and_unpublishes_nothing(api):
    base = api.url_for("").rstrip("/")
    api.expect_request("/products").respond_with_json(payloads.envelope([good(1), good(2)], total=2))
    sync("--base-url", base, "--no-images")
    api.clear()
    api.expect_request("/products", query_string="limit=1&skip=0").respond_with_json(
        payloads.envelope([good(1, price=99.0)], total=2)
    )
    api.expect_request("/products", query_string="limit=1&skip=1").respond_with_data('{"products": [', status=200)

    result = sync("--base-url", base, "--no-images", "--page-size", "1")

    assert result.exit_code == 1
    assert "/products page at skip=1 failed: invalid" in result.stderr
    assert str(Product.objects.get(id=1).price) == "99.00"
    assert Product.objects.published().count() == 2


def test_a_first_page_of_invalid_json_keeps_data_from_earlier_runs(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1))
    sync("--base-url", base, "--no-images")
    api.clear()
    api.expect_request("/products").respond_with_data("<html>oops</html>")

    result = sync("--base-url", base, "--no-images")

    assert result.exit_code == 1
    assert Product.objects.published().count() == 1
    assert AuditEvent.objects.filter(kind="fetch", outcome="invalid").count() == 1


def test_a_product_that_moves_to_another_category_records_the_move(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1, category="beauty"))
    sync("--base-url", base, "--no-images")

    listing(good(1, category="skin-care"))
    assert sync("--base-url", base, "--no-images").exit_code == 0

    change = ProductChange.objects.get(field="category")
    assert (change.old_value, change.new_value) == ("beauty", "skin-care")
    assert Product.objects.get().category.slug == "skin-care"


def test_a_listing_that_ends_early_unpublishes_nothing(api, listing):
    base = api.url_for("").rstrip("/")
    listing(good(1), good(2))
    sync("--base-url", base, "--no-images")
    api.clear()
    api.expect_request("/products", query_string="limit=100&skip=0").respond_with_json(
        payloads.envelope([good(1)], total=2)
    )
    api.expect_request("/products", query_string="limit=100&skip=1").respond_with_json(
        payloads.envelope([], total=2, skip=1)
    )

    result = sync("--base-url", base, "--no-images")

    assert result.exit_code == 1
    assert "is empty although total is 2" in result.stderr
    assert Product.objects.published().count() == 2
