"""Django app configuration for the audit log."""

from importlib import import_module

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit app: its events are written only through ``audit.services``."""

    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import_module(f"{self.name}.signals")  # importing it registers its receivers
