"""Django app configuration for the product catalog."""

from importlib import import_module

from django.apps import AppConfig


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
