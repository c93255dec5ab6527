"""Production settings and scale-out switches: safe defaults, deploy manifests, login throttling, S3 media."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from audit.models import AuditEvent
from catalog.models import ImageStatus, ProductImage
from tests import payloads
from tests.sync_helpers import PROJECT_ROOT, sync


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter with the project's settings and this environment."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_refuse_to_start_with_the_development_secret_key():
    completed = run_python("print('started')", DEBUG="0", SECRET_KEY="")

    assert completed.returncode != 0
    assert "DEBUG is off but SECRET_KEY is not set: export a long random SECRET_KEY." in completed.stderr
    assert "started" not in completed.stdout


def test_production_settings_refuse_to_start_without_an_audit_signing_key():
    completed = run_python("print('started')", DEBUG="0", SECRET_KEY="x" * 60, AUDIT_SIGNING_KEY_FILE="")

    assert completed.returncode != 0
    assert "DEBUG is off but AUDIT_SIGNING_KEY_FILE is not set" in completed.stderr
    assert "started" not in completed.stdout


def test_production_settings_start_with_a_secret_from_the_environment():
    completed = run_python(
        "from django.conf import settings; print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)",
        DEBUG="0",
        SECRET_KEY="x" * 60,
        AUDIT_SIGNING_KEY_FILE="/run/secrets/audit-signing-key.pem",
    )

    assert completed.stdout.strip() == "True True"


def test_media_goes_to_s3_compatible_storage_when_a_bucket_is_set():
    completed = run_python(
        "from django.core.files.storage import storages; "
        "print(type(storages['default']).__name__, storages['default'].bucket_name)",
        AWS_STORAGE_BUCKET_NAME="catalog-media",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
    )

    assert completed.stdout.strip() == "S3Storage catalog-media", completed.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("without_gate")
def test_a_sync_uses_only_the_storage_api(api, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    product = payloads.product(id=3, images=[api.url_for("/i/1.png")], thumbnail=api.url_for("/i/thumbnail.png"))
    api.expect_request("/products").respond_with_json(payloads.envelope([product], total=1))
    api.expect_request("/i/1.png").respond_with_data(payloads.image_bytes("PNG"))
    api.expect_request("/i/thumbnail.png").respond_with_data(payloads.image_bytes("PNG"))
    base = api.url_for("").rstrip("/")

    assert sync("--base-url", base).exit_code == 0
    assert type(default_storage._wrapped).__name__ == "InMemoryStorage"  # pylint: disable=protected-access
    assert default_storage.open("products/3/1.png").read() == payloads.image_bytes("PNG")
    assert not settings.MEDIA_ROOT.exists()
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == 2

    api.clear()
    api.expect_request("/products").respond_with_json(payloads.envelope([product], total=1))
    second = sync("--base-url", base)
    assert "images: 0 downloaded (0 bytes), 2 unchanged" in second.stdout  # intact files checked through storage


@pytest.mark.django_db
def test_admin_logins_are_locked_out_after_repeated_failures(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_superuser("boss", "boss@example.com", "correct horse battery staple")
    login = reverse("admin:login")

    statuses = [
        client.post(login, {"username": "boss", "password": "wrong"}, REMOTE_ADDR="10.1.1.1").status_code
        for _ in range(3)
    ]
    locked = client.post(
        login, {"username": "boss", "password": "correct horse battery staple"}, REMOTE_ADDR="10.1.1.1"
    )

    assert statuses == [200, 200, 429]
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    events = AuditEvent.objects.filter(kind="login").order_by("seq")
    assert [(event.outcome, event.actor) for event in events] == [
        ("invalid", "anonymous"),
        ("invalid", "anonymous"),
        ("blocked", "anonymous"),
        ("blocked", "anonymous"),
    ]
    assert events.first().details == {"address": "10.1.1.1", "attempted_username": "boss"}


SECURITY_SETTINGS = (
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "USE_X_FORWARDED_PROTO",
    "TRUSTED_PROXIES",
    "SERVE_MEDIA",
    "AXES_FAILURE_LIMIT",
    "SECRET_KEY",
    "AUDIT_SIGNING_KEY_FILE",
)
KUBERNETES = PROJECT_ROOT / "deploy" / "kubernetes"


def manifest_settings() -> dict[str, str]:
    """``NAME: "value"`` pairs of the ConfigMap and Secret in deploy/kubernetes/settings.yaml."""
    pairs = re.findall(r'^  ([A-Z][A-Z0-9_]+): "(.*)"$', (KUBERNETES / "settings.yaml").read_text(), re.MULTILINE)
    return dict(pairs)


def test_debug_is_off_when_the_environment_does_not_set_it():
    completed = run_python(
        "from django.conf import settings; print(settings.DEBUG)",
        DEBUG="",
        SECRET_KEY="x" * 60,
        AUDIT_SIGNING_KEY_FILE="/run/secrets/audit-signing-key.pem",
    )

    assert completed.stdout.strip() == "False", completed.stderr


def test_the_deploy_manifests_set_every_security_relevant_setting_explicitly():
    values = manifest_settings()

    assert [name for name in SECURITY_SETTINGS if name not in values] == []
    assert values["DEBUG"] == "0"


def test_every_deployment_reads_the_settings_config_map_and_secret():
    for manifest in ("web.yaml", "worker.yaml"):
        text = (KUBERNETES / manifest).read_text()
        assert text.count("name: catalog-config") == text.count("name: catalog-secrets") == text.count("envFrom:")


def test_check_deploy_is_clean_with_the_manifests_settings():
    env = manifest_settings() | {"SECRET_KEY": secrets.token_urlsafe(50)}
    env.pop("DATABASE_URL")  # the manifest's database is not reachable here; the checks do not need it
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "System check identified no issues (0 silenced)."
