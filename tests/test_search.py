"""Search: substring terms, accents and case, ranking, the database's own index, and the real catalog."""

import json
from pathlib import Path

import pytest
from django.db import connection

from catalog.models import Product
from catalog.persistence import save_page
from catalog.search import fts5_phrase, relevance, search_condition, search_terms
from catalog.validation import validate_product
from catalog.vendor_indexes import NEWEST_INDEX, SQLITE_TABLE, drop_vendor_indexes, ensure_vendor_indexes
from tests.database_roles import as_owner
from tests.factories import make_product

pytestmark = pytest.mark.django_db

REAL_CATALOG = Path(__file__).resolve().parents[2] / "shared/reference/dummyjson-products.json"
# Whole words, word starts, parts of words, two-letter terms, accents, several terms, nothing.
REAL_QUERIES = [
    "watch", "phone", "lipst", "ESSENCE", "red", "Crème", "kitchen knife", "ap", "x", "gaming chair",
    "fragrance 100ml", "oil", "zz-no-such-thing", "mascara essence", "sports", "leather", "s",
]  # fmt: skip


def found(query: str) -> list[int]:
    """Ids of the products the query matches, best match first."""
    products = Product.objects.filter(search_condition(query))
    return list(products.order_by(relevance(query), "id").values_list("id", flat=True))


def reference_search(products: list[dict], query: str) -> list[int]:
    """The definition in plain Python: every term inside the search text; ranked by where they first occur."""
    terms = search_terms(query)
    texts = {product["id"]: product["search_text"] for product in products}
    hits = [pid for pid, text in texts.items() if all(term in text for term in terms)]
    return sorted(hits, key=lambda pid: (sum(texts[pid].index(term) + 1 for term in terms), pid))


def test_search_terms_are_normalized_and_at_most_eight():
    assert search_terms("  Crème BRÛLÉE  ") == ["creme", "brulee"]
    assert len(search_terms(" ".join("abcdefghij"))) == 8


def test_an_fts5_phrase_quotes_the_term_and_doubles_its_quotes():
    assert fts5_phrase('say "hi"') == '"say ""hi"""'


@pytest.mark.parametrize(("query", "expected"), [("lipst", [1]), ("PHONE", [2]), ("ips", [1]), ("e", [1, 2])])
def test_a_term_matches_a_word_its_start_or_any_part_of_it(query, expected):
    make_product(1, title="Velvet Lipstick", brand="", description="", tags=[])
    make_product(2, title="iPhone Case", brand="", description="A case.", tags=[])

    assert sorted(found(query)) == expected


def test_a_quote_in_the_query_is_searched_for_not_obeyed():
    make_product(1, title='The "best" mug', description="", brand="", tags=[])
    make_product(2, title="Best mug", description="", brand="", tags=[])

    assert found('"best"') == [1]
    assert not found('best" OR "mug')


def test_results_come_best_match_first_then_by_id():
    make_product(1, title="Leather Wallet", description="Holds a watch strap too.", brand="", tags=[])
    make_product(2, title="Steel Watch", description="A watch.", brand="", tags=[])
    make_product(3, title="Gold Watch", description="", brand="", tags=[])

    assert found("watch") == [3, 2, 1]


def test_the_index_follows_inserts_updates_and_deletes():
    product = make_product(1, title="Velvet Tint", description="", brand="", tags=[])
    assert found("velvet") == [1]

    Product.objects.filter(id=1).update(search_text="satin gloss")
    assert (found("velvet"), found("gloss")) == ([], [1])

    product.delete()
    assert not found("gloss")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 table is SQLite's index")
def test_a_lost_sqlite_trigger_is_recreated_and_the_index_refilled():
    make_product(1, title="Velvet Tint", description="", brand="", tags=[])
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER catalog_product_search_update")
    Product.objects.filter(id=1).update(search_text="satin gloss")

    assert ensure_vendor_indexes(connection) is True
    assert ensure_vendor_indexes(connection) is False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH ?", ['"gloss"'])
        assert cursor.fetchall() == [(1,)]


@pytest.mark.skipif(not REAL_CATALOG.exists(), reason="the real catalog (../shared/reference) is not here")
def test_the_real_catalog_gives_the_reference_results_on_this_database():
    """Run on SQLite and on PostgreSQL (make test, make test-postgres): both must equal one definition."""
    raw_products = json.loads(REAL_CATALOG.read_text())
    cleaned = [validate_product(raw) for raw in raw_products]
    save_page([clean for clean in cleaned if not isinstance(clean, list)], {}, run_id="real-catalog")
    stored = list(Product.objects.values("id", "search_text"))
    assert len(stored) == len(raw_products)

    for query in REAL_QUERIES:
        assert found(query) == reference_search(stored, query), query
    assert len(found("watch")) > 5
    assert found("Crème") == found("creme")


@pytest.mark.django_db(transaction=True)  # PostgreSQL builds no index in a transaction with pending row events
def test_dropped_vendor_indexes_come_back_and_search_still_finds_products():
    make_product(1, title="Velvet Tint", description="", brand="", tags=[])
    with as_owner():  # index DDL is the migrations' work: the owner's, never the app role's
        drop_vendor_indexes(connection)
        ensure_vendor_indexes(connection)

    assert found("velvet") == [1]
    assert NEWEST_INDEX in {
        name
        for name, details in connection.introspection.get_constraints(connection.cursor(), "catalog_product").items()
        if details["index"]
    }
