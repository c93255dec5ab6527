"""Held syncs in the admin: on the index, in the sync-run list, their artifacts, and the dashboard."""

import hashlib

import pytest
from django.urls import reverse

from catalog.models import SyncRun
from tests.sync_helpers import sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(name="held_run")
def fixture_held_run(mirror) -> SyncRun:
    """A published sync, then one held because every price arrived x100."""
    sync("--base-url", mirror.base_url, "--no-images")
    mirror.set_faults("prices-x100")
    sync("--base-url", mirror.base_url, "--no-images")
    return SyncRun.objects.first()


def artifact_url(run: SyncRun, name: str) -> str:
    """The admin URL of one of a run's artifacts."""
    return reverse("admin:catalog_syncrun_artifact", args=[run.run_id, name])


def test_the_admin_index_lists_every_held_run_with_its_report(admin_client, held_run):
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "Syncs held by the publish gate" in page
    assert "1 sync was held: the catalog did not change" in page
    assert artifact_url(held_run, "report.html") in page
    assert "price changes: 194 of 194 published products change price" in page


def test_the_admin_index_says_when_nothing_is_held(admin_client):
    assert (
        "None: every sync that reached the gate was published."
        in admin_client.get(reverse("admin:index")).content.decode()
    )


def test_the_sync_run_list_filters_held_runs_and_links_the_artifacts(admin_client, held_run):
    page = admin_client.get(reverse("admin:catalog_syncrun_changelist") + "?status__exact=held").content.decode()

    assert held_run.run_id in page
    assert SyncRun.objects.last().run_id not in page
    for name in ("report.html", "report.json", "profile.json"):
        assert artifact_url(held_run, name) in page


@pytest.mark.parametrize(("name", "field"), [("profile.json", "profile_sha256"), ("report.json", "report_sha256")])
def test_a_downloaded_artifact_hashes_to_the_sha256_on_record(admin_client, held_run, name, field):
    response = admin_client.get(artifact_url(held_run, name))

    assert response["Content-Disposition"] == f'attachment; filename="{held_run.run_id}-{name}"'
    assert hashlib.sha256(response.content).hexdigest() == getattr(held_run, field)


def test_the_html_report_opens_in_the_admin(admin_client, held_run):
    response = admin_client.get(artifact_url(held_run, "report.html"))

    assert response.status_code == 200
    assert b"<svg" in response.content
    assert b"<script" not in response.content


def test_an_unknown_artifact_or_run_is_404(admin_client, held_run):
    assert admin_client.get(artifact_url(held_run, "secrets.txt")).status_code == 404
    assert admin_client.get(reverse("admin:catalog_syncrun_artifact", args=["nope", "report.json"])).status_code == 404


def test_sync_runs_are_read_only(admin_client, held_run):
    assert admin_client.get(reverse("admin:catalog_syncrun_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:catalog_syncrun_delete", args=[held_run.pk]), {"post": "yes"}).status_code
        == 403
    )


@pytest.mark.usefixtures("held_run")
def test_the_audit_dashboard_charts_gate_decisions_and_drift_per_field(admin_client):
    page = admin_client.get(reverse("admin:audit_auditevent_dashboard")).content.decode()

    assert "Publish gate: held and published syncs" in page
    assert "Drift per field over time" in page
    assert "price 10" in page  # the held run's price score, capped at 10, in a tooltip


def test_the_dashboard_says_when_no_sync_reached_the_gate(admin_client):
    page = admin_client.get(reverse("admin:audit_auditevent_dashboard")).content.decode()

    assert "No sync has reached the publish gate yet." in page
