"""Desafio 2: download a product's images and keep them, named by the product and position."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from catalog.client import download_product_images
from tests.course.conftest import BASE_URL, CDN, product

pytestmark = pytest.mark.django_db


def image(image_format: str) -> bytes:
    """A small image in the given format."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.fixture
def product_1(requests_mock):
    """Product 1 with a JPEG, a PNG and a JPEG thumbnail, all served by the mocked CDN."""
    requests_mock.get(f"{BASE_URL}/products/1", json=product())
    requests_mock.get(f"{CDN}/1.jpg", content=image("JPEG"))
    requests_mock.get(f"{CDN}/2.png", content=image("PNG"))
    requests_mock.get(f"{CDN}/thumbnail.jpg", content=image("JPEG"))
    return requests_mock


@pytest.mark.usefixtures("product_1")
def test_download_product_images_stores_every_image():
    stored = download_product_images(1)

    assert [result.name for result in stored] == ["products/1/1.jpg", "products/1/2.png", "products/1/thumbnail.jpg"]
    assert all(default_storage.exists(result.name) for result in stored)


@pytest.mark.usefixtures("product_1")
def test_the_thumbnail_can_be_left_out():
    stored = download_product_images(1, include_thumbnail=False)

    assert [result.format for result in stored] == ["JPEG", "PNG"]


def test_a_file_that_is_not_an_image_is_not_stored(product_1):
    product_1.get(f"{CDN}/2.png", content=b"<html>not found</html>")

    stored = download_product_images(1)

    assert [result.name for result in stored] == ["products/1/1.jpg", "products/1/thumbnail.jpg"]
    assert not default_storage.exists("products/1/2.png")


def test_an_unknown_product_downloads_nothing(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/999", status_code=404, json={"message": "Product with id '999' not found"})

    assert download_product_images(999) is None
