"""System checks for the catalog's settings, so a typo fails ``manage.py check``, not a sync."""

from urllib.parse import urlsplit

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from . import conf
from .image_rules import FORMAT_EXTENSIONS


@register()
def check_catalog_settings(app_configs=None, **kwargs) -> list[Error]:  # pylint: disable=unused-argument
    """Validate DUMMYJSON_* and CATALOG_* settings."""
    errors = []
    if urlsplit(conf.base_url()).scheme not in ("http", "https") or not urlsplit(conf.base_url()).hostname:
        errors.append(Error(f"DUMMYJSON_BASE_URL {conf.base_url()!r} is not an http(s) URL.", id="catalog.E001"))
    try:
        conf.timeout()
    except ImproperlyConfigured as error:
        errors.append(Error(str(error), id="catalog.E002"))
    unknown = sorted(conf.image_formats() - FORMAT_EXTENSIONS.keys())
    if unknown or not conf.image_formats():
        errors.append(
            Error(
                f"CATALOG_IMAGE_FORMATS has unknown formats {unknown}; use some of {', '.join(FORMAT_EXTENSIONS)}.",
                id="catalog.E003",
            )
        )
    if conf.max_image_bytes() <= 0:
        errors.append(Error("CATALOG_MAX_IMAGE_BYTES must be positive.", id="catalog.E004"))
    return errors
