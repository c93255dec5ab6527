"""Admin behaviour shared by the apps: a read-only view of records nobody edits by hand."""

from typing import Any

from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """No add, change or delete in the admin: the record is written by code (runs, the audit trail).

    Works for ``ModelAdmin`` and inlines alike (inlines pass the parent object to ``has_add_permission``).
    """

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Nobody adds: the records are written by code."""
        del request, obj  # the answer is the same for everyone
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Nobody edits: a record changed by hand would no longer say what happened."""
        del request, obj
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Nobody deletes here; pruning has its own audited command."""
        del request, obj
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Only actions that change nothing; "delete selected" is gone with the delete permission."""
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return actions
