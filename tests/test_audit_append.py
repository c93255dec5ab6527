"""Group commit: threads recording at once share transactions, every caller gets its own committed event."""

import enum
import threading

import psycopg
import pytest
from django.db import OperationalError, connections, transaction

from audit import append, insert
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


class Flavour(str, enum.Enum):  # noqa: UP042  # not a StrEnum, which prints its text
    """Prints as "Flavour.SOUR"; its text is "sour"."""

    SOUR = "sour"


@pytest.mark.django_db(transaction=True)
def test_a_str_subclass_is_stored_as_the_text_that_was_hashed():
    record_event(kind="fetch", outcome="ok", message=Flavour.SOUR)

    stored = AuditEvent.objects.get()
    assert stored.message == "sour"
    assert verify_chain([stored]).intact


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
def test_a_session_that_has_the_insert_prepared_already_is_used_as_it_is():
    connection = connections["default"]
    connection.ensure_connection()
    # A pooled session another connection prepared it on: this connection has not seen it.
    statement = insert._insert_sql(1, "${}").encode()  # pylint: disable=protected-access  # the very statement
    connection.connection.pgconn.prepare(insert._ONE_ROW_STATEMENT, statement)  # pylint: disable=protected-access

    event = record_event(kind="fetch", outcome="ok")

    assert AuditEvent.objects.get().pk == event.pk


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_comes_out_as_djangos_error_and_the_next_connection_writes_on():
    record_event(kind="fetch", outcome="ok")
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(**connections["default"].get_connection_params() | {"autocommit": True}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    with pytest.raises(OperationalError):
        record_event(kind="fetch", outcome="ok")
    connections["default"].close()  # what Django does at the end of a request that saw the error
    after = record_event(kind="fetch", outcome="ok")

    assert AuditEvent.objects.count() == 2
    assert after.prev_hash == GENESIS_HASH  # whether the lost insert committed is unknown: a new chain
    assert verify_chain(list(AuditEvent.objects.order_by("seq"))).intact
