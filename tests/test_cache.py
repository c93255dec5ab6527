"""Cached catalog reads: shared through Redis when REDIS_URL is set, dropped when the catalog changes."""

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from django.core.cache import caches

from catalog.cache import cached_read, generation
from catalog.persistence import save_page, unpublish_missing
from catalog.selectors import ProductFilters, product_listing
from catalog.validation import validate_product
from tests import payloads

pytestmark = pytest.mark.django_db(transaction=True)  # invalidation waits for the commit


REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def redis_is_up() -> bool:
    """Whether the Redis server (REDIS_URL, else the machine's own on 127.0.0.1:6379) answers."""
    address = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((address.hostname, address.port or 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "redis"])
def any_cache(request, settings):
    """The per-process memory cache, and Redis when it is running here."""
    if request.param == "redis":
        if not redis_is_up():
            pytest.skip(f"no Redis server at {REDIS_URL}")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",  # never collide with other runs
            }
        }
    yield caches["default"]
    caches["default"].clear()


def store(*products: dict) -> None:
    """Write products as a sync page would."""
    save_page([validate_product(product) for product in products], {}, run_id="test")


@pytest.mark.usefixtures("any_cache")
def test_cached_read_computes_once_per_generation():
    calls = []

    def compute():
        calls.append(1)
        return ["value"]

    assert cached_read("thing", (1,), compute) == ["value"]
    assert cached_read("thing", (1,), compute) == ["value"]
    assert cached_read("thing", (2,), compute) == ["value"]
    assert len(calls) == 2


@pytest.mark.usefixtures("any_cache")
def test_a_page_write_that_changes_products_starts_a_new_generation():
    before = generation()
    store(payloads.product(id=1))

    assert generation() != before


@pytest.mark.usefixtures("any_cache")
def test_an_unchanged_page_keeps_the_generation():
    store(payloads.product(id=1))
    before = generation()

    store(payloads.product(id=1))

    assert generation() == before


@pytest.mark.usefixtures("any_cache")
def test_the_sidebar_counts_follow_the_catalog_through_the_cache():
    store(payloads.product(id=1), payloads.product(id=2))
    assert product_listing(filters=ProductFilters(), page_number=1).all_categories_count == 2

    unpublish_missing({1}, run_id="test")

    assert product_listing(filters=ProductFilters(), page_number=1).all_categories_count == 1


@pytest.mark.usefixtures("any_cache")
def test_the_sidebar_is_served_from_the_cache_while_nothing_changes(django_assert_num_queries):
    store(payloads.product(id=1))
    product_listing(filters=ProductFilters(), page_number=1)

    with django_assert_num_queries(2):  # the page of products and its thumbnails; no facets, no brands
        product_listing(filters=ProductFilters(), page_number=1)
