"""Read a pylint report (``--output-format=json2`` or the plain text) into a score and message counts."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MESSAGE_TYPES = ("fatal", "error", "warning", "refactor", "convention", "info")
TYPE_BY_LETTER = {message_type[0].upper(): message_type for message_type in MESSAGE_TYPES}
SCORE_LINE = re.compile(r"rated at (-?\d+(?:\.\d+)?)/10")
# path:line:column: C0114: text (symbol)
MESSAGE_LINE = re.compile(r"^\S.*?:\d+:\d+: ([FEWRCI])\d{4}: .* \(([a-z0-9-]+)\)$")


class UnreadableReport(ValueError):
    """Neither pylint's json2 nor its text output."""


@dataclass(frozen=True)
class LintReport:
    """Pylint's score and how many messages of each type and symbol it printed."""

    score: float
    by_type: dict[str, int]
    by_symbol: dict[str, int] = field(default_factory=dict)
    modules: int | None = None
    report_format: str = "text"

    @property
    def messages(self) -> int:
        """All messages, whatever their type."""
        return sum(self.by_type.values())


def _from_json2(report: dict[str, Any]) -> LintReport:
    statistics = report.get("statistics")
    if not isinstance(statistics, dict) or not isinstance(statistics.get("score"), (int, float)):
        raise UnreadableReport("the JSON report has no statistics.score: use pylint's --output-format=json2")
    counts = statistics.get("messageTypeCount", {})
    symbols = Counter(message.get("symbol", "") for message in report.get("messages", []))
    return LintReport(
        score=float(statistics["score"]),
        by_type={name: int(counts.get(name, 0)) for name in MESSAGE_TYPES},
        by_symbol=dict(sorted(symbols.items())),
        modules=statistics.get("modulesLinted"),
        report_format="json2",
    )


def _from_text(text: str) -> LintReport:
    scores = SCORE_LINE.findall(text)
    if not scores:
        raise UnreadableReport("no 'rated at N/10' line: was pylint's score report turned off?")
    by_type: Counter[str] = Counter()
    by_symbol: Counter[str] = Counter()
    for line in text.splitlines():
        if match := MESSAGE_LINE.match(line.strip()):
            by_type[TYPE_BY_LETTER[match[1]]] += 1
            by_symbol[match[2]] += 1
    return LintReport(
        score=float(scores[-1]),
        by_type={name: by_type[name] for name in MESSAGE_TYPES},
        by_symbol=dict(sorted(by_symbol.items())),
    )


def parse_lint_report(text: str) -> LintReport:
    """The score and counts from pylint's json2 report, or from its text output."""
    try:
        report = json.loads(text)
    except ValueError:
        return _from_text(text)
    if not isinstance(report, dict):
        raise UnreadableReport("the JSON report is not an object: use pylint's --output-format=json2")
    return _from_json2(report)
