"""Django app configuration for the product catalog."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The catalog app; importing its checks registers them."""

    name = "catalog"
    verbose_name = "Product catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
