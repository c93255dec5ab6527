"""The product list's sort orders, and keyset (seek) pages: page N starts at a known row, not at an OFFSET.

Every sort is a key column (or none) followed by the id, so each row has a unique place, and
each has an index of the same shape (``Product.Meta.indexes``). One pass over that index
finds the first row of every page (``page_starts``); a page then reads its 24 rows from its
start onwards, so page 4,000 costs what page 1 costs.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import F, OrderBy, Q, QuerySet, Value
from django.db.models.expressions import Window
from django.db.models.functions import Mod, RowNumber

from .models import Product

PageStart = tuple[Any, int]  # the sort column's value and the id of a page's first row


@dataclass(frozen=True)
class SortKey:
    """One sort order: a column (None: the id alone), its direction, then the id as tie-breaker."""

    field: str | None = None
    descending: bool = False
    nulls_last: bool = False
    id_descending: bool = False

    def ordering(self) -> list[OrderBy]:
        """The ORDER BY, the id last so equal values page in a stable order."""
        by_id = F("id").desc() if self.id_descending else F("id").asc()
        if self.field is None:
            return [by_id]
        column = F(self.field)
        by_field = column.desc(nulls_last=self.nulls_last or None) if self.descending else column.asc()
        return [by_field, by_id]

    def start_of(self, row: tuple[Any, ...]) -> PageStart:
        """The (value, id) a row of ``page_starts``'s query holds."""
        return (row[0], row[1]) if self.field else (None, row[0])


SORT_KEYS: dict[str, SortKey] = {
    "": SortKey(),
    "price": SortKey("final_price"),
    "-price": SortKey("final_price", descending=True),
    "rating": SortKey("rating"),
    "-rating": SortKey("rating", descending=True),
    "title": SortKey("title"),
    "-discount": SortKey("discount_percentage", descending=True),
    "newest": SortKey("source_created_at", descending=True, nulls_last=True, id_descending=True),
}


def at_or_after(key: SortKey, start: PageStart) -> Q:
    """Rows at or after ``start`` in ``key``'s order, written so an index can seek to it.

    The first condition (``value <= start`` for a descending key) is a range an index starts
    from; the rest only sorts out the rows that share the start's value.
    """
    value, row_id = start
    same_or_later_id = Q(id__lte=row_id) if key.id_descending else Q(id__gte=row_id)
    if key.field is None:
        return same_or_later_id
    if value is None:  # only a nulls-last key has a null start: the nulls come last, by id
        return Q(**{f"{key.field}__isnull": True}) & same_or_later_id
    strictly, or_equal = ("lt", "lte") if key.descending else ("gt", "gte")
    condition = Q(**{f"{key.field}__{or_equal}": value}) & (Q(**{f"{key.field}__{strictly}": value}) | same_or_later_id)
    if key.nulls_last:
        condition |= Q(**{f"{key.field}__isnull": True})
    return condition


def page_starts(products: QuerySet[Product], key: SortKey, *, page_size: int) -> list[PageStart]:
    """The first row of every page, in one pass over the sort's index (numbered from page 1)."""
    numbered = products.order_by().annotate(
        row_number=Window(RowNumber(), order_by=key.ordering()),
        place_on_page=Mod(F("row_number") - Value(1), Value(page_size)),
    )
    columns = [key.field, "id"] if key.field else ["id"]
    rows = numbered.filter(place_on_page=0).order_by("row_number").values_list(*columns)
    return [key.start_of(row) for row in rows]
