"""Staging: pages stored as received with summaries that merge into the run's."""

import pytest
from django.utils import timezone

from catalog.models import StagedPage, SyncRun
from catalog.staging import merged_summary, run_summary, stage_page, stage_summary, staged_pages
from mirror.catalog import real_products

pytestmark = pytest.mark.django_db


@pytest.fixture(name="run")
def fixture_run() -> SyncRun:
    """A run being staged."""
    return SyncRun.objects.create(run_id="staging-test", started_at=timezone.now())


def test_a_page_keeps_its_payloads_prices_and_golden_fields(run):
    products = list(real_products()[:3])

    stage_page(run=run, number=0, payloads=products, golden_ids=frozenset({2}))

    page = StagedPage.objects.get(run=run)
    assert [payloads for _, payloads in staged_pages(run)] == [products]
    assert page.summary["prices"] == {"1": 9.99, "2": 19.99, "3": 14.99}
    assert page.summary["golden"] == {"2": {key: products[1][key] for key in page.summary["golden"]["2"]}}
    assert set(page.summary["golden"]["2"]) >= {"title", "category", "price", "rating"}


def test_staging_a_page_again_replaces_it(run):
    stage_page(run=run, number=0, payloads=list(real_products()[:3]))
    stage_page(run=run, number=0, payloads=list(real_products()[3:4]))

    assert [(number, [p["id"] for p in payloads]) for number, payloads in staged_pages(run)] == [(0, [4])]


def test_pages_merge_in_order_and_a_repeated_id_keeps_its_first_price(run):
    first, second = real_products()[0], real_products()[1]
    stage_page(run=run, number=1, payloads=[{**first, "price": 1.0}])
    stage_page(run=run, number=0, payloads=[first, second])

    summary = run_summary(run)

    assert summary["rows"] == 3
    assert summary["prices"] == {"1": 9.99, "2": 19.99}


def test_a_nul_in_a_payload_stays_exact_and_the_summary_shows_it_escaped(run):
    hostile = {**real_products()[0], "category": "beauty\x00", "title": "A\x00B"}

    stage_page(run=run, number=0, payloads=[hostile], golden_ids=frozenset({1}))

    assert next(staged_pages(run))[1] == [hostile]
    summary = StagedPage.objects.get(run=run).summary
    assert summary["frequencies"]["category"] == {"beauty\\0": 1}
    assert summary["golden"]["1"]["title"] == "A\\0B"


def test_ids_that_are_not_whole_numbers_are_left_out_of_prices():
    summary = stage_summary([{"id": "7", "price": 1.0}, {"id": True, "price": 2.0}, "junk", {"id": 8, "price": "x"}])

    assert summary["prices"] == {}
    assert summary["rows"] == 4
    assert merged_summary([summary, summary])["rows"] == 8
