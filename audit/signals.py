"""Failed logins go on record: from where, which name was tried, and whether the lockout refused them.

The actor is never the name typed into the form (a visitor chooses it): it is the signed-in
user, or ``anonymous``. A flood of failures cannot drown the log either: from one address,
only the first ``LOGIN_EVENTS_PER_WINDOW`` failures of a window are recorded one by one; the
rest are counted, and the next recorded failure says how many were left out.
"""

import time
from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest

from .models import Kind, Outcome
from .services import record_event

ANONYMOUS_ACTOR = "anonymous"
LOGIN_EVENTS_PER_WINDOW = 10
LOGIN_WINDOW_S = 60
ATTEMPTED_NAME_MAX_LENGTH = 150
_CACHE_PREFIX = "audit:login-failures"


def _actor(request: HttpRequest | None) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.get_username()}"
    return ANONYMOUS_ACTOR


def current_window() -> int:
    """The number of the rate limit's current time window."""
    return int(time.time() // LOGIN_WINDOW_S)


def _count_in_window(address: str) -> tuple[int, int]:
    """This failure's number in the current window from ``address``, and how many went unrecorded before it."""
    window = current_window()
    key = f"{_CACHE_PREFIX}:{address}:{window}"
    cache.add(key, 0, timeout=LOGIN_WINDOW_S * 2)
    number = cache.incr(key)
    skipped = 0
    if number == 1:
        # The first failure of a new window reports what the previous window left out.
        previous = cache.get(f"{_CACHE_PREFIX}:{address}:{window - 1}", 0)
        skipped = max(previous - LOGIN_EVENTS_PER_WINDOW, 0)
    return number, skipped


def client_address(request: HttpRequest | None) -> str:
    """The client's address as django-axes resolved it (behind trusted proxies too), else the peer's."""
    if request is None:
        return ""
    return str(getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", ""))


@receiver(user_login_failed, dispatch_uid="audit_failed_login")
def record_failed_login(  # pylint: disable=unused-argument
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """One ``login`` event per failed attempt, up to the window's limit; ``blocked`` once django-axes locks out."""
    address = client_address(request)
    number, skipped = _count_in_window(address)
    if number > LOGIN_EVENTS_PER_WINDOW:
        return
    locked_out = bool(getattr(request, "axes_locked_out", False))
    details: dict[str, Any] = {
        "address": address,
        "attempted_username": str(credentials.get("username", ""))[:ATTEMPTED_NAME_MAX_LENGTH],
    }
    if skipped:
        details["unrecorded_failures_before"] = skipped
    message = "locked out after repeated failures" if locked_out else "wrong username or password"
    if number == LOGIN_EVENTS_PER_WINDOW:
        message += f"; further failures from this address in the next {LOGIN_WINDOW_S} s are counted, not recorded"
    record_event(
        kind=Kind.LOGIN,
        outcome=Outcome.BLOCKED if locked_out else Outcome.INVALID,
        method=getattr(request, "method", ""),
        url=request.get_full_path() if request else "",
        actor=_actor(request),
        message=message,
        details=details,
    )
