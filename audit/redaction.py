"""Strip credentials and secret-looking parameters from URLs and free text before they are stored."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"
# Stored instead of a URL that cannot be parsed: its parts cannot be told apart, so none is safe to keep.
UNPARSABLE_URL = "[unparsable URL]"
SECRET_WORDS = ("token", "key", "signature", "password", "secret", "sig", "auth")
# A URL inside a message or a detail: a scheme, then everything up to a space or a quote.
URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
# name=value anywhere in text (a query string cut from its URL, a header echoed in an error).
PAIR_IN_TEXT = re.compile(r"(?P<name>[A-Za-z0-9_.\-]+)=(?P<value>[^&\s\"'<>;,]+)")
# A URL with nothing to redact and nothing urlsplit would change: no user, no query, no fragment.
PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::(?P<port>[0-9]{1,5}))?(?:/[A-Za-z0-9._~/%\-]*)?")
MAX_PORT = 65535


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter's name suggests it carries a secret."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def redact_url(url: str) -> str:
    """The URL with user:password and secret query values replaced by ``REDACTED``.

    A URL that does not parse (a bad port, a broken IPv6 host) becomes ``UNPARSABLE_URL``:
    its credentials could sit anywhere in it.
    """
    plain = PLAIN_URL.fullmatch(url)
    if plain and int(plain["port"] or 0) <= MAX_PORT:
        return url  # the common case (a product or image URL), kept cheap: every event has a URL
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return UNPARSABLE_URL
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


def _redact_pair(match: re.Match[str]) -> str:
    if match["value"] == REDACTED or not is_secret_parameter(match["name"]):
        return str(match[0])
    return f"{match['name']}={REDACTED}"


def redact_text(text: str) -> str:
    """Free text with every URL in it redacted, and any ``secret_name=value`` pair outside URLs too."""
    if "=" not in text and "://" not in text:
        return text  # the common case, kept cheap: nothing here can carry a credential
    text = URL_IN_TEXT.sub(lambda match: redact_url(match[0]), text)
    return PAIR_IN_TEXT.sub(_redact_pair, text)
