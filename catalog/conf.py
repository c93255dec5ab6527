"""The catalog's settings: the one place their defaults are written, read late and parsed.

``config/settings.py`` passes a ``DUMMYJSON_*`` or ``CATALOG_*`` environment variable
through as text only when it is set; everything else comes from ``DEFAULTS`` here.
Read late (``getattr`` on each call), so tests can override any of them.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The image formats a student may name, as Pillow spells them.
KNOWN_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Names people write that Pillow spells differently.
IMAGE_FORMAT_ALIASES = {"JPG": "JPEG", "JFIF": "JPEG"}

DEFAULTS: dict[str, Any] = {
    "DUMMYJSON_BASE_URL": "https://dummyjson.com",
    "DUMMYJSON_TIMEOUT": "3.05,10",  # connect, read; seconds
    "DUMMYJSON_RETRIES": 3,
    "DUMMYJSON_BACKOFF": 0.5,  # seconds
    "DUMMYJSON_DEADLINE": 30.0,  # seconds
    # The real API allows 100 requests per 10 s per client; the client stays within it.
    "DUMMYJSON_RATE_LIMIT": "100/10",
    "CATALOG_IMAGE_HOSTS": "cdn.dummyjson.com",
    "CATALOG_IMAGE_FORMATS": "JPEG,PNG,WEBP",
    "CATALOG_MAX_IMAGE_BYTES": 5 * 1024 * 1024,
    "CATALOG_IMAGE_MAX_AGE": 7 * 24 * 3600,  # seconds
    "CATALOG_TTL": 24 * 3600,  # seconds
    # The publish gate (catalog/quality); an empty CATALOG_EXPECTATIONS_FILE turns golden checks off.
    "CATALOG_EXPECTATIONS_FILE": str(Path(__file__).resolve().parent / "expectations.json"),
    "CATALOG_DRIFT_P_VALUE": 0.05,  # family-wise: shared by the fields tested (Bonferroni)
    "CATALOG_DRIFT_DISTANCE": 0.1,  # normalized Wasserstein and Jensen-Shannon, as Evidently
    "CATALOG_DRIFT_SMALL_SAMPLE": 1000,  # reference rows up to which KS and chi-squared decide
    "CATALOG_DATASET_DRIFT_SHARE": 0.5,  # the share of drifted fields that is dataset drift
    "CATALOG_MAX_VOLUME_DROP": 0.1,  # a complete listing may shrink by this share of the reference
    "CATALOG_MAX_PRICE_CHANGE_SHARE": 0.2,  # the share of published products whose price may change
    "CATALOG_MAX_MISSING_INCREASE": 0.05,  # how much more often a required field may be missing
    "CATALOG_REFRESH_INTERVAL": 300,  # seconds
    "CATALOG_SYNC_INTERVAL": 3600,  # seconds
}
# The checked-in golden records.
DEFAULT_EXPECTATIONS_FILE = Path(DEFAULTS["CATALOG_EXPECTATIONS_FILE"])


def setting(name: str) -> Any:
    """The setting's current value, or its default."""
    return getattr(settings, name, DEFAULTS[name])


def _number(name: str, kind: type[int] | type[float]) -> Any:
    value = setting(name)
    try:
        return kind(value)
    except (TypeError, ValueError) as error:
        noun = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name} must be {noun}, got {value!r}") from error


def _names(value: str | Iterable[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def base_url() -> str:
    """The DummyJSON API root, without a trailing slash."""
    return str(setting("DUMMYJSON_BASE_URL")).rstrip("/")


def parse_timeout(value: str | tuple[float, float] | list[float]) -> tuple[float, float]:
    """``"connect,read"`` seconds as a pair of positive numbers."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    try:
        connect, read = (float(part) for part in parts)
    except (TypeError, ValueError) as error:
        raise ImproperlyConfigured(
            f"DUMMYJSON_TIMEOUT must be 'connect,read' in seconds, like '3.05,10'; got {value!r}"
        ) from error
    if connect <= 0 or read <= 0:
        raise ImproperlyConfigured(f"DUMMYJSON_TIMEOUT must be positive; got {value!r}")
    return connect, read


def timeout() -> tuple[float, float]:
    """The (connect, read) timeout of every request."""
    return parse_timeout(setting("DUMMYJSON_TIMEOUT"))


def retries() -> int:
    """How many times a failed GET is tried again."""
    return int(_number("DUMMYJSON_RETRIES", int))


def backoff_factor() -> float:
    """Seconds of the first backoff; each retry doubles it."""
    return float(_number("DUMMYJSON_BACKOFF", float))


def deadline() -> float:
    """Wall-clock seconds one response may take in all, however slowly its bytes trickle."""
    return float(_number("DUMMYJSON_DEADLINE", float))


def parse_rate_limit(value: object) -> tuple[int, float] | None:
    """``"requests/seconds"`` (``"100/10"``) as a pair; None for ``0`` or ``off`` (no limit)."""
    text = str(value).strip().lower()
    if text in {"0", "off", "none", ""}:
        return None
    requests, _, seconds = text.partition("/")
    try:
        limit = (int(requests), float(seconds))
    except ValueError:
        limit = (0, 0.0)
    if limit[0] < 1 or limit[1] <= 0:
        raise ImproperlyConfigured(
            f"DUMMYJSON_RATE_LIMIT must be 'requests/seconds', like '100/10', or 0 to turn it off; got {value!r}"
        )
    return limit


def rate_limit() -> tuple[int, float] | None:
    """At most this many API requests per this many seconds (None: no client-side limit)."""
    return parse_rate_limit(setting("DUMMYJSON_RATE_LIMIT"))


def image_format_names() -> list[str]:
    """``CATALOG_IMAGE_FORMATS`` as written, upper-cased (unknown names included, for the system check)."""
    return [name.upper() for name in _names(setting("CATALOG_IMAGE_FORMATS"))]


def unknown_image_format_message(names: Iterable[str]) -> str | None:
    """A clear message for names that are not image formats (``JPG`` gets its fix); None if all are known."""
    unknown = [name for name in names if name not in KNOWN_IMAGE_FORMATS]
    if not unknown:
        return None
    hints = [f"{name} (did you mean {IMAGE_FORMAT_ALIASES[name]}?)" for name in unknown if name in IMAGE_FORMAT_ALIASES]
    plain = [name for name in unknown if name not in IMAGE_FORMAT_ALIASES]
    return (
        f"CATALOG_IMAGE_FORMATS names unknown formats: {', '.join(plain + hints)}; "
        f"use some of {', '.join(KNOWN_IMAGE_FORMATS)}, comma-separated"
    )


def image_formats() -> frozenset[str]:
    """Pillow format names an image may have (``JPEG``, ``PNG``, ``WEBP``); a clear error for an unknown name."""
    names = image_format_names()
    if message := unknown_image_format_message(names):
        raise ImproperlyConfigured(message)
    if not names:
        raise ImproperlyConfigured(f"CATALOG_IMAGE_FORMATS is empty; use some of {', '.join(KNOWN_IMAGE_FORMATS)}")
    return frozenset(names)


def max_image_bytes() -> int:
    """The largest image body the client reads before giving up."""
    return int(_number("CATALOG_MAX_IMAGE_BYTES", int))


def image_max_age() -> float:
    """Seconds after which an intact image is revalidated upstream."""
    return float(_number("CATALOG_IMAGE_MAX_AGE", float))


def product_ttl() -> float:
    """Seconds a product page trusts its stored copy before reading through to the source."""
    return float(_number("CATALOG_TTL", float))


def netloc_of(url: str) -> str:
    """``host:port`` of a URL, lower-cased, with the scheme's default port spelled out."""
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80
    return f"{(parts.hostname or '').lower()}:{parts.port or default_port}"


def allowed_hosts(source_url: str | None = None) -> frozenset[str]:
    """Hosts images and redirects may come from.

    ``CATALOG_IMAGE_HOSTS`` entries match their host on any port, or exactly when
    they name a port; the API's own ``host:port`` is always allowed.
    """
    entries = {host.lower() for host in _names(setting("CATALOG_IMAGE_HOSTS"))}
    entries.add(netloc_of(source_url or base_url()))
    return frozenset(entries)


def expectations_file() -> Path | None:
    """The golden-records file every sync checks; None when the setting is empty (no golden checks)."""
    value = setting("CATALOG_EXPECTATIONS_FILE")
    return Path(value) if str(value or "").strip() else None


def _fraction(name: str) -> float:
    number = float(_number(name, float))
    if not 0 <= number <= 1:
        value = setting(name)
        raise ImproperlyConfigured(f"{name} must be between 0 and 1, got {value!r}")
    return number


def drift_p_value() -> float:
    """Family-wise significance of the KS and chi-squared tests (split over the fields tested)."""
    return _fraction("CATALOG_DRIFT_P_VALUE")


def drift_distance() -> float:
    """Normalized Wasserstein / Jensen-Shannon distance above which a large sample's field drifted."""
    return _fraction("CATALOG_DRIFT_DISTANCE")


def drift_small_sample() -> int:
    """Reference rows up to which statistical tests decide; above, distances do."""
    return int(_number("CATALOG_DRIFT_SMALL_SAMPLE", int))


def dataset_drift_share() -> float:
    """The share of drifted fields at which the whole data set drifted."""
    return _fraction("CATALOG_DATASET_DRIFT_SHARE")


def max_volume_drop() -> float:
    """The largest share by which a complete listing may shrink against the reference."""
    return _fraction("CATALOG_MAX_VOLUME_DROP")


def max_price_change_share() -> float:
    """The largest share of already published products whose price may change in one sync."""
    return _fraction("CATALOG_MAX_PRICE_CHANGE_SHARE")


def max_missing_increase() -> float:
    """How much the share of products missing a required field may grow against the reference."""
    return _fraction("CATALOG_MAX_MISSING_INCREASE")


def gate_thresholds() -> dict[str, float | int]:
    """Every gate threshold, as reports record them."""
    return {
        "drift_p_value": drift_p_value(),
        "drift_distance": drift_distance(),
        "drift_small_sample": drift_small_sample(),
        "dataset_drift_share": dataset_drift_share(),
        "max_volume_drop": max_volume_drop(),
        "max_price_change_share": max_price_change_share(),
        "max_missing_increase": max_missing_increase(),
    }


def refresh_interval() -> float:
    """Seconds within which page views of one product queue at most one refresh (and an unknown id is not re-asked)."""
    return float(_number("CATALOG_REFRESH_INTERVAL", float))


def sync_interval() -> float:
    """Seconds between the syncs ``schedule_syncs`` queues."""
    return float(_number("CATALOG_SYNC_INTERVAL", float))
