"""The catalog admin: products link to their audit trail; "Refresh from DummyJSON" is queued, permitted and recorded."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from catalog.models import Product, ProductRefresh
from catalog.services import product_refresh
from tests import payloads

pytestmark = pytest.mark.django_db


def serve_product(api, **changes) -> dict:
    """Serve product 7 (with these changes) on the ``api`` server, its images there too."""
    product = payloads.product(
        images=[api.url_for("/img/7/1.webp")], thumbnail=api.url_for("/img/7/thumbnail.webp"), **changes
    )
    api.clear()
    api.expect_request("/products/7").respond_with_json(product)
    for path in ("/img/7/1.webp", "/img/7/thumbnail.webp"):
        api.expect_request(path).respond_with_data(payloads.image_bytes("WEBP"))
    return product


@pytest.fixture
def served_product(api):
    """Product 7 as the ``api`` server serves it."""
    return serve_product(api)


def refresh_action(admin_client, *ids: int):
    """Post the admin action for these products."""
    return admin_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "refresh_from_dummyjson", "_selected_action": [str(i) for i in ids]},
        follow=True,
    )


@pytest.mark.usefixtures("served_product")
def test_the_refresh_action_returns_at_once_with_the_refresh_queued(admin_client, api):
    product_refresh(product_id=7, actor="setup")
    api.clear()

    response = refresh_action(admin_client, 7)

    assert "Queued a refresh of 1 product(s) from DummyJSON" in response.content.decode()
    assert api.log == []
    assert ProductRefresh.objects.get(product_id=7).state == "queued"
    changelist = admin_client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert '<td class="field-refresh_state">queued (' in changelist


@pytest.mark.usefixtures("served_product")
def test_the_worker_runs_the_refresh_as_the_admin_user(admin_client, admin_user, api, worker):
    product_refresh(product_id=7, actor="setup")
    serve_product(api, price=15.0)
    refresh_action(admin_client, 7)

    worker()

    assert str(Product.objects.get(id=7).price) == "15.00"
    latest_fetch = AuditEvent.objects.filter(kind="fetch").order_by("-seq").first()
    assert latest_fetch.actor == admin_user.username
    assert Product.objects.get(id=7).last_run_id == latest_fetch.run_id
    action = AuditEvent.objects.get(kind="admin")
    assert (action.actor, action.outcome, action.run_id) == (admin_user.username, "ok", latest_fetch.run_id)
    assert action.details == {"refreshed": [7], "failed": []}
    changelist = admin_client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert '<td class="field-refresh_state">done (' in changelist


def test_the_refresh_reports_products_the_source_did_not_return(admin_client, api, served_product, worker):
    product_refresh(product_id=7, actor="setup")
    api.clear()
    api.expect_request("/products/7").respond_with_json({"message": "Product with id '7' not found"}, status=404)
    refresh_action(admin_client, 7)

    worker()

    assert AuditEvent.objects.get(kind="admin").details == {"refreshed": [], "failed": [7]}
    assert Product.objects.get(id=7).title == served_product["title"]
    assert ProductRefresh.objects.get(product_id=7).state == "failed"


@pytest.fixture
def staff_client(client, django_user_model):
    """A client signed in as a staff member with the given catalog permissions: ``staff_client("view")``."""

    def sign_in(*actions: str):
        user = django_user_model.objects.create_user("clerk", password="unused-password-1", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(codename__in=[f"{a}_product" for a in actions]))
        client.force_login(user)
        return client

    return sign_in


def test_a_staff_user_without_permissions_cannot_see_products_or_refresh(staff_client, api):
    response = refresh_action(staff_client(), 7)

    assert response.status_code == 403
    assert api.log == []
    assert not ProductRefresh.objects.exists()


@pytest.mark.usefixtures("served_product")
def test_a_view_only_user_is_not_offered_the_refresh_and_cannot_run_it(staff_client, api):
    product_refresh(product_id=7, actor="setup")
    api.clear()
    viewer = staff_client("view")

    page = viewer.get(reverse("admin:catalog_product_changelist")).content.decode()
    response = refresh_action(viewer, 7)

    assert "refresh_from_dummyjson" not in page
    assert response.status_code == 200
    assert "Queued a refresh" not in response.content.decode()
    assert api.log == []
    assert not ProductRefresh.objects.exists()


@pytest.mark.usefixtures("served_product")
def test_a_user_with_change_permission_can_queue_the_refresh(staff_client):
    product_refresh(product_id=7, actor="setup")

    response = refresh_action(staff_client("view", "change"), 7)

    assert "Queued a refresh of 1 product(s)" in response.content.decode()
    assert ProductRefresh.objects.get(product_id=7).requested_by == "clerk"


@pytest.mark.usefixtures("served_product")
def test_the_product_list_links_to_its_audit_events(admin_client):
    product_refresh(product_id=7, actor="setup")
    run_id = Product.objects.get(id=7).last_run_id

    page = admin_client.get(reverse("admin:catalog_product_changelist")).content.decode()

    assert "/admin/audit/auditevent/?product_id=7" in page
    assert f"/admin/audit/auditevent/?run_id={run_id}" in page


@pytest.mark.usefixtures("served_product", "settings")
def test_product_refresh_stores_images_and_confirms_an_unchanged_copy():
    first = product_refresh(product_id=7, actor="setup")
    synced_at = first.product.last_synced_at

    second = product_refresh(product_id=7, actor="setup")

    assert second.source_ok
    assert second.product.last_synced_at > synced_at
    assert sorted(image.file.name for image in second.product.images.all()) == [
        "products/7/1.webp",
        "products/7/thumbnail.webp",
    ]


@pytest.mark.usefixtures("served_product")
def test_product_refresh_with_invalid_data_unpublishes_and_records_the_rule(api):
    product_refresh(product_id=7, actor="setup")
    serve_product(api, rating=7)

    result = product_refresh(product_id=7, actor="setup")

    assert (result.source_ok, result.message, result.product.is_published) == (
        True,
        "the source data is invalid",
        False,
    )
    assert AuditEvent.objects.get(kind="validation").details["rule"] == "rating.range"


@pytest.mark.usefixtures("served_product")
def test_product_refresh_refuses_a_different_product_than_asked(api):
    serve_product(api, id=8)

    result = product_refresh(product_id=7, actor="setup")

    assert (result.product, result.source_ok) == (None, False)
    assert result.message == "the source answered with another product"
    assert not Product.objects.exists()
