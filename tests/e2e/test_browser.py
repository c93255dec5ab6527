"""The catalog in headless Chromium: browse, search, filter, page, open a product, and no injected script runs."""

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_product

HOSTILE_TITLES = ["<script>window.__pwned=1</script>", "<img src=x onerror=window.__pwned=1>"]
IMAGES_LOADED = """() => {
    const images = [...document.querySelectorAll('.gallery img')];
    return images.length > 0 && images.every((image) => image.complete && image.naturalWidth > 0);
}"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def catalog(settings):
    """26 mugs in the kitchen, 4 lip tints in beauty and 2 hostile titles, all with stored images; media served."""
    settings.SERVE_MEDIA = True
    settings.DUMMYJSON_BASE_URL = "http://127.0.0.1:9"  # a product page must not need the source
    settings.DUMMYJSON_RETRIES = 0
    for product_id in range(1, 27):
        make_product(product_id, title=f"Mug {product_id}", category="kitchen", with_images=True, gallery_size=3)
    for product_id in range(27, 31):
        make_product(product_id, title=f"Lip Tint {product_id}", category="beauty", with_images=True)
    for product_id, title in enumerate(HOSTILE_TITLES, start=31):
        make_product(product_id, title=title, brand="<b>evil</b>", category="beauty", with_images=True)


@pytest.fixture
def browser_page(monkeypatch):
    """A fresh page in headless Chromium; console errors (CSP violations among them) are collected on it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls around it are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.console_errors = []
            page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
            yield page
        finally:
            browser.close()


def result_count(page) -> str:
    """The "N products" line, without the page part."""
    return page.locator(".result-count").inner_text().split("·")[0].strip()


@pytest.mark.usefixtures("catalog")
@pytest.mark.django_db(transaction=True)
def test_a_visitor_browses_searches_filters_pages_and_opens_a_product(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/")

    assert page.title() == "Products · Product catalog"
    assert result_count(page) == "32 products"
    assert page.locator(".product-grid > li").count() == 24

    page.get_by_label("Search", exact=True).fill("mug 2")
    page.get_by_role("button", name="Apply").click()
    assert result_count(page) == "9 products"  # Mug 2, 12 and 20 to 26

    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Category").select_option("beauty")
    page.get_by_role("button", name="Apply").click()
    assert result_count(page) == "6 products"
    assert "category=beauty" in page.url

    page.goto(f"{live_server.url}/products/?category=kitchen&sort=title")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="2", exact=True).click()
    assert "category=kitchen&sort=title&page=2" in page.url
    assert page.locator(".card-title").all_inner_texts() == ["Mug 8", "Mug 9"]  # titles sort as text: Mug 7 < Mug 8

    page.get_by_role("link", name="Mug 9").click()
    assert page.locator("h1").inner_text() == "Mug 9"
    for image in page.locator(".gallery img").all():
        image.scroll_into_view_if_needed()
    page.wait_for_function(IMAGES_LOADED, timeout=10_000)
    assert page.locator(".gallery img").count() == 3
    assert page.console_errors == []


@pytest.mark.usefixtures("catalog")
@pytest.mark.django_db(transaction=True)
def test_markup_in_product_data_never_runs_in_the_browser(live_server, browser_page):
    page = browser_page

    page.goto(f"{live_server.url}/products/?q=pwned")
    assert page.locator(".card-title").all_inner_texts() == HOSTILE_TITLES
    assert page.evaluate("typeof window.__pwned") == "undefined"

    for product_id, title in enumerate(HOSTILE_TITLES, start=31):
        page.goto(f"{live_server.url}/products/{product_id}/")
        assert page.locator("h1").inner_text() == title
        assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(".summary .brand").inner_text() == "by <b>evil</b>"
    assert page.console_errors == []
