"""A changelist paginator that never counts the table: it reads one row past the page to know if another follows."""

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property


class LookaheadPaginator(Paginator):  # type: ignore[type-arg]  # bare, so pylint infers the base
    """Pages of ``per_page`` rows; ``count`` is a lower bound that costs one LIMIT query, not a COUNT(*).

    The admin asks for ``count`` before it asks for the page, so the paginator is told
    which page will be shown and reads that page plus one row once, for both answers.
    """

    def __init__(  # pylint: disable=too-many-arguments
        self,
        object_list: Any,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
        *,
        page_number: int = 1,
    ) -> None:
        # Orphans would need the real count, which is what this paginator avoids.
        del orphans
        super().__init__(object_list, per_page, 0, allow_empty_first_page)
        self.page_number = max(page_number, 1)

    @property
    def offset(self) -> int:
        """Rows before the shown page."""
        return (self.page_number - 1) * self.per_page

    @cached_property
    def window(self) -> list[Any]:
        """The shown page's rows and, when there is one, the first row of the next page."""
        return list(self.object_list[self.offset : self.offset + self.per_page + 1])

    @cached_property
    def count(self) -> int:
        """Rows up to the end of the shown page, plus one when another page follows."""
        return self.offset + len(self.window)

    @property
    def has_more(self) -> bool:
        """Whether rows follow the shown page, so ``count`` is only a lower bound."""
        return len(self.window) > self.per_page

    def page(self, number: int | str) -> Page[Any]:
        number = self.validate_number(number)
        if number == self.page_number:
            return Page(self.window[: self.per_page], number, self)
        return super().page(number)
