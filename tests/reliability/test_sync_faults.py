"""sync_products under the faults a real network and a careless upstream produce.

Each test checks that nothing valid is lost, nothing invalid is stored, every attempt
is in the audit log (requests received = fetch and download events not blocked), and
that the exit code and summary say what happened.
"""

import pytest

from audit.models import AuditEvent
from catalog.models import ImageStatus, Product, ProductImage
from tests.sync_helpers import leftover_partial_files, stored_images_match_their_hashes, sync

pytestmark = pytest.mark.django_db(transaction=True)


def attempts_recorded() -> int:
    """Fetch and download events of the latest run that stand for a request actually sent."""
    run_id = AuditEvent.objects.filter(kind="sync").order_by("-seq").values_list("run_id", flat=True).first()
    events = AuditEvent.objects.filter(kind__in=["fetch", "download"], run_id=run_id)
    return events.exclude(outcome="blocked").count()


def outcomes(kind: str) -> dict[str, int]:
    """How many events of a kind ended each way, in the latest sync run."""
    run_id = AuditEvent.objects.filter(kind="sync").order_by("-seq").values_list("run_id", flat=True).first()
    counts: dict[str, int] = {}
    for outcome in AuditEvent.objects.filter(kind=kind, run_id=run_id).values_list("outcome", flat=True):
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def images_of(mirror, *product_ids: int) -> int:
    """Gallery images plus thumbnails of these products, as the mirror lists them."""
    return sum(len(mirror.catalog.product(i)["images"]) + 1 for i in product_ids)


@pytest.fixture
def synced_once(mirror):
    """Products 1-10 with images, synced before the fault is switched on."""
    assert sync("--base-url", mirror.base_url, "--limit", "10").exit_code == 0
    mirror.reset()
    return list(Product.objects.order_by("id").values())


def test_5xx_bursts_are_retried_and_every_attempt_is_recorded(mirror):
    mirror.set_faults("5xx-burst:2")

    result = sync("--base-url", mirror.base_url, "--limit", "5")

    assert result.exit_code == 0, result.stderr
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == images_of(mirror, 1, 2, 3, 4, 5)
    assert attempts_recorded() == len(mirror.requests)
    assert outcomes("download") == {
        "http_error": 2 * images_of(mirror, 1, 2, 3, 4, 5),
        "ok": images_of(mirror, 1, 2, 3, 4, 5),
    }


def test_a_429_is_retried_after_the_delay_the_server_asks(mirror):
    mirror.set_faults("rate-limit:1@api")

    result = sync("--base-url", mirror.base_url, "--limit", "3", "--no-images")

    assert result.exit_code == 0
    retried = AuditEvent.objects.get(kind="fetch", status_code=429)
    assert retried.details == {"retry_in_s": 1.0}
    assert attempts_recorded() == len(mirror.requests) == 2


def test_a_5xx_storm_longer_than_the_retries_fails_the_run_and_keeps_earlier_data(mirror, synced_once, settings):
    settings.DUMMYJSON_RETRIES = 2
    mirror.set_faults("5xx-burst:10@api")

    result = sync("--base-url", mirror.base_url, "--limit", "10")

    assert result.exit_code == 2
    assert "the source could not be read" in result.stderr
    assert list(Product.objects.order_by("id").values()) == synced_once
    assert outcomes("fetch") == {"http_error": 3}
    assert attempts_recorded() == len(mirror.requests)


def test_a_listing_slower_than_the_read_timeout_is_recorded_as_a_timeout(mirror, synced_once, settings):
    settings.DUMMYJSON_TIMEOUT = "1,0.3"
    mirror.set_faults("slow:1@api")

    result = sync("--base-url", mirror.base_url, "--limit", "10")

    assert result.exit_code == 2
    assert outcomes("fetch") == {"timeout": 1}
    assert list(Product.objects.order_by("id").values()) == synced_once


def test_a_slow_image_fails_alone(mirror, settings):
    settings.DUMMYJSON_TIMEOUT = "1,0.3"
    mirror.set_faults("slow:1@images@ids=2")

    result = sync("--base-url", mirror.base_url, "--limit", "3")

    assert result.exit_code == 1
    assert f"{images_of(mirror, 2)} failed" in result.stdout
    assert set(ProductImage.objects.filter(product_id=2).values_list("status", flat=True)) == {ImageStatus.FAILED}
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == images_of(mirror, 1, 3)


def test_a_trickling_image_is_cut_off_by_the_deadline(mirror, settings):
    settings.DUMMYJSON_DEADLINE = 0.5
    mirror.set_faults("trickle:0.05@images@ids=1")

    result = sync("--base-url", mirror.base_url, "--ids", "1")

    assert result.exit_code == 1
    assert set(AuditEvent.objects.filter(kind="download").values_list("outcome", "message")) == {
        ("timeout", "body not complete within 0.5 s")
    }
    assert leftover_partial_files() == []
    assert not ProductImage.objects.filter(status=ImageStatus.STORED).exists()


def test_a_truncated_listing_fails_and_keeps_data_from_earlier_runs(mirror, synced_once):
    mirror.set_faults("truncate@api")

    result = sync("--base-url", mirror.base_url, "--limit", "10")

    assert result.exit_code == 2
    assert outcomes("fetch") == {"connection_error": 4}
    assert list(Product.objects.order_by("id").values()) == synced_once
    assert attempts_recorded() == len(mirror.requests)


def test_invalid_json_fails_the_page_and_keeps_data_from_earlier_runs(mirror, synced_once):
    mirror.set_faults("bad-json@api")

    result = sync("--base-url", mirror.base_url, "--limit", "10")

    assert result.exit_code == 1
    assert "failed: invalid body is not JSON" in result.stderr
    assert list(Product.objects.order_by("id").values()) == synced_once


def test_an_oversized_image_is_refused_without_being_stored(mirror, settings):
    settings.CATALOG_MAX_IMAGE_BYTES = 1024 * 1024
    mirror.set_faults("oversized-image:50@ids=2")

    result = sync("--base-url", mirror.base_url, "--limit", "2")

    assert result.exit_code == 1
    assert f"{images_of(mirror, 2)} rejected" in result.stdout
    assert set(ProductImage.objects.filter(product_id=2).values_list("status", flat=True)) == {ImageStatus.REJECTED}
    assert outcomes("download")["too_large"] == images_of(mirror, 2)
    assert not (settings.MEDIA_ROOT / "products/2").exists()


def test_non_image_bytes_are_rejected(mirror, settings):
    mirror.set_faults("not-image@ids=1")

    result = sync("--base-url", mirror.base_url, "--limit", "2")

    assert result.exit_code == 1
    assert set(ProductImage.objects.filter(product_id=1).values_list("status", flat=True)) == {ImageStatus.REJECTED}
    assert not (settings.MEDIA_ROOT / "products/1").exists()
    assert stored_images_match_their_hashes()


def test_bytes_that_do_not_match_the_extension_are_stored_as_what_they_are(mirror):
    mirror.set_faults("wrong-format@ids=1")

    assert sync("--base-url", mirror.base_url, "--ids", "1").exit_code == 0

    for image in ProductImage.objects.filter(product_id=1):
        assert image.file.name.rsplit(".", 1)[1] == {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[image.format]
        assert image.file.name.rsplit(".", 1)[1] != image.source_url.rsplit(".", 1)[1]
