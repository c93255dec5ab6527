"""The DummyJSON client's JSON calls: the course's functions, paging, retries and their audit events."""

import pytest
import requests

from audit.models import AuditEvent
from catalog import client as client_module
from catalog import retry_policy
from catalog.client import SourceError
from tests import payloads

pytestmark = pytest.mark.django_db

NOT_FOUND = {"message": "Product with id '999' not found"}
RATE_LIMITED = {"message": "request limit exceeded, please wait a few seconds"}


def events():
    """The audit events in the order they were written."""
    return list(AuditEvent.objects.order_by("seq"))


def test_get_product_returns_the_product_and_records_one_fetch(api, dummyjson):
    api.expect_request("/products/7").respond_with_json(payloads.product())

    assert dummyjson.get_product(7) == payloads.product()
    [event] = events()
    assert (event.kind, event.outcome, event.status_code, event.attempt, event.product_id) == ("fetch", "ok", 200, 1, 7)
    assert event.url == api.url_for("/products/7")
    assert event.bytes > 0
    assert len(event.sha256) == 64


def test_course_functions_use_the_configured_base_url(api):
    api.expect_request("/products/7").respond_with_json(payloads.product())

    assert client_module.get_product(7)["title"] == "Velvet Matte Lip Tint"
    assert client_module.get_product_price(7) == 12.49
    assert client_module.get_product_images(7) == payloads.PRODUCT["images"]


def test_get_product_accepts_an_id_written_as_digits(api, dummyjson):
    api.expect_request("/products/7").respond_with_json(payloads.product())

    assert dummyjson.get_product("7")["id"] == 7


@pytest.mark.parametrize("bad_id", [0, -3, "abc", "", None, True, 1.5, "1/../2"])
def test_get_product_returns_none_for_a_bad_id_without_a_request(api, dummyjson, bad_id):
    assert dummyjson.get_product(bad_id) is None
    assert not api.log
    assert not events()


def test_get_product_returns_none_on_404_and_does_not_retry(api, dummyjson):
    api.expect_request("/products/999").respond_with_json(NOT_FOUND, status=404)

    assert dummyjson.get_product(999) is None
    assert len(api.log) == 1
    [event] = events()
    assert (event.outcome, event.status_code, event.message) == ("http_error", 404, "HTTP 404")


def test_get_product_returns_none_on_timeout(dummyjson, mocker):
    send = mocker.patch.object(
        dummyjson.transport.session, "get", side_effect=requests.exceptions.ReadTimeout("read timed out")
    )

    assert dummyjson.get_product(1) is None
    assert send.call_count == 1
    [event] = events()
    assert event.outcome == "timeout"
    assert send.call_args.kwargs["timeout"] == (2.0, 2.0)


def test_get_product_retries_connection_errors_then_returns_none(dummyjson, mocker):
    send = mocker.patch.object(
        dummyjson.transport.session, "get", side_effect=requests.exceptions.ConnectionError("refused")
    )

    assert dummyjson.get_product(1) is None
    assert send.call_count == 4
    assert [(event.outcome, event.attempt) for event in events()] == [("connection_error", n) for n in (1, 2, 3, 4)]


def test_get_product_recovers_when_server_errors_give_way(api, dummyjson):
    api.expect_ordered_request("/products/7").respond_with_data("busy", status=503)
    api.expect_ordered_request("/products/7").respond_with_data("oops", status=500)
    api.expect_ordered_request("/products/7").respond_with_json(payloads.product())

    assert dummyjson.get_product(7)["id"] == 7
    assert [(event.outcome, event.status_code, event.attempt) for event in events()] == [
        ("http_error", 503, 1),
        ("http_error", 500, 2),
        ("ok", 200, 3),
    ]


def test_get_product_gives_up_after_the_configured_retries(api, dummyjson, settings):
    settings.DUMMYJSON_RETRIES = 2
    api.expect_request("/products/7").respond_with_data("down", status=502)
    client = client_module.new_client()

    assert client.get_product(7) is None
    assert len(api.log) == 3
    assert len(events()) == 3
    assert dummyjson.transport.retries == 3


def test_429_waits_as_long_as_retry_after_says(api, dummyjson, mocker):
    dummyjson.transport.sleep = mocker.Mock()
    api.expect_ordered_request("/products/7").respond_with_json(RATE_LIMITED, status=429, headers={"Retry-After": "2"})
    api.expect_ordered_request("/products/7").respond_with_json(payloads.product())

    assert dummyjson.get_product(7)["id"] == 7
    dummyjson.transport.sleep.assert_called_once_with(2.0)
    assert events()[0].details == {"retry_in_s": 2.0}


def test_retry_after_is_honoured_only_up_to_the_cap(api, dummyjson, mocker):
    dummyjson.transport.sleep = mocker.Mock()
    api.expect_ordered_request("/products/7").respond_with_json(
        RATE_LIMITED, status=429, headers={"Retry-After": "3600"}
    )
    api.expect_ordered_request("/products/7").respond_with_json(payloads.product())

    dummyjson.get_product(7)
    dummyjson.transport.sleep.assert_called_once_with(retry_policy.RETRY_AFTER_CAP_SECONDS)


def test_backoff_grows_between_retries(api, mocker, settings):
    settings.DUMMYJSON_BACKOFF = 0.5
    client = client_module.new_client()
    client.transport.sleep = mocker.Mock()
    api.expect_request("/products/7").respond_with_data("down", status=503)

    client.get_product(7)
    delays = [call.args[0] for call in client.transport.sleep.call_args_list]
    assert len(delays) == 3
    assert delays[0] == 0  # urllib3's policy: the first retry is immediate
    assert 1.0 <= delays[1] <= 1.0 + retry_policy.BACKOFF_JITTER_SECONDS
    assert 2.0 <= delays[2] <= 2.0 + retry_policy.BACKOFF_JITTER_SECONDS


def test_other_4xx_are_not_retried(api, dummyjson):
    api.expect_request("/products/7").respond_with_json({"message": "bad"}, status=400)

    assert dummyjson.get_product(7) is None
    assert len(api.log) == 1


def test_invalid_json_returns_none_and_is_recorded_as_invalid(api, dummyjson):
    api.expect_request("/products/7").respond_with_data('{"id": 7, "title": ', content_type="application/json")

    assert dummyjson.get_product(7) is None
    [event] = events()
    assert event.outcome == "invalid"
    assert event.message.startswith("body is not JSON")


@pytest.mark.parametrize("body", [[1, 2], {"title": "no id"}, {"id": "7"}, "just text"])
def test_a_body_of_the_wrong_shape_returns_none(api, dummyjson, body):
    api.expect_request("/products/7").respond_with_json(body)

    assert dummyjson.get_product(7) is None
    assert events()[0].message == "body is not of the expected shape"


def test_get_product_price_returns_none_when_the_price_is_not_a_number(api):
    api.expect_request("/products/7").respond_with_json(payloads.product(price="12.49"))

    assert client_module.get_product_price(7) is None


def test_get_product_price_returns_none_when_the_product_is_missing(api):
    api.expect_request("/products/999").respond_with_json(NOT_FOUND, status=404)

    assert client_module.get_product_price(999) is None


def test_get_product_images_returns_none_when_images_are_not_a_list_of_urls(api):
    api.expect_request("/products/7").respond_with_json(payloads.product(images="1.webp"))

    assert client_module.get_product_images(7) is None


def test_iter_products_advances_by_the_count_returned_not_the_count_asked(api, dummyjson):
    items = [payloads.product(id=n) for n in range(1, 6)]
    api.expect_request("/products", query_string="limit=3&skip=0").respond_with_json(
        payloads.envelope(items[:2], total=5)
    )
    api.expect_request("/products", query_string="limit=3&skip=2").respond_with_json(
        payloads.envelope(items[2:4], total=5, skip=2)
    )
    api.expect_request("/products", query_string="limit=3&skip=4").respond_with_json(
        payloads.envelope(items[4:], total=5, skip=4)
    )

    assert [item["id"] for item in dummyjson.iter_products(page_size=3)] == [1, 2, 3, 4, 5]
    assert len(api.log) == 3


def test_iter_products_refuses_an_empty_page_before_the_total(api, dummyjson):
    api.expect_request("/products", query_string="limit=100&skip=0").respond_with_json(
        payloads.envelope([payloads.product()], total=50)
    )
    api.expect_request("/products", query_string="limit=100&skip=1").respond_with_json(
        payloads.envelope([], total=50, skip=1)
    )

    with pytest.raises(SourceError, match="/products page at skip=1 is empty although total is 50"):
        list(dummyjson.iter_products())


def test_iter_products_raises_source_error_naming_the_failed_page(api, dummyjson):
    api.expect_request("/products").respond_with_data("not json")

    with pytest.raises(SourceError, match=r"/products page at skip=0 failed: invalid body is not JSON"):
        list(dummyjson.iter_products())


def test_iter_product_pages_honours_a_limit(api, dummyjson):
    api.expect_request("/products", query_string="limit=2&skip=0").respond_with_json(
        payloads.envelope([payloads.product(id=1), payloads.product(id=2)], total=194)
    )

    pages = list(dummyjson.iter_product_pages(page_size=10, limit=2))
    assert [len(page.products) for page in pages] == [2]


def test_iter_product_pages_refuses_a_page_size_below_one(dummyjson):
    with pytest.raises(ValueError, match="page_size must be at least 1"):
        next(dummyjson.iter_product_pages(page_size=0))


def test_get_categories_returns_the_list(api, dummyjson):
    categories = [{"slug": "beauty", "name": "Beauty", "url": "https://dummyjson.com/products/category/beauty"}]
    api.expect_request("/products/categories").respond_with_json(categories)

    assert dummyjson.get_categories() == categories
    assert client_module.shared_client().get_categories() == categories


def test_get_categories_returns_none_on_a_server_error(api, dummyjson):
    api.expect_request("/products/categories").respond_with_data("down", status=404)

    assert dummyjson.get_categories() is None


def test_every_request_the_server_receives_is_one_audit_event(api, dummyjson):
    api.expect_ordered_request("/products/7").respond_with_data("busy", status=503)
    api.expect_ordered_request("/products/7").respond_with_json(payloads.product())
    api.expect_request("/products/999").respond_with_json(NOT_FOUND, status=404)

    dummyjson.get_product(7)
    dummyjson.get_product(999)
    assert len(api.log) == len(events()) == 3


def test_default_client_is_shared_until_settings_change(settings):
    first = client_module.shared_client()
    assert client_module.shared_client() is first
    settings.DUMMYJSON_BASE_URL = "http://127.0.0.1:9"
    assert client_module.shared_client() is not first
    assert client_module.shared_client().base_url == "http://127.0.0.1:9"


def test_proxy_variables_are_read_once_when_the_client_is_made(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "")

    client = client_module.new_client(base_url="https://dummyjson.com")

    assert client.transport.session.proxies["https"] == "http://proxy.internal:3128"
    assert client.transport.session.trust_env is False
