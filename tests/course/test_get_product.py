"""The course's first exercises: get_product, get_product_price and get_product_images, mocked.

The course patches ``requests.get``; this client sends through a pooled
``requests.Session``, so the seam is the session: requests-mock (or responses)
for answers, ``mocker.patch("requests.Session.get")`` for raised exceptions.
"""

import pytest
import requests
from pytest_socket import SocketBlockedError

from audit.models import AuditEvent
from catalog.client import get_product, get_product_images, get_product_price
from tests.course.conftest import BASE_URL, CDN, product

pytestmark = pytest.mark.django_db


def test_get_product_returns_the_product(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/1", json=product())

    assert get_product(1) == product()
    assert requests_mock.call_count == 1


def test_get_product_price_returns_the_price(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/1", json=product())

    assert get_product_price(1) == 9.99


def test_get_product_images_returns_the_gallery(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/1", json=product())

    assert get_product_images(1) == [f"{CDN}/1.jpg", f"{CDN}/2.png"]


def test_get_product_returns_none_on_404(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/2", status_code=404, json={"message": "Product with id '2' not found"})

    assert get_product(2) is None


def test_get_product_returns_none_on_timeout(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/2", exc=requests.exceptions.Timeout)

    assert get_product(2) is None
    [event] = AuditEvent.objects.all()
    assert (event.outcome, event.message) == ("timeout", "no response within 2.0 s")


def test_the_course_timeout_mock_works_on_the_session(mocker):
    send = mocker.patch("requests.Session.get", side_effect=requests.exceptions.Timeout)

    assert get_product(2) is None
    assert send.call_count == 1
    assert AuditEvent.objects.get().outcome == "timeout"


def test_patching_requests_get_misses_the_client_and_fails_loudly(mocker):
    # The course's seam: the client never calls requests.get, so the real request goes out
    # and is stopped by the test suite's network guard instead of quietly returning None.
    mocker.patch("requests.get").return_value.status_code = 404

    with pytest.raises(SocketBlockedError):
        get_product(2)


@pytest.mark.parametrize("bad_id", ["abc", "", -1, 0, 1.5, None])
def test_get_product_returns_none_for_an_id_that_is_not_a_positive_whole_number(requests_mock, bad_id):
    assert get_product(bad_id) is None
    assert requests_mock.call_count == 0


def test_get_product_price_returns_none_when_the_price_is_missing(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/1", json=product(price=None))

    assert get_product_price(1) is None
