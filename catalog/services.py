"""Single-product writes with external effects: refresh one product from the source."""

from dataclasses import dataclass

from django.utils import timezone

from audit.context import run_context

from .client_factory import shared_client
from .image_sync import refresh_images
from .models import Product
from .persistence import save_page
from .validation import CleanProduct, record_violations, validate_product

# One at a time, in the caller's thread: a page view or an admin action refreshes a
# handful of images, and threads would each need a database connection of their own.
REFRESH_CONCURRENCY = 1


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh found: the product as stored now, and whether the source answered."""

    product: Product | None
    source_ok: bool
    message: str = ""


def product_refresh(*, product_id: int, actor: str, run_id: str | None = None, images: bool = True) -> RefreshResult:
    """Fetch one product through the client, validate it and store it (read-through and admin action).

    Never raises for a network or data fault: when the source is down the stored copy,
    if any, comes back with ``source_ok=False``. Unchanged data writes nothing but
    the product's ``last_synced_at``, which says the copy was confirmed just now.
    """
    with run_context(actor=actor, run_id=run_id) as context:
        client = shared_client()
        raw = client.get_product(product_id)
        stored = Product.objects.filter(id=product_id).first()
        if raw is None:
            return RefreshResult(stored, source_ok=False, message="the source did not return the product")
        if raw.get("id") != product_id:
            return RefreshResult(stored, source_ok=False, message="the source answered with another product")
        result = validate_product(raw)
        if not isinstance(result, CleanProduct):
            record_violations(product_id, raw, result)
            save_page([], {product_id: result}, run_id=context.run_id)
            return RefreshResult(Product.objects.filter(id=product_id).first(), True, "the source data is invalid")
        counts = save_page([result], {}, run_id=context.run_id)
        if counts.unchanged:
            Product.objects.filter(id=product_id).update(last_synced_at=timezone.now())
        if images:
            refresh_images(client, [product_id], concurrency=REFRESH_CONCURRENCY)
        return RefreshResult(Product.objects.get(id=product_id), source_ok=True)
