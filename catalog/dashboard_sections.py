"""The catalog's section on the audit dashboard: the mean price per category."""

from django.db.models import Avg
from django.utils.translation import gettext as _  # called per request, in its language

from audit.charts import horizontal_bars
from audit.dashboard_charts import Section

from .models import Product


def mean_price_per_category() -> list[tuple[str, float]]:
    """The catalog's mean price per category, by category name."""
    rows = Product.objects.values("category__name").annotate(mean=Avg("price")).order_by("category__name")
    return [(row["category__name"], float(row["mean"])) for row in rows]


def mean_price_section() -> Section:
    """A horizontal bar per category, or a note while the catalog is empty."""
    title = _("Mean price per category")
    rows = mean_price_per_category()
    if not rows:
        return Section(title, None, _("No products in the catalog yet."))
    return Section(title, horizontal_bars(rows, label=title))
