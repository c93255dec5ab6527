"""Page views while a sync writes: never an error, on SQLite (WAL, short transactions) and PostgreSQL."""

import pytest
from django.urls import reverse

from tests.sync_helpers import start_sync_process, sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MAX_VIEWS = 400


def test_page_views_during_a_sync_never_fail(mirror_factory, client):
    mirror = mirror_factory(latency_ms=20)
    assert sync("--base-url", mirror.base_url, "--limit", "30", "--no-images").exit_code == 0
    pages = [
        reverse("catalog:product_list"),
        reverse("catalog:product_list") + "?q=steel&sort=-rating",
        reverse("catalog:product_detail", args=[7]),
    ]

    process = start_sync_process("--base-url", mirror.base_url, "--page-size", "20", CATALOG_TTL="86400")
    statuses = []
    while process.poll() is None and len(statuses) < MAX_VIEWS:
        statuses.append(client.get(pages[len(statuses) % len(pages)]).status_code)
    process.communicate(timeout=120)

    assert process.returncode == 0
    assert len(statuses) > 20
    assert set(statuses) == {200}
