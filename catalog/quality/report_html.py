"""The gate's report as one self-contained HTML page: inline CSS and SVG, no JavaScript, no links out."""

from typing import Any

from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_WIDTH, CHART_HEIGHT, CHART_WIDTH = 24, 80, 260
TOP_VALUES = 8
CURRENT, REFERENCE = "#2b6cb0", "#a0aec0"


def _bars(shares: list[float], ref_shares: list[float]) -> list[tuple[float, float, float, float, str]]:
    """(x, y, width, height, colour) of each bar: a grey reference bar left of each blue one."""
    peak = max(shares + ref_shares + [1e-9])
    step = CHART_WIDTH / max(len(shares), 1)
    bars = []
    for index, share in enumerate(shares):
        columns = [(ref_shares[index], REFERENCE), (share, CURRENT)] if ref_shares else [(share, CURRENT)]
        width = step / len(columns)
        for position, (value, colour) in enumerate(columns):
            height = value / peak * CHART_HEIGHT
            x = index * step + position * width + 1
            bars.append((round(x, 1), round(CHART_HEIGHT - height, 1), round(width - 2, 1), round(height, 1), colour))
    return bars


def histogram_svg(current: list[int], reference: list[int] | None, title: str) -> SafeString:
    """Side-by-side bars per bin (reference grey, this run blue), scaled to the larger share."""
    total, ref_total = sum(current) or 1, sum(reference or []) or 1
    shares = [count / total for count in current]
    ref_shares = [count / ref_total for count in reference] if reference else []
    return format_html(
        '<svg role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}"><title>{}</title>{}'
        '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#718096"/></svg>',
        title, CHART_WIDTH, CHART_HEIGHT + 2, CHART_WIDTH, CHART_HEIGHT + 2, title,
        format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>', _bars(shares, ref_shares)),
        CHART_HEIGHT, CHART_WIDTH, CHART_HEIGHT,
    )  # fmt: skip


def _numeric_charts(profile: dict[str, Any], reference: dict[str, Any] | None) -> list[dict[str, Any]]:
    charts = []
    for name, stats in profile.get("numeric", {}).items():
        if not stats.get("count"):
            continue
        ref_counts = None
        if reference and reference.get("numeric", {}).get(name, {}).get("count"):
            # Bin the reference's sketch on this run's edges, so the bars compare like with like.
            edges, values = stats["histogram"]["edges"], reference["numeric"][name]["sketch"]
            ref_counts = [0] * (len(edges) - 1)
            for value in values:
                for index in range(len(edges) - 1):
                    if edges[index] <= value <= edges[index + 1]:
                        ref_counts[index] += 1
                        break
        quantiles = stats["quantiles"]
        charts.append(
            {
                "field": name,
                "svg": histogram_svg(stats["histogram"]["counts"], ref_counts, f"distribution of {name}"),
                "low": stats["histogram"]["edges"][0],
                "high": stats["histogram"]["edges"][-1],
                "median": quantiles.get("0.5"),
                "count": stats["count"],
            }
        )
    return charts


def _top_values(profile: dict[str, Any], reference: dict[str, Any] | None) -> list[dict[str, Any]]:
    tables = []
    for name, stats in profile.get("categorical", {}).items():
        if not stats.get("count"):
            continue
        ref = (reference or {}).get("categorical", {}).get(name, {})
        ref_total = ref.get("count") or 0
        rows = [
            {
                "value": value,
                "share": count / stats["count"],
                "reference_share": (ref.get("frequencies", {}).get(value, 0) / ref_total) if ref_total else None,
            }
            for value, count in list(stats["frequencies"].items())[:TOP_VALUES]
        ]
        tables.append({"field": name, "distinct": stats["distinct"], "rows": rows})
    return tables


def number_text(value: float | None) -> str:
    """A p-value, distance or share as people read it: 3 significant digits, tiny ones as 1.9e-50."""
    return "-" if value is None else f"{value:.3g}"


def _field_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        row | {"value_text": number_text(row["value"]), "psi_text": number_text(row.get("psi"))}
        for row in report.get("fields", [])
    ]


def render_report(
    *, report: dict[str, Any], profile: dict[str, Any], reference: dict[str, Any] | None, report_sha256: str
) -> str:
    """The whole page as a string."""
    return render_to_string(
        "catalog/quality_report.html",
        {
            "report": report,
            "report_sha256": report_sha256,
            "fields": _field_rows(report),
            "volume_change": f"{report['volume']['change']:+.1%}" if report.get("volume") else "",
            "held": report.get("decision") == "held",
            "numeric_charts": _numeric_charts(profile, reference),
            "top_values": _top_values(profile, reference),
            "schema": profile.get("schema", {}),
            "current_colour": CURRENT,
            "reference_colour": REFERENCE,
        },
    )
