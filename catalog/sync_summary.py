"""The outcome of a sync and what it was asked to do: options, summary, statuses and exit codes.

Shared by ``product_sync``, the sharded sync and the publishing of held runs.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from audit.provenance import code_version, package_versions

from .image_sync import ImageCounts
from .persistence import PageCounts
from .quality.gate import GateResult

MAX_FAILURES_RECORDED = 50

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_COULD_NOT_RUN = "could_not_run"
STATUS_INTERRUPTED = "interrupted"
STATUS_HELD = "held"
EXIT_CODES = {STATUS_OK: 0, STATUS_FAILED: 1, STATUS_COULD_NOT_RUN: 2, STATUS_HELD: 3, STATUS_INTERRUPTED: 130}


@dataclass(frozen=True)
class SyncOptions:  # pylint: disable=too-many-instance-attributes
    """What to sync and how; the command's options."""

    base_url: str | None = None
    limit: int | None = None
    ids: tuple[int, ...] = ()
    category: str | None = None
    images: bool = True
    refresh_images: bool = False
    concurrency: int = 8
    page_size: int = 100
    reference: str | None = None  # the run whose profile drift is measured against
    accept_drift: bool = False  # publish even when the gate fails (a person reviewed it)

    @property
    def complete_listing(self) -> bool:
        """Whether the run reads the whole catalog, so absence means gone upstream."""
        return self.limit is None and not self.ids and not self.category


@dataclass
class SyncSummary:  # pylint: disable=too-many-instance-attributes
    """What a run did, for the terminal, the sync event and the exit code."""

    run_id: str
    options: SyncOptions
    products: PageCounts = field(default_factory=PageCounts)
    rejected: int = 0
    violations: int = 0
    images: ImageCounts = field(default_factory=ImageCounts)
    failures: list[str] = field(default_factory=list)
    status: str = STATUS_OK
    duration_s: float = 0.0
    gate: GateResult | None = None
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent staging, gating, publishing

    @property
    def exit_code(self) -> int:
        """0 all fetched and valid, 1 finished with failures or rejections, 2 could not run, 3 held by the
        publish gate, 130 interrupted."""
        if self.status == STATUS_OK and (
            self.rejected or self.violations or self.images.failed or self.images.rejected
        ):
            return EXIT_CODES[STATUS_FAILED]
        return EXIT_CODES[self.status]

    def fail(self, message: str) -> None:
        """Note a failure that does not stop the run."""
        self.failures.append(message)
        if self.status == STATUS_OK:
            self.status = STATUS_FAILED

    def as_details(self) -> dict[str, Any]:
        """The summary as the sync audit event stores it."""
        products = asdict(self.products)
        return {
            "options": asdict(self.options),
            "status": self.status,
            "exit_code": self.exit_code,
            "products": products | {"rejected": self.rejected},
            "images": asdict(self.images),
            "violations": self.violations,
            "failures": self.failures[:MAX_FAILURES_RECORDED],
            "gate": self._gate_details(),
            "phases": {name: round(seconds, 3) for name, seconds in self.phases.items()},
            "duration_s": round(self.duration_s, 3),
            "code_version": code_version(),
            "versions": package_versions(),
        }

    def _gate_details(self) -> dict[str, Any] | None:
        if self.gate is None:
            return None
        return {
            "decision": self.gate.decision,
            "reasons": self.gate.reasons[:MAX_FAILURES_RECORDED],
            "report_sha256": self.gate.report_sha256,
            "profile_sha256": self.gate.profile_sha256,
        }
