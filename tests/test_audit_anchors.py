"""Signed anchors outside the database catch what an attacker with write access to it can do."""

import json
import os
import stat
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from audit import anchors
from audit.anchor_store import LocalAnchorStore
from audit.anchors import HEAD, anchor_run_end, signed_document
from audit.chain import HASHED_FIELDS, event_hash
from audit.insert import SEQ_SEQUENCE
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import record_event
from audit.signing import KeyUnavailable, Signer, create_signing_key, load_signing_key
from tests.tampering import tamper
from tests.verifying import verify, verify_fails

pytestmark = pytest.mark.django_db


def last_anchored_seq(store: LocalAnchorStore) -> int:
    """The highest seq a head anchor in the store covers (its name starts with it), 0 when none does."""
    return max((int(name.split("-", 1)[0]) for name in store.names() if f"-{HEAD}-" in name), default=0)


def record(count: int) -> list[AuditEvent]:
    """``count`` fetch events, then the anchor a run's end writes."""
    events = [record_event(kind="fetch", outcome="ok", url=f"https://dummyjson.com/products/{n}") for n in range(count)]
    anchor_run_end(reason="test")
    return events


def rechain_from(seq: int, **changes) -> None:
    """Rewrite event ``seq`` and recompute every later hash, as an attacker with the code but not the key can."""
    previous = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        fields = {name: getattr(event, name) for name in HASHED_FIELDS} | {"prev_hash": previous}
        if event.seq == seq:
            fields |= changes
        new_hash = event_hash(fields)
        tamper(
            "UPDATE audit_auditevent SET message = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [fields["message"], previous, new_hash, event.seq],
        )
        previous = new_hash


def test_an_intact_log_matches_its_anchors():
    events = record(30)

    assert verify() == f"audit chain intact: 30 events, head {events[-1].hash}; signed anchors match through #30"


def test_a_rewritten_and_rechained_event_is_named():
    record(30)
    rechain_from(3, message="edited")

    assert verify_fails() == (
        "audit chain broken at event #3: event #3 differs from its signed anchor: "
        "changed, inserted, reordered or replaced"
    )


def test_a_truncated_tail_is_named():
    record(40)
    tamper("DELETE FROM audit_auditevent WHERE seq > 20")

    assert verify_fails() == (
        "audit chain broken at event #21: event #21 is anchored (through #40) but missing: the tail was truncated"
    )


def test_a_forged_checkpoint_does_not_excuse_deleted_events(settings):
    events = record(310)
    settings.AUDIT_ANCHORING = False  # the attacker cannot write anchors
    record_event(
        kind="checkpoint",
        outcome="ok",
        details={"pruned_through_seq": 300, "pruned_through_hash": events[299].hash},
    )
    tamper("DELETE FROM audit_auditevent WHERE seq <= 300")

    assert verify_fails().startswith("audit chain broken at event #1: expected event #1 but found #301")


def test_a_forged_checkpoint_alone_is_named(settings):
    record(5)
    settings.AUDIT_ANCHORING = False
    record_event(kind="checkpoint", outcome="ok", details={"pruned_through_seq": 1, "pruned_through_hash": "0" * 64})

    assert verify_fails() == (
        "audit chain broken at event #6: event #6 is a prune checkpoint no trusted key signed: forged"
    )


def test_a_database_rebuilt_with_another_key_is_caught(settings, tmp_path):
    record(10)
    real_key, real_anchors = settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_ANCHOR_DIR
    tamper("DELETE FROM audit_auditevent")
    if connection.vendor == "postgresql":  # a database built from scratch numbers from #1 again
        tamper(f"SELECT setval('{SEQ_SEQUENCE}', 1, false)")
    settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_ANCHOR_DIR = str(tmp_path / "other.pem"), str(tmp_path / "other")
    create_signing_key(tmp_path / "other.pem")
    record(12)
    settings.AUDIT_SIGNING_KEY_FILE, settings.AUDIT_ANCHOR_DIR = real_key, real_anchors

    assert verify_fails().startswith("audit chain broken at event #1: event #1 differs from its signed anchor")


def test_an_anchor_signed_by_another_key_is_forgery(settings, tmp_path):
    record(3)
    other = create_signing_key(tmp_path / "other.pem")
    document = signed_document({"type": "head", "first_seq": 1, "last_seq": 1, "digests": ""}, Signer(other))
    LocalAnchorStore(settings.AUDIT_ANCHOR_DIR).append("00000000000000000009-head-forged.json", document)

    assert "is forged: signed with an unknown key" in verify_fails()


def test_an_edited_anchor_is_forgery(settings):
    record(3)
    store = LocalAnchorStore(settings.AUDIT_ANCHOR_DIR)
    name = store.names()[-1]
    document = json.loads(store.read(name))
    document["payload"]["last_seq"] = 2
    path = store.directory / name
    os.chmod(path, 0o600)
    path.write_text(json.dumps(document))

    assert f"the anchor {name} is forged: its signature does not verify" in verify_fails()


def test_a_missing_anchor_store_is_exit_2(settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = str(tmp_path / "nowhere")

    assert verify_fails(returncode=2).startswith("cannot verify: cannot read the anchor directory")


def test_a_missing_key_is_exit_2(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "missing.pem")

    assert (
        verify_fails(returncode=2) == f"cannot verify: the audit signing key {tmp_path / 'missing.pem'} does not exist"
    )


def test_retired_keys_still_verify_their_anchors(settings, tmp_path):
    record(4)
    retired = tmp_path / "retired.pub"
    retired.write_text(call_command_output("audit_keys"))
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "new.pem")
    create_signing_key(tmp_path / "new.pem")
    settings.AUDIT_VERIFY_KEYS = [str(retired)]
    record(2)

    assert verify().endswith("signed anchors match through #6")


def call_command_output(command: str, *args: str) -> str:
    """What a command printed on stdout."""
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db(transaction=True)  # anchors follow commits
def test_an_anchor_is_written_every_n_events(settings, monkeypatch):
    settings.AUDIT_ANCHOR_EVERY_EVENTS, settings.AUDIT_ANCHOR_EVERY_SECONDS = 10, 3600
    monkeypatch.setattr(anchors, "_pace", {})  # counted from this test's first event
    for number in range(25):
        record_event(kind="fetch", outcome="ok", url=f"https://dummyjson.com/products/{number}")

    assert last_anchored_seq(LocalAnchorStore(settings.AUDIT_ANCHOR_DIR)) >= 20


@pytest.mark.django_db(transaction=True)
def test_the_end_of_a_run_writes_an_anchor(settings):
    record_event(kind="fetch", outcome="ok")
    record_event(kind="sync", outcome="ok")

    assert last_anchored_seq(LocalAnchorStore(settings.AUDIT_ANCHOR_DIR)) == 2


def test_no_anchor_covers_an_event_before_its_transaction_commits(settings):
    record_event(kind="sync", outcome="ok")  # inside the test's transaction, never committed

    assert LocalAnchorStore(settings.AUDIT_ANCHOR_DIR).names() == []


def test_anchor_files_are_read_only_and_never_replaced(settings):
    store = LocalAnchorStore(settings.AUDIT_ANCHOR_DIR)
    store.append("x.json", b"{}")

    with pytest.raises(FileExistsError):
        store.append("x.json", b"[]")
    assert stat.S_IMODE(os.stat(store.directory / "x.json").st_mode) == 0o444


def test_the_signing_key_is_created_mode_600_when_debug_is_on(settings, tmp_path):
    settings.DEBUG, settings.AUDIT_SIGNING_KEY_FILE = True, str(tmp_path / "keys" / "audit.pem")

    load_signing_key()

    assert stat.S_IMODE(os.stat(tmp_path / "keys" / "audit.pem").st_mode) == 0o600


def test_no_key_is_created_when_debug_is_off(settings, tmp_path):
    settings.DEBUG, settings.AUDIT_SIGNING_KEY_FILE = False, str(tmp_path / "audit.pem")

    with pytest.raises(KeyUnavailable):
        load_signing_key()
    assert not (tmp_path / "audit.pem").exists()
