"""Turn one raw DummyJSON product into validated field values, or say which rules it breaks.

Every rule has an id (``price.negative``, ``images.format``...) that validation
audit events carry, so a rejected product can be traced to the exact rule.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.utils.dateparse import parse_datetime

from audit.models import Kind, Outcome
from audit.services import record_event

from .image_rules import check_product_images
from .payload import (
    CENT,
    contains_nul,
    is_integer,
    is_number,
    payload_sha256,
    search_text,
    to_decimal,
    without_personal_data,
)

MAX_PRICE = Decimal("9999999999.99")
MAX_TITLE_LENGTH = 255
MAX_TEXT_LENGTH = 20_000
MAX_SHORT_TEXT_LENGTH = 255
MAX_REVIEWS = 100
MAX_INTEGER = 2**31 - 1  # the largest value an integer column holds on every database
MAX_BARCODE_LENGTH = 64


@dataclass(frozen=True)
class Violation:
    """One broken rule."""

    rule: str
    message: str


@dataclass
class CleanProduct:
    """A product that passed every rule, as model field values plus its related rows."""

    id: int
    fields: dict[str, Any]
    category_slug: str
    images: list[str]
    thumbnail: str
    reviews: list[dict[str, Any]]
    raw_sha256: str
    raw: dict[str, Any]


class _Checker:  # pylint: disable=too-few-public-methods
    """Collects violations while reading fields, so every broken rule is reported at once."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.violations: list[Violation] = []

    def fail(self, rule: str, message: str) -> None:
        """Note a broken rule."""
        self.violations.append(Violation(rule, message))

    def text(self, key: str, *, required: bool = False, max_length: int = MAX_SHORT_TEXT_LENGTH) -> str:
        """A string field, checked for type, presence and length."""
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(f"{key}.missing", f"{key} is missing")
            return ""
        if not isinstance(value, str):
            self.fail(f"{key}.type", f"{key} must be text, got {type(value).__name__}")
            return ""
        if required and not value.strip():
            self.fail(f"{key}.missing", f"{key} is empty")
        if len(value) > max_length:
            self.fail(f"{key}.too_long", f"{key} has {len(value)} characters, more than {max_length}")
            return ""
        return value

    def decimal(self, key: str, *, low: Decimal, high: Decimal, required: bool = False) -> Decimal:
        """A number field within [low, high], as a Decimal."""
        if key not in self.raw:
            if required:
                self.fail(f"{key}.missing", f"{key} is missing")
            return low
        value = to_decimal(self.raw[key])
        if value is None:
            self.fail(f"{key}.type", f"{key} must be a number, got {self.raw[key]!r:.50}")
            return low
        if value < low:
            self.fail(f"{key}.negative" if low == 0 else f"{key}.range", f"{key} {value} is below {low}")
        elif value > high:
            self.fail(f"{key}.range", f"{key} {value} is above {high}")
        return value

    def integer(self, key: str, *, low: int = 0) -> int | None:
        """An optional whole-number field, at least ``low``."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not is_integer(value):
            self.fail(f"{key}.type", f"{key} must be a whole number, got {value!r:.50}")
            return None
        if value < low:
            self.fail(f"{key}.negative", f"{key} {value} is below {low}")
        elif value > MAX_INTEGER:
            self.fail(f"{key}.range", f"{key} {value} is above {MAX_INTEGER}")
        return int(value)

    def number(self, container: dict[str, Any], key: str, name: str) -> float | None:
        """An optional number, as a float."""
        value = container.get(key)
        if value is None:
            return None
        if not is_number(value) or not math.isfinite(value):
            self.fail(f"{name}.type", f"{name} must be a finite number, got {value!r:.50}")
            return None
        return float(value)

    def nested_text(self, container: dict[str, Any], key: str, name: str, *, max_length: int) -> str:
        """An optional string inside an object field (a barcode stays text: leading zeros matter)."""
        value = container.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(f"{name}.type", f"{name} must be text, got {type(value).__name__}")
            return ""
        if value and len(value) > max_length:
            self.fail(f"{name}.too_long", f"{name} has {len(value)} characters, more than {max_length}")
            return ""
        return value or ""

    def mapping(self, key: str) -> dict[str, Any]:
        """An optional object field."""
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{key}.type", f"{key} must be an object")
            return {}
        return value

    def moment(self, container: dict[str, Any], key: str, name: str) -> datetime | None:
        """An optional ISO 8601 time."""
        value = container.get(key)
        if value is None:
            return None
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            self.fail(f"{name}.type", f"{name} must be an ISO 8601 time, got {value!r:.50}")
        return moment

    def string_list(self, key: str) -> list[str]:
        """An optional list of strings."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(f"{key}.type", f"{key} must be a list of text")
            return []
        return value

    def reviews(self) -> list[dict[str, Any]]:
        """Reviews without the reviewer's e-mail; malformed ones are a violation."""
        value = self.raw.get("reviews")
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > MAX_REVIEWS:
            self.fail("reviews.type", f"reviews must be a list of at most {MAX_REVIEWS}")
            return []
        cleaned = []
        for review in value:
            if not isinstance(review, dict) or not is_integer(review.get("rating")) or not 0 <= review["rating"] <= 5:
                self.fail("reviews.rating", "a review needs a whole-number rating from 0 to 5")
                continue
            sub = _Checker(review)
            cleaned.append(
                {
                    "rating": review["rating"],
                    "comment": sub.text("comment", max_length=MAX_TEXT_LENGTH),
                    "reviewer_name": sub.text("reviewerName", max_length=200),
                    "date": sub.moment(review, "date", "reviews.date"),
                }
            )
            self.violations.extend(Violation(f"reviews.{v.rule}", v.message) for v in sub.violations)
        return cleaned


def validate_product(raw: Any) -> CleanProduct | list[Violation]:
    """The clean product, or every rule it breaks (a product that breaks one is not published)."""
    if not isinstance(raw, dict):
        return [Violation("product.type", "a product must be a JSON object")]
    check = _Checker(raw)
    if not is_integer(raw.get("id")) or not 1 <= raw["id"] <= MAX_INTEGER:
        check.fail("id.type", f"id must be a positive whole number, got {raw.get('id')!r:.50}")
    if contains_nul(raw):
        # PostgreSQL cannot store NUL in text or JSON, and no real product has one.
        check.fail("text.nul", "a text field holds a NUL character")
    price = check.decimal("price", low=Decimal(0), high=MAX_PRICE, required=True)
    discount = check.decimal("discountPercentage", low=Decimal(0), high=Decimal(100))
    dimensions, meta = check.mapping("dimensions"), check.mapping("meta")
    images, thumbnail = check.string_list("images"), check.text("thumbnail", max_length=2048)
    fields = {
        "title": check.text("title", required=True, max_length=MAX_TITLE_LENGTH),
        "description": check.text("description", max_length=MAX_TEXT_LENGTH),
        "price": price,
        "discount_percentage": discount,
        "final_price": (price * (100 - discount) / 100).quantize(CENT, rounding=ROUND_HALF_UP),
        "rating": check.decimal("rating", low=Decimal(0), high=Decimal(5)),
        "stock": check.integer("stock") or 0,
        "brand": check.text("brand", max_length=200),
        "sku": check.text("sku", max_length=100),
        "weight": check.number(raw, "weight", "weight"),
        "width": check.number(dimensions, "width", "dimensions.width"),
        "height": check.number(dimensions, "height", "dimensions.height"),
        "depth": check.number(dimensions, "depth", "dimensions.depth"),
        "warranty_information": check.text("warrantyInformation"),
        "shipping_information": check.text("shippingInformation"),
        "return_policy": check.text("returnPolicy"),
        "availability_status": check.text("availabilityStatus", max_length=50),
        "minimum_order_quantity": check.integer("minimumOrderQuantity"),
        "tags": check.string_list("tags"),
        "barcode": check.nested_text(meta, "barcode", "meta.barcode", max_length=MAX_BARCODE_LENGTH),
        "source_created_at": check.moment(meta, "createdAt", "meta.createdAt"),
        "source_updated_at": check.moment(meta, "updatedAt", "meta.updatedAt"),
    }
    category = check.text("category", required=True, max_length=100)
    reviews = check.reviews()
    for problem in check_product_images(images, thumbnail or None):
        check.fail(problem.rule, problem.message)
    if check.violations:
        return check.violations
    fields["search_text"] = search_text(
        str(fields["title"]),
        str(fields["description"]),
        str(fields["brand"]),
        " ".join(cast(list[str], fields["tags"])),
    )
    return CleanProduct(
        id=raw["id"],
        fields=fields,
        category_slug=category,
        images=images,
        thumbnail=thumbnail,
        reviews=reviews,
        raw_sha256=payload_sha256(raw),
        raw=without_personal_data(raw),
    )


def record_violations(product_id: int | None, raw: Any, violations: list[Violation]) -> None:
    """One ``validation`` audit event per broken rule, naming the product and the rule."""
    for violation in violations:
        record_event(
            kind=Kind.VALIDATION,
            outcome=Outcome.INVALID,
            product_id=product_id,
            message=f"{violation.rule}: {violation.message}",
            details={"rule": violation.rule, "payload_sha256": payload_sha256(raw)},
        )
