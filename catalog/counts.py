"""Tallies that a run adds up page by page."""

from dataclasses import fields


class Counts:
    """Mixin for a dataclass of whole-number counters: ``add`` sums another tally into this one."""

    def add(self, other: "Counts") -> None:
        """Accumulate another tally of the same kind."""
        for counter in fields(self):  # type: ignore[arg-type]  # a mixin for dataclasses only
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))
