"""audit_prune deletes old events behind a checkpoint: verify_audit still passes; unrecorded deletions still fail."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import retention
from audit.chain import HASHED_FIELDS, event_hash
from audit.models import AuditEvent
from audit.services import record_event
from tests.tampering import tamper

pytestmark = pytest.mark.django_db
AGES = (timedelta(days=40), timedelta(days=35), timedelta(days=31), timedelta(days=2), timedelta(hours=1))


def run(command: str, *args: str) -> str:
    """Run a management command and return what it printed."""
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().strip()


def seqs() -> list[int]:
    """The stored events' seqs, oldest first."""
    return list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))


@pytest.fixture
def aged():
    """Five events, 40, 35 and 31 days old, then 2 days and 1 hour old (seq 1 to 5)."""
    now = timezone.now()
    events = []
    for age in AGES:
        with mock.patch("django.utils.timezone.now", return_value=now - age):
            events.append(record_event(kind="fetch", outcome="ok", url="https://dummyjson.com/products/1"))
    return events


def test_prune_deletes_the_old_events_and_records_a_checkpoint(aged):
    assert run("audit_prune", "--older-than", "30") == (
        "pruned 3 events (#1 to #3); checkpoint #6 anchors the rest of the chain"
    )

    assert seqs() == [4, 5, 6]
    checkpoint = AuditEvent.objects.get(seq=6)
    assert (checkpoint.kind, checkpoint.outcome, checkpoint.actor) == ("checkpoint", "ok", "command:audit_prune")
    assert {key: checkpoint.details[key] for key in ("pruned_through_seq", "pruned_from_seq", "pruned_count")} == {
        "pruned_through_seq": 3,
        "pruned_from_seq": 1,
        "pruned_count": 3,
    }
    assert checkpoint.details["pruned_through_hash"] == aged[2].hash
    assert checkpoint.details["older_than_days"] == 30.0


@pytest.mark.usefixtures("aged")
def test_verify_passes_after_a_prune_starting_from_the_oldest_remaining_event():
    run("audit_prune", "--older-than", "30")
    head = AuditEvent.objects.get(seq=6).hash

    assert run("verify_audit") == (
        f"audit chain intact: 3 events from #4 (earlier events pruned behind a signed checkpoint), head {head}; "
        "no signed anchor yet"
    )


@pytest.mark.usefixtures("aged")
def test_nothing_old_enough_means_no_checkpoint():
    assert run("audit_prune", "--older-than", "60") == "nothing to prune: no event is older than 60 days"
    assert seqs() == [1, 2, 3, 4, 5]


@pytest.mark.usefixtures("aged")
def test_pruning_everything_keeps_the_checkpoint_as_the_whole_chain():
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=90)):
        assert run("audit_prune", "--older-than", "1").startswith("pruned 5 events (#1 to #5); checkpoint #6")

    assert seqs() == [6]
    assert run("verify_audit").startswith("audit chain intact: 1 events from #6")


@pytest.mark.usefixtures("aged")
def test_small_batches_delete_the_same_rows():
    run("audit_prune", "--older-than", "30", "--batch-size", "1")

    assert seqs() == [4, 5, 6]


@pytest.mark.usefixtures("aged")
def test_two_prunes_in_a_row_still_verify():
    run("audit_prune", "--older-than", "30")
    run("audit_prune", "--older-than", "1")

    assert seqs() == [5, 6, 7]
    assert run("verify_audit").startswith("audit chain intact: 3 events from #5")


@pytest.mark.usefixtures("aged")
def test_rows_deleted_without_a_checkpoint_are_still_caught():
    tamper("DELETE FROM audit_auditevent WHERE seq <= 2")

    with pytest.raises(CommandError, match=r"^audit chain broken at event #1: expected event #1 but found #3: removed"):
        run("verify_audit")


@pytest.mark.usefixtures("aged")
def test_rows_deleted_past_the_checkpoint_are_caught():
    run("audit_prune", "--older-than", "30")
    tamper("DELETE FROM audit_auditevent WHERE seq = 4")

    with pytest.raises(CommandError, match=r"^audit chain broken at event #4: expected event #4 but found #5: removed"):
        run("verify_audit")


@pytest.mark.usefixtures("aged")
def test_a_broken_chain_is_not_pruned():
    tamper("UPDATE audit_auditevent SET message = 'edited' WHERE seq = 2")

    with pytest.raises(CommandError) as caught:
        run("audit_prune", "--older-than", "30")

    assert str(caught.value) == (
        "refusing to prune: audit chain broken at event #2: event #2 does not match its hash: changed"
    )
    assert seqs() == [1, 2, 3, 4, 5]


def rewrite_from(seq: int, message: str) -> None:
    """Rewrite an event and re-hash every later one, so that the links all hold again."""
    previous_hash = AuditEvent.objects.get(seq=seq - 1).hash
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        fields = {name: getattr(event, name) for name in HASHED_FIELDS} | {"prev_hash": previous_hash}
        if event.seq == seq:
            fields["message"] = message
        new_hash = event_hash(fields)
        tamper(
            "UPDATE audit_auditevent SET message = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [fields["message"], previous_hash, new_hash, event.seq],
        )
        previous_hash = new_hash


@pytest.mark.usefixtures("aged")
def test_a_prune_stopped_between_batches_still_verifies():
    real_delete = retention._delete_pruned_range  # pylint: disable=protected-access
    calls = []

    def delete_then_crash(first_seq, last_seq, using):
        calls.append((first_seq, last_seq))
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real_delete(first_seq, last_seq, using)

    with mock.patch.object(retention, "_delete_pruned_range", delete_then_crash), pytest.raises(KeyboardInterrupt):
        run("audit_prune", "--older-than", "30", "--batch-size", "1")

    assert seqs() == [2, 3, 4, 5, 6]
    assert run("verify_audit").startswith("audit chain intact: 5 events from #2")


@pytest.mark.usefixtures("aged")
def test_the_checkpoint_pins_the_hash_of_the_last_pruned_event():
    with mock.patch.object(retention, "_delete_pruned_range", return_value=0):
        run("audit_prune", "--older-than", "30")
    tamper("DELETE FROM audit_auditevent WHERE seq = 1")
    rewrite_from(3, "forged")  # re-hashed to the head: only the checkpoint's pin can tell

    with pytest.raises(CommandError) as caught:
        run("verify_audit")

    assert str(caught.value) == (
        "audit chain broken at event #3: event #3 does not match the hash its prune checkpoint recorded: rewritten"
    )


@pytest.mark.usefixtures("aged")
def test_on_postgresql_the_delete_goes_through_the_owners_prune_function():
    with CaptureQueriesContext(connection) as queries:
        run("audit_prune", "--older-than", "30")

    statements = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith(("SET LOCAL", "DELETE", "SELECT audit_prune"))
    ]
    if connection.vendor == "postgresql":
        assert statements == ["SELECT audit_prune(1, 3)"]
    else:
        assert statements == ['DELETE FROM "audit_auditevent" WHERE seq >= 1 AND seq <= 3']


@pytest.mark.usefixtures("aged")
def test_the_model_still_refuses_deletes():
    run("audit_prune", "--older-than", "30")

    with pytest.raises(Exception, match="cannot be deleted"):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize("days", ["0", "-3", "soon"])
def test_older_than_must_be_a_positive_number_of_days(days):
    with pytest.raises(CommandError, match="argument --older-than: invalid positive_int value"):
        run("audit_prune", "--older-than", days)
