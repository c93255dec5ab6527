"""Product search: which products match a query, and how well, the same on SQLite and PostgreSQL.

A query is normalized as ``Product.search_text`` is (lower case, no accents) and split into
terms; a product matches when every term occurs in its search text, whole or as part of a
word ("lipst" finds "lipstick", "phone" finds "iphone"). The substring test itself is the
definition, so both databases return the same products; each database only makes it cheap:

- PostgreSQL: a ``pg_trgm`` GIN index on ``search_text`` serves ``LIKE '%term%'`` directly;
- SQLite: an FTS5 table with the ``trigram`` tokenizer (kept by triggers, see vendor_indexes.py)
  narrows the candidates to a few rows before the exact test.

Trigram indexes need three characters; shorter terms are tested on the rows the longer ones
leave, or on every row when the query has no longer term.

Results are ranked by where the terms first occur in the search text, which starts with the
title: a product named after the query comes before one that only mentions it.
"""

from django.db import connection
from django.db.models import Q, Value
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import StrIndex

from .payload import search_text
from .vendor_indexes import SQLITE_TABLE

MAX_SEARCH_TERMS = 8
TRIGRAM_LENGTH = 3  # the shortest term a trigram index can look up


def search_terms(query: str) -> list[str]:
    """The query normalized as ``Product.search_text`` is, split into words that must all match."""
    return search_text(query).split()[:MAX_SEARCH_TERMS]


def fts5_phrase(term: str) -> str:
    """A term as an FTS5 string literal, which the trigram tokenizer reads as "contains this"."""
    return '"' + term.replace('"', '""') + '"'


def indexed_candidates(terms: list[str], *, prefix: str = "") -> Q:
    """On SQLite, the rows whose FTS5 trigram entry holds every term long enough to look up."""
    long_terms = [term for term in terms if len(term) >= TRIGRAM_LENGTH]
    if connection.vendor != "sqlite" or not long_terms:
        return Q()  # PostgreSQL's trigram index serves the LIKE below by itself
    match = " AND ".join(fts5_phrase(term) for term in long_terms)
    rowids = RawSQL(f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s", [match])
    return Q(**{f"{prefix}id__in": rowids})


def search_condition(query: str, *, prefix: str = "") -> Q:
    """Products whose search text holds every term of the query (no condition for an empty query)."""
    terms = search_terms(query)
    condition = indexed_candidates(terms, prefix=prefix)
    for term in terms:
        condition &= Q(**{f"{prefix}search_text__contains": term})
    return condition


def relevance(query: str) -> Combinable:
    """Lower is better: the sum of the positions where each term first occurs (0 for every row without terms)."""
    total: Combinable = Value(0)
    for term in search_terms(query):
        total = total + StrIndex("search_text", Value(term))
    return total
