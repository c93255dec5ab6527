"""Phase 2 of a sync: profile the staged data, check it, decide, and put it all on the record.

Checks (each failure is one reason, one audit event, and holds the run unless accepted):
schema drift in a required field, dataset drift, a volume drop, golden records, and the
share of published products whose price changes. Drift and volume need a complete listing
read whole and a reference; the other checks apply to every run.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from audit.models import Kind, Outcome
from audit.services import record_event

from .. import conf
from ..models import Decision, Product, RunStatus, SyncRun
from ..staging import run_summary
from .drift import Thresholds, as_rows, dataset_drift, field_drift
from .expectations import GoldenRecord, golden_failures
from .gate_checks import drift_score, golden_reasons, price_check, schema_check, volume_check
from .profile import build_profile, profile_of

PUBLISHED_CATALOG = "published catalog"
REFERENCE_PAGE = 500


class UnknownReference(LookupError):
    """``--reference`` names a run that does not exist or has no profile."""


def finite(value: Any) -> Any:
    """A JSON value with NaN and infinities as None: JSON (and the database) have no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


def artifact_sha256(artifact: dict[str, Any]) -> str:
    """sha256 of an artifact's canonical JSON: what the audit record and the downloads carry."""
    text = json.dumps(artifact, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def stored_artifact(run: SyncRun, name: str, artifact: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Save an artifact on the run and hash it as the database gives it back.

    A JSON column may normalize numbers (PostgreSQL's jsonb turns -0.0 into 0, 1e16 into an
    integer), so the hash is taken over what every later reader and download will see.
    """
    setattr(run, name, artifact)
    run.save(update_fields=[name])
    run.refresh_from_db(fields=[name])
    stored = getattr(run, name)
    return stored, artifact_sha256(stored)


def reference_profile(run_id: str) -> dict[str, Any]:
    """The stored profile of a run; UnknownReference when there is none."""
    profile = SyncRun.objects.filter(run_id=run_id).exclude(profile={}).values_list("profile", flat=True).first()
    if profile is None:
        raise UnknownReference(f"unknown reference run {run_id!r}: no sync run with a profile has that id")
    found: dict[str, Any] = profile
    return found


def published_catalog_profile() -> tuple[str, dict[str, Any] | None]:
    """The default reference: the last complete published run's profile, else the live catalog's."""
    last = SyncRun.objects.last_published_complete()
    if last is not None:
        return last.run_id, last.profile
    raws = Product.objects.published().values_list("raw", flat=True).iterator(chunk_size=REFERENCE_PAGE)
    profile = profile_of(raws)
    return PUBLISHED_CATALOG, profile if profile["rows"] else None


@dataclass
class GateResult:
    """The gate's decision on one run, with its report and that report's hash."""

    decision: str
    reasons: list[str]
    report: dict[str, Any]
    report_sha256: str
    profile_sha256: str

    @property
    def held(self) -> bool:
        """Whether nothing of the run may be published."""
        return self.decision == Decision.HELD


def _thresholds() -> Thresholds:
    return Thresholds(
        p_value=conf.drift_p_value(),
        distance=conf.drift_distance(),
        small_sample=conf.drift_small_sample(),
        dataset_share=conf.dataset_drift_share(),
    )


def _drift_section(
    reference: dict[str, Any] | None, profile: dict[str, Any], whole: bool
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    if not (reference and whole):
        return (
            [],
            {"tested": 0, "drifted": [], "share": 0.0, "threshold": conf.dataset_drift_share(), "drift": False},
            [],
        )
    thresholds = _thresholds()
    fields = field_drift(reference, profile, thresholds)
    dataset = dataset_drift(fields, thresholds)
    reasons = []
    if dataset["drift"]:
        reasons.append(
            f"dataset drift: {len(dataset['drifted'])} of {dataset['tested']} fields drifted "
            f"({', '.join(dataset['drifted'])}; limit {thresholds.dataset_share:.0%})"
        )
    return as_rows(fields), dataset, reasons


def gate_run(  # pylint: disable=too-many-locals
    *,
    run: SyncRun,
    golden: list[GoldenRecord],
    reference_run_id: str | None = None,
    accepted_by: str = "",
) -> GateResult:
    """Profile the run's staged pages, check them and record the decision; the catalog is not touched."""
    run.status = RunStatus.GATING
    run.save(update_fields=["status"])
    summary = run_summary(run)
    profile = finite(build_profile(summary))
    reference: dict[str, Any] | None
    if reference_run_id:
        reference_label, reference = reference_run_id, reference_profile(reference_run_id)
    else:
        reference_label, reference = published_catalog_profile()
    whole = run.complete_listing and run.listing_read_whole
    schema, reasons = schema_check(reference, profile)
    fields, dataset, drift_reasons = _drift_section(reference, profile, whole)
    volume, volume_reasons = volume_check(reference, profile) if reference and whole else ({}, [])
    prices, price_reasons = price_check(summary["prices"])
    golden_problems = golden_failures(
        golden, {int(i): values for i, values in summary["golden"].items()}, require_all=whole
    )
    reasons += volume_reasons + drift_reasons + price_reasons + golden_reasons(golden, golden_problems)
    decision = Decision.HELD if reasons and not accepted_by else Decision.PUBLISHED
    profile, profile_sha256 = stored_artifact(run, "profile", profile)
    report = {
        "run_id": run.run_id,
        "decision": str(decision),
        "reasons": reasons,
        "fields": fields,
        "schema": schema,
        "dataset_drift": dataset,
        "volume": volume,
        "price_changes": prices,
        "golden": {"checked": len(golden), "failures": golden_problems},
        "reference": {"run_id": reference_label if reference else None, "rows": reference["rows"] if reference else 0},
        "rows": profile["rows"],
        "complete_listing": whole,
        "accepted_by": accepted_by or None,
        "thresholds": conf.gate_thresholds(),
        "profile_sha256": profile_sha256,
        "created_at": timezone.now().isoformat(),
    }
    report, report_sha256 = stored_artifact(run, "report", finite(report))
    result = GateResult(str(decision), reasons, report, report_sha256, profile_sha256)
    _record(run, result, accepted_by=accepted_by, profile=profile)
    return result


def _record(run: SyncRun, result: GateResult, *, accepted_by: str, profile: dict[str, Any]) -> None:
    """Save the artifacts on the run, then one audit event per failed check and one for the decision."""
    run.profile_sha256, run.report_sha256 = result.profile_sha256, result.report_sha256
    run.decision, run.reasons = result.decision, result.reasons
    run.reference_run_id = result.report["reference"]["run_id"] or ""
    run.staged_products = profile["rows"]
    run.status = RunStatus.HELD if result.held else RunStatus.PUBLISHING
    if accepted_by and result.reasons:
        run.accepted_by, run.accepted_at = accepted_by, timezone.now()
    run.save()
    for reason in result.reasons:
        record_event(
            kind=Kind.GATE,
            outcome=Outcome.INVALID,
            message=reason,
            details={"check": reason.split(":", 1)[0], "report_sha256": result.report_sha256},
        )
    accepted = f", accepted by {accepted_by}" if accepted_by and result.reasons else ""
    record_event(
        kind=Kind.GATE,
        outcome=Outcome.HELD if result.held else Outcome.OK,
        sha256=result.report_sha256,
        actor=accepted_by or None,
        message=f"gate: {result.decision}, {len(result.reasons)} failed check(s){accepted}",
        details={
            "decision": result.decision,
            "reasons": result.reasons,
            "report_sha256": result.report_sha256,
            "profile_sha256": result.profile_sha256,
            "reference": result.report["reference"],
            "accepted_by": accepted_by or None,
            # Per-field values, so the audit dashboard can chart drift over time.
            "fields": {
                row["field"]: {"value": row["value"], "drifted": row["drifted"], "score": drift_score(row)}
                for row in result.report["fields"]
                if row["value"] is not None
            },
            "dataset_drift_share": result.report["dataset_drift"]["share"],
        },
    )
