"""The catalog's settings, read late (so tests can override them) and parsed in one place."""

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_BASE_URL = "https://dummyjson.com"
DEFAULT_TIMEOUT = "3.05,10"
DEFAULT_IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
DEFAULT_IMAGE_MAX_AGE = 7 * 24 * 3600
DEFAULT_PRODUCT_TTL = 24 * 3600


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


# The data-quality gate (catalog/quality). Every threshold is documented in the README.
DEFAULT_EXPECTATIONS_FILE = Path(__file__).resolve().parent / "expectations.json"
DEFAULT_DRIFT_P_VALUE = 0.05  # family-wise: divided by the number of fields tested (Bonferroni)
DEFAULT_DRIFT_DISTANCE = 0.1  # normalized Wasserstein and Jensen-Shannon, as Evidently
DEFAULT_DRIFT_SMALL_SAMPLE = 1000  # reference rows up to which KS and chi-squared decide
DEFAULT_DATASET_DRIFT_SHARE = 0.5  # the share of drifted fields that is dataset drift
DEFAULT_MAX_VOLUME_DROP = 0.1  # a complete listing may shrink by this share of the reference
DEFAULT_MAX_PRICE_CHANGE_SHARE = 0.2  # the share of known products whose price may change
DEFAULT_MAX_MISSING_INCREASE = 0.05  # how much more often a required field may be missing


def expectations_file() -> Path | None:
    """The golden-records file every sync checks; None when the setting is empty (no golden checks)."""
    value = getattr(settings, "CATALOG_EXPECTATIONS_FILE", DEFAULT_EXPECTATIONS_FILE)
    return Path(value) if str(value or "").strip() else None


def _fraction(name: str, default: float) -> float:
    value = getattr(settings, name, default)
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from error
    if not 0 <= number <= 1:
        raise ImproperlyConfigured(f"{name} must be between 0 and 1, got {value!r}")
    return number


def drift_p_value() -> float:
    """Family-wise significance of the KS and chi-squared tests (split over the fields tested)."""
    return _fraction("CATALOG_DRIFT_P_VALUE", DEFAULT_DRIFT_P_VALUE)


def drift_distance() -> float:
    """Normalized Wasserstein / Jensen-Shannon distance above which a large sample's field drifted."""
    return _fraction("CATALOG_DRIFT_DISTANCE", DEFAULT_DRIFT_DISTANCE)


def drift_small_sample() -> int:
    """Reference rows up to which statistical tests decide; above, distances do."""
    return int(getattr(settings, "CATALOG_DRIFT_SMALL_SAMPLE", DEFAULT_DRIFT_SMALL_SAMPLE))


def dataset_drift_share() -> float:
    """The share of drifted fields at which the whole data set drifted."""
    return _fraction("CATALOG_DATASET_DRIFT_SHARE", DEFAULT_DATASET_DRIFT_SHARE)


def max_volume_drop() -> float:
    """The largest share by which a complete listing may shrink against the reference."""
    return _fraction("CATALOG_MAX_VOLUME_DROP", DEFAULT_MAX_VOLUME_DROP)


def max_price_change_share() -> float:
    """The largest share of already published products whose price may change in one sync."""
    return _fraction("CATALOG_MAX_PRICE_CHANGE_SHARE", DEFAULT_MAX_PRICE_CHANGE_SHARE)


def max_missing_increase() -> float:
    """How much the share of products missing a required field may grow against the reference."""
    return _fraction("CATALOG_MAX_MISSING_INCREASE", DEFAULT_MAX_MISSING_INCREASE)


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
