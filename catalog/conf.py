"""The catalog's settings, read late (so tests can override them) and parsed in one place."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_BASE_URL = "https://dummyjson.com"
DEFAULT_TIMEOUT = "3.05,10"
DEFAULT_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
DEFAULT_IMAGE_MAX_AGE = 7 * 24 * 3600
DEFAULT_PRODUCT_TTL = 24 * 3600
DEFAULT_REFRESH_INTERVAL = 300
DEFAULT_SYNC_INTERVAL = 3600


def base_url() -> str:
    """The DummyJSON API root, without a trailing slash."""
    return str(getattr(settings, "DUMMYJSON_BASE_URL", DEFAULT_BASE_URL)).rstrip("/")


def parse_timeout(value: str | tuple | list) -> tuple[float, float]:
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
    return parse_timeout(getattr(settings, "DUMMYJSON_TIMEOUT", DEFAULT_TIMEOUT))


def retries() -> int:
    """How many times a failed GET is tried again."""
    return int(getattr(settings, "DUMMYJSON_RETRIES", 3))


def backoff_factor() -> float:
    """Seconds of the first backoff; each retry doubles it."""
    return float(getattr(settings, "DUMMYJSON_BACKOFF", 0.5))


def deadline() -> float:
    """Wall-clock seconds one response may take in all, however slowly its bytes trickle."""
    return float(getattr(settings, "DUMMYJSON_DEADLINE", 30.0))


def image_formats() -> frozenset[str]:
    """Pillow format names an image may have (``JPEG``, ``PNG``, ``WEBP``)."""
    formats = getattr(settings, "CATALOG_IMAGE_FORMATS", DEFAULT_IMAGE_FORMATS)
    if isinstance(formats, str):
        formats = formats.split(",")
    return frozenset(fmt.strip().upper() for fmt in formats if fmt.strip())


def max_image_bytes() -> int:
    """The largest image body the client reads before giving up."""
    return int(getattr(settings, "CATALOG_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES))


def image_max_age() -> float:
    """Seconds after which an intact image is revalidated upstream."""
    return float(getattr(settings, "CATALOG_IMAGE_MAX_AGE", DEFAULT_IMAGE_MAX_AGE))


def product_ttl() -> float:
    """Seconds a product page trusts its stored copy before reading through to the source."""
    return float(getattr(settings, "CATALOG_TTL", DEFAULT_PRODUCT_TTL))


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
    hosts = getattr(settings, "CATALOG_IMAGE_HOSTS", ("cdn.dummyjson.com",))
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    entries = {host.strip().lower() for host in hosts if host.strip()}
    entries.add(netloc_of(source_url or base_url()))
    return frozenset(entries)


def refresh_interval() -> float:
    """Seconds within which page views of one product queue at most one refresh (and an unknown id is not re-asked)."""
    return float(getattr(settings, "CATALOG_REFRESH_INTERVAL", DEFAULT_REFRESH_INTERVAL))


def sync_interval() -> float:
    """Seconds between the syncs ``schedule_syncs`` queues."""
    return float(getattr(settings, "CATALOG_SYNC_INTERVAL", DEFAULT_SYNC_INTERVAL))
