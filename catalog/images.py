"""Image bytes checked by what they are (Pillow), never by their name or Content-Type."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Real product photos are about 1000x1000; anything past this is a decompression bomb.
MAX_PIXELS = 40_000_000
JPEG_END = b"\xff\xd9"
RIFF_HEADER_BYTES = 8


class InvalidImageError(ValueError):
    """The bytes are not a complete image Pillow can read."""


@dataclass(frozen=True)
class ImageInfo:
    """What the bytes turned out to be."""

    format: str
    width: int
    height: int


def is_complete(image_format: str | None, data: bytes) -> bool:
    """A cheap structural check that the file was not cut short, for the formats we serve.

    Decoding every pixel costs ~5 ms an image; these checks cost microseconds. PNG
    needs none: ``verify()`` already walks its chunks to IEND and checks their CRCs.
    """
    if image_format == "PNG":
        return True
    if image_format == "JPEG":
        return data.rstrip(b"\0\r\n ").endswith(JPEG_END)
    if image_format == "WEBP":
        declared = int.from_bytes(data[4:8], "little") + RIFF_HEADER_BYTES
        return len(data) >= declared
    return False


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
            if not is_complete(image_format, data):
                # verify() does not decode pixels; a full decode is the slow but sure check.
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
