"""System checks catch bad catalog settings at start-up, with ids to look up."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from catalog import conf
from catalog.checks import check_catalog_settings


def check_ids() -> list[str]:
    """The ids of the errors the catalog's check reports now."""
    return [error.id for error in check_catalog_settings()]


def test_the_defaults_pass():
    assert check_ids() == []


@pytest.mark.parametrize(
    ("name", "value", "error_id"),
    [
        ("DUMMYJSON_BASE_URL", "ftp://dummyjson.com", "catalog.E001"),
        ("DUMMYJSON_BASE_URL", "dummyjson.com", "catalog.E001"),
        ("DUMMYJSON_TIMEOUT", "3", "catalog.E002"),
        ("DUMMYJSON_TIMEOUT", "fast,slow", "catalog.E002"),
        ("DUMMYJSON_TIMEOUT", "0,10", "catalog.E002"),
        ("CATALOG_IMAGE_FORMATS", ["JPEG", "TIFF"], "catalog.E003"),
        ("CATALOG_IMAGE_FORMATS", [], "catalog.E003"),
        ("CATALOG_MAX_IMAGE_BYTES", 0, "catalog.E004"),
    ],
)
def test_a_bad_setting_is_reported(settings, name, value, error_id):
    setattr(settings, name, value)

    assert check_ids() == [error_id]


def test_parse_timeout_explains_the_expected_form():
    with pytest.raises(ImproperlyConfigured, match="DUMMYJSON_TIMEOUT must be 'connect,read' in seconds"):
        conf.parse_timeout("ten")
    assert conf.parse_timeout("3.05,10") == (3.05, 10.0)
    assert conf.parse_timeout((1, 2)) == (1.0, 2.0)


def test_allowed_hosts_always_include_the_api_host(settings):
    settings.DUMMYJSON_BASE_URL = "http://127.0.0.1:8001"
    settings.CATALOG_IMAGE_HOSTS = "cdn.dummyjson.com, images.example:8443"

    assert conf.allowed_hosts() == frozenset({"cdn.dummyjson.com", "images.example:8443", "127.0.0.1:8001"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "dummyjson.com",
            "DUMMYJSON_BASE_URL: the base URL 'dummyjson.com' must start with http:// or https://; "
            "did you mean 'https://dummyjson.com'?",
        ),
        ("https://:443", "DUMMYJSON_BASE_URL: the base URL 'https://:443' has no host name"),
    ],
)
def test_a_base_url_without_scheme_or_host_says_how_to_fix_it(settings, value, message):
    settings.DUMMYJSON_BASE_URL = value

    assert [error.msg for error in check_catalog_settings()] == [message]


def test_an_unknown_image_format_names_the_known_ones_and_the_fix_for_jpg(settings):
    settings.CATALOG_IMAGE_FORMATS = "jpg,PNG,BMP"

    with pytest.raises(ImproperlyConfigured) as raised:
        conf.image_formats()
    assert str(raised.value) == (
        "CATALOG_IMAGE_FORMATS names unknown formats: BMP, JPG (did you mean JPEG?); "
        "use some of JPEG, PNG, WEBP, GIF, comma-separated"
    )


def test_the_check_command_reports_a_bad_setting(settings):
    settings.CATALOG_IMAGE_FORMATS = "TIFF"

    with pytest.raises(SystemCheckError, match=r"catalog.E003"):
        call_command("check")


def test_settings_py_repeats_no_catalog_default():
    text = (Path(django_settings.BASE_DIR) / "config" / "settings.py").read_text()

    assert [value for value in ("3.05,10", "cdn.dummyjson.com", "JPEG,PNG,WEBP") if value in text] == []
