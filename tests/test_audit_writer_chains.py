"""Per-writer chains: processes append side by side, each signs its own chain, and verify_audit checks them all."""

import subprocess
import sys
import threading
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from audit.anchors import present_bitmap, present_seqs
from audit.models import AuditEvent
from audit.services import record_event
from tests.sync_helpers import PROJECT_ROOT, subprocess_env
from tests.tampering import tamper
from tests.verifying import verify, verify_fails

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS, EVENTS_EACH = 3, 30
# One writer process: its events, then a sync event, whose end of run anchors them.
WRITER = f"""
from audit.services import record_event
for number in range({EVENTS_EACH}):
    record_event(kind="fetch", outcome="ok", url=f"https://dummyjson.com/products/{{number}}")
record_event(kind="sync", outcome="ok")
"""


def run_writers(script: str = WRITER) -> dict[str, list[AuditEvent]]:
    """Start the writer processes together, wait for them; each chain's events, in order."""
    processes = [
        subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
            cwd=PROJECT_ROOT,
            env=subprocess_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    chains: dict[str, list[AuditEvent]] = {}
    for event in AuditEvent.objects.order_by("seq"):
        chains.setdefault(event.chain, []).append(event)
    return chains


def test_writer_processes_each_append_to_their_own_signed_chain():
    chains = run_writers()

    assert len(chains) == WRITERS
    assert all(len(events) == EVENTS_EACH + 1 for events in chains.values())
    last = AuditEvent.objects.order_by("-seq").first()
    assert verify() == (
        f"audit chain intact: {WRITERS * (EVENTS_EACH + 1)} events, head {last.hash}; "
        f"signed anchors match through #{last.seq}"
    )


def test_an_event_deleted_from_the_middle_of_a_chain_is_named():
    events = next(iter(run_writers().values()))
    deleted = events[5].seq
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [deleted])

    assert verify_fails().startswith(f"audit chain broken at event #{deleted}: expected event #{deleted} but found #")


def test_the_signed_end_of_one_writers_chain_cut_off_is_named():
    chains = run_writers()
    newest = AuditEvent.objects.order_by("-seq").first()
    # The chain that did not write last: its own chain still links, but its anchored end is gone.
    events = next(events for events in chains.values() if events[-1].seq != newest.seq)
    tamper("DELETE FROM audit_auditevent WHERE seq >= %s AND chain = %s", [events[-3].seq, events[0].chain])

    assert verify_fails().startswith(
        f"audit chain broken at event #{events[-3].seq}: event #{events[-3].seq} is anchored"
    )


def test_an_event_rolled_back_with_its_work_leaves_the_log_intact():
    def failing_work() -> None:
        with transaction.atomic():
            record_event(kind="fetch", outcome="ok")
            raise RuntimeError("the work failed")

    record_event(kind="fetch", outcome="ok")
    with pytest.raises(RuntimeError):
        failing_work()
    record_event(kind="fetch", outcome="ok")

    assert AuditEvent.objects.count() == 2
    assert verify().startswith("audit chain intact: 2 events")


def test_a_chain_that_goes_on_after_a_prune_links_to_what_the_checkpoint_pinned():
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now - timedelta(days=40)):
        old = [record_event(kind="fetch", outcome="ok") for _ in range(3)]
    going_on = [record_event(kind="fetch", outcome="ok") for _ in range(2)]
    assert {event.chain for event in old + going_on} == {old[0].chain}  # one process, one chain

    call_command("audit_prune", "--older-than", "30", stdout=StringIO())

    assert going_on[0].prev_hash == old[-1].hash
    assert verify().startswith(f"audit chain intact: 3 events from #{going_on[0].seq}")


@pytest.mark.parametrize("seqs", [[7], [1, 2, 3], [10, 12, 30, 31, 90]])
def test_an_anchors_bitmap_gives_back_its_seqs(seqs):
    assert present_seqs(seqs[0], seqs[-1], present_bitmap(seqs)) == seqs


def test_the_change_view_links_to_the_neighbours_in_the_events_own_chain(admin_client):
    events = next(iter(run_writers().values()))
    middle = events[5]

    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[middle.pk])).content.decode()

    previous_url = reverse("admin:audit_auditevent_change", args=[events[4].pk])
    next_url = reverse("admin:audit_auditevent_change", args=[events[6].pk])
    assert (
        f'<a href="{previous_url}">previous #{events[4].seq}</a> · <a href="{next_url}">next #{events[6].seq}</a>'
        in page
    )


def test_a_thread_whose_chain_was_pruned_away_starts_a_new_one():
    pruned, go_on, errors = threading.Event(), threading.Event(), []

    def thread_writing_inside_transactions() -> None:
        try:
            with (
                transaction.atomic(),
                mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=40)),
            ):
                record_event(kind="fetch", outcome="ok")
            pruned.set()
            go_on.wait(timeout=30)
            with transaction.atomic():
                record_event(kind="fetch", outcome="ok")
        except Exception as error:  # pylint: disable=broad-exception-caught  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=thread_writing_inside_transactions)
    writer.start()
    pruned.wait(timeout=30)
    call_command("audit_prune", "--older-than", "30", stdout=StringIO())
    go_on.set()
    writer.join()

    assert not errors
    assert verify().startswith("audit chain intact: 2 events")


def test_on_sqlite_any_missing_event_is_a_removal_anchored_or_not():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite numbers without gaps; PostgreSQL leaves them")
    first = record_event(kind="fetch", outcome="ok")
    with transaction.atomic():  # another chain: the first one's links stay whole
        record_event(kind="fetch", outcome="ok")
    record_event(kind="fetch", outcome="ok")
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [first.seq + 1])

    assert verify_fails().startswith(f"audit chain broken at event #{first.seq + 1}: expected event #{first.seq + 1}")


def test_audit_anchor_signs_what_writers_left_unsigned_when_they_ended():
    # Failed logins end no run: a worker recycled after them leaves them unsigned.
    run_writers(
        "from audit.services import record_event\nfor _ in range(5): record_event(kind='login', outcome='error')"
    )
    assert verify().endswith("no signed anchor yet")
    newest = AuditEvent.objects.order_by("-seq").first()

    out = StringIO()
    call_command("audit_anchor", "--older-than", "0.001", stdout=out)

    assert out.getvalue().strip() == f"signed {WRITERS * 5} events no anchor covered, in 1 anchors"
    assert verify().endswith(f"signed anchors match through #{newest.seq}")
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [newest.seq])
    assert verify_fails().startswith(f"audit chain broken at event #{newest.seq}: event #{newest.seq} is anchored")
