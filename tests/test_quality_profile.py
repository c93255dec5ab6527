"""Profiles: schema, numeric summaries, frequencies, and pages that merge into the same profile."""

from catalog.quality.profile import SKETCH_SIZE, build_profile, merge_summaries, page_summary, profile_of
from mirror.catalog import SYNTHETIC, build_catalog, real_products


def test_the_profile_of_the_real_catalog_describes_its_schema_and_values():
    profile = profile_of(real_products())

    assert profile["rows"] == 194
    assert profile["schema"]["brand"] == {
        "types": {"string": 102},
        "type": "string",
        "absent_rate": 0.474227,
        "null_rate": 0.0,
    }
    assert profile["schema"]["price"]["type"] == "number"
    price = profile["numeric"]["price"]
    assert (price["count"], price["quantiles"]["0"], price["quantiles"]["1"]) == (194, 0.79, 36999.99)
    assert sum(price["histogram"]["counts"]) == 194
    assert len(price["histogram"]["edges"]) == 11
    assert profile["categorical"]["category"]["distinct"] == 24
    assert profile["categorical"]["category"]["frequencies"]["kitchen-accessories"] == 30


def test_pages_merge_into_the_profile_of_the_whole():
    products = list(real_products())
    pages = [page_summary(products[start : start + 50]) for start in range(0, 194, 50)]

    assert build_profile(merge_summaries(pages)) == profile_of(products)


def test_null_and_non_object_rows_count_in_the_schema():
    profile = profile_of([{"id": 1, "brand": None}, {"id": 2, "brand": "A"}, "not a product"])

    assert profile["rows"] == 3
    assert profile["schema"]["brand"] == {
        "types": {"null": 1, "string": 1},
        "type": "string",
        "absent_rate": 0.333333,
        "null_rate": 0.333333,
    }
    assert profile["numeric"]["price"] == {"count": 0}


def test_large_samples_keep_a_quantile_sketch_not_every_value():
    profile = profile_of(build_catalog(scale=2000, dataset=SYNTHETIC))

    price = profile["numeric"]["price"]
    assert price["count"] == 2000
    assert len(price["sketch"]) == SKETCH_SIZE
    assert price["sketched"] is True
