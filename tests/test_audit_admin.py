"""The admin shows audit events read-only: no add, change or delete, superusers included."""

import pytest
from django.urls import reverse

from audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    """One recorded event."""
    return record_event(kind="fetch", outcome="ok", url="https://dummyjson.com/products/1", details={"b": 2, "a": 1})


def test_staff_can_list_events(admin_client, event):
    response = admin_client.get(reverse("admin:audit_auditevent_changelist"))

    assert response.status_code == 200
    assert "https://dummyjson.com/products/1" in response.content.decode()
    assert event.hash[:8] not in response.content.decode()


def test_the_change_view_is_read_only_with_pretty_details(admin_client, event):
    response = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<pre>{\n  &quot;a&quot;: 1,\n  &quot;b&quot;: 2\n}</pre>" in page
    assert 'name="_save"' not in page


def test_adding_an_event_is_forbidden(admin_client):
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403


def test_changing_an_event_is_forbidden(admin_client, event):
    response = admin_client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"message": "edited"})

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.message == ""


def test_deleting_an_event_is_forbidden(admin_client, event):
    response = admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert response.status_code == 403


@pytest.mark.usefixtures("event")
def test_the_bulk_delete_action_is_not_offered(admin_client):
    response = admin_client.get(reverse("admin:audit_auditevent_changelist"))

    assert "delete_selected" not in response.content.decode()


def test_anonymous_users_are_sent_to_the_login_page(client, event):
    response = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
