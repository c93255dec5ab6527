"""The query string as DummyJSON's Express server reads and checks it.

Express parses ``q[valueSearch]=x`` into an object and a repeated name into an array;
DummyJSON then tests ``limit``, ``skip`` and ``delay`` with JavaScript's ``Number()``
and keeps ``parseInt()`` of them. The messages and the order of the checks are the
upstream server's, so a client sees here the errors it would see there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_DELAY_MS = 5000
DEFAULT_LIMIT = 30
ORDERS = ("asc", "desc")

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_PREFIXED = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_LEADING_INT = re.compile(r"[+-]?\d+")
_BRACKETED = re.compile(r"([^\[\]]+)\[([^\[\]]*)\]")
# JavaScript's String.prototype.trim whitespace, enough of it for query values.
_JS_SPACE = " \t\n\r\v\f\u00a0\ufeff"

Value = str | list[str] | dict[str, str]


class ApiError(Exception):
    """An error answered with ``{"message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def js_number(value: Value) -> float:
    """``Number(value)``: NaN for text that is not a whole JavaScript number literal."""
    if isinstance(value, list):
        # Number(["5"]) is 5, Number([]) is 0, Number(["1", "2"]) is NaN.
        value = value[0] if len(value) == 1 else ("" if not value else "x")
    text = value.strip(_JS_SPACE) if isinstance(value, str) else "x"
    number = math.nan
    if not text:
        number = 0.0
    elif _DECIMAL.fullmatch(text):
        number = float(text)
    elif prefixed := _PREFIXED.fullmatch(text):
        number = float(int(prefixed.group(0), 0))
    elif text.lstrip("+-") == "Infinity" and len(text) <= len("Infinity") + 1:
        number = -math.inf if text.startswith("-") else math.inf
    return number


def js_parse_int(value: Value) -> int | None:
    """``parseInt(value, 10)``; None stands for NaN."""
    text = value[0] if isinstance(value, list) and value else value
    if not isinstance(text, str):
        return None
    match = _LEADING_INT.match(text.lstrip(_JS_SPACE))
    return int(match.group(0)) if match else None


def parse_query(query: str) -> dict[str, Value]:
    """Express's reading of a query string: ``a[b]=c`` an object, a repeated name an array."""
    parsed: dict[str, Value] = {}
    for raw_name, value in parse_qsl(query, keep_blank_values=True):
        if bracketed := _BRACKETED.fullmatch(raw_name):
            name, key = bracketed.groups()
            current = parsed.get(name)
            if key == "":
                parsed[name] = [*(current if isinstance(current, list) else []), value]
            else:
                parsed[name] = {**(current if isinstance(current, dict) else {}), key: value}
        elif isinstance(current := parsed.get(raw_name), str):
            parsed[raw_name] = [current, value]
        elif isinstance(current, list):
            current.append(value)
        else:
            parsed[raw_name] = value
    return parsed


@dataclass(frozen=True)
class QueryOptions:  # pylint: disable=too-many-instance-attributes  # one per upstream option
    """The checked options of one request, as the route handlers use them."""

    limit: int | None  # None: parseInt gave NaN
    skip: int | None
    search: str = ""
    delay_ms: int = 0
    select: list[str] | None = None
    sort_by: str = ""
    order: str = "asc"


def _text(params: dict[str, Value], name: str) -> str:
    value = params.get(name)
    return value if isinstance(value, str) else ""


def _search(q: Value | None) -> str:
    if isinstance(q, str):
        text = q
    elif isinstance(q, dict) and isinstance(q.get("valueSearch"), str) and q:
        text = q["valueSearch"]
    elif q:
        raise ApiError(400, "Invalid 'q' - must be a string")
    else:
        text = ""
    return " ".join(text.strip(_JS_SPACE).lower().split("-"))


def check_query(params: dict[str, Value]) -> QueryOptions:
    """Check the options in upstream's order; raise ApiError with upstream's message."""
    limit, skip = params.get("limit", str(DEFAULT_LIMIT)), params.get("skip", "0")
    if math.isnan(js_number(limit)):
        raise ApiError(400, "Invalid 'limit' - must be a number")
    if math.isnan(js_number(skip)):
        raise ApiError(400, "Invalid 'skip' - must be a number")
    search = _search(params.get("q"))
    delay = params.get("delay")
    if delay:  # an empty value is JavaScript-falsy and skipped
        delay_value = js_number(delay)
        if math.isnan(delay_value):
            raise ApiError(400, "Delay must be a number in milliseconds")
        if delay_value > MAX_DELAY_MS:
            raise ApiError(400, "Delay cannot be greater than 5 seconds")
        if delay_value < 0:
            raise ApiError(400, "Delay cannot be less than 0")
    select = params.get("select")
    fields = select if isinstance(select, list) else (select.split(",") if isinstance(select, str) and select else None)
    sort_by, order = _text(params, "sortBy"), _text(params, "order")
    if order and sort_by and order.lower() not in ORDERS:
        raise ApiError(400, "Order can be: 'asc' or 'desc'")
    return QueryOptions(
        limit=js_parse_int(limit),
        skip=js_parse_int(skip),
        search=search,
        delay_ms=(js_parse_int(delay) or 0) if delay else 0,
        select=fields,
        sort_by=sort_by,
        order=order.lower() or "asc",
    )


def page(items: list[dict], options: QueryOptions) -> list[dict]:  # type: ignore[type-arg]
    """Upstream's paging: ``skip`` only when positive; ``limit`` 0 is all, a negative one drops from the end."""
    if options.skip is not None and options.skip > 0:
        items = items[options.skip :]
    if options.limit is None:
        return []  # JavaScript's slice(0, NaN)
    if options.limit == 0 or options.limit > len(items):
        return items
    return items[: options.limit]
