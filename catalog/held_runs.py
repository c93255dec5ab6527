"""Publishing a run the publish gate held, after a person reviewed its report (``--accept-drift RUN_ID``).

Nothing is fetched again: the run's staged pages are applied through the same publishing
phase as ``product_sync``, under the catalog's lock, and the run ends with its ``sync`` event.
"""

from django.utils import timezone

from audit.models import Kind, Outcome
from audit.services import record_event

from .client_factory import shared_client
from .models import Decision, RunStatus, SyncRun
from .quality.gate import GateResult
from .sync import finish_run, publish_phase, recorded_run
from .sync_summary import STATUS_COULD_NOT_RUN, SyncOptions, SyncSummary


class HeldRunError(Exception):
    """``--accept-drift RUN_ID`` names a run that cannot be published (the message says why)."""


def held_run_to_publish(run_id: str) -> SyncRun:
    """The held run to publish; HeldRunError if it is unknown, not held, or a later run was published."""
    run = SyncRun.objects.filter(run_id=run_id).first()
    if run is None:
        raise HeldRunError(f"unknown run {run_id!r}: no sync run has that id")
    if run.status != RunStatus.HELD:
        raise HeldRunError(f"run {run_id!r} is {run.status}, not held: only a held run can be published")
    later = SyncRun.objects.filter(status=RunStatus.PUBLISHED, started_at__gt=run.started_at).first()
    if later is not None:
        raise HeldRunError(
            f"run {later.run_id!r} was published after run {run_id!r}: publishing the older data would undo it; "
            "run sync_products --accept-drift to sync afresh"
        )
    held: SyncRun = run
    return held


def held_run_publish(*, run_id: str, accepted_by: str, actor: str = "command:sync_products") -> SyncSummary:
    """Publish a run the gate held, from its staged pages, after a person reviewed its report.

    Nothing is fetched again: what is published is exactly what the report describes.
    Raises HeldRunError (before taking the lock) when the run cannot be published.
    """
    run = held_run_to_publish(run_id)
    options = SyncOptions(**{**run.options, "ids": tuple(run.options.get("ids") or ())})
    summary = SyncSummary(run_id=run.run_id, options=options)
    return recorded_run(summary, actor=actor, work=lambda: _publish_held(run, summary, accepted_by=accepted_by))


def _publish_held(run: SyncRun, summary: SyncSummary, *, accepted_by: str) -> None:
    try:
        run = held_run_to_publish(run.run_id)  # again, under the lock: another process may have moved on
    except HeldRunError as error:
        summary.status = STATUS_COULD_NOT_RUN
        summary.failures.append(str(error))
        return
    now = timezone.now()
    run.decision, run.accepted_by, run.accepted_at, run.status = (
        Decision.PUBLISHED,
        accepted_by,
        now,
        RunStatus.PUBLISHING,
    )
    run.save(update_fields=["decision", "accepted_by", "accepted_at", "status"])
    record_event(
        kind=Kind.GATE,
        outcome=Outcome.OK,
        sha256=run.report_sha256,
        actor=accepted_by,
        message=f"gate: held run published, accepted by {accepted_by}",
        details={
            "decision": "published",
            "accepted_by": accepted_by,
            "report_sha256": run.report_sha256,
            "reasons": run.reasons,
        },
    )
    summary.gate = GateResult(
        Decision.PUBLISHED,
        run.reasons,
        run.report | {"accepted_by": accepted_by},
        run.report_sha256,
        run.profile_sha256,
    )
    client = shared_client(base_url=summary.options.base_url, max_parallel_requests=summary.options.concurrency)
    try:
        publish_phase(run=run, summary=summary, client=client)
    finally:
        finish_run(run)
