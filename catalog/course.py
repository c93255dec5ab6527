"""The course's functions, as the course names them, over the shared client.

``get_product``, ``get_product_price`` and ``get_product_images`` return ``None`` on
a network or data fault and say why in the audit log and the ``catalog`` logger;
they never raise for one. ``download_product_images`` stores a product's images.
"""

import logging
from typing import Any

from .client_factory import shared_client
from .image_download import DownloadResult, download_image

logger = logging.getLogger(__name__)


def get_product(product_id: object) -> dict[str, Any] | None:
    """One product as a dict, or None (bad or unknown id, network fault, bad body)."""
    return shared_client().get_product(product_id)


def get_product_price(product_id: object) -> float | None:
    """The product's price as a float, or None when the product or a numeric price is missing."""
    product = get_product(product_id)
    price = product.get("price") if product else None
    if isinstance(price, (int, float)) and not isinstance(price, bool):
        return float(price)
    if product is not None:
        logger.warning("get_product_price: product %s has no numeric price: %r", product_id, price)
    return None


def get_product_images(product_id: object) -> list[str] | None:
    """The product's gallery image URLs, or None when missing or not a list of strings."""
    product = get_product(product_id)
    images = product.get("images") if product else None
    if isinstance(images, list) and all(isinstance(url, str) for url in images):
        return images
    if product is not None:
        logger.warning("get_product_images: product %s has no list of image URLs", product_id)
    return None


def download_product_images(product_id: object, *, include_thumbnail: bool = True) -> list[DownloadResult] | None:
    """Download a product's gallery (and thumbnail); return what was stored, None if there is no product."""
    product = get_product(product_id)
    if product is None:
        return None
    images = product.get("images")
    urls = [("image", position, url) for position, url in enumerate(images or [], start=1)]
    if include_thumbnail and isinstance(product.get("thumbnail"), str):
        urls.append(("thumbnail", 0, product["thumbnail"]))
    results = [
        download_image(url, product_id=product["id"], kind=kind, position=position)
        for kind, position, url in urls
        if isinstance(url, str)
    ]
    return [result for result in results if result.stored]
