"""The DummyJSON endpoints the catalog reads: one product, listing pages, categories.

Each method asks the transport for a JSON document and checks its shape; none of
them raises for a network or data fault, except a listing, which must be complete
or fail loudly (``SourceError``) so a sync never mistakes half a catalog for all of it.
"""

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from audit.models import Kind, Outcome

from .attempts import Attempt
from .transport import Transport

logger = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 1024 * 1024
DEFAULT_PAGE_SIZE = 100

Product = dict[str, Any]


class SourceError(Exception):
    """The source could not give a usable answer; the audit log has each attempt."""

    def __init__(self, message: str, *, outcome: str = Outcome.ERROR) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class ListingPage:
    """One page of a product listing, as the API sent it."""

    products: list[Product]
    total: int
    skip: int


def normalize_product_id(product_id: object) -> int | None:
    """A positive integer id from an int or a string of digits; None for anything else."""
    if isinstance(product_id, bool):
        return None
    if isinstance(product_id, str) and product_id.strip().isdigit():
        product_id = int(product_id)
    if isinstance(product_id, int) and product_id > 0:
        return product_id
    return None


def is_product(data: object) -> bool:
    """The minimal shape of a product object."""
    return isinstance(data, dict) and isinstance(data.get("id"), int) and not isinstance(data.get("id"), bool)


def is_envelope(data: object) -> bool:
    """The shape of a listing page: ``{"products": [...], "total": N, ...}``."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("products"), list)
        and isinstance(data.get("total"), int)
        and data["total"] >= 0
    )


def is_category_list(data: object) -> bool:
    """The shape of ``/products/categories``: a list of objects."""
    return isinstance(data, list) and all(isinstance(item, dict) for item in data)


class DummyJSONClient:
    """The DummyJSON API over an audited transport."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def base_url(self) -> str:
        """The API root requests are made against."""
        return self.transport.base_url

    def close(self) -> None:
        """Release the transport's pooled connections."""
        self.transport.close()

    def get_product(self, product_id: object) -> Product | None:
        """One product object, or None (bad or unknown id, network fault, bad body)."""
        checked_id = normalize_product_id(product_id)
        if checked_id is None:
            logger.warning("%r is not a product id: ids are positive whole numbers, like 1 or '1'", product_id)
            return None
        attempt = self.get_json(f"/products/{checked_id}", product_id=checked_id, expect=is_product)
        return attempt.value if attempt.outcome == Outcome.OK else None

    def iter_product_pages(
        self, page_size: int = DEFAULT_PAGE_SIZE, *, path: str = "/products", limit: int | None = None
    ) -> Iterator[ListingPage]:
        """Page through a listing with ``limit``/``skip`` until ``total``; raise SourceError on a bad page.

        The envelope's ``limit`` is the count returned, not the count asked for, so the
        next ``skip`` is advanced by the products actually received.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        skip = 0
        while limit is None or skip < limit:
            wanted = page_size if limit is None else min(page_size, limit - skip)
            attempt = self.get_json(path, params={"limit": wanted, "skip": skip}, expect=is_envelope)
            if attempt.outcome != Outcome.OK:
                raise SourceError(
                    f"{path} page at skip={skip} failed: {attempt.outcome} {attempt.message}".strip(),
                    outcome=attempt.outcome,
                )
            envelope = attempt.value
            products = envelope["products"]
            yield ListingPage(products=products, total=envelope["total"], skip=skip)
            skip += len(products)
            if skip >= envelope["total"] or (limit is not None and skip >= limit):
                return
            if not products:
                # Stopping quietly would read as a complete listing, and the sync would
                # unpublish every product it did not reach.
                raise SourceError(
                    f"{path} page at skip={skip} is empty although total is {envelope['total']}",
                    outcome=Outcome.INVALID,
                )

    def iter_products(self, page_size: int = DEFAULT_PAGE_SIZE, *, path: str = "/products") -> Iterator[Product]:
        """Every product of a listing, one page in memory at a time."""
        for page in self.iter_product_pages(page_size, path=path):
            yield from page.products

    def get_categories(self) -> list[dict[str, Any]] | None:
        """The category list (``slug``, ``name``, ``url``), or None on a fault."""
        attempt = self.get_json("/products/categories", expect=is_category_list)
        return attempt.value if attempt.outcome == Outcome.OK else None

    def get_json(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        product_id: int | None = None,
        expect: Callable[[Any], bool] = lambda data: True,
    ) -> Attempt:
        """GET a JSON document from the API; ``value`` holds it when the outcome is ok."""
        url = f"{self.base_url}{path}"
        if params:
            url = str(requests.Request("GET", url, params=params).prepare().url)

        def parse(attempt: Attempt) -> None:
            try:
                data = json.loads(attempt.body)
            except ValueError as error:
                attempt.outcome, attempt.message = Outcome.INVALID, f"body is not JSON: {error}"
                return
            if not expect(data):
                attempt.outcome, attempt.message = Outcome.INVALID, "body is not of the expected shape"
                return
            attempt.value = data

        return self.transport.get(
            url, kind=Kind.FETCH, max_bytes=MAX_JSON_BYTES, product_id=product_id, check_body=parse, rate_limited=True
        )
