"""Download one image, check its bytes with Pillow and store it under a name built from trusted values.

This is the only place image bytes become files; the transport only fetches them.
"""

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage

from audit.models import Kind, Outcome

from . import conf
from .attempts import Attempt
from .client_factory import shared_client
from .image_rules import FORMAT_EXTENSIONS, THUMBNAIL_STEM
from .images import ImageInfo, InvalidImageError, inspect_image
from .transport import Transport


@dataclass(frozen=True)
class DownloadResult:  # pylint: disable=too-many-instance-attributes
    """What became of one image URL: stored, unchanged (304), or refused and why."""

    url: str
    outcome: str
    name: str = ""
    sha256: str = ""
    size: int = 0
    format: str = ""
    width: int = 0
    height: int = 0
    etag: str = ""
    message: str = ""

    @property
    def stored(self) -> bool:
        """Whether new bytes were written to storage."""
        return self.outcome == Outcome.OK


def stored_image_name(product_id: int, kind: str, position: int, image_format: str) -> str:
    """Where an image lives in storage, built only from trusted values, never from URL text."""
    stem = THUMBNAIL_STEM if kind == "thumbnail" else str(int(position))
    return f"products/{int(product_id)}/{stem}.{FORMAT_EXTENSIONS[image_format]}"


class _ImageCheck:
    """Judges a downloaded body and stores it when it is an allowed image."""

    def __init__(self, *, storage: Storage, product_id: int, kind: str, position: int) -> None:
        self.storage, self.product_id, self.kind, self.position = storage, product_id, kind, position
        self.allowed_formats = conf.image_formats()
        self.info: ImageInfo | None = None
        self.name = ""

    def __call__(self, attempt: Attempt) -> None:
        try:
            info = inspect_image(attempt.body)
        except InvalidImageError as error:
            attempt.outcome, attempt.message = Outcome.INVALID, str(error)
            return
        if info.format not in self.allowed_formats:
            attempt.outcome = Outcome.INVALID
            attempt.message = f"{info.format} is not an allowed format ({', '.join(sorted(self.allowed_formats))})"
            return
        name = stored_image_name(self.product_id, self.kind, self.position, info.format)
        self.name, self.info = self.storage.save(name, ContentFile(attempt.body)), info


def download_image(  # pylint: disable=too-many-arguments
    url: str,
    *,
    product_id: int,
    kind: str = "image",
    position: int = 1,
    etag: str = "",
    storage: Storage | None = None,
    transport: Transport | None = None,
) -> DownloadResult:
    """Download, check and store one image; never raises for a network or data fault.

    The bytes themselves are checked with Pillow against ``CATALOG_IMAGE_FORMATS``,
    and the file is named from the product id and position, never from the URL.
    With ``etag``, an unchanged image answers 304 and nothing is written. Without
    ``transport``, the shared client's is used.
    """
    transport = transport or shared_client().transport
    check = _ImageCheck(storage=storage or default_storage, product_id=product_id, kind=kind, position=position)
    headers = {"If-None-Match": etag} if etag else {}
    attempt = transport.get(
        url,
        kind=Kind.DOWNLOAD,
        max_bytes=conf.max_image_bytes(),
        product_id=product_id,
        headers=headers,
        check_body=check,
    )
    info = check.info
    result: dict[str, Any] = {"format": info.format, "width": info.width, "height": info.height} if info else {}
    return DownloadResult(
        url=url,
        outcome=attempt.outcome,
        name=check.name,
        sha256=attempt.sha256,
        size=len(attempt.body),
        etag=attempt.headers.get("ETag", etag if attempt.outcome == Outcome.NOT_MODIFIED else ""),
        message=attempt.message,
        **result,
    )
