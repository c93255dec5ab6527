"""System checks for the catalog's settings, so a typo fails ``manage.py check``, not a sync."""

from collections.abc import Callable
from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from . import conf
from .url_policy import checked_base_url


def _problem(read: Callable[[], Any]) -> str | None:
    """The message a setting's reader raises, or None when it reads cleanly."""
    try:
        read()
    except (ImproperlyConfigured, ValueError) as error:
        return str(error)
    return None


@register()
def check_catalog_settings(**kwargs: Any) -> list[CheckMessage]:
    """Validate the DUMMYJSON_* and CATALOG_* settings."""
    del kwargs  # Django passes app_configs and databases; every setting here is global
    errors: list[CheckMessage] = []
    if message := _problem(lambda: checked_base_url(conf.base_url())):
        errors.append(Error(f"DUMMYJSON_BASE_URL: {message}", id="catalog.E001"))
    if message := _problem(conf.timeout):
        errors.append(Error(message, id="catalog.E002"))
    if message := _problem(conf.rate_limit):
        errors.append(Error(message, id="catalog.E005"))
    if message := _problem(conf.image_formats):
        errors.append(Error(message, id="catalog.E003"))
    if message := _problem(conf.max_image_bytes):
        errors.append(Error(message, id="catalog.E004"))
    elif conf.max_image_bytes() <= 0:
        errors.append(Error("CATALOG_MAX_IMAGE_BYTES must be positive.", id="catalog.E004"))
    return errors
