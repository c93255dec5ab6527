"""Which URLs the transport may request: http(s) only, on the API's host or an allowed image host."""

from urllib.parse import urlsplit

from . import conf

ALLOWED_SCHEMES = frozenset({"http", "https"})


def refusal_reason(url: str, *, base_url: str) -> str | None:
    """Why ``url`` may not be requested, or None when it may."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        netloc = conf.netloc_of(url)
    except ValueError:
        return "the URL cannot be parsed"
    if parts.scheme not in ALLOWED_SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not allowed"
    # Parsers disagree on backslashes and user info (``http://a\\@b/``): refuse both, so
    # the host checked here is the host requests connects to.
    if "\\" in url or parts.username is not None or parts.password is not None:
        return "URLs with a backslash or user info are not allowed"
    allowed = conf.allowed_hosts(base_url)
    if not host or (host not in allowed and netloc not in allowed):
        return f"host {host or '(none)'!r} is not in CATALOG_IMAGE_HOSTS"
    return None


def checked_base_url(base_url: str) -> str:
    """The API root without a trailing slash; a clear ValueError for a URL with no scheme or host.

    ``dummyjson.com`` is the usual slip: requests would refuse every call with a
    cryptic "No connection adapters" error, so it is refused here, once, with the fix.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ALLOWED_SCHEMES:
        hint = f"; did you mean 'https://{base_url.lstrip('/')}'?" if not parts.scheme else ""
        raise ValueError(f"the base URL {base_url!r} must start with http:// or https://{hint}")
    if not parts.hostname:
        raise ValueError(f"the base URL {base_url!r} has no host name")
    return base_url.rstrip("/")
