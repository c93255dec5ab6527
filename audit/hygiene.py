"""Make every value of an event safe to store: secrets redacted, and nothing a database refuses.

PostgreSQL refuses NUL in text and in JSON, lone surrogates cannot be encoded as UTF-8,
JSON has no NaN, and integer columns have ranges. An upstream or a visitor can send any of
these, and writing an event must never fail because of them, so they are escaped here
(readably, with backslashes) before the event is hashed.
"""

import json
import math
from typing import Any

from .redaction import redact_text, redact_url

NUL_ESCAPE = "\\x00"


def storable_text(value: Any) -> str:
    """Text every supported database stores as given: NUL and lone surrogates escaped."""
    if type(value) is str and value.isascii() and "\x00" not in value:  # pylint: disable=unidiomatic-typecheck  # a str subclass may print otherwise
        return value  # the common case: nothing to escape
    text = value if isinstance(value, str) else str(value if value is not None else "")
    if "\x00" in text:
        text = text.replace("\x00", NUL_ESCAPE)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def clean_text(value: Any) -> str:
    """Storable text with the secrets in it redacted."""
    return redact_text(storable_text(value))


def clean_url(value: Any) -> str:
    """A storable, redacted URL (a placeholder when it does not parse)."""
    text = storable_text(value)
    return redact_url(text) if text else ""


def clean_details(value: Any) -> Any:
    """A JSON value with every string (keys too) redacted and storable, and no NaN or infinity."""
    if isinstance(value, dict):
        return {clean_text(key): clean_details(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_details(item) for item in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


# Types JSON gives back as they were (floats when finite); exactly these: subclasses (an IntEnum, a
# StrEnum) may serialize as something else.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def _is_flat_plain(details: Any) -> bool:
    """A dict of plain values under text keys: cleaning it needs no JSON round trip."""
    # pylint: disable=unidiomatic-typecheck  # exact types, as above
    return type(details) is dict and all(
        type(key) is str and type(value) in _PLAIN_TYPES and (type(value) is not float or math.isfinite(value))
        for key, value in details.items()
    )


def json_details(details: Any) -> dict[str, Any]:
    """The details, cleaned, as the database gives them back (unknown objects as their text), always an object."""
    if not details:
        return {}
    if _is_flat_plain(details):  # the common case (a page number, a status), kept cheap: this is every event's path
        return {
            clean_text(key): clean_text(value) if isinstance(value, str) else value for key, value in details.items()
        }
    plain = json.loads(json.dumps(details or {}, default=str))
    cleaned = clean_details(plain if isinstance(plain, dict) else {"value": plain})
    safe: dict[str, Any] = json.loads(json.dumps(cleaned))  # what cleaning made (lists, not tuples), as stored
    return safe


def bounded_int(value: Any, *, low: int, high: int) -> int | None:
    """An integer the column can hold, or None when it is missing or out of range."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if low <= number <= high else None


def finite_float(value: Any) -> float | None:
    """A finite number rounded to microseconds' precision, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, 3) if math.isfinite(number) else None
