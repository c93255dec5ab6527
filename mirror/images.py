"""Deterministic placeholder product images drawn with Pillow, cached in memory and on disk."""

from __future__ import annotations

import functools
import io
import os
import random
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# Extension -> (Pillow format, Content-Type).
FORMATS: dict[str, tuple[str, str]] = {
    "webp": ("WEBP", "image/webp"),
    "jpg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
}
GALLERY_SIZE = 600  # the real gallery is 1000x1000; smaller keeps first renders fast
THUMBNAIL_SIZE = 300
THUMBNAIL_NAME = "thumbnail"
# Bump whenever the drawing changes so disk caches never serve an older picture.
RENDER_VERSION = 1
_MEMORY_CACHE_SIZE = 1024
# Flat fills encode about twice as fast as gradients in WebP; method 0 is its fastest encoder.
_SAVE_OPTIONS: dict[str, dict] = {
    "WEBP": {"quality": 80, "method": 0},
    "JPEG": {"quality": 85},
    "PNG": {"compress_level": 1},
}
_QR_SIZE, _QR_CELLS = 150, 25


def content_type(ext: str) -> str:
    """Content-Type for an image extension (application/octet-stream if unknown)."""
    return FORMATS.get(ext, ("", "application/octet-stream"))[1]


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _encode(image: Image.Image, ext: str) -> bytes:
    pil_format = FORMATS[ext][0]
    buffer = io.BytesIO()
    image.save(buffer, pil_format, **_SAVE_OPTIONS[pil_format])
    return buffer.getvalue()


def render(pid: int, name: str, ext: str, *, seed: int, size: int) -> bytes:
    """Encode the picture of product pid's image `name` ("1".."6" or "thumbnail")."""
    rng = random.Random(f"{seed}:{pid}:{name}:image")
    colours = [tuple(rng.randrange(40, 230) for _ in range(3)) for _ in range(3)]
    image = Image.new("RGB", (size, size), colours[0])
    draw = ImageDraw.Draw(image)
    cut = rng.randrange(size // 4, size * 3 // 4)
    draw.polygon([(0, size), (cut, 0), (size, 0), (size - cut, size)], fill=colours[1])
    radius = rng.randrange(size // 8, size // 4)
    centre = (rng.randrange(radius, size - radius), rng.randrange(radius, size - radius))
    draw.ellipse((centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius), fill=colours[2])
    label = f"#{pid}" if name == THUMBNAIL_NAME else f"#{pid} / {name}"
    draw.text(
        (size // 2, size // 2),
        label,
        font=_font(size // 8),
        fill="white",
        anchor="mm",
        stroke_width=max(1, size // 150),
        stroke_fill="black",
    )
    return _encode(image, ext)


@functools.cache
def qr_code_png() -> bytes:
    """A small black-and-white grid standing in for the real API's shared QR-code PNG."""
    rng = random.Random("qr-code")
    image = Image.new("1", (_QR_CELLS, _QR_CELLS), 1)
    image.putdata([rng.randrange(2) for _ in range(_QR_CELLS * _QR_CELLS)])
    return _encode(image.resize((_QR_SIZE, _QR_SIZE), Image.Resampling.NEAREST), "png")


class ImageStore:
    """Renders product images on demand, remembering recent ones and optionally keeping files."""

    def __init__(
        self,
        seed: int = 42,
        *,
        gallery_size: int = GALLERY_SIZE,
        thumbnail_size: int = THUMBNAIL_SIZE,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.seed, self.gallery_size, self.thumbnail_size = seed, gallery_size, thumbnail_size
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._cached = functools.lru_cache(maxsize=_MEMORY_CACHE_SIZE)(self._load)

    def size_of(self, name: str) -> int:
        """Side in pixels of image `name` ("thumbnail" or a gallery number)."""
        return self.thumbnail_size if name == THUMBNAIL_NAME else self.gallery_size

    def get(self, pid: int, name: str, ext: str) -> bytes:
        """Encoded bytes of product pid's image `name` in format `ext`."""
        return self._cached(pid, name, ext)

    def _load(self, pid: int, name: str, ext: str) -> bytes:
        size = self.size_of(name)
        if self.cache_dir is None:
            return render(pid, name, ext, seed=self.seed, size=size)
        path = self.cache_dir / f"v{RENDER_VERSION}-{self.seed}-{pid}-{name}-{size}.{ext}"
        if path.exists():
            return path.read_bytes()
        data = render(pid, name, ext, seed=self.seed, size=size)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile(dir=self.cache_dir, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
        return data
