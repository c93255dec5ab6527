"""Drift of one profile against a reference: per-field tests chosen as Evidently chooses them.

Up to ``small_sample`` reference rows, a numeric field with more than 5 distinct values gets
the two-sample Kolmogorov-Smirnov test and any other field the chi-squared test of
homogeneity; both decide at ``p_value / fields tested`` (Bonferroni), so testing ten fields
at once does not multiply false alarms by ten. Above it, numeric fields get the Wasserstein
distance normalized by the reference's standard deviation and categorical ones the
Jensen-Shannon distance, both drifted above ``distance``. PSI is reported, never decisive:
its usual bands mean different things at different sample sizes.
"""

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray as _NDArray
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from .profile import CATEGORICAL_FIELDS, NUMERIC_FIELDS

FEW_DISTINCT_VALUES = 5  # Evidently: a numeric field with at most 5 values is tested as categorical
PSI_BINS = 10
NDArray = _NDArray[np.float64]
PSI_EPSILON = 1e-4  # keeps an empty bin from making PSI infinite


@dataclass(frozen=True)
class Thresholds:
    """The knobs of the drift tests (from settings)."""

    p_value: float
    distance: float
    small_sample: int
    dataset_share: float


@dataclass
class FieldDrift:  # pylint: disable=too-many-instance-attributes
    """One field's test: ``value`` is a p-value (drifted below ``threshold``) or a distance (above)."""

    field: str
    test: str
    value: float | None
    threshold: float | None
    drifted: bool
    statistic: float | None = None
    psi: float | None = None
    note: str = ""


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return value
    return float(f"{value:.6g}")


def _psi(reference: NDArray, current: NDArray) -> float:
    """Population Stability Index of two shares vectors over the same bins."""
    reference = np.clip(reference, PSI_EPSILON, None)
    current = np.clip(current, PSI_EPSILON, None)
    return float(np.sum((current - reference) * np.log(current / reference)))


def _shares(counts: NDArray) -> NDArray:
    total = counts.sum()
    return counts / total if total else counts


def _numeric_psi(reference: NDArray, current: NDArray) -> float:
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)))
    if edges.size < 2:
        return 0.0 if np.all(current == reference[0]) else math.inf
    edges[0], edges[-1] = -np.inf, np.inf
    return _psi(_shares(np.histogram(reference, edges)[0]), _shares(np.histogram(current, edges)[0]))


def _frequency_table(reference: dict[str, int], current: dict[str, int]) -> NDArray:
    values = sorted(reference.keys() | current.keys())
    return np.array([[reference.get(v, 0) for v in values], [current.get(v, 0) for v in values]], dtype=float)


def _categorical_test(
    name: str, reference: dict[str, int], current: dict[str, int], limits: dict[str, Any]
) -> FieldDrift:
    table = _frequency_table(reference, current)
    psi = _psi(_shares(table[0]), _shares(table[1]))
    if limits["small"]:
        if table.shape[1] < 2:  # one value on both sides: nothing can differ but the counts
            return FieldDrift(name, "chi-squared", 1.0, limits["alpha"], False, 0.0, psi)
        statistic, p_value, _, _ = chi2_contingency(table)
        drifted = bool(p_value < limits["alpha"])
        return FieldDrift(name, "chi-squared", float(p_value), limits["alpha"], drifted, float(statistic), psi)
    distance = float(jensenshannon(table[0], table[1], base=2))
    return FieldDrift(
        name, "jensen-shannon", distance, limits["distance"], bool(distance > limits["distance"]), None, psi
    )


def _value_counts(values: NDArray) -> dict[str, int]:
    """A numeric sample as categorical frequencies (for fields with few distinct values)."""
    return {f"{value:g}": int(count) for value, count in zip(*np.unique(values, return_counts=True), strict=True)}


def _numeric_test(name: str, reference: dict[str, Any], current: dict[str, Any], limits: dict[str, Any]) -> FieldDrift:
    ref, cur = np.asarray(reference["sketch"], dtype=float), np.asarray(current["sketch"], dtype=float)
    psi = _numeric_psi(ref, cur)
    if limits["small"] and reference["distinct"] <= FEW_DISTINCT_VALUES:
        drift = _categorical_test(name, _value_counts(ref), _value_counts(cur), limits)
        drift.psi = psi
        return drift
    if limits["small"]:
        result = ks_2samp(ref, cur)
        p_value = float(result.pvalue)
        drifted = bool(p_value < limits["alpha"])
        return FieldDrift(name, "kolmogorov-smirnov", p_value, limits["alpha"], drifted, float(result.statistic), psi)
    distance = float(wasserstein_distance(ref, cur))
    scale = reference["std"]
    normalized = distance / scale if scale else (0.0 if distance == 0 else math.inf)
    drifted = bool(normalized > limits["distance"])
    return FieldDrift(name, "wasserstein (normalized)", normalized, limits["distance"], drifted, distance, psi)


def field_drift(reference: dict[str, Any], current: dict[str, Any], thresholds: Thresholds) -> list[FieldDrift]:
    """One test per numeric and categorical field both profiles have values for."""
    numeric = [n for n in NUMERIC_FIELDS if reference["numeric"][n]["count"] and current["numeric"][n]["count"]]
    categorical = [
        n for n in CATEGORICAL_FIELDS if reference["categorical"][n]["count"] and current["categorical"][n]["count"]
    ]
    tested = len(numeric) + len(categorical)
    limits = {
        "small": reference["rows"] <= thresholds.small_sample,
        "alpha": thresholds.p_value / max(tested, 1),
        "distance": thresholds.distance,
    }
    results = [_numeric_test(n, reference["numeric"][n], current["numeric"][n], limits) for n in numeric]
    results += [
        _categorical_test(
            n, reference["categorical"][n]["frequencies"], current["categorical"][n]["frequencies"], limits
        )
        for n in categorical
    ]
    for name in [*NUMERIC_FIELDS, *CATEGORICAL_FIELDS]:
        if name not in numeric and name not in categorical:
            results.append(FieldDrift(name, "not tested", None, None, False, note="no values on one side"))
    for result in results:
        result.value, result.statistic, result.psi = _round(result.value), _round(result.statistic), _round(result.psi)
        result.threshold = _round(result.threshold)
    return results


def schema_drift(reference: dict[str, Any], current: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields added, removed (present in no row) and whose JSON type changed."""
    ref_fields = {name for name, info in reference["schema"].items() if info["absent_rate"] < 1}
    cur_fields = {name for name, info in current["schema"].items() if info["absent_rate"] < 1}
    changed = [
        {"field": name, "from": reference["schema"][name]["type"], "to": current["schema"][name]["type"]}
        for name in sorted(ref_fields & cur_fields)
        if reference["schema"][name]["type"] != current["schema"][name]["type"]
    ]
    return {"added": sorted(cur_fields - ref_fields), "removed": sorted(ref_fields - cur_fields), "changed": changed}


def dataset_drift(fields: list[FieldDrift], thresholds: Thresholds) -> dict[str, Any]:
    """The share of tested fields that drifted, and whether it reaches the dataset-drift share."""
    tested = [field for field in fields if field.value is not None]
    drifted = [field.field for field in tested if field.drifted]
    share = len(drifted) / len(tested) if tested else 0.0
    return {
        "tested": len(tested),
        "drifted": drifted,
        "share": round(share, 4),
        "threshold": thresholds.dataset_share,
        "drift": bool(tested) and share >= thresholds.dataset_share,
    }


def as_rows(fields: list[FieldDrift]) -> list[dict[str, Any]]:
    """The per-field results as the report's ``fields``."""
    return [asdict(field) for field in fields]
