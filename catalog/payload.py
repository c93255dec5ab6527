"""Plain helpers over raw DummyJSON payloads: hashing, search text, personal data and JSON number checks.

Validation, staging, search and the tests share them; none applies a validation rule.
"""

import hashlib
import json
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def payload_sha256(raw: Any) -> str:
    """sha256 of a payload's canonical JSON: the same data hashes the same however it was spelled."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def search_text(*parts: str) -> str:
    """Lower-cased text without accents, so "cafe" finds "Café"."""
    decomposed = unicodedata.normalize("NFKD", " ".join(parts).casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def contains_nul(value: Any) -> bool:
    """Whether any string in a JSON value, keys included, holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def without_personal_data(raw: dict[str, Any]) -> dict[str, Any]:
    """The payload to store: as received, less the reviewers' e-mail addresses.

    ``raw_sha256`` is still taken over the payload as received, so the stored copy can
    be traced to the exact upstream data without keeping personal data.
    """
    reviews = raw.get("reviews")
    if not isinstance(reviews, list):
        return raw
    cleaned = [
        {key: value for key, value in review.items() if key != "reviewerEmail"} if isinstance(review, dict) else review
        for review in reviews
    ]
    return {**raw, "reviews": cleaned}


def is_number(value: Any) -> bool:
    """A JSON number (bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    """A JSON integer (bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def to_decimal(value: Any) -> Decimal | None:
    """A number as a two-place Decimal, or None when it is not a finite number."""
    if not is_number(value):
        return None
    try:
        number = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
