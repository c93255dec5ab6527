"""Credentials and secret-looking parameters never reach the audit log."""

import pytest

from audit.redaction import redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://dummyjson.com/products?limit=10", "https://dummyjson.com/products?limit=10"),
        ("https://u:p@host.example:8443/x", "https://REDACTED@host.example:8443/x"),
        (
            "https://host.example/x?api_key=1&Token=2&signature=3&password=4&q=ok",
            "https://host.example/x?api_key=REDACTED&Token=REDACTED&signature=REDACTED&password=REDACTED&q=ok",
        ),
        (
            "https://host.example/x?X-Amz-Signature=abc&select=a,b",
            "https://host.example/x?X-Amz-Signature=REDACTED&select=a,b",
        ),
        ("not a url", "not a url"),
        ("http://[::1:99999/x", "[unparsable URL]"),
        ("http://admin:PASSWORD@host:99999999/x", "[unparsable URL]"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected
