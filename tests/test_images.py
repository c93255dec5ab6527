"""Image bytes are identified by Pillow, whatever their name says."""

import pytest

from catalog.images import InvalidImageError, inspect_image
from tests.payloads import image_bytes


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_inspect_image_reports_format_and_size(image_format):
    info = inspect_image(image_bytes(image_format, (30, 20)))

    assert (info.format, info.width, info.height) == (image_format, 30, 20)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the body is empty"),
        (b"<html><body>404</body></html>", "not a readable image"),
        (image_bytes("PNG", (50, 50))[:60], "a damaged image"),
    ],
)
def test_inspect_image_rejects_what_is_not_a_whole_image(data, message):
    with pytest.raises(InvalidImageError, match=message):
        inspect_image(data)


def test_inspect_image_rejects_a_decompression_bomb(monkeypatch):
    monkeypatch.setattr("catalog.images.MAX_PIXELS", 100)

    with pytest.raises(InvalidImageError, match="20x20 pixels is too many"):
        inspect_image(image_bytes("PNG", (20, 20)))


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP", "PNG", "GIF"])
def test_inspect_image_rejects_a_file_cut_short(image_format):
    whole = image_bytes(image_format, (64, 64))

    with pytest.raises(InvalidImageError):
        inspect_image(whole[: len(whole) - 10])
