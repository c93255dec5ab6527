"""Golden records: known products that every sync must still carry, as a checked-in JSON file.

The file (``CATALOG_EXPECTATIONS_FILE``) lists products by id with what must not change
(title, category, brand) and ranges their numbers must stay in::

    {"products": [{"id": 1, "title": "Essence Mascara Lash Princess", "category": "beauty",
                   "price": {"min": 4.99, "max": 19.98}, "rating": {"min": 1.56, "max": 3.56}}]}

A broken file is an error naming the file and the line, raised before any sync starts.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .profile import NUMERIC_FIELDS

EXACT_FIELDS = ("title", "category", "brand")
RANGE_KEYS = ("min", "max")
PRICE_RANGE = (0.5, 2.0)  # --init: a golden price may halve or double, not move by x100
RATING_MARGIN = 1.0
INIT_FORMAT_VERSION = 1


class ExpectationsError(Exception):
    """The expectations file is missing or broken; the message names the file and the line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"expectations file {where}: {message}")
        self.path, self.line = path, line


@dataclass(frozen=True)
class GoldenRecord:
    """One known product: exact values and numeric ranges."""

    id: int
    exact: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    def failures(self, product: dict[str, Any] | None) -> list[str]:
        """What this product breaks (None: it is not in the data)."""
        if product is None:
            return [f"golden product {self.id} is missing"]
        problems = []
        for name, expected in self.exact.items():
            if product.get(name) != expected:
                problems.append(f"golden product {self.id}: {name} is {product.get(name)!r}, expected {expected!r}")
        for name, (low, high) in self.ranges.items():
            value = product.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"golden product {self.id}: {name} is {value!r}, expected a number")
            elif (low is not None and value < low) or (high is not None and value > high):
                problems.append(f"golden product {self.id}: {name} {value:.10g} is outside {_range_text(low, high)}")
        return problems

    @property
    def fields(self) -> tuple[str, ...]:
        """The payload fields this record reads."""
        return (*self.exact, *self.ranges)


def _range_text(low: float | None, high: float | None) -> str:
    return f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"


def _product_lines(text: str) -> list[int]:
    """The line of each object opened two levels deep: the entries of ``products``."""
    lines, depth, in_string, escaped, line = [], 0, False, False, 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            if char == "{" and depth == 2:
                lines.append(line)
            depth += 1
        elif char in "}]":
            depth -= 1
    return lines


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _record(entry: Any, fail: Callable[[str], NoReturn]) -> GoldenRecord:
    if not isinstance(entry, dict):
        fail("each product must be an object")
    if not isinstance(entry.get("id"), int) or isinstance(entry.get("id"), bool) or entry["id"] < 1:
        fail(f"a product needs a positive whole-number id, got {entry.get('id')!r}")
    exact, ranges = {}, {}
    for name, value in entry.items():
        if name == "id":
            continue
        if name in EXACT_FIELDS:
            if not isinstance(value, str):
                fail(f"product {entry['id']}: {name} must be text")
            exact[name] = value
        elif name in NUMERIC_FIELDS:
            if not isinstance(value, dict) or not value or set(value) - set(RANGE_KEYS):
                fail(f"product {entry['id']}: {name} must be an object with min and/or max")
            if not all(_number(bound) for bound in value.values()):
                fail(f"product {entry['id']}: {name} min and max must be numbers")
            ranges[name] = (value.get("min"), value.get("max"))
        else:
            known = ", ".join(("id", *EXACT_FIELDS, *NUMERIC_FIELDS))
            fail(f"product {entry['id']}: unknown key {name!r} (known: {known})")
    return GoldenRecord(id=entry["id"], exact=exact, ranges=ranges)


def load_expectations(path: Path) -> list[GoldenRecord]:
    """The golden records of a file; ExpectationsError for anything wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExpectationsError(
            path, None, "not found (create one with manage.py catalog_expectations --init)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ExpectationsError(path, None, f"cannot be read: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ExpectationsError(path, error.lineno, f"not valid JSON: {error.msg} (column {error.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise ExpectationsError(path, 1, 'must be an object with a "products" list')
    lines = _product_lines(text)
    records, seen = [], set()
    for index, entry in enumerate(data["products"]):
        line = lines[index] if index < len(lines) else None

        def fail(message: str, line: int | None = line) -> NoReturn:
            raise ExpectationsError(path, line, message)

        record = _record(entry, fail)
        if record.id in seen:
            fail(f"product {record.id} is listed twice")
        seen.add(record.id)
        records.append(record)
    return records


def golden_failures(
    records: list[GoldenRecord], products: dict[int, dict[str, Any]], *, require_all: bool
) -> list[str]:
    """Every failure of the staged data; products absent from a partial listing are not checked."""
    problems = []
    for record in records:
        product = products.get(record.id)
        if product is None and not require_all:
            continue
        problems += record.failures(product)
    return problems


def golden_entry(product: dict[str, Any]) -> dict[str, Any]:
    """A golden record of a product as the catalog holds it now (``--init``)."""
    entry: dict[str, Any] = {"id": product["id"], "title": product["title"], "category": product["category"]}
    if product.get("brand"):
        entry["brand"] = product["brand"]
    price = float(product["price"])
    entry["price"] = {"min": round(price * PRICE_RANGE[0], 2), "max": round(price * PRICE_RANGE[1], 2)}
    rating = float(product["rating"])
    entry["rating"] = {
        "min": round(max(0.0, rating - RATING_MARGIN), 2),
        "max": round(min(5.0, rating + RATING_MARGIN), 2),
    }
    entry["stock"] = {"min": 0}
    return entry


def write_expectations(path: Path, products: list[dict[str, Any]]) -> None:
    """Write a golden-records file: one product object per line, so a diff shows which one changed."""
    body = ",\n".join(f"    {json.dumps(golden_entry(product), ensure_ascii=False)}" for product in products)
    path.write_text(
        '{\n  "version": %d,\n  "products": [\n%s\n  ]\n}\n' % (INIT_FORMAT_VERSION, body),  # noqa: UP031
        encoding="utf-8",
    )
