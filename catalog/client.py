"""The catalog's DummyJSON client in one import: the course's functions and the shared client.

The work is done in small modules, one job each:

- ``transport``: the only code that talks HTTP (timeouts, deadline, retries, redirects,
  allow-list, streaming caps, one audit event per attempt);
- ``dummyjson``: the API's endpoints (a product, listing pages, categories);
- ``course``: the course's functions (``get_product``, ``get_product_price``,
  ``get_product_images``, ``download_product_images``);
- ``image_download``: checking image bytes and storing them;
- ``client_factory``: ``shared_client()``, the one way to get a client.

To mock the client in a test, patch ``requests.Session.get`` (or use ``requests-mock``
or ``responses``), never ``requests.get``: the client sends through a pooled session.
"""

from .client_factory import new_client, shared_client
from .course import download_product_images, get_product, get_product_images, get_product_price
from .dummyjson import DummyJSONClient, ListingPage, SourceError
from .image_download import DownloadResult, download_image, stored_image_name

__all__ = [
    "DownloadResult",
    "DummyJSONClient",
    "ListingPage",
    "SourceError",
    "download_image",
    "download_product_images",
    "get_product",
    "get_product_images",
    "get_product_price",
    "new_client",
    "shared_client",
    "stored_image_name",
]
