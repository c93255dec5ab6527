"""The audit log: one way in, a hash chain that catches tampering, and no way to rewrite history."""

import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.chain import HASHED_FIELDS, canonical_json, event_hash
from audit.context import run_context
from audit.models import GENESIS_HASH, AppendOnlyError, AuditEvent
from audit.services import record_event
from tests.tampering import tamper

pytestmark = pytest.mark.django_db


def record(count: int = 3) -> list[AuditEvent]:
    """Write ``count`` simple fetch events."""
    return [record_event(kind="fetch", outcome="ok", url=f"https://dummyjson.com/products/{n}") for n in range(count)]


def verify() -> str:
    """Run verify_audit and return what it printed."""
    from io import StringIO  # pylint: disable=import-outside-toplevel

    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue().strip()


def test_events_form_a_chain_from_the_genesis_hash():
    first, second, third = record(3)

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert third.hash == event_hash({name: getattr(third, name) for name in HASHED_FIELDS})


def test_the_stored_row_hashes_to_the_same_value_after_a_round_trip():
    record_event(kind="sync", outcome="ok", duration_ms=12.3456789, details={"when": object(), "n": 1.5, "é": ["ü"]})
    event = AuditEvent.objects.get()

    assert event.duration_ms == 12.346
    assert event.hash == event_hash({name: getattr(event, name) for name in HASHED_FIELDS})


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1.5, None, True, False, -7, 10**30], "a": {"z": 1e100, "y": ""}},
        {"é": 'ü\u2028\x00"\\\n', "emoji": "\U0001f600"},
        "text",
        [],
        float("nan"),
    ],
)
def test_canonical_json_spells_values_as_json_dumps_does(value):
    # The text every hash covers: the encoder built once must write what json.dumps writes.
    assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize(
    "details",
    [
        {"page": 3, "note": "ok", "ratio": 0.5, "flag": True, "none": None},  # flat: no JSON round trip on the way in
        {"nested": {"a": [1, (2, 3)]}, 4: "an int key", "when": object()},
    ],
)
def test_record_event_returns_the_event_exactly_as_stored(details):
    returned = record_event(kind="fetch", outcome="ok", url="https://dummyjson.com/products/1", details=details)
    stored = AuditEvent.objects.get(pk=returned.pk)

    names = [field.attname for field in AuditEvent._meta.concrete_fields]
    assert {name: getattr(returned, name) for name in names} == {name: getattr(stored, name) for name in names}
    assert (returned._state.adding, returned._state.db) == (False, stored._state.db)  # pylint: disable=protected-access


def test_run_context_gives_events_its_run_id_and_actor():
    with run_context(actor="command:sync_products", run_id="run-42"):
        inside = record_event(kind="fetch", outcome="ok")
    outside = record_event(kind="fetch", outcome="ok")

    assert (inside.run_id, inside.actor) == ("run-42", "command:sync_products")
    assert outside.actor == "system"
    assert len(outside.run_id) == 32
    assert outside.run_id != "run-42"


def test_urls_are_stored_with_secrets_redacted():
    event = record_event(kind="fetch", outcome="ok", url="https://user:pw@cdn.dummyjson.com/1.webp?token=abc&size=2")

    assert event.url == "https://REDACTED@cdn.dummyjson.com/1.webp?token=REDACTED&size=2"


def test_an_event_cannot_be_changed_once_recorded():
    [event] = record(1)
    event.message = "rewritten"

    with pytest.raises(AppendOnlyError, match="cannot be changed"):
        event.save()


def test_an_event_cannot_be_deleted():
    [event] = record(1)

    with pytest.raises(AppendOnlyError, match="cannot be deleted"):
        event.delete()
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda events: events.update(message="x"),
        lambda events: events.delete(),
        lambda events: events.bulk_update(list(events), ["message"]),
    ],
    ids=["update", "delete", "bulk_update"],
)
def test_bulk_updates_and_deletes_are_refused(rewrite):
    record(2)

    with pytest.raises(AppendOnlyError):
        rewrite(AuditEvent.objects.all())
    assert AuditEvent.objects.count() == 2


def test_verify_audit_reports_the_count_and_head_of_an_intact_chain():
    events = record(3)

    assert verify() == f"audit chain intact: 3 events, head {events[-1].hash}; no signed anchor yet"


def test_verify_audit_passes_on_an_empty_log():
    assert verify() == f"audit chain intact: 0 events, head {GENESIS_HASH}; no signed anchor yet"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE audit_auditevent SET message = 'edited' WHERE seq = 2",
            "audit chain broken at event #2: event #2 does not match its hash: changed",
        ),
        (
            "UPDATE audit_auditevent SET status_code = 200 WHERE seq = 3",
            "audit chain broken at event #3: event #3 does not match its hash: changed",
        ),
        (
            "DELETE FROM audit_auditevent WHERE seq = 2",
            "audit chain broken at event #2: expected event #2 but found #3: removed or reordered",
        ),
        (
            "DELETE FROM audit_auditevent WHERE seq = 1",
            "audit chain broken at event #1: expected event #1 but found #2: removed or reordered",
        ),
    ],
)
def test_verify_audit_names_the_first_tampered_event(statement, expected):
    record(4)
    tamper(statement)

    with pytest.raises(CommandError) as caught:
        verify()
    assert str(caught.value) == expected
    assert caught.value.returncode == 1


def test_verify_audit_catches_a_reordering_with_renumbered_seqs():
    record(3)
    tamper("UPDATE audit_auditevent SET seq = 100 WHERE seq = 2")
    tamper("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
    tamper("UPDATE audit_auditevent SET seq = 3 WHERE seq = 100")

    with pytest.raises(CommandError, match="event #2 does not link to the event before it: removed or reordered"):
        verify()


def test_verify_audit_catches_a_recomputed_hash_that_breaks_the_link():
    events = record(3)
    forged = {name: getattr(events[1], name) for name in HASHED_FIELDS} | {"message": "forged"}
    tamper("UPDATE audit_auditevent SET message = 'forged', hash = %s WHERE seq = 2", [event_hash(forged)])

    with pytest.raises(CommandError, match="event #3 does not link to the event before it"):
        verify()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    errors = []

    def write_ten():
        try:
            for _ in range(10):
                record_event(kind="fetch", outcome="ok")
        except Exception as error:  # pylint: disable=broad-exception-caught
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write_ten) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 41))
    assert verify().startswith("audit chain intact: 40 events")


def test_a_failed_write_is_loud(mocker):
    mocker.patch("audit.append.canonical_event_hash", side_effect=RuntimeError("disk full"))

    with pytest.raises(RuntimeError, match="disk full"):
        record_event(kind="fetch", outcome="ok")
