"""System checks catch bad catalog settings at start-up, with ids to look up."""

import pytest
from django.core.exceptions import ImproperlyConfigured

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
