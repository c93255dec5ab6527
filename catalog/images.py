"""Image bytes checked by what they are (Pillow), never by their name or Content-Type."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Real product photos are about 1000x1000; anything past this is a decompression bomb.
MAX_PIXELS = 40_000_000


class InvalidImageError(ValueError):
    """The bytes are not a complete image Pillow can read."""


@dataclass(frozen=True)
class ImageInfo:
    """What the bytes turned out to be."""

    format: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """Identify and fully verify an image, or raise InvalidImageError saying why."""
    if not data:
        raise InvalidImageError("the body is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise InvalidImageError(f"{width}x{height} pixels is too many")
                image.verify()
            # verify() does not decode pixels; load() does, and so catches truncated data.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except InvalidImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImageError(f"not a readable image: {error}") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow reports truncated or corrupt files with these.
        raise InvalidImageError(f"a damaged image: {error}") from error
    return ImageInfo(format=image_format or "", width=width, height=height)
