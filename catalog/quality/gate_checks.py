"""The gate's checks that compare numbers against limits: schema, volume, price changes, golden records.

Each returns its report section and the reasons it holds the run; ``gate.py`` runs them and decides.
"""

import statistics
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import conf
from ..models import Product
from .drift import schema_drift
from .expectations import GoldenRecord

REQUIRED_FIELDS = ("id", "title", "price", "category")  # a product without one is rejected
CENT = Decimal("0.01")
DRIFT_SCORE_CAP = 10.0
P_VALUE_TESTS = ("kolmogorov-smirnov", "chi-squared")
GOLDEN_SHOWN = 3  # golden failures named in the reason; the report lists them all


def _missing_rate(profile: dict[str, Any], name: str) -> float:
    info = profile["schema"].get(name)
    return 1.0 if info is None else info["absent_rate"] + info["null_rate"]


def schema_check(reference: dict[str, Any] | None, current: dict[str, Any]) -> tuple[dict[str, list[Any]], list[str]]:
    """Schema drift, and the reasons it holds: a required field that went missing or changed type."""
    drift = schema_drift(reference, current) if reference else {"added": [], "removed": [], "changed": []}
    reasons, limit = [], conf.max_missing_increase()
    for name in REQUIRED_FIELDS:
        before = _missing_rate(reference, name) if reference else 0.0
        now = _missing_rate(current, name)
        if current["rows"] and now - before > limit:
            reasons.append(
                f"schema: required field {name!r} is missing in {now:.0%} of products "
                f"(reference {before:.0%}, limit +{limit:.0%})"
            )
    for change in drift["changed"]:
        if change["field"] in REQUIRED_FIELDS:
            reasons.append(
                f"schema: required field {change['field']!r} changed type {change['from']} -> {change['to']}"
            )
    return drift, reasons


def volume_check(reference: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Row counts of a complete listing against the reference."""
    before, now, limit = reference["rows"], current["rows"], conf.max_volume_drop()
    drop = (before - now) / before if before else 0.0
    volume = {"reference": before, "current": now, "change": round(-drop, 4), "max_drop": limit}
    if drop > limit:
        return volume, [
            f"volume: the complete listing has {now} products, {drop:.0%} fewer than the reference's {before} "
            f"(limit {limit:.0%})"
        ]
    return volume, []


def _cents(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


def price_check(staged_prices: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """How many published products would change price, and by how much."""
    live = dict(Product.objects.published().filter(id__in=[int(i) for i in staged_prices]).values_list("id", "price"))
    relative = []
    for product_id, price in live.items():
        new = _cents(staged_prices[str(product_id)])
        if new is not None and new != price:
            relative.append(float(abs(new - price) / price) if price else float("inf"))
    compared, limit = len(live), conf.max_price_change_share()
    share = len(relative) / compared if compared else 0.0
    changes = {
        "compared": compared,
        "changed": len(relative),
        "share": round(share, 4),
        "max_share": limit,
        "median_relative_change": round(statistics.median(relative), 4) if relative else 0.0,
        "max_relative_change": round(max(relative), 4) if relative else 0.0,
    }
    if share > limit:
        return changes, [
            f"price changes: {len(relative)} of {compared} published products change price ({share:.0%}, limit "
            f"{limit:.0%}; median change {changes['median_relative_change']:.0%})"
        ]
    return changes, []


def drift_score(row: dict[str, Any]) -> float:
    """One scale for every test, for charts: 1 at the threshold, above 1 drifted, capped at 10."""
    value, threshold = row["value"], row["threshold"]
    if row["test"] in P_VALUE_TESTS:
        score = threshold / value if value else DRIFT_SCORE_CAP
    else:
        score = value / threshold if threshold else DRIFT_SCORE_CAP
    return round(min(score, DRIFT_SCORE_CAP), 3)


def golden_reasons(golden: list[GoldenRecord], problems: list[str]) -> list[str]:
    """One reason for all golden failures (each is listed in the report), naming the first few."""
    if not problems:
        return []
    failing = {problem.split(":")[0].removesuffix(" is missing") for problem in problems}
    shown = "; ".join(problems[:GOLDEN_SHOWN]) + (
        f"; and {len(problems) - GOLDEN_SHOWN} more" if len(problems) > GOLDEN_SHOWN else ""
    )
    return [f"golden records: {len(failing)} of {len(golden)} golden products fail: {shown}"]
