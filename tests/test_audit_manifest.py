"""audit_export --manifest describes an export; verify_audit --export checks it away from the database."""

import hashlib
import json
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.chain import event_hash, parse_canonical_time
from audit.context import run_context
from audit.manifest import sign_manifest
from audit.models import GENESIS_HASH
from audit.services import record_event
from audit.signing import default_signer, key_id, load_signing_key

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> str:
    """Run a management command and return what it printed."""
    out = StringIO()
    call_command(command, *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


@pytest.fixture
def events():
    """A fetch and a download in run A, a sync in run B."""
    with run_context(actor="tester", run_id="run-a"):
        fetch = record_event(kind="fetch", outcome="ok", url="https://dummyjson.com/products/1", status_code=200)
        download = record_event(kind="download", outcome="ok", url="https://cdn.dummyjson.com/1.webp", message="é")
    with run_context(actor="tester", run_id="run-b"):
        sync = record_event(kind="sync", outcome="ok", details={"products": {"created": 3}})
    return fetch, download, sync


@pytest.fixture
def exported(events, tmp_path):
    """The whole log exported to a file, with its manifest."""
    assert len(events) == 3  # the export below is of these
    export, manifest = tmp_path / "audit.jsonl", tmp_path / "audit.manifest.json"
    run("audit_export", "--output", export, "--manifest", manifest)
    return export, manifest


def verify(export, manifest) -> str:
    """What verify_audit printed for an export."""
    return run("verify_audit", "--export", export, "--manifest", manifest).strip()


def test_the_manifest_holds_the_count_seq_range_head_hash_and_sha256(events, exported):
    export, manifest = exported

    written = json.loads(manifest.read_text())

    assert written | {"exported_at": "when", "signature": "sig"} == {
        "version": 1,
        "format": "jsonl",
        "count": 3,
        "first_seq": 1,
        "last_seq": 3,
        "first_prev_hash": GENESIS_HASH,
        "head_hash": events[2].hash,
        "sha256": hashlib.sha256(export.read_bytes()).hexdigest(),
        "chained": True,
        "filters": {"kind": None, "since": None, "run_id": None},
        "exported_at": "when",
        "key_id": key_id(load_signing_key().public_key()),
        "signature": "sig",
    }


@pytest.mark.usefixtures("events")
def test_the_manifest_matches_an_export_written_to_stdout(tmp_path):
    manifest = tmp_path / "manifest.json"

    printed = run("audit_export", "--manifest", manifest)

    assert json.loads(manifest.read_text())["sha256"] == hashlib.sha256(printed.encode()).hexdigest()


def test_an_untouched_export_verifies(events, exported):
    export, manifest = exported
    sha256 = hashlib.sha256(export.read_bytes()).hexdigest()

    assert verify(export, manifest) == (
        f"export intact: 3 events, #1 to #3, head {events[2].hash}, sha256 {sha256}, "
        f"signed by key {key_id(load_signing_key().public_key())}"
    )


def edit_line(lines: list[str], number: int, **changes) -> list[str]:
    """The lines with fields of line ``number`` (1-based) changed."""
    row = json.loads(lines[number - 1]) | changes
    return [*lines[: number - 1], json.dumps(row, sort_keys=True, ensure_ascii=False), *lines[number:]]


def drop_field(lines: list[str], number: int, name: str) -> list[str]:
    """The lines with one field of line ``number`` (1-based) removed."""
    row = json.loads(lines[number - 1])
    del row[name]
    return [*lines[: number - 1], json.dumps(row), *lines[number:]]


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda lines: edit_line(lines, 2, message="edited"), "line 2: event #2 does not match its hash: changed"),
        (lambda lines: [lines[0], lines[2]], "line 2: expected event #2 but found #3: removed or reordered"),
        (lambda lines: [lines[1], lines[0], lines[2]], "line 1: expected event #1 but found #2: removed or reordered"),
        (lambda lines: [lines[0], "{not json", lines[2]], "line 2: not a JSON object"),
        (lambda lines: [lines[0], "[1, 2]", lines[2]], "line 2: not a JSON object"),
        (lambda lines: drop_field(lines, 3, "hash"), "line 3: lacks hash"),
        (lambda lines: edit_line(lines, 1, created_at="yesterday"), "line 1: event #1 has an unreadable time"),
        (lambda lines: lines[:2], "the export's count is 2, the manifest says 3"),
    ],
    ids=["edited", "removed", "reordered", "not json", "a list", "no hash", "bad time", "truncated"],
)
def test_a_tampered_export_names_the_first_bad_line(exported, tamper, problem):
    export, manifest = exported
    lines = export.read_text(encoding="utf-8").splitlines()
    export.write_text("".join(line + "\n" for line in tamper(lines)), encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        verify(export, manifest)

    assert str(caught.value) == f"export does not match its manifest: {problem}"
    assert caught.value.returncode == 1


def test_a_change_that_keeps_every_hash_is_caught_by_the_sha256(exported):
    export, manifest = exported
    changed = export.read_text(encoding="utf-8").replace('", "', '",  "', 1)
    export.write_text(changed, encoding="utf-8")
    sha256 = hashlib.sha256(export.read_bytes()).hexdigest()

    with pytest.raises(CommandError) as caught:
        verify(export, manifest)

    expected = json.loads(manifest.read_text())["sha256"]
    assert (
        str(caught.value)
        == f"export does not match its manifest: the export's sha256 is {sha256}, the manifest says {expected}"
    )


def test_an_edited_manifest_is_caught_by_its_signature(exported):
    export, manifest = exported
    written = json.loads(manifest.read_text()) | {"head_hash": "f" * 64}
    manifest.write_text(json.dumps(written))

    with pytest.raises(CommandError) as caught:
        verify(export, manifest)

    assert caught.value.returncode == 1
    assert str(caught.value) == (
        "export does not match its manifest: the manifest is not genuine: "
        f"its signature does not verify with key {written['key_id']}"
    )


def test_a_manifest_signed_with_the_key_but_wrong_totals_is_caught(events, exported):
    export, manifest = exported
    written = json.loads(manifest.read_text()) | {"head_hash": "f" * 64}
    del written["signature"], written["key_id"]
    manifest.write_text(json.dumps(sign_manifest(written, default_signer())))

    with pytest.raises(CommandError) as caught:
        verify(export, manifest)

    assert str(caught.value) == (
        f"export does not match its manifest: the export's head_hash is {events[2].hash}, the manifest says {'f' * 64}"
    )


@pytest.mark.usefixtures("events")
def test_a_filtered_export_checks_each_line_but_not_the_links(tmp_path):
    export, manifest = tmp_path / "run-a.jsonl", tmp_path / "run-a.json"
    run("audit_export", "--run", "run-a", "--kind", "download", "--output", export, "--manifest", manifest)

    assert json.loads(manifest.read_text())["chained"] is False
    assert verify(export, manifest).startswith("export intact: 1 events, #2 to #2")


@pytest.mark.usefixtures("events")
def test_an_export_of_a_pruned_log_verifies(tmp_path):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=10)):
        run("audit_prune", "--older-than", "1")
    export, manifest = tmp_path / "pruned.jsonl", tmp_path / "pruned.json"
    run("audit_export", "--output", export, "--manifest", manifest)

    assert verify(export, manifest).startswith("export intact: 1 events, #4 to #4")


def test_the_manifest_needs_json_lines(tmp_path):
    with pytest.raises(CommandError, match=r"^--manifest needs --format jsonl$"):
        run("audit_export", "--format", "csv", "--manifest", tmp_path / "m.json")


def test_export_and_manifest_go_together(tmp_path):
    with pytest.raises(CommandError, match=r"^--export and --manifest go together$"):
        run("verify_audit", "--export", tmp_path / "audit.jsonl")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"^cannot read the export or its manifest: "):
        verify(tmp_path / "missing.jsonl", tmp_path / "missing.json")


def test_a_manifest_that_is_not_an_object_is_a_clear_error(exported):
    export, manifest = exported
    manifest.write_text("[]")

    with pytest.raises(CommandError, match=r"is not a JSON object$"):
        verify(export, manifest)


@pytest.fixture
def public_key(tmp_path):
    """The signing key's public half in a PEM file, as an auditor receives it."""
    path = tmp_path / "audit.pub"
    out = StringIO()
    call_command("audit_keys", stdout=out, stderr=StringIO())
    path.write_text(out.getvalue())
    return path


def test_an_export_verifies_offline_with_the_public_key_alone(exported, public_key, django_db_blocker, settings):
    export, manifest = exported
    settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_ANCHOR_DIR = "", ""  # nothing but the three files

    with django_db_blocker.block():
        printed = run("verify_audit", "--export", export, "--manifest", manifest, "--public-key", public_key)

    assert printed.startswith("export intact: 3 events, #1 to #3")


def test_an_edited_rechained_export_with_a_rewritten_manifest_is_caught(exported, public_key):
    export, manifest = exported
    lines = export.read_text(encoding="utf-8").splitlines()
    previous, rewritten = GENESIS_HASH, []
    for line in lines:
        row = json.loads(line) | {"prev_hash": previous}
        row["message"] = "edited"
        fields = row | {"created_at": parse_canonical_time(row["created_at"])}
        row["hash"] = previous = event_hash(fields)
        rewritten.append(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
    export.write_text("".join(rewritten), encoding="utf-8")
    forged = json.loads(manifest.read_text()) | {
        "head_hash": previous,
        "sha256": hashlib.sha256(export.read_bytes()).hexdigest(),
    }
    manifest.write_text(json.dumps(forged))

    with pytest.raises(CommandError) as caught:
        run("verify_audit", "--export", export, "--manifest", manifest, "--public-key", public_key)

    assert caught.value.returncode == 1
    assert "the manifest is not genuine: its signature does not verify" in str(caught.value)


def test_a_missing_public_key_is_exit_2(exported, tmp_path):
    export, manifest = exported

    with pytest.raises(CommandError) as caught:
        run("verify_audit", "--export", export, "--manifest", manifest, "--public-key", tmp_path / "none.pub")

    assert caught.value.returncode == 2
