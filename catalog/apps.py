"""Django app configuration for the product catalog."""

from importlib import import_module
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def repair_search_index(sender: AppConfig, *, using: str, **kwargs: Any) -> None:  # pylint: disable=unused-argument
    """After ``migrate``: SQLite drops a table's triggers when a schema change rebuilds it."""
    from django.db import connections  # pylint: disable=import-outside-toplevel

    from .vendor_indexes import ensure_vendor_indexes  # pylint: disable=import-outside-toplevel

    ensure_vendor_indexes(connections[using])


class CatalogConfig(AppConfig):
    """The catalog app: registers its system checks and its section on the audit dashboard."""

    name = "catalog"
    verbose_name = "Product catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, once the app registry is ready: models and checks need it.
        from audit.dashboard_charts import register_section  # pylint: disable=import-outside-toplevel

        import_module(f"{self.name}.checks")  # importing it registers its system checks
        from .dashboard_sections import mean_price_section  # pylint: disable=import-outside-toplevel

        register_section(mean_price_section)
        post_migrate.connect(repair_search_index, sender=self)
