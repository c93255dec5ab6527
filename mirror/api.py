"""The DummyJSON products endpoints as a pure function: (path, query) -> (status, JSON payload, delay)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import unquote

from mirror.catalog import Catalog, category_name
from mirror.drift import DriftedCatalog
from mirror.query import ApiError, QueryOptions, Value, check_query, page

_ID = re.compile(r"[1-9][0-9]*")

__all__ = ["Answer", "ApiError", "respond"]


def _subset(product: dict, fields: list[str] | None) -> dict:
    """Only the selected fields (id always first); unknown fields are left out, as upstream."""
    if fields is None:
        return product
    return {key: product[key] for key in dict.fromkeys(["id", *fields]) if key in product}


def _sort_key(value: object) -> tuple[int, object]:
    """Numbers before strings before anything else, so mixed fields still sort."""
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def _envelope(products: Catalog | DriftedCatalog | Iterable[dict], options: QueryOptions) -> dict:
    """Sort, page and select like upstream; `limit` in the reply is the count returned."""
    sort_by = options.sort_by
    if (
        isinstance(products, (Catalog, DriftedCatalog))
        and not sort_by
        and options.limit is not None
        and options.limit > 0
    ):
        # An unsorted catalog is sliced lazily, so one page of 10,000 products builds one page.
        skip = max(options.skip or 0, 0)
        total, items = len(products), products[skip : skip + options.limit]
    else:
        items = list(products)
        total = len(items)
        if sort_by:
            present = [p for p in items if sort_by in p]
            present.sort(key=lambda p: _sort_key(p[sort_by]), reverse=options.order == "desc")
            items = present + [p for p in items if sort_by not in p]  # missing values go last
        items = page(items, options)
    return {
        "products": [_subset(p, options.select) for p in items],
        "total": total,
        "skip": options.skip,  # as upstream echoes it: a negative skip stays negative
        "limit": len(items),
    }


Answer = tuple[int, object, int]  # status, JSON payload, delay in milliseconds


def respond(catalog: Catalog | DriftedCatalog, path: str, params: dict[str, Value]) -> Answer | None:
    """Answer a GET on `path` (no trailing slash) with `params` (as ``mirror.query.parse_query`` reads them).

    Returns (status, payload, delay_ms), or None when the path is not an API route (an HTML 404).
    """
    parts = path.strip("/").split("/")
    if parts[0] != "products" or len(parts) > 3 or (len(parts) == 3 and parts[1] != "category"):
        return None
    try:
        options = check_query(params)
    except ApiError as error:
        return error.status, {"message": error.message}, 0
    try:
        return 200, _route(catalog, [unquote(part) for part in parts[1:]], options), options.delay_ms
    except ApiError as error:
        return error.status, {"message": error.message}, options.delay_ms


def _route(catalog: Catalog | DriftedCatalog, rest: list[str], options: QueryOptions) -> object:
    if not rest:
        return _envelope(catalog, options)
    if len(rest) == 2:  # /products/category/{slug}; upstream matches the slug case-insensitively
        wanted = rest[1].lower()
        return _envelope((p for p in catalog if p["category"] == wanted), options)
    if rest[0] == "search":
        query = options.search
        return _envelope(
            (p for p in catalog if query in p["title"].lower() or query in p["description"].lower()), options
        )
    if rest[0] == "categories":
        return [
            {"slug": slug, "name": category_name(slug), "url": f"{catalog.base_url}/products/category/{slug}"}
            for slug in catalog.categories()
        ]
    if rest[0] == "category-list":
        return catalog.categories()
    # Upstream compares the id's text, so "abc" and "01" are simply not found.
    product = catalog.product(int(rest[0])) if _ID.fullmatch(rest[0]) else None
    if product is None:
        raise ApiError(404, f"Product with id '{rest[0]}' not found")
    return _subset(product, options.select)
