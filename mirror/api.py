"""The DummyJSON products endpoints as a pure function: (path, query) -> (status, JSON payload)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import unquote

from mirror.catalog import Catalog, category_name
from mirror.drift import DriftedCatalog

DEFAULT_LIMIT = 30
_COUNT = re.compile(r"\s*\d+(\.\d*)?\s*")
_ORDERS = ("asc", "desc")
_ID = re.compile(r"[1-9][0-9]*")


class ApiError(Exception):
    """An error answered with ``{"message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _count(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not _COUNT.fullmatch(raw):
        raise ApiError(400, f"Invalid '{name}' - should be a positive number")
    return int(float(raw))


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


def _envelope(products: Catalog | DriftedCatalog | Iterable[dict], params: dict[str, str]) -> dict:
    """Sort, page and select like upstream; `limit` in the reply is the count returned."""
    limit, skip = _count(params, "limit", DEFAULT_LIMIT), _count(params, "skip", 0)
    sort_by = params.get("sortBy")
    # An unsorted catalog is sliced lazily, so one page of 10,000 products builds one page.
    items = products if isinstance(products, (Catalog, DriftedCatalog)) and not sort_by else list(products)
    if sort_by:
        present = [p for p in items if sort_by in p]
        present.sort(key=lambda p: _sort_key(p[sort_by]), reverse=params.get("order", "asc").lower() == "desc")
        items = present + [p for p in items if sort_by not in p]  # missing values go last
    page = items[skip : skip + limit] if limit else items[skip:]  # limit=0 means all
    fields = params["select"].split(",") if params.get("select") else None
    return {"products": [_subset(p, fields) for p in page], "total": len(items), "skip": skip, "limit": len(page)}


def _validate(params: dict[str, str]) -> None:
    """Reject bad parameters on every route, in upstream's order."""
    # Like upstream, `order` is only checked when `sortBy` is given too.
    if params.get("sortBy") and params.get("order", "asc").lower() not in _ORDERS:
        raise ApiError(400, "Invalid 'order' - should be either 'asc' or 'desc'")
    _count(params, "limit", DEFAULT_LIMIT)
    _count(params, "skip", 0)


def respond(catalog: Catalog | DriftedCatalog, path: str, params: dict[str, str]) -> tuple[int, object] | None:
    """Answer a GET on `path` (no trailing slash) with `params` (first value of each).

    Returns (status, payload), or None when the path is not an API route (an HTML 404).
    """
    parts = path.strip("/").split("/")
    if parts[0] != "products" or len(parts) > 3 or (len(parts) == 3 and parts[1] != "category"):
        return None
    try:
        _validate(params)
        return 200, _route(catalog, [unquote(part) for part in parts[1:]], params)
    except ApiError as error:
        return error.status, {"message": error.message}


def _route(catalog: Catalog | DriftedCatalog, rest: list[str], params: dict[str, str]) -> object:
    if not rest:
        return _envelope(catalog, params)
    if len(rest) == 2:  # /products/category/{slug}; upstream matches the slug case-insensitively
        wanted = rest[1].lower()
        return _envelope((p for p in catalog if p["category"] == wanted), params)
    if rest[0] == "search":
        query = params.get("q", "").strip().lower().replace("-", " ")
        return _envelope(
            (p for p in catalog if query in p["title"].lower() or query in p["description"].lower()), params
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
    fields = params["select"].split(",") if params.get("select") else None
    return _subset(product, fields)
