"""Group commit: threads recording at once share transactions, every caller gets its own committed event."""

import threading

import pytest
from django.db import DatabaseError, connections, transaction

from audit import append
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import record_event
from audit.walk import verify_chain

THREADS = 8
EVENTS_PER_THREAD = 25


def record_from_threads() -> list[AuditEvent]:
    """Every thread records its events as fast as it can; the events the callers got back."""
    results, start = [], threading.Barrier(THREADS)

    def work(number: int) -> None:
        start.wait()
        try:
            for index in range(EVENTS_PER_THREAD):
                results.append(record_event(kind="fetch", outcome="ok", product_id=number * 1000 + index))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_each_get_their_own_committed_event():
    returned = record_from_threads()

    stored = list(AuditEvent.objects.order_by("seq"))
    assert len(returned) == len(stored) == THREADS * EVENTS_PER_THREAD
    assert sorted(event.seq for event in returned) == [event.seq for event in stored]
    assert {(event.seq, event.hash, event.product_id) for event in returned} == {
        (event.seq, event.hash, event.product_id) for event in stored
    }
    assert verify_chain(stored).intact


@pytest.mark.django_db(transaction=True)
def test_a_failed_batch_raises_in_every_caller_and_stores_nothing(mocker):
    mocker.patch.object(append, "canonical_event_hash", side_effect=RuntimeError("disk full"))
    errors = []

    def work() -> None:
        try:
            record_event(kind="fetch", outcome="ok")
        except RuntimeError as error:
            errors.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == ["disk full"] * 4
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_recorded_inside_a_transaction_rolls_back_with_it():
    def failing_work() -> None:
        with transaction.atomic():
            record_event(kind="fetch", outcome="ok")
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        failing_work()

    assert not AuditEvent.objects.exists()


psycopg = pytest.importorskip("psycopg")
postgresql_only = pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="the libpq path is PostgreSQL's"
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_insert_statement_the_server_forgot_is_prepared_again():
    first = record_event(kind="fetch", outcome="ok")
    with connections["default"].cursor() as cursor:
        cursor.execute("DISCARD ALL")  # what a pooler does when it hands the connection on

    second = record_event(kind="fetch", outcome="ok")

    assert list(AuditEvent.objects.order_by("seq").values_list("pk", flat=True)) == [first.pk, second.pk]
    assert verify_chain(list(AuditEvent.objects.order_by("seq"))).intact


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_comes_out_as_djangos_error_and_the_next_connection_writes_on():
    record_event(kind="fetch", outcome="ok")
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(**connections["default"].get_connection_params() | {"autocommit": True}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    with pytest.raises(DatabaseError):
        record_event(kind="fetch", outcome="ok")
    connections["default"].close()  # what Django does at the end of a request that saw the error
    after = record_event(kind="fetch", outcome="ok")

    assert AuditEvent.objects.count() == 2
    assert after.prev_hash == GENESIS_HASH  # whether the lost insert committed is unknown: a new chain
    assert verify_chain(list(AuditEvent.objects.order_by("seq"))).intact
