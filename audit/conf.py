"""The audit log's settings: the one place their defaults are written, read late and parsed.

``config/settings.py`` passes an ``AUDIT_*`` environment variable through as text only when
it is set (and decides ``AUDIT_SIGNING_KEY_FILE``, which must be checked at start-up);
everything else comes from ``DEFAULTS`` here. Read on each call, so tests can override them.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PROJECT_DIR = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "AUDIT_SIGNING_KEY_FILE": "",
    "AUDIT_ANCHOR_DIR": str(PROJECT_DIR / ".audit" / "anchors"),
    "AUDIT_ANCHOR_S3_BUCKET": "",
    "AUDIT_ANCHOR_S3_PREFIX": "anchors/",
    "AUDIT_VERIFY_KEYS": "",  # comma-separated PEM files
    "AUDIT_ANCHOR_EVERY_EVENTS": 1000,
    "AUDIT_ANCHOR_EVERY_SECONDS": 60.0,
    "AUDIT_ANCHORING": True,
}
YES = {"1", "true", "yes", "on"}


def setting(name: str) -> Any:
    """The setting's current value, or its default."""
    return getattr(settings, name, DEFAULTS[name])


def _positive(name: str, parse: Callable[[Any], float]) -> float:
    """The setting parsed by ``parse``, which must give a number above zero."""
    raw = setting(name)
    try:
        number = parse(raw)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be a number above zero, got {raw!r}")
    return number


def signing_key_file() -> Path | None:
    """Where the private signing key is, or None when unset."""
    value = setting("AUDIT_SIGNING_KEY_FILE")
    return Path(value) if value else None


def anchor_dir() -> str:
    """The local anchor directory (empty when unset)."""
    return str(setting("AUDIT_ANCHOR_DIR") or "")


def anchor_s3_bucket() -> str:
    """The S3 bucket anchors go to instead of the directory (empty when unset)."""
    return str(setting("AUDIT_ANCHOR_S3_BUCKET") or "")


def anchor_s3_prefix() -> str:
    """The key prefix of anchors in the bucket."""
    return str(setting("AUDIT_ANCHOR_S3_PREFIX"))


def verify_key_files() -> list[str]:
    """The public key files of retired signing keys."""
    value = setting("AUDIT_VERIFY_KEYS")
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def anchor_every_events() -> int:
    """A process anchors after at most this many events."""
    return int(_positive("AUDIT_ANCHOR_EVERY_EVENTS", int))


def anchor_every_seconds() -> float:
    """A process anchors when an event arrives this long after its last anchor."""
    return _positive("AUDIT_ANCHOR_EVERY_SECONDS", float)


def anchoring_enabled() -> bool:
    """Whether record_event writes anchors at all."""
    value = setting("AUDIT_ANCHORING")
    return value.strip().lower() in YES if isinstance(value, str) else bool(value)
