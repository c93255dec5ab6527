"""Write one page of validated products in one transaction, recording what changed and why.

No HTTP happens here: the caller fetched and validated first, so a page either
commits whole or not at all, and the audit events of its fetches stand on their own.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from .cache import invalidate_after_commit
from .counts import Counts
from .models import Category, ImageKind, ImageStatus, Product, ProductChange, ProductImage, Review
from .validation import CleanProduct, Violation

GONE_UPSTREAM = "gone upstream"


@dataclass
class PageCounts(Counts):
    """What one page did to the catalog."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0


def json_value(value: Any) -> Any:
    """A field value as history stores it: Decimals and times as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Category):
        return value.slug
    return value


def category_name(slug: str) -> str:
    """A readable name from a slug: ``home-decoration`` -> ``Home Decoration``."""
    return slug.replace("-", " ").title()


def ensure_categories(slugs: set[str]) -> dict[str, Category]:
    """The categories for these slugs, creating the missing ones."""
    known = {category.slug: category for category in Category.objects.filter(slug__in=slugs)}
    if missing := slugs - known.keys():
        Category.objects.bulk_create(
            [Category(slug=slug, name=category_name(slug)) for slug in sorted(missing)], ignore_conflicts=True
        )
        known.update({category.slug: category for category in Category.objects.filter(slug__in=missing)})
    return known


def desired_images(clean: CleanProduct) -> dict[tuple[str, int], str]:
    """(kind, position) -> source URL for a product's gallery and thumbnail."""
    wanted = {(ImageKind.IMAGE.value, position): url for position, url in enumerate(clean.images, start=1)}
    if clean.thumbnail:
        wanted[(ImageKind.THUMBNAIL.value, 0)] = clean.thumbnail
    return wanted


def sync_image_rows(product: Product, clean: CleanProduct, existing: list[ProductImage]) -> list[ProductImage]:
    """Match the product's image rows to the payload (a changed URL means a new download); return rows to add."""
    wanted = desired_images(clean)
    by_key = {(row.kind, row.position): row for row in existing}
    for key, row in by_key.items():
        if key not in wanted:
            row.delete()
        elif row.source_url != wanted[key]:
            row.source_url, row.status, row.etag, row.checked_at = wanted[key], ImageStatus.PENDING, "", None
            row.save(update_fields=["source_url", "status", "etag", "checked_at"])
    return [
        ProductImage(product=product, kind=kind, position=position, source_url=url)
        for (kind, position), url in wanted.items()
        if (kind, position) not in by_key
    ]


def review_rows(product: Product, clean: CleanProduct) -> list[Review]:
    """The product's reviews as the payload has them (without e-mails)."""
    return [Review(product=product, **review) for review in clean.reviews]


def record_changes(product: Product, values: dict[str, Any], *, run_id: str, now: datetime) -> list[ProductChange]:
    """Apply new values to the product and return one history row per changed field."""
    changes = []
    for name, new in values.items():
        old = getattr(product, name)
        if old != new:
            changes.append(
                ProductChange(
                    product=product,
                    field=name,
                    old_value=json_value(old),
                    new_value=json_value(new),
                    run_id=run_id,
                    changed_at=now,
                )
            )
            setattr(product, name, new)
    return changes


class _PageWriter:
    """The state of one page's write: what exists, what is created, what changed."""

    def __init__(self, products: list[CleanProduct], invalid: dict[int, list[Violation]], *, run_id: str) -> None:
        self.run_id, self.now, self.counts = run_id, timezone.now(), PageCounts()
        ids = [clean.id for clean in products]
        self.categories = ensure_categories({clean.category_slug for clean in products})
        self.existing = Product.objects.in_bulk(ids + list(invalid))
        self.images: dict[int, list[ProductImage]] = {}
        for row in ProductImage.objects.filter(product_id__in=ids):
            self.images.setdefault(row.product_id, []).append(row)
        self.created: list[tuple[Product, CleanProduct]] = []
        self.changes: list[ProductChange] = []
        self.new_reviews: list[Review] = []
        self.new_images: list[ProductImage] = []

    def apply(self, clean: CleanProduct, etag: str) -> None:
        """Create, update or leave alone one valid product."""
        values = {**clean.fields, "category": self.categories[clean.category_slug]}
        bookkeeping = {"raw": clean.raw, "raw_sha256": clean.raw_sha256, "etag": etag}
        current = self.existing.get(clean.id)
        if current is None:
            product = Product(
                id=clean.id,
                **values,
                **bookkeeping,
                first_seen_at=self.now,
                last_synced_at=self.now,
                last_run_id=self.run_id,
            )
            self.created.append((product, clean))
        elif current.raw_sha256 == clean.raw_sha256 and current.is_published:
            self.counts.unchanged += 1
        else:
            self.changes += record_changes(current, values | {"is_published": True}, run_id=self.run_id, now=self.now)
            for name, value in bookkeeping.items():
                setattr(current, name, value)
            current.unpublished_reason, current.last_synced_at, current.last_run_id = "", self.now, self.run_id
            current.save()
            current.reviews.all().delete()
            self.new_reviews += review_rows(current, clean)
            self.new_images += sync_image_rows(current, clean, self.images.get(clean.id, []))
            self.counts.updated += 1

    def reject(self, product_id: int, violations: list[Violation]) -> None:
        """Unpublish a stored product whose new data breaks a rule; its last valid values stay."""
        reason = "invalid: " + ", ".join(sorted({violation.rule for violation in violations}))
        current = self.existing.get(product_id)
        if current and (change := _unpublish(current, reason, run_id=self.run_id, now=self.now)):
            self.changes.append(change)
            self.counts.unpublished += 1

    def flush(self) -> None:
        """Insert the new products, their reviews and image rows, and the history: one statement each."""
        Product.objects.bulk_create([product for product, _ in self.created])
        for product, clean in self.created:
            self.new_reviews += review_rows(product, clean)
            self.new_images += sync_image_rows(product, clean, [])
        self.counts.created = len(self.created)
        Review.objects.bulk_create(self.new_reviews)
        ProductImage.objects.bulk_create(self.new_images)
        ProductChange.objects.bulk_create(self.changes)


def save_page(
    products: list[CleanProduct],
    invalid: dict[int, list[Violation]],
    *,
    run_id: str,
    etags: dict[int, str] | None = None,
) -> PageCounts:
    """Create, update or unpublish the products of one page, atomically."""
    etags = etags or {}
    with transaction.atomic():
        writer = _PageWriter(products, invalid, run_id=run_id)
        for clean in products:
            writer.apply(clean, etags.get(clean.id, ""))
        for product_id, violations in invalid.items():
            writer.reject(product_id, violations)
        writer.flush()
        if writer.counts.created or writer.counts.updated or writer.counts.unpublished:
            invalidate_after_commit()
    return writer.counts


def _unpublish(product: Product, reason: str, *, run_id: str, now: datetime) -> ProductChange | None:
    """Hide a product from the catalog, keeping its row; the history row, or None if nothing changed."""
    reason = reason[:255]
    if not product.is_published and product.unpublished_reason == reason:
        return None
    change = ProductChange(product=product, run_id=run_id, changed_at=now)
    if product.is_published:
        change.field, change.old_value, change.new_value = "is_published", True, False
    else:
        change.field, change.old_value, change.new_value = "unpublished_reason", product.unpublished_reason, reason
    product.is_published, product.unpublished_reason = False, reason
    product.last_synced_at, product.last_run_id = now, run_id
    product.save(update_fields=["is_published", "unpublished_reason", "last_synced_at", "last_run_id"])
    return change


def unpublish_missing(seen_ids: set[int], *, run_id: str) -> int:
    """Unpublish published products a complete listing no longer has; never delete them."""
    now = timezone.now()
    with transaction.atomic():
        gone_ids = sorted(set(Product.objects.published().values_list("id", flat=True)) - seen_ids)
        changes = [
            change
            for product in Product.objects.filter(id__in=gone_ids).iterator(chunk_size=500)
            if (change := _unpublish(product, GONE_UPSTREAM, run_id=run_id, now=now))
        ]
        ProductChange.objects.bulk_create(changes)
        if changes:
            invalidate_after_commit()
    return len(changes)
