"""Realistic DummyJSON payloads and image bytes for tests, written for this project.

The shapes follow the live API (see the reference notes): ``brand`` missing on some
products, barcodes as strings with leading zeros, WebP image URLs named 1, 2, ...
"""

import copy
import io

from PIL import Image

CDN = "https://cdn.dummyjson.com/product-images"

PRODUCT = {
    "id": 7,
    "title": "Velvet Matte Lip Tint",
    "description": "A long-wearing lip tint with a soft matte finish and a light floral scent.",
    "category": "beauty",
    "price": 12.49,
    "discountPercentage": 8.75,
    "rating": 4.31,
    "stock": 58,
    "tags": ["beauty", "lipstick"],
    "brand": "Lumen",
    "sku": "BEA-LUM-LIP-007",
    "weight": 2,
    "dimensions": {"width": 8.12, "height": 21.4, "depth": 9.05},
    "warrantyInformation": "1 month warranty",
    "shippingInformation": "Ships in 2 weeks",
    "availabilityStatus": "In Stock",
    "reviews": [
        {
            "rating": 5,
            "comment": "Lovely colour!",
            "date": "2025-04-30T09:41:02.053Z",
            "reviewerName": "Ana Souza",
            "reviewerEmail": "ana.souza@x.example.com",
        }
    ],
    "returnPolicy": "30 days return policy",
    "minimumOrderQuantity": 12,
    "meta": {
        "createdAt": "2025-04-30T09:41:02.053Z",
        "updatedAt": "2025-04-30T09:41:02.053Z",
        "barcode": "0451287700318",
        "qrCode": "https://cdn.dummyjson.com/public/qr-code.png",
    },
    "images": [f"{CDN}/beauty/velvet-matte-lip-tint/1.webp", f"{CDN}/beauty/velvet-matte-lip-tint/2.webp"],
    "thumbnail": f"{CDN}/beauty/velvet-matte-lip-tint/thumbnail.webp",
}


def product(**changes) -> dict:
    """A fresh copy of the sample product, with some fields changed."""
    return {**copy.deepcopy(PRODUCT), **changes}


def envelope(products: list[dict], *, total: int, skip: int = 0) -> dict:
    """A listing page as the API sends it: ``limit`` is the count returned."""
    return {"products": products, "total": total, "skip": skip, "limit": len(products)}


def image_bytes(image_format: str = "WEBP", size: tuple[int, int] = (8, 6)) -> bytes:
    """A small, valid image in the given Pillow format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(buffer, format=image_format)
    return buffer.getvalue()
