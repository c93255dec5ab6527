"""Desafio 1: a product's images follow the rules (at least one; JPEG or PNG; numeric names)."""

import pytest

from catalog.client import get_product_images
from catalog.image_rules import RULE_AT_LEAST_ONE, RULE_FORMAT, RULE_NUMERIC_NAME, check_product_images
from tests.course.conftest import BASE_URL, CDN, product

pytestmark = pytest.mark.django_db


def rules_broken(images: list[str]) -> list[str]:
    """The rules the gallery breaks, in order."""
    return [violation.rule for violation in check_product_images(images)]


def test_product_1_has_at_least_one_image(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/1", json=product())

    images = get_product_images(1)

    assert len(images) >= 1
    assert rules_broken(images) == []


def test_a_product_without_images_breaks_the_first_rule(requests_mock):
    requests_mock.get(f"{BASE_URL}/products/1", json=product(images=[]))

    assert rules_broken(get_product_images(1)) == [RULE_AT_LEAST_ONE]


@pytest.mark.parametrize("name", ["1.jpg", "2.jpeg", "3.png", "4.JPG"])
def test_jpeg_and_png_images_are_allowed(name):
    assert rules_broken([f"{CDN}/{name}"]) == []


@pytest.mark.parametrize("name", ["1.webp", "1.gif", "1.bmp", "1"])
def test_other_formats_are_refused(name):
    assert rules_broken([f"{CDN}/{name}"]) == [RULE_FORMAT]


@pytest.mark.parametrize("name", ["front.jpg", "1a.png", "１.jpg"])
def test_image_names_must_be_numbers(name):
    assert rules_broken([f"{CDN}/{name}"]) == [RULE_NUMERIC_NAME]
