"""Image rendering: formats, sizes, determinism."""

import io

import pytest
from PIL import Image

from mirror.images import ImageStore, content_type, qr_code_png, render


@pytest.mark.parametrize(("ext", "pillow_format"), [("webp", "WEBP"), ("jpg", "JPEG"), ("png", "PNG")])
def test_render_encodes_the_requested_format_and_size(ext, pillow_format):
    with Image.open(io.BytesIO(render(5, "2", ext, seed=42, size=120))) as image:
        assert (image.format, image.size, image.mode) == (pillow_format, (120, 120), "RGB")


def test_render_is_deterministic_per_seed_product_and_name():
    same = render(5, "1", "png", seed=42, size=64)
    assert render(5, "1", "png", seed=42, size=64) == same
    assert render(5, "1", "png", seed=43, size=64) != same
    assert render(6, "1", "png", seed=42, size=64) != same
    assert render(5, "thumbnail", "png", seed=42, size=64) != same


def test_store_sizes_gallery_images_and_thumbnails_differently():
    store = ImageStore(seed=1, gallery_size=80, thumbnail_size=40)
    assert (store.size_of("3"), store.size_of("thumbnail")) == (80, 40)
    with Image.open(io.BytesIO(store.get(1, "thumbnail", "jpg"))) as image:
        assert image.size == (40, 40)


def test_content_types_follow_the_extension():
    assert [content_type(ext) for ext in ("webp", "jpg", "png", "gif")] == [
        "image/webp",
        "image/jpeg",
        "image/png",
        "application/octet-stream",
    ]


def test_qr_code_is_a_150_pixel_png():
    with Image.open(io.BytesIO(qr_code_png())) as image:
        assert (image.format, image.size) == ("PNG", (150, 150))
