"""Security headers on every page, no inline script or style for the CSP to block, and a clean deploy check."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from catalog.middleware import DEFAULT_CONTENT_SECURITY_POLICY
from tests.factories import make_product

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(django_settings.BASE_DIR)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PAGES = ["/products/", "/products/7/", "/products/8/", "/admin/login/"]


@pytest.fixture
def product(api):
    """Product 7 exists; asking for 8 reaches a stand-in source that has nothing, so it is a 404."""
    api.expect_request("/products/8").respond_with_json({"message": "not found"}, status=404)
    return make_product(7, with_images=True)


@pytest.mark.usefixtures("product")
@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(client, path):
    response = client.get(path)

    assert {name: response.headers.get(name) for name in EXPECTED_HEADERS} == EXPECTED_HEADERS


EXPECTED_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
}


def test_the_default_policy_is_the_one_documented():
    assert DEFAULT_CONTENT_SECURITY_POLICY == CSP


def test_the_policy_can_be_replaced_by_a_setting(client, settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'none'"

    assert client.get("/products/").headers["Content-Security-Policy"] == "default-src 'none'"


def test_an_empty_policy_setting_sends_no_header(client, settings):
    settings.PERMISSIONS_POLICY = ""

    assert "Permissions-Policy" not in client.get("/products/").headers


@pytest.mark.usefixtures("product")
@pytest.mark.parametrize("path", ["/products/", "/products/7/", "/products/8/"])
def test_our_pages_have_no_inline_script_or_style_the_policy_would_block(client, path):
    html = client.get(path).content.decode()

    assert "<script" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert " on" + "load=" not in html
    assert " onclick=" not in html


@pytest.mark.usefixtures("product")
def test_media_is_served_only_when_serve_media_is_on(client, settings):
    settings.SERVE_MEDIA = False
    assert client.get("/media/products/7/thumbnail.webp").status_code == 404

    settings.SERVE_MEDIA = True
    response = client.get("/media/products/7/thumbnail.webp")
    assert (response.status_code, response["Content-Type"]) == (200, "image/webp")


def test_media_serving_refuses_paths_outside_media_root(client, settings):
    settings.SERVE_MEDIA = True

    assert client.get("/media/../config/settings.py").status_code == 400
    assert client.get("/media/%2e%2e/config/settings.py").status_code == 400


def production_environment(**extra: str) -> dict[str, str]:
    """The environment of a production process: DEBUG off, a long random key, one host."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SECURE_"))}
    environment.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        AUDIT_SIGNING_KEY_FILE="/run/secrets/audit-signing-key.pem",
        ALLOWED_HOSTS="example.com",
        **extra,
    )
    return environment


def run_python(code: str, **extra: str) -> subprocess.CompletedProcess:
    """Run Python in a fresh process with the production environment."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=production_environment(DJANGO_SETTINGS_MODULE="config.settings", **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_deploy_check_is_clean_in_production(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=production_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout.strip(), result.stderr) == (
        0,
        "System check identified no issues (0 silenced).",
        "",
    )


def test_production_defaults_to_https_only_and_a_local_gunicorn_can_turn_the_redirect_off():
    code = (
        "from config import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SERVE_MEDIA)"
    )

    assert run_python(code).stdout.split() == ["True", "31536000", "True", "True", "False"]
    assert run_python(code, SECURE_SSL_REDIRECT="0").stdout.split() == ["False", "31536000", "True", "True", "False"]
