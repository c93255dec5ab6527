"""axe-core in Chromium finds no violations on the public pages and the project's own admin pages;
every control is reachable from the keyboard and visibly focused.

axe-core is vendored (tests/e2e/vendor/axe-core, version and checksum in AXE_VERSION/AXE_SHA256,
from the npm registry's ``axe-core`` package), so the suite needs no network.
"""

import hashlib
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import record_event
from catalog.models import Product
from tests.e2e.conftest import needs_chromium
from tests.factories import make_price_change, make_product, make_review

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = """async ([tags, include]) => {
    const context = include ? {include: include.map((selector) => [selector])} : document;
    const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
    const results = await axe.run(context, options);
    return results.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' '))}));
}"""
PUBLIC_PAGES = {
    "list": "/products/",
    "search results": "/products/?q=mug&in_stock=1&sort=-price",
    "a later page": "/products/?page=2",
    "detail": "/products/1/",
    "404": "/products/999999/",
}
# Django's stock admin markup is Django's; axe looks at what the project's own templates draw.
ADMIN_PAGES = {
    "admin index": ("/admin/", ["#audit-dashboard-link"]),
    "audit dashboard": ("/admin/audit/auditevent/dashboard/", ["#content"]),
    "audit events": ("/admin/audit/auditevent/", ["#toolbar", ".paginator", ".object-tools"]),
}

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog(settings):
    """26 mugs and 4 lip tints with images, a price history and a review; media served."""
    settings.SERVE_MEDIA = True
    settings.DUMMYJSON_BASE_URL = "http://127.0.0.1:9"  # a product page must not need the source
    settings.DUMMYJSON_RETRIES = 0
    for product_id in range(1, 27):
        make_product(product_id, title=f"Mug {product_id}", category="kitchen", discount="10", with_images=True)
    for product_id in range(27, 31):
        make_product(product_id, title=f"Lip Tint {product_id}", category="beauty", stock=product_id % 2)
    first = Product.objects.get(id=1)
    make_price_change(first, old="12.49", new="10.99", at=first.first_seen_at)
    make_review(first)


@pytest.fixture
def audit_trail():
    """A few audit events, so the dashboard and the event list have rows and links."""
    for product_id in (1, 2, 3):
        record_event(
            kind="fetch", outcome="ok", url=f"https://dummyjson.com/products/{product_id}", product_id=product_id
        )


def axe_violations(page, include: list[str] | None = None) -> list[dict]:
    """axe-core's violations on the loaded page (or the parts ``include`` selects), with the issue's rule sets."""
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the browser, not a <script>: the CSP stays
    return page.evaluate(RUN_AXE, [AXE_TAGS, include])


def test_the_vendored_axe_core_is_the_pinned_release():
    source = AXE.read_bytes()

    assert hashlib.sha256(source).hexdigest() == AXE_SHA256
    assert f"axe v{AXE_VERSION}".encode() in source[:200]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_public_pages_have_no_axe_violations(live_server, chromium, locale):
    context = chromium.new_context(locale=locale)
    page = context.new_page()
    found = {}
    for name, path in PUBLIC_PAGES.items():
        page.goto(live_server.url + path)
        found[name] = axe_violations(page)

    context.close()
    assert found == {name: [] for name in PUBLIC_PAGES}, json.dumps(found, indent=1)


@pytest.mark.usefixtures("catalog", "audit_trail")
def test_the_projects_admin_pages_have_no_axe_violations(live_server, chromium):
    user = get_user_model().objects.create_superuser("ana", "ana@example.com", "a-long-passphrase")
    client = Client()
    client.force_login(user)
    context = chromium.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    found = {}
    for name, (path, include) in ADMIN_PAGES.items():
        page.goto(live_server.url + path)
        assert all(page.locator(selector).count() for selector in include), name
        found[name] = axe_violations(page, include)
    second = AuditEvent.objects.order_by("seq")[1]  # an event with a previous and a next one
    page.goto(live_server.url + reverse("admin:audit_auditevent_change", args=[second.pk]))
    assert page.locator(".field-chain_neighbours a").count() == 2
    found["audit event"] = axe_violations(page, [".field-chain_neighbours"])

    context.close()
    assert found == {name: [] for name in [*ADMIN_PAGES, "audit event"]}, json.dumps(found, indent=1)


FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea"
FOCUS_STEP = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    const card = element.closest('.card');
    const cardStyle = card ? getComputedStyle(card) : null;
    const outlined = (s) => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    return {
        id: element.dataset.focusId || '',
        visible: outlined(style) || style.boxShadow !== 'none' || (cardStyle !== null && outlined(cardStyle)),
    };
}"""
LABEL_FOCUSABLES = f"""() => [...document.querySelectorAll('{FOCUSABLE}')]
    .filter((element) => element.offsetParent !== null || element === document.activeElement)
    .map((element, index) => (element.dataset.focusId = String(index)))"""


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("path", ["/products/?page=2", "/products/1/"])
def test_every_control_is_reached_by_tab_and_visibly_focused(live_server, chromium, path):
    page = chromium.new_page()
    page.goto(live_server.url + path)
    expected = set(page.evaluate(LABEL_FOCUSABLES))
    assert len(expected) > 5  # the header's links and language menu at least, and what the page adds

    reached, unmarked = set(), []
    for _ in range(len(expected) + 5):
        page.keyboard.press("Tab")
        step = page.evaluate(FOCUS_STEP)
        if step["id"]:
            reached.add(step["id"])
            if not step["visible"]:
                unmarked.append(page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)"))

    page.close()
    assert expected - reached == set()
    assert not unmarked, unmarked
