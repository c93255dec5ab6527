"""A product page never waits on the source: it serves the stored copy at once and queues one refresh for a worker."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from catalog.models import Product, ProductRefresh
from tests import payloads
from tests.factories import make_product

pytestmark = pytest.mark.django_db

NOT_YET = "<h1>Not in the catalog yet</h1>"
CHECKING_NOTICE = "we are checking with our supplier for changes"
SOURCE_DOWN_NOTICE = "We could not reach our supplier just now"
CLOSED_PORT_URL = "http://127.0.0.1:9"
VIEWS = 100


@pytest.fixture
def source_down(settings):
    """Nothing listens at the source's address, and the client does not retry."""
    settings.DUMMYJSON_BASE_URL = CLOSED_PORT_URL
    settings.DUMMYJSON_RETRIES = 0
    return settings


class HangingSource:
    """A TCP server that accepts connections and never answers; counts what connects."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The base URL to point the client at."""
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self.listener.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def hanging_source(settings):
    """The source accepts and then hangs; the client's timeouts are long, to show they are never reached."""
    source = HangingSource()
    settings.DUMMYJSON_BASE_URL = source.url
    settings.DUMMYJSON_TIMEOUT = "30,30"
    yield source
    source.close()


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


def test_a_missing_product_gets_a_not_in_the_catalog_yet_page_and_no_request_is_sent(client, api):
    serve_product(api)

    response = client.get("/products/7/")

    assert response.status_code == 404
    assert NOT_YET in response.content.decode()
    assert "Product 7 is not in our catalog yet. We have asked our supplier for it" in response.content.decode()
    assert api.log == []
    assert not Product.objects.exists()
    assert DBTaskResult.objects.count() == 1


def test_the_worker_stores_a_queued_product_and_the_next_view_shows_it(client, api, worker):
    serve_product(api)
    queued = client.get("/products/7/")

    worker()
    response = client.get("/products/7/")

    assert response.status_code == 200
    assert "<h1>Velvet Matte Lip Tint</h1>" in response.content.decode()
    assert 'src="/media/products/7/1.webp" width="40" height="30"' in response.content.decode()
    assert Product.objects.get(id=7).last_run_id == queued["X-Run-Id"]
    assert ProductRefresh.objects.get(product_id=7).state == "done"


def test_the_refresh_is_audited_under_the_run_id_the_page_returned_as_anonymous(client, api, worker):
    serve_product(api)
    response = client.get("/products/7/")

    worker()

    events = AuditEvent.objects.filter(run_id=response["X-Run-Id"]).order_by("seq")
    assert list(events.values_list("kind", "outcome", "product_id", "actor")) == [
        ("fetch", "ok", 7, "anonymous"),
        ("download", "ok", 7, "anonymous"),
        ("download", "ok", 7, "anonymous"),
    ]


def test_a_signed_in_users_refresh_is_audited_under_their_username(admin_client, api, worker):
    serve_product(api)
    response = admin_client.get("/products/7/")

    worker()

    assert set(AuditEvent.objects.filter(run_id=response["X-Run-Id"]).values_list("actor", flat=True)) == {"admin"}


def test_a_stale_product_is_shown_at_once_from_the_stored_copy_and_refreshed_by_the_worker(client, api, worker):
    make_product(7, title="Old title", last_synced_at=days_ago(2))
    serve_product(api, title="New title")

    stale = client.get("/products/7/").content.decode()
    worker()
    fresh = client.get("/products/7/").content.decode()

    assert "<h1>Old title</h1>" in stale
    assert CHECKING_NOTICE in stale
    assert "<h1>New title</h1>" in fresh
    assert CHECKING_NOTICE not in fresh
    assert Product.objects.get(id=7).last_synced_at > days_ago(0.01)


def test_a_fresh_product_is_shown_without_queueing_anything(client, api):
    make_product(7, last_synced_at=days_ago(0.9))

    response = client.get("/products/7/")

    assert response.status_code == 200
    assert "X-Run-Id" not in response
    assert api.log == []
    assert not DBTaskResult.objects.exists()


@pytest.mark.parametrize(("ttl", "queues"), [(120, False), (60, True)])
def test_the_ttl_comes_from_the_catalog_ttl_setting(client, settings, ttl, queues):
    settings.CATALOG_TTL = ttl
    make_product(7, last_synced_at=timezone.now() - timedelta(seconds=90))

    response = client.get("/products/7/")

    assert ("X-Run-Id" in response) is queues
    assert DBTaskResult.objects.exists() is queues


@pytest.mark.usefixtures("source_down")
def test_a_stale_copy_is_served_with_a_notice_once_the_worker_found_the_source_down(client, worker):
    make_product(7, title="Kept title", last_synced_at=days_ago(3))
    client.get("/products/7/")

    worker()
    response = client.get("/products/7/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Kept title</h1>" in html
    assert (
        '<p class="notice notice-warning" role="status">\n  We could not reach our supplier just now, so this page '
        "shows what we knew 3\xa0days ago. Prices and stock may have changed.\n</p>"
    ) in html
    assert ProductRefresh.objects.get(product_id=7).state == "failed"


@pytest.mark.usefixtures("source_down")
def test_a_missing_product_stays_not_in_the_catalog_when_the_source_is_down(client, worker):
    client.get("/products/7/")

    worker()
    response = client.get("/products/7/")

    assert response.status_code == 404
    assert "We asked our supplier for product 7" in response.content.decode()
    assert not Product.objects.exists()


def test_a_product_the_source_does_not_have_is_remembered_as_missing(client, api, worker):
    api.expect_request("/products/7").respond_with_json({"message": "Product with id '7' not found"}, status=404)
    client.get("/products/7/")

    worker()
    response = client.get("/products/7/")

    assert response.status_code == 404
    assert "they did not have it" in response.content.decode()
    assert ProductRefresh.objects.get(product_id=7).state == "missing"


def test_a_product_whose_source_data_is_invalid_is_unpublished_by_the_worker(client, api, worker):
    make_product(7, last_synced_at=days_ago(2))
    serve_product(api, price=-5)
    assert client.get("/products/7/").status_code == 200

    worker()

    assert client.get("/products/7/").status_code == 404
    assert Product.objects.get(id=7).is_published is False


def test_a_stale_unpublished_product_that_is_valid_again_is_shown_after_the_worker_ran(client, api, worker):
    make_product(7, is_published=False, last_synced_at=days_ago(2))
    serve_product(api, title="Back again")
    assert client.get("/products/7/").status_code == 404

    worker()

    assert "<h1>Back again</h1>" in client.get("/products/7/").content.decode()


def test_the_worker_skips_the_request_when_a_sync_refreshed_the_product_meanwhile(client, api, worker):
    make_product(7, last_synced_at=days_ago(2))
    client.get("/products/7/")
    Product.objects.filter(id=7).update(last_synced_at=timezone.now())

    worker()

    assert api.log == []
    assert ProductRefresh.objects.get(product_id=7).state == "done"


class TestSingleFlight:
    """Many views of one id within the interval cause at most one request to the source."""

    def test_views_of_an_unknown_id_queue_one_refresh_and_the_answer_is_remembered(self, client, api, worker):
        api.expect_request("/products/7").respond_with_json({"message": "not found"}, status=404)

        for _ in range(VIEWS):
            client.get("/products/7/")
        worker()
        for _ in range(VIEWS):
            client.get("/products/7/")
        worker()

        assert len(api.log) == 1
        assert DBTaskResult.objects.count() == 1

    def test_views_of_a_stale_product_queue_one_refresh(self, client, api, worker):
        make_product(7, last_synced_at=days_ago(2))
        serve_product(api)

        run_ids = {client.get("/products/7/").get("X-Run-Id") for _ in range(VIEWS)}
        worker()

        assert len(run_ids - {None}) == 1
        assert [request.path for request, _ in api.log].count("/products/7") == 1

    def test_a_new_refresh_is_queued_once_the_interval_has_passed(self, client, settings):
        settings.CATALOG_REFRESH_INTERVAL = 60
        client.get("/products/7/")
        ProductRefresh.objects.update(requested_at=timezone.now() - timedelta(seconds=61))

        client.get("/products/7/")

        assert DBTaskResult.objects.count() == 2

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_views_of_one_id_queue_one_refresh(self, client):
        barrier = threading.Barrier(8)

        def view() -> None:
            barrier.wait()
            client.get("/products/7/")
            connection.close()

        threads = [threading.Thread(target=view) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert DBTaskResult.objects.count() == 1
        assert ProductRefresh.objects.count() == 1


@pytest.mark.usefixtures("web_process")
class TestWebProcess:
    """A web process sends nothing to the source, even when the source hangs."""

    def test_views_of_stale_and_missing_products_return_at_once_while_the_source_hangs(self, client, hanging_source):
        make_product(7, last_synced_at=days_ago(2))
        started = time.monotonic()

        stale, missing = client.get("/products/7/"), client.get("/products/8/")

        assert time.monotonic() - started < 2
        assert (stale.status_code, missing.status_code) == (200, 404)
        assert hanging_source.connections == []

    def test_a_task_run_inside_a_web_process_is_refused_without_a_request(self, client, hanging_source, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}
        started = time.monotonic()

        client.get("/products/7/")

        assert time.monotonic() - started < 2
        assert hanging_source.connections == []
        blocked = AuditEvent.objects.get(kind="fetch")
        assert (blocked.outcome, blocked.message) == ("blocked", "outbound requests are not sent from a web process")
