"""Strip credentials and secret-looking query parameters from URLs before they are stored."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
SECRET_WORDS = ("token", "key", "signature", "password", "secret", "sig", "auth")


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter's name suggests it carries a secret."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_url(url: str) -> str:
    """The URL with user:password and secret query values replaced by ``REDACTED``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        netloc = f"{REDACTED}@{host}" + (f":{port}" if port else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(name, REDACTED if is_secret_parameter(name) else value) for name, value in pairs],
            safe=",",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
