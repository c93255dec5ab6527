"""audit_export writes the log as JSON lines or CSV, filtered by kind, time and run."""

import csv
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.chain import HASHED_FIELDS
from audit.context import run_context
from audit.services import record_event

pytestmark = pytest.mark.django_db


def export(*args: str) -> str:
    """What audit_export printed."""
    out = StringIO()
    call_command("audit_export", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def recorded():
    """A fetch in run A, a sync in run B."""
    with run_context(actor="tester", run_id="run-a"):
        fetch = record_event(kind="fetch", outcome="ok", url="https://dummyjson.com/products/1", status_code=200)
    with run_context(actor="tester", run_id="run-b"):
        sync = record_event(kind="sync", outcome="ok", details={"created": 3})
    return fetch, sync


def test_jsonl_has_one_object_per_event_with_the_field_names(recorded):
    lines = export().splitlines()

    assert len(lines) == 2
    first = json.loads(lines[0])
    assert set(first) == {*HASHED_FIELDS, "hash"}
    assert (first["seq"], first["kind"], first["url"], first["hash"]) == (
        1,
        "fetch",
        "https://dummyjson.com/products/1",
        recorded[0].hash,
    )
    assert first["created_at"].endswith("Z")


@pytest.mark.usefixtures("recorded")
def test_csv_has_a_header_and_json_details():
    rows = list(csv.DictReader(StringIO(export("--format", "csv"))))

    assert [row["kind"] for row in rows] == ["fetch", "sync"]
    assert json.loads(rows[1]["details"]) == {"created": 3}


@pytest.mark.usefixtures("recorded")
def test_filters_by_kind_and_run():
    assert [json.loads(line)["kind"] for line in export("--kind", "sync").splitlines()] == ["sync"]
    assert [json.loads(line)["run_id"] for line in export("--run", "run-a").splitlines()] == ["run-a"]


@pytest.mark.usefixtures("recorded")
def test_filters_by_time():
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()

    assert export("--since", tomorrow) == ""
    assert len(export("--since", "2020-01-01T00:00:00Z").splitlines()) == 2


def test_a_bad_since_is_a_clear_error():
    with pytest.raises(CommandError, match="--since wants an ISO 8601 date or time, got 'yesterday'"):
        export("--since", "yesterday")
