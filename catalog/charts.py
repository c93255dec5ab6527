"""A product's price history drawn server-side as an inline, accessible SVG step line (no JavaScript)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .templatetags.catalog_extras import money

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 80, 624, 16, 184  # the plot area inside the margins that hold the labels
POINT_RADIUS = 4


@dataclass(frozen=True)
class PricePoint:
    """The price a product had from a moment on."""

    at: datetime
    price: Decimal


def scale(value: float, low: float, high: float, start: float, end: float) -> float:
    """Map ``value`` from [low, high] onto [start, end]; a range of one value maps to its middle."""
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def day(moment: datetime) -> str:
    """A date in the active language's format, in the site's time zone."""
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def step_line(points: list[PricePoint], until: datetime) -> list[tuple[float, float]]:
    """Plot coordinates: each price holds until the next change, the last one until ``until``."""
    first, last = points[0].at.timestamp(), max(until, points[-1].at).timestamp()
    prices = [float(point.price) for point in points]
    low, high = min(prices), max(prices)

    def x(moment: datetime) -> float:
        return scale(moment.timestamp(), first, last, LEFT, RIGHT) if last > first else LEFT

    def y(price: float) -> float:
        return scale(price, low, high, BOTTOM, TOP)

    coordinates = [(x(points[0].at), y(prices[0]))]
    for point, previous, price in zip(points[1:], prices, prices[1:], strict=False):
        coordinates += [(x(point.at), y(previous)), (x(point.at), y(price))]
    coordinates.append((RIGHT, y(prices[-1])))
    return coordinates


def labels(points: list[PricePoint], until: datetime) -> SafeString:
    """The highest and lowest price beside the y axis, the first and last day under the x axis (once if equal)."""
    high, low = max(point.price for point in points), min(point.price for point in points)
    first, last = day(points[0].at), day(max(until, points[-1].at))
    texts = [(LEFT - 8, TOP + 4, "end", money(high))] if high != low else []
    texts.append((LEFT - 8, (BOTTOM + 4) if high != low else (TOP + BOTTOM) // 2 + 4, "end", money(low)))
    texts.append((LEFT, BOTTOM + 24, "start", first))
    if last != first:
        texts.append((RIGHT, BOTTOM + 24, "end", last))
    return format_html_join("", '<text class="chart-label" x="{}" y="{}" text-anchor="{}">{}</text>', texts)


def markers(points: list[PricePoint], line: list[tuple[float, float]]) -> SafeString:
    """A dot at each price, whose tooltip says the price and the day."""
    # The step line has a corner pair per change; every second vertex is where a new price starts.
    return format_html_join(
        "",
        '<circle class="chart-point" cx="{}" cy="{}" r="{}"><title>{}, {}</title></circle>',
        (
            (f"{x:.1f}", f"{y:.1f}", POINT_RADIUS, money(point.price), day(point.at))
            for (x, y), point in zip(line[::2], points, strict=False)
        ),
    )


def describe(points: list[PricePoint]) -> str:
    """The chart in one sentence, for screen readers."""
    prices = [point.price for point in points]
    if len(set(prices)) == 1:
        return _("Unchanged at %(price)s since %(start)s.") % {"price": money(prices[0]), "start": day(points[0].at)}
    return _("From %(first)s on %(start)s to %(last)s; lowest %(low)s, highest %(high)s.") % {
        "first": money(prices[0]),
        "start": day(points[0].at),
        "last": money(prices[-1]),
        "low": money(min(prices)),
        "high": money(max(prices)),
    }


def price_chart(points: list[PricePoint], *, until: datetime) -> SafeString:
    """The SVG of a step chart of ``points``, ending at ``until``; empty when there is nothing to draw."""
    if not points:
        return SafeString("")
    line = step_line(points, until)
    return format_html(
        '<svg class="price-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        'aria-labelledby="price-chart-title price-chart-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="price-chart-title">{title}</title><desc id="price-chart-desc">{description}</desc>'
        '<polyline class="chart-axis" fill="none" points="{left},{top} {left},{bottom} {right},{bottom}"/>'
        "{labels}"
        '<polyline class="chart-line" fill="none" points="{line}"/>'
        "{markers}</svg>",
        width=WIDTH,
        height=HEIGHT,
        title=_("Price history"),
        description=describe(points),
        left=LEFT,
        top=TOP,
        bottom=BOTTOM,
        right=RIGHT,
        labels=labels(points, until),
        line=" ".join(f"{x:.1f},{y:.1f}" for x, y in line),
        markers=markers(points, line),
    )
