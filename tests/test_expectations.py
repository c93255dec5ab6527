"""Golden records: the checked-in file fits the real catalog; broken files name their line."""

import copy
import json
from pathlib import Path

import pytest

from catalog import conf
from catalog.quality.expectations import ExpectationsError, golden_failures, load_expectations, write_expectations
from mirror.catalog import real_products


def write(tmp_path: Path, text: str) -> Path:
    """An expectations file with this text."""
    path = tmp_path / "expectations.json"
    path.write_text(text, encoding="utf-8")
    return path


def by_id(products) -> dict[int, dict]:
    """Payloads by id."""
    return {product["id"]: product for product in products}


def test_the_checked_in_file_passes_on_the_real_catalog():
    records = load_expectations(conf.DEFAULT_EXPECTATIONS_FILE)

    assert len(records) == 24
    assert records[0].id == 1
    assert golden_failures(records, by_id(real_products()), require_all=True) == []


def test_golden_failures_name_the_product_and_the_field():
    records = load_expectations(conf.DEFAULT_EXPECTATIONS_FILE)
    products = by_id(copy.deepcopy(list(real_products())))
    products[1]["category"], products[6]["price"] = "groceries", 4999.0
    del products[11]

    assert golden_failures(records, products, require_all=True) == [
        "golden product 1: category is 'groceries', expected 'beauty'",
        "golden product 6: price 4999 is outside [25, 99.98]",
        "golden product 11 is missing",
    ]
    assert "golden product 11 is missing" not in golden_failures(records, products, require_all=False)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"products": [\n  {"id": 1},\n  {"id": 2,}\n]}', 3, "not valid JSON: Expecting property name"),
        ("[1, 2]", 1, 'must be an object with a "products" list'),
        ('{"products": [\n  {"id": 1},\n  {"id": "2"}\n]}', 3, "a product needs a positive whole-number id, got '2'"),
        ('{"products": [\n  {"id": 1,\n   "colour": "red"}\n]}', 2, "product 1: unknown key 'colour'"),
        (
            '{"products": [\n  {"id": 1, "price": {"min": "cheap"}}\n]}',
            2,
            "product 1: price min and max must be numbers",
        ),
        ('{"products": [\n  {"id": 1, "price": 5}\n]}', 2, "product 1: price must be an object with min and/or max"),
        ('{"products": [\n  {"id": 1, "title": 5}\n]}', 2, "product 1: title must be text"),
        ('{"products": [\n  {"id": 1},\n  {"id": 1}\n]}', 3, "product 1 is listed twice"),
        ('{"products": [\n  {"id": 1, "title": "a \\" { b"},\n  7\n]}', None, "each product must be an object"),
    ],
)
def test_a_broken_file_names_itself_and_the_line(tmp_path, text, line, message):
    path = write(tmp_path, text)

    with pytest.raises(ExpectationsError) as caught:
        load_expectations(path)

    where = f"{path}, line {line}" if line else str(path)
    assert str(caught.value).startswith(f"expectations file {where}: {message}")


def test_a_missing_file_says_how_to_create_one(tmp_path):
    with pytest.raises(
        ExpectationsError, match=r"not found \(create one with manage\.py catalog_expectations --init\)"
    ):
        load_expectations(tmp_path / "nope.json")


def test_a_written_file_loads_back_with_one_product_per_line(tmp_path):
    path = tmp_path / "golden.json"
    write_expectations(path, [real_products()[0], real_products()[5]])

    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[3].rstrip(",")) == {
        "id": 1, "title": "Essence Mascara Lash Princess", "category": "beauty", "brand": "Essence",
        "price": {"min": 5.0, "max": 19.98}, "rating": {"min": 1.56, "max": 3.56}, "stock": {"min": 0},
    }  # fmt: skip
    assert [record.id for record in load_expectations(path)] == [1, 6]
