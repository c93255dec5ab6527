"""A product page reads through to the source when its copy is missing or stale, and copes when the source is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from catalog.models import Product
from tests import payloads
from tests.factories import make_product

pytestmark = pytest.mark.django_db

STALE_NOTICE = "We could not reach our supplier just now"
CLOSED_PORT_URL = "http://127.0.0.1:9"


@pytest.fixture
def source_down(settings):
    """Nothing listens at the source's address, and the client does not retry."""
    settings.DUMMYJSON_BASE_URL = CLOSED_PORT_URL
    settings.DUMMYJSON_RETRIES = 0
    return settings


def days_ago(days: float):
    """A moment ``days`` before now."""
    return timezone.now() - timedelta(days=days)


def serve_product(api, **changes):
    """The source answers /products/7 with the sample product, its image and thumbnail served beside it."""
    image, thumbnail = api.url_for("/images/7/1.webp"), api.url_for("/images/7/thumbnail.webp")
    api.expect_request("/products/7").respond_with_json(
        payloads.product(images=[image], thumbnail=thumbnail, **changes)
    )
    for path in ("/images/7/1.webp", "/images/7/thumbnail.webp"):
        api.expect_request(path).respond_with_data(payloads.image_bytes("WEBP", (40, 30)), content_type="image/webp")


def test_a_product_missing_from_the_database_is_fetched_stored_and_shown(client, api):
    serve_product(api)

    response = client.get("/products/7/")

    assert response.status_code == 200
    assert "<h1>Velvet Matte Lip Tint</h1>" in response.content.decode()
    assert Product.objects.get(id=7).last_run_id == response["X-Run-Id"]
    assert sorted(request.path for request, _ in api.log) == [
        "/images/7/1.webp",
        "/images/7/thumbnail.webp",
        "/products/7",
    ]
    assert 'src="/media/products/7/1.webp" width="40" height="30"' in response.content.decode()


def test_the_read_through_is_audited_under_the_page_requests_run_id_as_anonymous(client, api):
    serve_product(api)

    response = client.get("/products/7/")

    events = AuditEvent.objects.filter(run_id=response["X-Run-Id"]).order_by("seq")
    assert list(events.values_list("kind", "outcome", "product_id", "actor")) == [
        ("fetch", "ok", 7, "anonymous"),
        ("download", "ok", 7, "anonymous"),
        ("download", "ok", 7, "anonymous"),
    ]


def test_a_signed_in_users_read_through_is_audited_under_their_username(admin_client, api):
    serve_product(api)

    response = admin_client.get("/products/7/")

    assert set(AuditEvent.objects.filter(run_id=response["X-Run-Id"]).values_list("actor", flat=True)) == {"admin"}


def test_each_page_request_has_its_own_run_id(client, api, settings):
    settings.CATALOG_TTL = 0
    serve_product(api)

    first, second = client.get("/products/7/"), client.get("/products/7/")

    assert first["X-Run-Id"] != second["X-Run-Id"]
    assert len(first["X-Run-Id"]) == 32


def test_a_stale_product_is_refreshed_before_the_page_is_shown(client, api):
    make_product(7, title="Old title", last_synced_at=days_ago(2))
    serve_product(api, title="New title")

    response = client.get("/products/7/")

    assert "<h1>New title</h1>" in response.content.decode()
    assert Product.objects.get(id=7).last_synced_at > days_ago(0.01)
    assert STALE_NOTICE not in response.content.decode()


def test_a_fresh_product_is_shown_without_asking_the_source(client, api):
    make_product(7, last_synced_at=days_ago(0.9))

    response = client.get("/products/7/")

    assert response.status_code == 200
    assert "X-Run-Id" not in response
    assert api.log == []


@pytest.mark.parametrize(("ttl", "asks"), [(120, False), (60, True)])
def test_the_ttl_comes_from_the_catalog_ttl_setting(client, api, settings, ttl, asks):
    settings.CATALOG_TTL = ttl
    make_product(7, last_synced_at=timezone.now() - timedelta(seconds=90))
    serve_product(api)

    client.get("/products/7/")

    assert bool(api.log) is asks


@pytest.mark.usefixtures("source_down")
def test_a_stale_copy_is_served_with_a_notice_when_the_source_is_down(client):
    make_product(7, title="Kept title", last_synced_at=days_ago(3))

    response = client.get("/products/7/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Kept title</h1>" in html
    assert (
        '<p class="notice notice-warning" role="status">\n  We could not reach our supplier just now, so this page '
        "shows what we knew 3\xa0days ago. Prices and stock may have changed.\n</p>"
    ) in html


@pytest.mark.usefixtures("source_down")
def test_a_missing_product_is_not_found_when_the_source_is_down(client):
    response = client.get("/products/7/")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()
    assert not Product.objects.exists()


def test_a_product_the_source_does_not_have_is_not_found(client, api):
    api.expect_request("/products/7").respond_with_json({"message": "Product with id '7' not found"}, status=404)

    assert client.get("/products/7/").status_code == 404


def test_a_product_whose_source_data_is_invalid_is_not_found(client, api):
    make_product(7, last_synced_at=days_ago(2))
    serve_product(api, price=-5)

    response = client.get("/products/7/")

    assert response.status_code == 404
    assert Product.objects.get(id=7).is_published is False


def test_a_stale_unpublished_product_that_is_valid_again_is_shown(client, api):
    make_product(7, is_published=False, last_synced_at=days_ago(2))
    serve_product(api, title="Back again")

    response = client.get("/products/7/")

    assert "<h1>Back again</h1>" in response.content.decode()
