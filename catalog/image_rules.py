"""The course's image rules, as one validator used by the tests and by the sync.

1. A product has at least one image.
2. Every image is in an allowed format: JPEG or PNG for the course
   (``CATALOG_IMAGE_FORMATS=JPEG,PNG``); the live API serves WebP today, so the
   default also allows WEBP.
3. Gallery files have numeric names (``1.jpg``, ``2.png``...); the thumbnail is ``thumbnail.*``.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from . import conf

# File extensions as written in names, mapped to Pillow's format names.
EXTENSION_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
THUMBNAIL_STEM = "thumbnail"

RULE_AT_LEAST_ONE = "images.at_least_one"
RULE_FORMAT = "images.format"
RULE_NUMERIC_NAME = "images.numeric_name"
RULE_THUMBNAIL_NAME = "images.thumbnail_name"


@dataclass(frozen=True)
class ImageRuleViolation:
    """One broken rule: which rule, for which file name, and why."""

    rule: str
    name: str
    message: str


def file_name(url_or_name: str) -> str:
    """The last path segment of a URL or a path, percent-decoded."""
    return unquote(PurePosixPath(urlsplit(url_or_name).path).name)


def name_format(name: str) -> str | None:
    """The format a file name claims by its extension (``1.JPG`` -> ``JPEG``)."""
    return EXTENSION_FORMATS.get(PurePosixPath(name).suffix.lower().lstrip("."))


def check_format(name: str, formats: Iterable[str]) -> ImageRuleViolation | None:
    """Rule 2 for one file name."""
    allowed = frozenset(formats)
    claimed = name_format(name)
    if claimed in allowed:
        return None
    return ImageRuleViolation(
        RULE_FORMAT, name, f"{name!r} is not one of the allowed formats {', '.join(sorted(allowed))}"
    )


def check_product_images(
    images: Sequence[str], thumbnail: str | None = None, *, formats: Iterable[str] | None = None
) -> list[ImageRuleViolation]:
    """Every rule, over a product's gallery URLs (or names) and its thumbnail; empty when all pass."""
    allowed = frozenset(formats) if formats is not None else conf.image_formats()
    if not images:
        return [ImageRuleViolation(RULE_AT_LEAST_ONE, "", "the product has no images")]
    violations = []
    for url in images:
        name = file_name(url)
        if not PurePosixPath(name).stem.isdigit() or not name.isascii():
            violations.append(ImageRuleViolation(RULE_NUMERIC_NAME, name, f"{name!r} is not named like 1.jpg"))
        if problem := check_format(name, allowed):
            violations.append(problem)
    if thumbnail:
        name = file_name(thumbnail)
        if PurePosixPath(name).stem != THUMBNAIL_STEM:
            violations.append(ImageRuleViolation(RULE_THUMBNAIL_NAME, name, f"{name!r} is not named thumbnail.*"))
        if problem := check_format(name, allowed):
            violations.append(problem)
    return violations
