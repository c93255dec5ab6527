"""Failed logins go on record: who tried, from where, and whether the lockout refused them."""

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .models import Kind, Outcome
from .services import record_event


def client_address(request: HttpRequest | None) -> str:
    """The client's address as django-axes resolved it (behind trusted proxies too), else the peer's."""
    if request is None:
        return ""
    return str(getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", ""))


@receiver(user_login_failed, dispatch_uid="audit_failed_login")
def record_failed_login(  # pylint: disable=unused-argument
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """One ``login`` event per failed attempt; ``blocked`` once django-axes locks the pair out."""
    username = str(credentials.get("username", ""))[:150]
    locked_out = bool(getattr(request, "axes_locked_out", False))
    record_event(
        kind=Kind.LOGIN,
        outcome=Outcome.BLOCKED if locked_out else Outcome.INVALID,
        method=getattr(request, "method", ""),
        url=request.get_full_path() if request else "",
        actor=username or "anonymous",
        message="locked out after repeated failures" if locked_out else "wrong username or password",
        details={"address": client_address(request)},
    )
