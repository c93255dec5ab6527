"""Open a database from its settings under a temporary alias, beside the default connection."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def complete_settings(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """The settings with Django's defaults filled in, as ``DATABASES`` entries get them."""
    # configure_settings insists on a "default" entry, so the copy plays that part.
    configured: dict[str, Any] = connections.configure_settings({DEFAULT_DB_ALIAS: copy.deepcopy(settings_dict)})[
        DEFAULT_DB_ALIAS
    ]
    return configured


@contextmanager
def temporary_alias(settings_dict: dict[str, Any], alias: str) -> Iterator[str]:
    """Make ``alias`` name a connection to ``settings_dict`` inside the block, then close and forget it.

    The alias exists only while the block runs, so nothing else (pytest-django's test
    database set-up in particular) ever sees it and redirects it to a test database.
    """
    if alias in connections.settings:
        raise ValueError(f"the database alias {alias!r} is already in use")
    connections.settings[alias] = complete_settings(settings_dict)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
