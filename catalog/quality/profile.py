"""A profile of a sync's data, like whylogs': schema, numeric distributions, frequencies, row count.

Pages are summarized one at a time (``page_summary``) into small mergeable summaries, so a
profile of 10,000 products never needs them all in memory and pages staged by several
workers merge into one run profile (``merge_summaries`` then ``build_profile``).
"""

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

PROFILE_VERSION = 1
NUMERIC_FIELDS = ("price", "discountPercentage", "rating", "stock", "weight", "minimumOrderQuantity")
CATEGORICAL_FIELDS = ("category", "brand", "availabilityStatus", "tags")
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
HISTOGRAM_BINS = 10
# Up to this many values a numeric field keeps them all (tests need exact samples);
# above, it keeps this many evenly spaced quantiles: a sketch of the distribution.
SKETCH_SIZE = 1001
MAX_FREQUENCIES = 1000  # distinct values kept per categorical field; the rest count as "other"


def json_type(value: Any) -> str:
    """The JSON type of a decoded value (a bool is not a number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def page_summary(payloads: Iterable[Any]) -> dict[str, Any]:
    """A mergeable summary of raw products: rows, types per field, numeric values, frequencies."""
    rows, types = 0, {}  # type: tuple[int, dict[str, Counter[str]]]
    numbers: dict[str, list[float]] = {name: [] for name in NUMERIC_FIELDS}
    frequencies: dict[str, Counter[str]] = {name: Counter() for name in CATEGORICAL_FIELDS}
    for raw in payloads:
        rows += 1
        if not isinstance(raw, dict):
            continue
        for name, value in raw.items():
            types.setdefault(str(name), Counter())[json_type(value)] += 1
        for name in NUMERIC_FIELDS:
            if _is_number(raw.get(name)):
                numbers[name].append(float(raw[name]))
        for name in CATEGORICAL_FIELDS:
            value = raw.get(name)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    frequencies[name][item] += 1
    return {
        "rows": rows,
        "types": {name: dict(counts) for name, counts in types.items()},
        "numbers": numbers,
        "frequencies": {name: dict(counts) for name, counts in frequencies.items()},
    }


def merge_summaries(summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One summary of several pages."""
    merged = page_summary([])
    types: dict[str, Counter[str]] = {}
    frequencies: dict[str, Counter[str]] = {name: Counter() for name in CATEGORICAL_FIELDS}
    for summary in summaries:
        merged["rows"] += summary["rows"]
        for name, counts in summary["types"].items():
            types.setdefault(name, Counter()).update(counts)
        for name in NUMERIC_FIELDS:
            merged["numbers"][name].extend(summary["numbers"].get(name, []))
        for name in CATEGORICAL_FIELDS:
            frequencies[name].update(summary["frequencies"].get(name, {}))
    merged["types"] = {name: dict(counts) for name, counts in types.items()}
    merged["frequencies"] = {name: dict(counts) for name, counts in frequencies.items()}
    return merged


def _schema(types: dict[str, dict[str, int]], rows: int) -> dict[str, Any]:
    schema = {}
    for name in sorted(types):
        counts = types[name]
        present = sum(counts.values())
        non_null = {kind: count for kind, count in counts.items() if kind != "null"}
        schema[name] = {
            "types": dict(sorted(counts.items())),
            "type": max(sorted(non_null), key=non_null.__getitem__) if non_null else "null",
            "absent_rate": round(1 - present / rows, 6) if rows else 0.0,
            "null_rate": round(counts.get("null", 0) / rows, 6) if rows else 0.0,
        }
    return schema


def _numeric(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    array = np.sort(np.asarray(values, dtype=float))
    counts, edges = np.histogram(array, bins=HISTOGRAM_BINS)
    sketch = array if array.size <= SKETCH_SIZE else np.quantile(array, np.linspace(0, 1, SKETCH_SIZE))
    return {
        "count": int(array.size),
        "distinct": int(np.unique(array).size),
        "mean": float(array.mean()),
        "std": float(array.std()),
        "quantiles": {f"{q:g}": float(np.quantile(array, q)) for q in QUANTILES},
        "histogram": {"edges": [float(edge) for edge in edges], "counts": [int(count) for count in counts]},
        "sketch": [float(value) for value in sketch],
        "sketched": bool(array.size > SKETCH_SIZE),
    }


def _categorical(frequencies: dict[str, int]) -> dict[str, Any]:
    ranked = sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:MAX_FREQUENCIES])
    return {
        "count": sum(frequencies.values()),
        "distinct": len(frequencies),
        "frequencies": kept,
        "other": sum(count for _, count in ranked[MAX_FREQUENCIES:]),
    }


def build_profile(summary: dict[str, Any]) -> dict[str, Any]:
    """The profile artifact of a merged summary: plain JSON, the same bytes for the same data."""
    return {
        "version": PROFILE_VERSION,
        "rows": summary["rows"],
        "schema": _schema(summary["types"], summary["rows"]),
        "numeric": {name: _numeric(summary["numbers"].get(name, [])) for name in NUMERIC_FIELDS},
        "categorical": {name: _categorical(summary["frequencies"].get(name, {})) for name in CATEGORICAL_FIELDS},
    }


def profile_of(payloads: Iterable[Any]) -> dict[str, Any]:
    """The profile of raw products in one go."""
    return build_profile(page_summary(payloads))
