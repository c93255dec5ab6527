"""The mirror's data faults: a bad day as a client sees it."""

import requests

from mirror.catalog import real_products

TIMEOUT = 5


def listing(mirror, query: str = "limit=0") -> dict:
    """The listing envelope."""
    return requests.get(f"{mirror.base_url}/products?{query}", timeout=TIMEOUT).json()


def test_short_listing_says_total_10_and_lists_10(mirror):
    mirror.set_faults("short-listing")

    body = listing(mirror)

    assert (body["total"], len(body["products"])) == (10, 10)
    assert requests.get(f"{mirror.base_url}/products/11", timeout=TIMEOUT).status_code == 404


def test_prices_x100(mirror):
    mirror.set_faults("prices-x100")

    assert listing(mirror, "limit=1")["products"][0]["price"] == 999.0


def test_renamed_field_sends_cost_in_place_of_price(mirror):
    mirror.set_faults("renamed-field")

    product = requests.get(f"{mirror.base_url}/products/1", timeout=TIMEOUT).json()
    assert "price" not in product
    assert product["cost"] == 9.99
    assert list(product)[4] == "cost"


def test_moved_category_moves_one_product(mirror):
    mirror.set_faults("moved-category:6")

    products = listing(mirror)["products"]
    assert products[5]["category"] == "furniture"
    assert products[0]["category"] == "beauty"


def test_small_changes_move_every_20th_price_by_3_percent_and_drop_the_last(mirror):
    mirror.set_faults("small-changes")

    body = listing(mirror)

    real = {product["id"]: product["price"] for product in real_products()}
    changed = {p["id"]: round(p["price"] / real[p["id"]], 2) for p in body["products"] if p["price"] != real[p["id"]]}
    assert changed == {20: 1.03, 40: 0.97, 60: 1.03, 80: 0.97, 100: 1.03, 120: 0.97, 140: 1.03, 160: 0.97, 180: 1.03}
    assert body["total"] == 193
    assert body["products"][-1]["id"] == 193


def test_clearing_the_fault_serves_the_real_data_again(mirror):
    mirror.set_faults("prices-x100")
    mirror.set_faults(())

    assert listing(mirror, "limit=1")["products"][0]["price"] == 9.99
