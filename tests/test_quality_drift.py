"""Drift tests calibrated on the real 194 products: ordinary change never drifts, a bad day does."""

import copy
import random

import pytest

from catalog.quality.drift import Thresholds, dataset_drift, field_drift, schema_drift
from catalog.quality.profile import profile_of
from mirror.catalog import SYNTHETIC, build_catalog, real_products

THRESHOLDS = Thresholds(p_value=0.05, distance=0.1, small_sample=1000, dataset_share=0.5)


@pytest.fixture(name="products")
def fixture_products() -> list[dict]:
    """A fresh copy of the real products, free to change."""
    return copy.deepcopy(list(real_products()))


def drifted(reference: list[dict], current: list[dict]) -> dict[str, bool]:
    """Field -> drifted, for two lists of payloads."""
    return {row.field: row.drifted for row in field_drift(profile_of(reference), profile_of(current), THRESHOLDS)}


def ordinary_day(products: list[dict], seed: int) -> list[dict]:
    """A few prices move by a few percent, one product goes and one arrives."""
    rng, day = random.Random(seed), copy.deepcopy(products)
    for index in rng.sample(range(len(day)), 8):
        day[index]["price"] = round(day[index]["price"] * rng.uniform(0.95, 1.05), 2)
    day.pop(rng.randrange(len(day)))
    newcomer = copy.deepcopy(rng.choice(day))
    day.append(newcomer | {"id": 195, "price": round(newcomer["price"] * 1.1, 2)})
    return day


def test_small_samples_use_ks_and_chi_squared_at_a_bonferroni_threshold(products):
    rows = field_drift(profile_of(products), profile_of(products), THRESHOLDS)

    tests = {row.field: row.test for row in rows}
    assert tests["price"] == "kolmogorov-smirnov"
    assert tests["category"] == "chi-squared"
    assert {row.threshold for row in rows} == {0.005}  # 0.05 shared by 10 fields
    assert not any(row.drifted for row in rows)
    assert all(row.value == 1.0 for row in rows)


@pytest.mark.parametrize("seed", range(20))
def test_an_ordinary_day_drifts_no_field(products, seed):
    assert not any(drifted(products, ordinary_day(products, seed)).values())


def test_prices_times_100_drift_the_price_field_only(products):
    for product in products:
        product["price"] = round(product["price"] * 100, 2)

    result = drifted(real_products(), products)

    assert [name for name, flag in result.items() if flag] == ["price"]


def test_a_catalog_of_one_category_drifts_category_and_tags_stay_tested(products):
    for product in products:
        product["category"] = "groceries"

    assert drifted(real_products(), products)["category"] is True


def test_psi_is_reported_but_never_decides(products):
    sample = random.Random(3).sample(products, 60)  # a random sample: nothing really changed

    rows = field_drift(profile_of(products), profile_of(sample), THRESHOLDS)

    assert not any(row.drifted for row in rows)
    assert max(row.psi for row in rows) > 0.25  # the usual "significant" band fires anyway


def test_dataset_drift_needs_half_of_the_fields(products):
    for product in products:
        product["price"] *= 100
        product["rating"] = 0.5
        product["stock"] += 1000
        product["weight"] += 50
        product["minimumOrderQuantity"] += 500

    rows = field_drift(profile_of(real_products()), profile_of(products), THRESHOLDS)
    result = dataset_drift(rows, THRESHOLDS)

    assert result["drifted"] == ["price", "rating", "stock", "weight", "minimumOrderQuantity"]
    assert (result["tested"], result["share"], result["drift"]) == (10, 0.5, True)
    assert dataset_drift(rows[:1], THRESHOLDS)["drift"] is True
    assert dataset_drift([], THRESHOLDS) == {"tested": 0, "drifted": [], "share": 0.0, "threshold": 0.5, "drift": False}


def test_large_samples_use_normalized_wasserstein_and_jensen_shannon():
    catalog = list(build_catalog(scale=3000, dataset=SYNTHETIC))
    day = ordinary_day(catalog, 1)

    rows = {row.field: row for row in field_drift(profile_of(catalog), profile_of(day), THRESHOLDS)}

    assert rows["price"].test == "wasserstein (normalized)"
    assert rows["category"].test == "jensen-shannon"
    assert rows["price"].threshold == 0.1
    assert not any(row.drifted for row in rows.values())
    for product in day:
        product["price"] *= 100
    assert field_drift(profile_of(catalog), profile_of(day), THRESHOLDS)[0].drifted is True


def test_a_numeric_field_with_few_values_is_tested_as_categorical(products):
    for product in products:
        product["stock"] = product["id"] % 3

    rows = {row.field: row for row in field_drift(profile_of(products), profile_of(products), THRESHOLDS)}

    assert rows["stock"].test == "chi-squared"


def test_a_field_without_values_on_one_side_is_not_tested(products):
    for product in products:
        del product["weight"]

    row = next(
        r for r in field_drift(profile_of(real_products()), profile_of(products), THRESHOLDS) if r.field == "weight"
    )

    assert (row.test, row.value, row.drifted, row.note) == ("not tested", None, False, "no values on one side")


def test_schema_drift_names_added_removed_and_retyped_fields(products):
    for product in products:
        product["cost"] = product.pop("price")
        product["stock"] = str(product["stock"])

    assert schema_drift(profile_of(real_products()), profile_of(products)) == {
        "added": ["cost"],
        "removed": ["price"],
        "changed": [{"field": "stock", "from": "number", "to": "string"}],
    }
