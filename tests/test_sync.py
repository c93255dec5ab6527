"""sync_products against the offline mirror: options, idempotence, images, the summary and exit codes.

These tests commit for real (``transaction=True``): image downloads run in worker
threads whose audit writes use connections of their own.
"""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from catalog.models import Category, ImageStatus, Product, ProductChange, ProductImage
from catalog.payload import payload_sha256
from tests.sync_helpers import leftover_partial_files, stored_images_match_their_hashes, sync

pytestmark = pytest.mark.django_db(transaction=True)

MIRROR_TOTAL = 194


def review_without_email(review: dict) -> dict:
    """A review as stored: the reviewer's e-mail is personal data and stays out."""
    return {key: value for key, value in review.items() if key != "reviewerEmail"}


def image_count(mirror, product_ids=None) -> int:
    """How many gallery images and thumbnails the mirror lists for these products (all by default)."""
    products = [p for p in mirror.catalog if product_ids is None or p["id"] in product_ids]
    return sum(len(p["images"]) + 1 for p in products)


def listing_requests(mirror) -> list[str]:
    """The /products listing requests the mirror received."""
    return [target for _, target in mirror.requests if target.startswith("/products?")]


def image_requests(mirror) -> list[str]:
    """The image requests the mirror received."""
    return [target for _, target in mirror.requests if target.startswith("/product-images/")]


@pytest.fixture
def synced(mirror):
    """The whole mirror catalog synced once, with images; the request log emptied after."""
    result = sync("--base-url", mirror.base_url)
    assert result.exit_code == 0, result.stderr
    mirror.reset()
    return result


def test_a_full_sync_stores_every_product_and_image(mirror, synced):
    assert Product.objects.published().count() == MIRROR_TOTAL
    assert Category.objects.count() == 24
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == image_count(mirror)
    assert stored_images_match_their_hashes()
    assert leftover_partial_files() == []
    assert f"products: {MIRROR_TOTAL} created, 0 updated, 0 unchanged, 0 unpublished, 0 rejected" in synced.stdout
    assert synced.stdout.strip().endswith("sync ok")


def test_the_stored_product_keeps_the_raw_payload_and_its_source(mirror, synced):
    product = Product.objects.get(id=1)
    upstream = next(p for p in mirror.catalog if p["id"] == 1)

    assert product.raw == {**upstream, "reviews": [review_without_email(r) for r in upstream["reviews"]]}
    assert product.raw_sha256 == payload_sha256(upstream)
    assert "@" not in json.dumps(product.raw["reviews"])
    assert product.title == upstream["title"]
    assert str(product.price) == f"{upstream['price']:.2f}"
    assert product.barcode == upstream["meta"]["barcode"]
    assert product.brand == upstream.get("brand", "")
    assert product.reviews.count() == len(upstream["reviews"])
    sync_event = AuditEvent.objects.get(kind="sync")
    assert product.last_run_id == sync_event.run_id
    assert synced.stdout.count(sync_event.run_id) == 1


@pytest.mark.usefixtures("synced")
def test_the_sync_event_records_options_counts_and_code_version():
    event = AuditEvent.objects.get(kind="sync")

    assert (event.outcome, event.actor) == ("ok", "command:sync_products")
    assert event.details["products"]["created"] == MIRROR_TOTAL
    assert event.details["options"]["concurrency"] == 8
    assert event.details["options"]["page_size"] == 100
    assert set(event.details["code_version"]) == {"commit", "dirty"}
    assert event.details["exit_code"] == 0
    assert AuditEvent.objects.filter(run_id=event.run_id, kind="download").count() > MIRROR_TOTAL


@pytest.mark.usefixtures("synced")
def test_a_second_run_with_no_upstream_change_writes_nothing_and_downloads_nothing(mirror):
    before = list(Product.objects.order_by("id").values())
    changes = ProductChange.objects.count()

    result = sync("--base-url", mirror.base_url)

    assert result.exit_code == 0
    assert list(Product.objects.order_by("id").values()) == before
    assert ProductChange.objects.count() == changes
    assert f"products: 0 created, 0 updated, {MIRROR_TOTAL} unchanged" in result.stdout
    assert "images: 0 downloaded (0 bytes)" in result.stdout
    assert image_requests(mirror) == []
    assert len(mirror.requests) == len(listing_requests(mirror)) == 2


def test_limit_syncs_only_the_first_products(mirror):
    assert sync("--base-url", mirror.base_url, "--limit", "10", "--no-images").exit_code == 0

    assert list(Product.objects.values_list("id", flat=True)) == list(range(1, 11))


@pytest.mark.usefixtures("synced")
def test_a_limited_run_does_not_unpublish_the_rest(mirror):
    assert sync("--base-url", mirror.base_url, "--limit", "5").exit_code == 0

    assert Product.objects.published().count() == MIRROR_TOTAL


def test_ids_syncs_only_those_products(mirror):
    result = sync("--base-url", mirror.base_url, "--ids", "1,5,9")

    assert result.exit_code == 0
    assert list(Product.objects.values_list("id", flat=True)) == [1, 5, 9]
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == image_count(mirror, {1, 5, 9})
    assert listing_requests(mirror) == []


def test_an_unknown_id_is_a_failure_named_in_the_summary(mirror):
    result = sync("--base-url", mirror.base_url, "--ids", "1,9999", "--no-images")

    assert result.exit_code == 1
    assert "product 9999: not found or not readable" in result.stderr
    assert f"audit_export --run {AuditEvent.objects.get(kind='sync').run_id}" in result.stdout
    assert list(Product.objects.values_list("id", flat=True)) == [1]


def test_category_syncs_only_that_category(mirror):
    result = sync("--base-url", mirror.base_url, "--category", "smartphones", "--no-images")

    expected = sorted(p["id"] for p in mirror.catalog if p["category"] == "smartphones")
    assert result.exit_code == 0
    assert sorted(Product.objects.values_list("id", flat=True)) == expected
    assert set(Product.objects.values_list("category__slug", flat=True)) == {"smartphones"}


def test_an_unknown_category_is_a_failure(mirror):
    result = sync("--base-url", mirror.base_url, "--category", "no-such-thing")

    assert result.exit_code == 1
    assert "category 'no-such-thing' has no products" in result.stderr
    assert not Product.objects.exists()


def test_no_images_downloads_nothing(mirror):
    assert sync("--base-url", mirror.base_url, "--limit", "3", "--no-images").exit_code == 0

    assert image_requests(mirror) == []
    assert set(ProductImage.objects.values_list("status", flat=True)) == {ImageStatus.PENDING}


def test_a_later_run_downloads_images_a_no_images_run_skipped(mirror):
    sync("--base-url", mirror.base_url, "--limit", "3", "--no-images")

    assert sync("--base-url", mirror.base_url, "--limit", "3").exit_code == 0
    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == image_count(mirror, {1, 2, 3})


@pytest.mark.usefixtures("synced")
def test_refresh_images_revalidates_with_conditional_requests(mirror):
    result = sync("--base-url", mirror.base_url, "--refresh-images")

    assert result.exit_code == 0
    assert "images: 0 downloaded (0 bytes)" in result.stdout
    assert len(image_requests(mirror)) == image_count(mirror)
    run_id = AuditEvent.objects.filter(kind="sync").first().run_id
    downloads = AuditEvent.objects.filter(run_id=run_id, kind="download")
    assert set(downloads.values_list("outcome", "status_code")) == {("not_modified", 304)}


@pytest.mark.usefixtures("synced")
def test_images_older_than_the_max_age_are_revalidated(mirror, settings):
    settings.CATALOG_IMAGE_MAX_AGE = 0

    sync("--base-url", mirror.base_url)

    assert len(image_requests(mirror)) == image_count(mirror)


@pytest.mark.usefixtures("synced")
def test_a_deleted_or_damaged_file_is_downloaded_again(mirror, settings):
    image = ProductImage.objects.get(product_id=2, kind="image", position=1)
    (settings.MEDIA_ROOT / image.file.name).write_bytes(b"damaged")
    ProductImage.objects.get(product_id=3, kind="thumbnail").file.delete(save=False)

    result = sync("--base-url", mirror.base_url)

    assert "images: 2 downloaded" in result.stdout
    assert sorted(image_requests(mirror)) == sorted(
        [
            image.source_url.split(mirror.base_url)[1],
            Product.objects.get(id=3).raw["thumbnail"].split(mirror.base_url)[1],
        ]
    )
    assert stored_images_match_their_hashes()


def test_page_size_sets_how_many_listing_requests_are_made(mirror):
    assert sync("--base-url", mirror.base_url, "--page-size", "50", "--no-images").exit_code == 0

    assert listing_requests(mirror) == [f"/products?limit=50&skip={skip}" for skip in (0, 50, 100, 150)]


def test_concurrency_one_still_syncs_everything(mirror):
    assert sync("--base-url", mirror.base_url, "--limit", "4", "--concurrency", "1").exit_code == 0

    assert ProductImage.objects.filter(status=ImageStatus.STORED).count() == image_count(mirror, {1, 2, 3, 4})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--limit", "0"), "argument --limit: expected a whole number of at least 1, got '0'"),
        (("--concurrency", "many"), "argument --concurrency: expected a whole number of at least 1, got 'many'"),
        (("--ids", "1,x"), "argument --ids: expected a whole number of at least 1, got 'x'"),
        (("--ids", ","), "argument --ids: wants product ids like 1,5,9"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(args, message):
    with pytest.raises(Exception, match=message):
        call_command("sync_products", *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--limit", "3", "--ids", "1"), "--limit cannot be combined with --ids or --category"),
        (("--ids", "1", "--category", "beauty"), "--ids and --category cannot be combined"),
    ],
)
def test_options_that_contradict_each_other_are_refused(args, message):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("sync_products", *args)
    assert caught.value.returncode == 2


def test_an_unreachable_source_exits_2_without_a_traceback():
    result = sync("--base-url", "http://127.0.0.1:9")

    assert result.exit_code == 2
    assert "the source could not be read" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout.strip().endswith("sync could not run")
    event = AuditEvent.objects.get(kind="sync")
    assert (event.outcome, event.details["exit_code"]) == ("error", 2)


def test_the_sync_events_can_be_exported_by_run(mirror, capsys):
    sync("--base-url", mirror.base_url, "--ids", "1")
    run_id = AuditEvent.objects.get(kind="sync").run_id

    call_command("audit_export", "--run", run_id)
    kinds = [json.loads(line)["kind"] for line in capsys.readouterr().out.splitlines()]

    assert kinds[0] == "fetch"
    assert kinds[-1] == "sync"
    assert set(kinds) == {"fetch", "gate", "download", "sync"}
    call_command("verify_audit")
