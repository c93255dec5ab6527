"""Phase 1 of a sync: listing pages as received go to a run-scoped staging table, never the catalog.

Each page is stored with a small mergeable summary (its profile summary, its prices and its
golden products), so the gate reads summaries, not payloads, and a page can be staged by
any worker. Staged pages are deleted once their run is published.
"""

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction

from .models import StagedPage, SyncRun
from .payload import is_number
from .quality.expectations import EXACT_FIELDS
from .quality.profile import NUMERIC_FIELDS, merge_summaries, page_summary

GOLDEN_FIELDS = (*EXACT_FIELDS, *NUMERIC_FIELDS)


def product_id_of(raw: Any) -> int | None:
    """The integer id a listed product claims, or None."""
    product_id = raw.get("id") if isinstance(raw, dict) else None
    return product_id if isinstance(product_id, int) and not isinstance(product_id, bool) else None


def without_nul(value: Any) -> Any:
    """A JSON value with NUL characters shown as ``\\0``: a summary must fit a PostgreSQL JSON column."""
    if isinstance(value, str):
        return value.replace("\x00", "\\0")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def stage_summary(payloads: list[Any], *, golden_ids: frozenset[int] = frozenset()) -> dict[str, Any]:
    """The page's profile summary plus each product's price and the golden products' checked fields."""
    summary = page_summary(payloads)
    prices, golden = {}, {}
    for raw in payloads:
        product_id = product_id_of(raw)
        if product_id is None:
            continue
        if is_number(raw.get("price")):
            prices[str(product_id)] = raw["price"]
        if product_id in golden_ids:
            golden[str(product_id)] = {name: raw[name] for name in GOLDEN_FIELDS if name in raw}
    cleaned: dict[str, Any] = without_nul(summary | {"prices": prices, "golden": golden})
    return cleaned


def stage_page(*, run: SyncRun, number: int, payloads: list[Any], golden_ids: frozenset[int] = frozenset()) -> None:
    """Store one listing page of a run; staging the same page again replaces it (a retried task)."""
    summary = stage_summary(payloads, golden_ids=golden_ids)
    with transaction.atomic():
        StagedPage.objects.update_or_create(
            run=run, number=number, defaults={"payloads": json.dumps(payloads), "summary": summary}
        )


def merged_summary(summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The run's summary: profile parts merged, prices and golden products united."""
    summaries = list(summaries)
    merged = merge_summaries(summaries)
    merged["prices"], merged["golden"] = {}, {}
    for summary in summaries:
        # A product listed twice keeps its first payload, as the sync does.
        merged["prices"] = summary.get("prices", {}) | merged["prices"]
        merged["golden"] = summary.get("golden", {}) | merged["golden"]
    return merged


def run_summary(run: SyncRun) -> dict[str, Any]:
    """The merged summary of every staged page of a run."""
    return merged_summary(run.pages.order_by("number").values_list("summary", flat=True).iterator(chunk_size=100))


def staged_pages(run: SyncRun) -> Iterator[tuple[int, list[Any]]]:
    """(page number, payloads) in order, one page in memory at a time."""
    for page_id, number in list(run.pages.order_by("number").values_list("id", "number")):
        yield number, json.loads(StagedPage.objects.values_list("payloads", flat=True).get(id=page_id))
