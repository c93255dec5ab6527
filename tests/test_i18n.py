"""English and Brazilian Portuguese pages: chosen from Accept-Language, switchable, translations compiled."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from catalog.templatetags.catalog_extras import money, percent
from tests.factories import make_product

LOCALE = Path(django_settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"


@pytest.mark.django_db
def test_pages_are_in_english_by_default(client):
    response = client.get("/products/")

    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()
    assert "<h1>Products</h1>" in response.content.decode()


@pytest.mark.django_db
def test_accept_language_pt_br_gives_brazilian_portuguese(client):
    make_product(7, price="1234.50", stock=0)

    response = client.get("/products/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9,en;q=0.5")

    html = response.content.decode()
    assert response["Content-Language"] == "pt-br"
    assert '<html lang="pt-br">' in html
    assert "<h1>Produtos</h1>" in html
    assert '<span class="final-price">US$ 1.234,50</span>' in html
    assert "Esgotado" in html
    assert "1 produto" in html
    assert '<label for="id_min_price">Preço mínimo</label>' in html


@pytest.mark.django_db
def test_the_product_page_is_translated_too(client):
    make_product(7, stock=3)

    html = client.get("/products/7/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()

    assert "3 unidades restantes" in html
    assert '<h2 id="history-heading">Histórico de preços</h2>' in html
    assert "Ainda sem avaliações." in html


@pytest.mark.django_db
def test_an_unsupported_language_falls_back_to_english(client):
    assert client.get("/products/", HTTP_ACCEPT_LANGUAGE="de-DE").headers["Content-Language"] == "en"


@pytest.mark.django_db
def test_the_language_menu_switches_the_language_and_returns_to_the_same_page(client):
    response = client.post("/i18n/setlang/", {"language": "pt-br", "next": "/products/?q=mug&page=2"})

    assert (response.status_code, response["Location"]) == (302, "/products/?q=mug&page=2")
    assert "<h1>Produtos</h1>" in client.get("/products/").content.decode()


@pytest.mark.django_db
def test_every_page_offers_the_language_menu_with_a_label(client):
    html = client.get("/products/").content.decode()

    assert '<label for="language-select">Language</label>' in html
    assert '<option value="en" lang="en" selected>English</option>' in html
    assert '<option value="pt-br" lang="pt-br">Português (Brasil)</option>' in html


@pytest.mark.parametrize(
    ("language", "amount", "expected"), [("en", "1234.5", "$1,234.50"), ("pt-br", "1234.5", "US$ 1.234,50")]
)
def test_prices_are_written_the_way_each_language_writes_them(language, amount, expected):
    with translation.override(language):
        assert money(amount) == expected


@pytest.mark.parametrize(("language", "expected"), [("en", "12.5%"), ("pt-br", "12,5%")])
def test_percentages_drop_trailing_zeros_in_each_language(language, expected):
    with translation.override(language):
        assert percent("12.50") == expected


def test_every_message_has_a_brazilian_portuguese_translation():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first entry is the header

    untranslated = [entry for entry in entries if re.search(r'^msgstr(\[\d\])? ""$', entry, re.MULTILINE)]
    assert untranslated == []
    assert "#, fuzzy" not in text


def test_the_compiled_catalog_is_committed_and_matches_the_sources():
    with (LOCALE / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    pairs = re.findall(
        r'^msgid "(.+)"\nmsgstr "(.+)"$', (LOCALE / "django.po").read_text(encoding="utf-8"), re.MULTILINE
    )

    assert len(pairs) > 100
    assert [(msgid, catalog.gettext(msgid)) for msgid, _ in pairs] == pairs


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_price_or_percentage_is_written_as_nothing(value):
    assert (money(value), percent(value)) == ("", "")
