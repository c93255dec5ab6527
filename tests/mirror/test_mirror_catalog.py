"""The mirror's catalog: the vendored real products first; the generator's determinism, shape, slugs, scale."""

import functools
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from mirror.catalog import (
    CATEGORIES,
    CATEGORY_COUNTS,
    SYNTHETIC,
    availability,
    build_catalog,
    category_name,
    real_products,
    slugify,
)

REFERENCE = Path(__file__).resolve().parents[3] / "shared/reference/dummyjson-products.json"
KEYS = [
    "id", "title", "description", "category", "price", "discountPercentage", "rating", "stock", "tags",
    "brand", "sku", "weight", "dimensions", "warrantyInformation", "shippingInformation",
    "availabilityStatus", "reviews", "returnPolicy", "minimumOrderQuantity", "meta", "images", "thumbnail",
]  # fmt: skip
ISO_Z = "%Y-%m-%dT%H:%M:%S.%f%z"
# The generator alone, as `--dataset synthetic` serves it.
synthetic = functools.partial(build_catalog, dataset=SYNTHETIC)


@pytest.fixture(name="products", scope="module")
def fixture_products():
    """The generated catalog's 194 products."""
    return list(synthetic())


def test_default_catalog_has_194_products_in_the_real_24_categories(products):
    assert [p["id"] for p in products] == list(range(1, 195))
    assert Counter(p["category"] for p in products) == dict(CATEGORY_COUNTS)
    assert synthetic().categories() == list(CATEGORIES)
    assert len(CATEGORIES) == 24


def test_same_seed_gives_identical_products_and_pinned_values():
    first, second = synthetic(seed=42), synthetic(seed=42)
    assert list(first) == list(second)
    product = first.product(1)
    assert product["title"] == "Willow Leather Eye Palette"
    assert product["meta"]["barcode"] == "0550719781799"
    assert product["price"] == 29.16


def test_different_seed_gives_different_products():
    assert synthetic(seed=1).product(1) != synthetic(seed=2).product(1)
    titles_a = [p["title"] for p in synthetic(seed=1)]
    titles_b = [p["title"] for p in synthetic(seed=2)]
    assert sum(a != b for a, b in zip(titles_a, titles_b, strict=False)) > 150


def test_a_product_is_built_the_same_alone_or_among_all(products):
    assert synthetic().product(150) == products[149]


def test_unknown_ids_have_no_product():
    catalog = synthetic()
    assert catalog.product(0) is None
    assert catalog.product(195) is None


def test_every_product_has_the_real_keys_in_the_real_order(products):
    for product in products:
        expected = KEYS if "brand" in product else [key for key in KEYS if key != "brand"]
        assert list(product) == expected


def test_field_types_match_the_real_api(products):
    for p in products:
        assert isinstance(p["id"], int)
        assert isinstance(p["title"], str)
        assert isinstance(p["description"], str)
        assert isinstance(p["price"], float)
        assert round(p["price"], 2) == p["price"]
        assert isinstance(p["discountPercentage"], (int, float))
        assert isinstance(p["rating"], float)
        assert isinstance(p["stock"], int)
        assert isinstance(p["weight"], int)
        assert all(isinstance(tag, str) for tag in p["tags"])
        assert set(p["dimensions"]) == {"width", "height", "depth"}
        assert isinstance(p["minimumOrderQuantity"], int)
        assert set(p["meta"]) == {"createdAt", "updatedAt", "barcode", "qrCode"}
        assert re.fullmatch(r"\d{13}", p["meta"]["barcode"])
        datetime.strptime(p["meta"]["createdAt"].replace("Z", "+0000"), ISO_Z)
        for review in p["reviews"]:
            assert list(review) == ["rating", "comment", "date", "reviewerName", "reviewerEmail"]
            assert review["rating"] in range(1, 6)
            assert review["date"].endswith("Z")


def test_a_few_discounts_are_whole_numbers_like_upstream(products):
    assert [p["id"] for p in products if isinstance(p["discountPercentage"], int)] == [45, 135]


def test_brand_is_absent_rather_than_null_on_about_half(products):
    with_brand = [p for p in products if "brand" in p]
    assert 60 <= len(with_brand) <= 134
    assert all(isinstance(p["brand"], str) and p["brand"] for p in with_brand)


def test_availability_follows_stock_and_four_products_are_out_of_stock(products):
    assert [p["id"] for p in products if not p["stock"]] == [23, 73, 123, 173]
    assert all(p["availabilityStatus"] == availability(p["stock"]) for p in products)
    assert Counter(p["availabilityStatus"] for p in products) == {"In Stock": 177, "Low Stock": 13, "Out of Stock": 4}
    assert (availability(0), availability(9), availability(10)) == ("Out of Stock", "Low Stock", "In Stock")


def test_some_barcodes_keep_leading_zeros(products):
    assert sum(p["meta"]["barcode"].startswith("0") for p in products) == 27


def test_image_urls_follow_the_pattern_with_1_to_6_numbered_images(products):
    base = "http://127.0.0.1:8001/product-images/"
    for p in products:
        assert 1 <= len(p["images"]) <= 6
        ext = p["thumbnail"].rsplit(".", 1)[1]
        folder = p["thumbnail"].rsplit("/", 1)[0]
        assert folder.startswith(f"{base}{p['category']}/")
        assert p["images"] == [f"{folder}/{n}.{ext}" for n in range(1, len(p["images"]) + 1)]
        assert p["thumbnail"] == f"{folder}/thumbnail.{ext}"


def test_images_are_mostly_webp_with_some_jpg_and_png(products):
    formats = Counter(p["thumbnail"].rsplit(".", 1)[1] for p in products)
    assert formats == {"webp": 147, "jpg": 30, "png": 17}


def test_slugs_with_apostrophe_ampersand_and_dot_are_percent_encoded(products):
    by_id = {p["id"]: p for p in products}
    assert by_id[7]["title"] == "Amber & Plum Cologne"
    assert by_id[7]["thumbnail"].endswith("/fragrances/amber-%26-plum-cologne/thumbnail.webp")
    assert by_id[13]["title"] == "Chef's Nordic Side Table"
    assert "/chef%27s-nordic-side-table/" in by_id[13]["thumbnail"]
    assert by_id[17]["title"] == "Cedar Honey Jar KK.6"
    assert "/cedar-honey-jar-kk.6/" in by_id[17]["thumbnail"]


def test_slug_is_lower_cased_title_with_spaces_as_dashes_only():
    assert slugify("Blue & Black Women's Bag No.5") == "blue-&-black-women's-bag-no.5"


def test_products_97_and_194_share_a_title_in_different_categories():
    catalog = synthetic()
    titles = Counter(p["title"] for p in catalog)
    assert [title for title, count in titles.items() if count > 1] == ["Polar Field Watch KK.6"]
    assert catalog.title(97) == catalog.title(194) == "Polar Field Watch KK.6"
    assert (catalog.category_of(97), catalog.category_of(194)) == ("mens-watches", "womens-watches")


def test_category_names_capitalise_each_word():
    assert category_name("home-decoration") == "Home Decoration"
    assert category_name("womens-jewellery") == "Womens Jewellery"


def test_find_images_maps_category_and_slug_back_to_ids():
    catalog = synthetic()
    assert catalog.find_images("fragrances", "amber-&-plum-cologne") == [7]
    assert catalog.find_images("beauty", "no-such-product") == []


def test_scale_10000_keeps_category_proportions():
    catalog = synthetic(scale=10_000)
    products = list(catalog)
    assert len(products) == 10_000
    assert products[-1]["id"] == 10_000
    counts = Counter(p["category"] for p in products)
    assert counts["kitchen-accessories"] == 1547
    assert counts["tablets"] == 154
    assert catalog.categories() == list(CATEGORIES)


def test_tiny_scales_hold_only_the_categories_they_reach():
    assert not list(synthetic(scale=0))
    catalog = synthetic(scale=3)
    assert (
        [p["category"] for p in catalog]
        == catalog.categories()
        == ["kitchen-accessories", "smartphones", "womens-watches"]
    )
    with pytest.raises(ValueError):
        synthetic(scale=-1)


@pytest.fixture(name="reference", scope="module")
def fixture_reference():
    """The real API's products, when the shared reference data is present."""
    if not REFERENCE.exists():
        pytest.skip("shared reference data not available")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def _shape(value):
    """Key structure and JSON types, ignoring values (ints and floats are both numbers)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def test_generated_products_have_the_same_shape_as_the_real_ones(reference, products):
    real_shapes = {json.dumps(_shape(p), sort_keys=True) for p in reference}
    ours = {json.dumps(_shape(p), sort_keys=True) for p in products}
    assert ours == real_shapes


def test_no_real_title_description_or_review_text_is_copied(reference, products):
    real_texts = {p["title"] for p in reference} | {p["description"] for p in reference}
    real_texts |= {review["comment"] for p in reference for review in p["reviews"]}
    ours = {p["title"] for p in products} | {p["description"] for p in products}
    ours |= {review["comment"] for p in products for review in p["reviews"]}
    assert not ours & real_texts


def test_slicing_builds_only_the_requested_products():
    catalog = synthetic(scale=10_000)
    assert [p["id"] for p in catalog[9997:20000]] == [9998, 9999, 10000]
    assert catalog.product.cache_info().currsize == 3


def test_default_catalog_serves_the_vendored_real_products_with_mirror_urls():
    catalog = build_catalog(base_url="http://127.0.0.1:9")
    first = catalog.product(1)
    assert (first["title"], first["price"], first["category"]) == ("Essence Mascara Lash Princess", 9.99, "beauty")
    assert first["thumbnail"] == "http://127.0.0.1:9/product-images/beauty/essence-mascara-lash-princess/thumbnail.webp"
    assert first["meta"]["qrCode"] == "http://127.0.0.1:9/public/qr-code.png"
    assert [p["id"] for p in catalog] == list(range(1, 195))
    assert Counter(p["category"] for p in catalog) == dict(CATEGORY_COUNTS)
    assert catalog.categories() == list(CATEGORIES)


def test_real_products_are_copies_so_callers_cannot_change_the_data():
    catalog = build_catalog()
    catalog.product(2)["tags"].append("changed")
    assert "changed" not in real_products()[1]["tags"]
    assert real_products()[1]["thumbnail"].startswith("https://cdn.dummyjson.com/")


def test_real_image_folders_keep_apostrophes_and_ampersands():
    catalog = build_catalog()
    dior = next(p for p in catalog if p["title"] == "Dior J'adore")
    assert catalog.find_images("fragrances", "dior-j'adore") == [dior["id"]]


def test_generated_products_follow_the_real_ones_beyond_194():
    catalog = build_catalog(scale=400)
    assert catalog.product(194)["title"] == real_products()[193]["title"]
    assert catalog.product(195) == synthetic(scale=400).product(195)
    assert catalog.categories() == list(CATEGORIES)
    assert catalog.find_images(catalog.category_of(300), slugify(catalog.title(300))) == [300]


def test_small_scales_serve_the_first_real_products():
    assert [p["category"] for p in build_catalog(scale=6)] == ["beauty"] * 5 + ["fragrances"]
    assert build_catalog(scale=6).categories() == ["beauty", "fragrances"]


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="dataset must be one of real, synthetic"):
        build_catalog(dataset="imaginary")


def test_vendored_products_equal_the_shared_reference(reference):
    assert list(real_products()) == reference
