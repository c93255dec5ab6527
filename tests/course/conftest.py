"""The course's fixtures: the real API's address, mocked with requests-mock, and a quick client.

``requests_mock`` (from the requests-mock package) intercepts every ``requests``
session, the client's pooled one included, so nothing here reaches the network.
"""

import pytest

BASE_URL = "https://dummyjson.com"
CDN = "https://cdn.dummyjson.com/product-images/beauty/essence-mascara-lash-princess"


@pytest.fixture(autouse=True)
def course_settings(settings):
    """The course talks to the real API's address (mocked) and, like the course, wants JPEG and PNG."""
    settings.DUMMYJSON_BASE_URL = BASE_URL
    settings.DUMMYJSON_RETRIES = 0  # the course expects one call per question
    settings.CATALOG_IMAGE_FORMATS = "JPEG,PNG"
    return settings


def product(product_id: int = 1, **changes: object) -> dict:
    """Product 1 as the API sends it (the fields the course reads), with some fields changed."""
    return {
        "id": product_id,
        "title": "Essence Mascara Lash Princess",
        "price": 9.99,
        "images": [f"{CDN}/1.jpg", f"{CDN}/2.png"],
        "thumbnail": f"{CDN}/thumbnail.jpg",
        **changes,
    }
