"""django-axes behind a load balancer: clients behind trusted proxies are told apart, forged headers ignored."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from config.client_ip import client_ip

PROXY = "10.0.0.5"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def behind_proxy(settings):
    """The site trusts the load balancer's network; three failures lock a client out."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.AXES_FAILURE_LIMIT = 3
    return settings


@pytest.mark.usefixtures("behind_proxy")
@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        (PROXY, "203.0.113.7", "203.0.113.7"),
        (PROXY, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the leftmost entry is the client's to forge
        (PROXY, "203.0.113.7, 10.0.0.9", "203.0.113.7"),  # a second proxy of ours is skipped
        (PROXY, "", PROXY),
        (PROXY, "not-an-address, 203.0.113.7", "203.0.113.7"),
        (PROXY, "203.0.113.7, not-an-address", PROXY),
        ("198.51.100.20", "203.0.113.7", "198.51.100.20"),  # an untrusted peer's header is ignored
    ],
)
def test_the_client_address_is_read_from_trusted_proxies_only(rf, peer, forwarded, expected):
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_without_trusted_proxies_the_peer_address_is_used(rf):
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert client_ip(request) == PROXY


def login(client, *, peer: str, forwarded: str = "", password: str = "wrong"):
    """One admin login attempt as ``boss`` from the given peer and X-Forwarded-For."""
    return client.post(
        reverse("admin:login"),
        {"username": "boss", "password": password},
        REMOTE_ADDR=peer,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
class TestLockoutBehindAProxy:
    """Lockouts key on the real client: one attacker behind the proxy does not lock the admin out."""

    @pytest.fixture(autouse=True)
    def boss(self, django_user_model):
        """The admin account the lockouts are about."""
        return django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)

    def test_an_attacker_behind_the_proxy_is_locked_out_but_the_admin_still_logs_in(self, client):
        statuses = [login(client, peer=PROXY, forwarded="203.0.113.66").status_code for _ in range(3)]

        admin = login(client, peer=PROXY, forwarded="198.51.100.10", password=PASSWORD)

        assert statuses == [200, 200, 429]
        assert admin.status_code == 302
        events = AuditEvent.objects.filter(kind="login").order_by("seq")
        assert set(events.values_list("details__address", flat=True)) == {"203.0.113.66"}

    def test_an_untrusted_peer_cannot_escape_the_lockout_by_forging_x_forwarded_for(self, client):
        for number in range(3):
            login(client, peer="198.51.100.20", forwarded=f"203.0.113.{number}")

        forged = login(client, peer="198.51.100.20", forwarded="203.0.113.99", password=PASSWORD)

        assert forged.status_code == 429
