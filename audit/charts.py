"""Charts drawn on the server as inline SVG: stacked bars, lines and horizontal bars, no JavaScript."""

from collections.abc import Mapping, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 12, 12, 28
BAR_ROW_HEIGHT = 18
# Outcomes keep their colour on every chart; other series take the palette in order.
COLOURS = {
    "ok": "#2e7d32",
    "passed": "#2e7d32",
    "not_modified": "#66bb6a",
    "started": "#90a4ae",
    "interrupted": "#ffa000",
    "error": "#c62828",
    "failed": "#c62828",
    "http_error": "#ef6c00",
    "timeout": "#8e24aa",
    "connection_error": "#6d4c41",
    "invalid": "#f9a825",
    "blocked": "#37474f",
    "too_large": "#00838f",
}
PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#546e7a")


def colour(name: str, index: int) -> str:
    """The series' colour: fixed for outcomes, else the palette's next."""
    return COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.2f}"


def _frame(body: SafeString, *, label: str, y_max: float, x_labels: Sequence[str], height: int = HEIGHT) -> SafeString:
    """The SVG element, its axes, the top value and up to three x labels around ``body``."""
    bottom = height - MARGIN_BOTTOM
    ticks = {0: "start", len(x_labels) // 2: "middle", len(x_labels) - 1: "end"} if x_labels else {}
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    step = plot_width / max(len(x_labels), 1)
    texts = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}" font-size="11">{}</text>',
        ((round(MARGIN_LEFT + (i + 0.5) * step, 1), height - 8, anchor, x_labels[i]) for i, anchor in ticks.items()),
    )
    return format_html(
        '<svg class="audit-chart" role="img" aria-label="{label}" viewBox="0 0 {width} {height}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        '<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#999"/>'
        '<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        '<text x="{label_x}" y="{top_text}" text-anchor="end" font-size="11">{y_max}</text>'
        '<text x="{label_x}" y="{bottom}" text-anchor="end" font-size="11">0</text>{body}{texts}</svg>',
        label=label,
        width=WIDTH,
        height=height,
        left=MARGIN_LEFT,
        right=WIDTH - MARGIN_RIGHT,
        top=MARGIN_TOP,
        bottom=bottom,
        label_x=MARGIN_LEFT - 4,
        top_text=MARGIN_TOP + 10,
        y_max=_number(y_max),
        body=body,
        texts=texts,
    )


def _legend(names: Sequence[str]) -> SafeString:
    return format_html(
        '<p class="audit-legend">{}</p>',
        format_html_join(
            " ",
            '<span><svg width="10" height="10"><rect width="10" height="10" fill="{}"/></svg> {}</span>',
            ((colour(name, i), name) for i, name in enumerate(names)),
        ),
    )


Rect = tuple[float, float, float, float, str, str]  # x, y, width, height, colour, tooltip


def _stack(i: int, x_labels: Sequence[str], series: Mapping[str, Sequence[float]], y_max: float) -> list[Rect]:
    """The rectangles of bar ``i``, bottom series first, each with its tooltip."""
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(x_labels), 1)
    base: float = HEIGHT - MARGIN_BOTTOM
    rects: list[Rect] = []
    for index, (name, values) in enumerate(series.items()):
        if not values[i]:
            continue
        bar_height = values[i] / y_max * plot_height
        base -= bar_height
        x, width = round(MARGIN_LEFT + i * step + step * 0.1, 1), round(max(step * 0.8, 1), 1)
        tooltip = f"{x_labels[i]}: {_number(values[i])} {name}"
        rects.append((x, round(base, 1), width, round(bar_height, 1), colour(name, index), tooltip))
    return rects


def stacked_bars(x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, label: str) -> SafeString:
    """One bar per x label, each series stacked on the ones before it."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    y_max = max(totals, default=0) or 1
    rects = [rect for i in range(len(x_labels)) for rect in _stack(i, x_labels, series, y_max)]
    body = format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', rects)
    return _frame(body, label=label, y_max=y_max, x_labels=x_labels) + _legend(list(series))


def _series_line(
    name: str, index: int, values: Sequence[float | None], x_labels: Sequence[str], y_max: float
) -> SafeString:
    """One series' polyline and a dot with a tooltip per known value."""
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    step = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(x_labels), 1)
    known = [(i, value) for i, value in enumerate(values) if value is not None]
    points = [
        (round(MARGIN_LEFT + (i + 0.5) * step, 1), round(HEIGHT - MARGIN_BOTTOM - value / y_max * plot_height, 1))
        for i, value in known
    ]
    fill = colour(name, index)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}</title></circle>',
        (
            (x, y, fill, f"{x_labels[i]}: {name} {_number(value)}")
            for (x, y), (i, value) in zip(points, known, strict=False)
        ),
    )
    return format_html(
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>{}',
        fill,
        " ".join(f"{x},{y}" for x, y in points),
        dots,
    )


def line_chart(x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, label: str) -> SafeString:
    """One line per series, with a dot per known value; gaps where a value is None."""
    y_max = max((value for values in series.values() for value in values if value is not None), default=0) or 1
    body = format_html_join(
        "", "{}", ((_series_line(name, i, values, x_labels, y_max),) for i, (name, values) in enumerate(series.items()))
    )
    return _frame(body, label=label, y_max=y_max, x_labels=x_labels) + _legend(list(series))


def horizontal_bars(rows: Sequence[tuple[str, float]], *, label: str, unit: str = "") -> SafeString:
    """One labelled bar per row, longest for the largest value."""
    height = MARGIN_TOP + BAR_ROW_HEIGHT * max(len(rows), 1) + MARGIN_BOTTOM
    x_max = max((value for _, value in rows), default=0) or 1
    name_width = 160
    plot_width = WIDTH - name_width - MARGIN_RIGHT - 80
    bars = format_html_join(
        "",
        '<text x="{name_x}" y="{text_y}" text-anchor="end" font-size="11">{name}</text>'
        '<rect x="{x}" y="{y}" width="{width}" height="{bar_height}" fill="#1565c0">'
        "<title>{name}: {value}</title></rect>"
        '<text x="{value_x}" y="{text_y}" font-size="11">{value}</text>',
        (
            {
                "name_x": name_width - 6,
                "text_y": MARGIN_TOP + i * BAR_ROW_HEIGHT + 12,
                "name": name,
                "x": name_width,
                "y": MARGIN_TOP + i * BAR_ROW_HEIGHT + 2,
                "width": round(max(value / x_max * plot_width, 1), 1),
                "bar_height": BAR_ROW_HEIGHT - 4,
                "value": f"{_number(value)}{unit}",
                "value_x": round(name_width + value / x_max * plot_width + 4, 1),
            }
            for i, (name, value) in enumerate(rows)
        ),
    )
    return format_html(
        '<svg class="audit-chart" role="img" aria-label="{label}" viewBox="0 0 {width} {height}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>{bars}</svg>',
        label=label,
        width=WIDTH,
        height=height,
        bars=bars,
    )
