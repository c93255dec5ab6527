"""One listing page of a sync: its valid products stored, its rejected ones on record.

Both syncs (``sync.py`` in one process, ``sharded_sync.py`` across workers) go through these,
so they reject the same products for the same reasons and write the same rows.
"""

from typing import Any

from django.db import DatabaseError

from .persistence import save_page
from .staging import product_id_of
from .sync_summary import SyncSummary
from .validation import CleanProduct, Violation, record_violations, validate_product


def store_staged_page(summary: SyncSummary, batch: list[Any], seen: set[int], *, label: str) -> list[CleanProduct]:
    """Write one staged page through the per-page write path; the products stored, none if it rolled back."""
    clean, invalid = split_page(batch, seen)
    try:
        summary.products.add(save_page(clean, invalid, run_id=summary.run_id))
    except DatabaseError as error:  # the page rolled back whole; the run goes on with the next
        summary.fail(f"{label} could not be stored: {error}")
        return []
    return clean


def split_page(batch: list[Any], seen: set[int]) -> tuple[list[CleanProduct], dict[int, list[Violation]]]:
    """Clean products and rejected ones (by id) of a page; ids already in ``seen`` are skipped."""
    clean, invalid = [], {}
    for raw in batch:
        product_id = product_id_of(raw)
        if product_id is not None and product_id in seen:
            continue
        result = validate_product(raw)
        if isinstance(result, CleanProduct):
            clean.append(result)
            seen.add(result.id)
        elif product_id is not None:
            seen.add(product_id)
            invalid[product_id] = result
    return clean, invalid


def record_page_violations(batch: list[Any], seen: set[int], summary: SyncSummary) -> None:
    """Count a page's rejected products; each violation (and each repeated id) becomes an audit event."""
    for raw in batch:
        product_id = product_id_of(raw)
        if product_id is not None and product_id in seen:
            _record_violations(
                summary, product_id, raw, [Violation("id.duplicate", f"id {product_id} is listed again")]
            )
            continue
        result = validate_product(raw)
        if product_id is not None:
            seen.add(product_id)
        if isinstance(result, CleanProduct):
            continue
        summary.rejected += 1
        _record_violations(summary, product_id, raw, result)


def _record_violations(summary: SyncSummary, product_id: int | None, raw: object, violations: list[Violation]) -> None:
    summary.violations += len(violations)
    record_violations(product_id, raw, violations)
