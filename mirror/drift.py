"""Data faults: a bad upstream day, served as valid JSON, for the publish gate to catch.

Each is a fault spec (``--faults prices-x100``) applying to the JSON endpoints:

- ``short-listing[:N=10]``  the complete listing holds only the first N products (``total: N``).
- ``prices-x100``           every price arrives multiplied by 100 (a unit mix-up).
- ``renamed-field``         ``price`` arrives as ``cost``.
- ``moved-category[:ID=1]`` product ID moves to another category (a golden product changes).
- ``small-changes``         an ordinary day: every 20th price moves by 3 %, the last product is gone.
"""

from __future__ import annotations

from collections.abc import Iterator

from mirror.catalog import CATEGORIES, Catalog
from mirror.faults import API, FaultPlan

DATA_FAULTS = ("short-listing", "prices-x100", "renamed-field", "moved-category", "small-changes")
SMALL_CHANGE_EVERY = 20
SMALL_CHANGE = 0.03


class DriftedCatalog:
    """A catalog as a bad (or ordinary) day would serve it; the base catalog is not changed."""

    def __init__(self, base: Catalog, plan: FaultPlan) -> None:
        self.base, self.base_url = base, base.base_url
        self.active = {name: fault.value for name in DATA_FAULTS if (fault := plan.find(name, API, None))}
        ids = list(range(1, base.scale + 1))
        if "small-changes" in self.active:
            ids = ids[:-1]
        if "short-listing" in self.active:
            ids = ids[: int(self.active["short-listing"])]
        self._ids, self._listed = ids, frozenset(ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[dict]:
        return (self.product(pid) for pid in self._ids)  # type: ignore[misc]

    def __getitem__(self, ids: slice) -> list[dict]:
        return [self.product(pid) for pid in self._ids[ids]]  # type: ignore[misc]

    def categories(self) -> list[str]:
        """The base catalog's categories."""
        return self.base.categories()

    def product(self, pid: int) -> dict | None:
        """Product pid with the active data faults applied, or None when the day lost it."""
        if pid not in self._listed:
            return None
        product = dict(self.base.product(pid) or {})
        if "prices-x100" in self.active:
            product["price"] = round(product["price"] * 100, 2)
        if "small-changes" in self.active and not pid % SMALL_CHANGE_EVERY:
            factor = 1 + SMALL_CHANGE if pid // SMALL_CHANGE_EVERY % 2 else 1 - SMALL_CHANGE
            product["price"] = round(product["price"] * factor, 2)
        if "moved-category" in self.active and pid == int(self.active["moved-category"]):
            product["category"] = CATEGORIES[(CATEGORIES.index(product["category"]) + 1) % len(CATEGORIES)]
        if "renamed-field" in self.active:
            product = {("cost" if key == "price" else key): value for key, value in product.items()}
        return product


def drifted(catalog: Catalog, plan: FaultPlan) -> Catalog | DriftedCatalog:
    """The catalog as the active data faults serve it (itself when none is active)."""
    if any(plan.find(name, API, None) for name in DATA_FAULTS):
        return DriftedCatalog(catalog, plan)
    return catalog
