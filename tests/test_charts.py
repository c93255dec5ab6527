"""The price history: the points read from the change history, and the inline SVG step chart drawn from them."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.charts import PricePoint, price_chart, scale, step_line
from catalog.selectors import as_price, price_history
from tests.factories import make_price_change, make_product

JAN, FEB, MAR, APR = (datetime(2025, month, 1, tzinfo=UTC) for month in (1, 2, 3, 4))


def test_scale_maps_a_value_between_two_ranges():
    assert scale(15, 10, 20, 100, 200) == 150


def test_scale_maps_a_range_of_one_value_to_its_middle():
    assert scale(10, 10, 10, 0, 100) == 50


def test_a_price_that_never_changed_is_a_flat_line_across_the_chart():
    assert step_line([PricePoint(JAN, Decimal("9.99"))], APR) == [(80, 100.0), (624, 100.0)]


def test_each_price_holds_until_the_next_change():
    points = [PricePoint(JAN, Decimal(10)), PricePoint(FEB, Decimal(20)), PricePoint(MAR, Decimal(15))]

    line = step_line(points, APR)

    # Jan..Apr is 90 days over 544 px: Feb 1 is 31 days in, Mar 1 is 59 days in.
    feb, mar = 80 + 31 / 90 * 544, 80 + 59 / 90 * 544
    assert line == [(80, 184), (feb, 184), (feb, 16), (mar, 16), (mar, 100), (624, 100)]


def test_the_chart_is_an_accessible_svg_with_a_polyline_and_a_dot_per_price():
    points = [PricePoint(JAN, Decimal(10)), PricePoint(MAR, Decimal(20))]

    svg = price_chart(points, until=MAR)

    assert svg.startswith(
        '<svg class="price-chart" viewBox="0 0 640 220" width="640" height="220" role="img" '
        'aria-labelledby="price-chart-title price-chart-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="price-chart-title">Price history</title>'
        '<desc id="price-chart-desc">From $10.00 on Jan. 1, 2025 to $20.00; lowest $10.00, highest $20.00.</desc>'
    )
    assert '<polyline class="chart-line" fill="none" points="80.0,184.0 624.0,184.0 624.0,16.0 624.0,16.0"/>' in svg
    assert '<circle class="chart-point" cx="80.0" cy="184.0" r="4"><title>$10.00, Jan. 1, 2025</title></circle>' in svg
    assert '<circle class="chart-point" cx="624.0" cy="16.0" r="4"><title>$20.00, March 1, 2025</title></circle>' in svg
    assert '<text class="chart-label" x="72" y="20" text-anchor="end">$20.00</text>' in svg
    assert '<text class="chart-label" x="72" y="188" text-anchor="end">$10.00</text>' in svg
    assert "style=" not in svg


def test_a_flat_chart_labels_its_one_price_and_one_day_once():
    svg = price_chart([PricePoint(JAN, Decimal("9.99"))], until=JAN)

    assert svg.count('class="chart-label"') == 2
    assert '<desc id="price-chart-desc">Unchanged at $9.99 since Jan. 1, 2025.</desc>' in svg


def test_no_points_draw_nothing():
    assert price_chart([], until=JAN) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.49", Decimal("12.49")), (12, Decimal(12)), (12.5, Decimal("12.5")), ("abc", None), (None, None)],
)
def test_as_price_reads_prices_as_history_stores_them(value, expected):
    assert as_price(value) == expected


@pytest.mark.parametrize("value", [True, "NaN", "Infinity", [1], {"a": 1}])
def test_as_price_refuses_what_is_not_a_price(value):
    assert as_price(value) is None


@pytest.mark.django_db
def test_a_product_without_price_changes_has_its_current_price_since_first_seen():
    product = make_product(7, price="12.49", first_seen_at=JAN)

    assert price_history(product) == [PricePoint(JAN, Decimal("12.49"))]


@pytest.mark.django_db
def test_the_history_starts_with_the_first_changes_old_price_at_first_seen_then_each_new_price():
    product = make_product(7, price="11.00", first_seen_at=JAN)
    make_price_change(product, old="10.00", new="11.00", at=MAR)
    make_price_change(product, old="12.49", new="10.00", at=FEB)
    product.changes.create(field="title", old_value="a", new_value="b", run_id="r", changed_at=FEB)

    assert price_history(product) == [
        PricePoint(JAN, Decimal("12.49")),
        PricePoint(FEB, Decimal("10.00")),
        PricePoint(MAR, Decimal("11.00")),
    ]


@pytest.mark.django_db
def test_the_history_skips_values_that_are_not_prices():
    product = make_product(7, price="11.00", first_seen_at=JAN)
    make_price_change(product, old="<b>x</b>", new="11.00", at=FEB)

    assert price_history(product) == [PricePoint(FEB, Decimal("11.00"))]
