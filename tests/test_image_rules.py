"""The course's image rules: at least one image, an allowed format, numeric names, a thumbnail name."""

import pytest

from catalog.image_rules import ImageRuleViolation, check_product_images, file_name, name_format
from tests.payloads import CDN

COURSE = ("JPEG", "PNG")
LIVE = ("JPEG", "PNG", "WEBP")


def rules(images, thumbnail=None, formats=LIVE) -> list[str]:
    """The ids of the rules broken."""
    return [violation.rule for violation in check_product_images(images, thumbnail, formats=formats)]


@pytest.mark.parametrize("formats", [COURSE, LIVE])
def test_jpg_and_png_with_numeric_names_pass_under_both_settings(formats):
    assert (
        rules([f"{CDN}/x/y/1.jpg", f"{CDN}/x/y/2.png", f"{CDN}/x/y/3.JPEG"], f"{CDN}/x/y/thumbnail.jpg", formats) == []
    )


def test_a_product_without_images_breaks_the_at_least_one_rule():
    assert check_product_images([], formats=LIVE) == [
        ImageRuleViolation("images.at_least_one", "", "the product has no images")
    ]


def test_webp_passes_the_live_setting_and_fails_the_course_setting():
    assert rules([f"{CDN}/x/y/1.webp"], f"{CDN}/x/y/thumbnail.webp", LIVE) == []
    assert rules([f"{CDN}/x/y/1.webp"], f"{CDN}/x/y/thumbnail.webp", COURSE) == ["images.format", "images.format"]


@pytest.mark.parametrize("formats", [COURSE, LIVE])
@pytest.mark.parametrize("name", ["1.gif", "1.bmp", "1", "1.tiff"])
def test_other_formats_fail_under_both_settings(formats, name):
    assert rules([f"{CDN}/x/y/{name}"], formats=formats) == ["images.format"]


@pytest.mark.parametrize("formats", [COURSE, LIVE])
@pytest.mark.parametrize("name", ["front.jpg", "image-1.png", "1a.jpg", "１.jpg", "-1.png", "thumbnail.png"])
def test_gallery_names_must_be_numeric(formats, name):
    assert rules([f"{CDN}/x/y/{name}"], formats=formats) == ["images.numeric_name"]


@pytest.mark.parametrize("formats", [COURSE, LIVE])
def test_the_thumbnail_must_be_named_thumbnail(formats):
    violations = check_product_images([f"{CDN}/x/y/1.png"], f"{CDN}/x/y/1.png", formats=formats)

    assert violations == [ImageRuleViolation("images.thumbnail_name", "1.png", "'1.png' is not named thumbnail.*")]


def test_the_format_message_names_the_allowed_formats():
    [violation] = check_product_images(["1.webp"], formats=COURSE)

    assert violation.message == "'1.webp' is not one of the allowed formats JPEG, PNG"


def test_the_setting_is_used_when_no_formats_are_given(settings):
    settings.CATALOG_IMAGE_FORMATS = ["JPEG", "PNG"]

    assert rules_from_settings(["1.webp"]) == ["images.format"]
    settings.CATALOG_IMAGE_FORMATS = "JPEG,PNG,WEBP"
    assert rules_from_settings(["1.webp"]) == []


def rules_from_settings(images):
    """The ids of the rules broken under the current setting."""
    return [violation.rule for violation in check_product_images(images)]


def test_names_come_from_the_decoded_last_path_segment():
    assert file_name(f"{CDN}/womens-bags/blue-women's-handbag/1.webp") == "1.webp"
    assert file_name("https://cdn.example/a/%31.jpg?x=1") == "1.jpg"
    assert name_format("photo.JPG") == "JPEG"
    assert name_format("photo") is None
