"""Image downloads over real sockets: storage, checks, the allow-list, redirects, size and time limits."""

import hashlib
import re
import threading
import time
from pathlib import Path

import pytest
from werkzeug import Response

from audit.models import AuditEvent
from catalog import client as client_module
from catalog.image_download import download_image
from catalog.transport import MAX_REDIRECTS
from tests import payloads

pytestmark = pytest.mark.django_db

FIFTY_MIB = 50 * 1024 * 1024
CHUNK = 64 * 1024


def media_files(settings) -> list[str]:
    """Every file under MEDIA_ROOT, as paths relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def outcomes():
    """(kind, outcome) of each audit event, oldest first."""
    return list(AuditEvent.objects.order_by("seq").values_list("kind", "outcome"))


def test_download_image_stores_the_bytes_under_a_name_made_from_id_and_position(api, dummyjson, settings):
    body = payloads.image_bytes("WEBP")
    api.expect_request("/product-images/beauty/lip-tint/whatever.webp").respond_with_data(
        body, content_type="image/webp"
    )

    result = download_image(
        api.url_for("/product-images/beauty/lip-tint/whatever.webp"),
        transport=dummyjson.transport,
        product_id=7,
        position=2,
    )

    assert (result.outcome, result.name, result.format, result.width, result.height) == (
        "ok",
        "products/7/2.webp",
        "WEBP",
        8,
        6,
    )
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.size == len(body)
    assert (Path(settings.MEDIA_ROOT) / "products/7/2.webp").read_bytes() == body
    assert outcomes() == [("download", "ok")]


def test_the_thumbnail_is_stored_as_thumbnail(api, dummyjson, settings):
    api.expect_request("/t.png").respond_with_data(payloads.image_bytes("PNG"), content_type="image/png")

    result = download_image(
        api.url_for("/t.png"), transport=dummyjson.transport, product_id=7, kind="thumbnail", position=0
    )

    assert result.name == "products/7/thumbnail.png"
    assert media_files(settings) == ["products/7/thumbnail.png"]


def test_the_stored_extension_follows_the_bytes_not_the_url(api, dummyjson):
    api.expect_request("/1.jpg").respond_with_data(payloads.image_bytes("PNG"), content_type="image/jpeg")

    assert download_image(api.url_for("/1.jpg"), transport=dummyjson.transport, product_id=3).name == "products/3/1.png"


def test_bytes_that_are_not_an_image_are_rejected_and_nothing_is_stored(api, dummyjson, settings):
    api.expect_request("/1.webp").respond_with_data(b"<html>Not found</html>", content_type="image/webp")

    result = download_image(api.url_for("/1.webp"), transport=dummyjson.transport, product_id=3)

    assert result.outcome == "invalid"
    assert result.message.startswith("not a readable image")
    assert not result.stored
    assert media_files(settings) == []
    assert outcomes() == [("download", "invalid")]


def test_a_truncated_image_is_rejected(api, dummyjson, settings):
    api.expect_request("/1.jpg").respond_with_data(payloads.image_bytes("JPEG", (64, 64))[:200])

    assert download_image(api.url_for("/1.jpg"), transport=dummyjson.transport, product_id=3).outcome == "invalid"
    assert media_files(settings) == []


def test_a_format_outside_the_setting_is_rejected(api, dummyjson, settings):
    settings.CATALOG_IMAGE_FORMATS = ["JPEG", "PNG"]
    api.expect_request("/1.webp").respond_with_data(payloads.image_bytes("WEBP"))

    result = download_image(api.url_for("/1.webp"), transport=dummyjson.transport, product_id=3)

    assert (result.outcome, result.message) == ("invalid", "WEBP is not an allowed format (JPEG, PNG)")
    assert media_files(settings) == []


def test_an_unchanged_image_answers_304_and_nothing_is_written(api, dummyjson, settings):
    api.expect_request("/1.webp", headers={"If-None-Match": '"v1"'}).respond_with_data(b"", status=304)

    result = download_image(api.url_for("/1.webp"), transport=dummyjson.transport, product_id=3, etag='"v1"')

    assert (result.outcome, result.etag, result.stored) == ("not_modified", '"v1"', False)
    assert media_files(settings) == []


def test_download_product_images_stores_gallery_and_thumbnail(api, settings):
    base = api.url_for("/product-images/beauty/velvet-matte-lip-tint")
    product = payloads.product(images=[f"{base}/1.webp", f"{base}/2.webp"], thumbnail=f"{base}/thumbnail.webp")
    api.expect_request("/products/7").respond_with_json(product)
    for name in ("1.webp", "2.webp", "thumbnail.webp"):
        api.expect_request(f"/product-images/beauty/velvet-matte-lip-tint/{name}").respond_with_data(
            payloads.image_bytes("WEBP")
        )

    stored = client_module.download_product_images(7)

    assert [result.name for result in stored] == ["products/7/1.webp", "products/7/2.webp", "products/7/thumbnail.webp"]
    assert media_files(settings) == ["products/7/1.webp", "products/7/2.webp", "products/7/thumbnail.webp"]


def test_download_product_images_returns_none_for_an_unknown_product(api):
    api.expect_request("/products/999").respond_with_json({"message": "Product with id '999' not found"}, status=404)

    assert client_module.download_product_images(999) is None


def test_a_host_outside_the_allow_list_is_refused_before_any_request(api, dummyjson, settings):
    # Same server, other name: it would answer, so an empty log proves nothing was sent.
    url = f"http://localhost:{api.port}/1.webp"

    result = download_image(url, transport=dummyjson.transport, product_id=3)

    assert (result.outcome, result.message) == ("blocked", "host 'localhost' is not in CATALOG_IMAGE_HOSTS")
    assert not api.log
    assert media_files(settings) == []
    [event] = AuditEvent.objects.all()
    assert (event.outcome, event.status_code, event.url) == ("blocked", None, url)


def test_a_host_in_catalog_image_hosts_is_allowed(api, dummyjson, settings):
    settings.CATALOG_IMAGE_HOSTS = ["cdn.dummyjson.com", "localhost"]
    api.expect_request("/1.png").respond_with_data(payloads.image_bytes("PNG"))

    assert (
        download_image(f"http://localhost:{api.port}/1.png", transport=dummyjson.transport, product_id=3).outcome
        == "ok"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("ftp://cdn.dummyjson.com/1.jpg", "scheme 'ftp' is not allowed"),
        ("http://169.254.169.254/latest/meta-data", "host '169.254.169.254' is not in CATALOG_IMAGE_HOSTS"),
        ("http://10.0.0.5/1.jpg", "host '10.0.0.5' is not in CATALOG_IMAGE_HOSTS"),
        ("http://[::1]:99999/1.jpg", "the URL cannot be parsed"),
        ("/relative/1.jpg", "scheme '(none)' is not allowed"),
        ("http://169.254.169.254\\@cdn.dummyjson.com/1.jpg", "URLs with a backslash or user info are not allowed"),
        ("http://user:pw@cdn.dummyjson.com/1.jpg", "URLs with a backslash or user info are not allowed"),
    ],
)
def test_other_schemes_and_hosts_are_blocked(dummyjson, url, message):
    result = download_image(url, transport=dummyjson.transport, product_id=3)

    assert (result.outcome, result.message) == ("blocked", message)


def test_a_redirect_to_a_disallowed_host_is_not_followed(api, dummyjson, settings):
    target = f"http://localhost:{api.port}/stolen.webp"
    api.expect_request("/1.webp").respond_with_data("", status=302, headers={"Location": target})

    result = download_image(api.url_for("/1.webp"), transport=dummyjson.transport, product_id=3)

    assert result.outcome == "blocked"
    assert len(api.log) == 1
    assert outcomes() == [("download", "ok"), ("download", "blocked")]
    assert AuditEvent.objects.order_by("seq").first().details == {"location": target}
    assert media_files(settings) == []


def test_a_redirect_within_allowed_hosts_is_followed(api, dummyjson):
    api.expect_request("/old/1.webp").respond_with_data("", status=301, headers={"Location": "/new/1.webp"})
    api.expect_request("/new/1.webp").respond_with_data(payloads.image_bytes("WEBP"))

    assert (
        download_image(api.url_for("/old/1.webp"), transport=dummyjson.transport, product_id=3).name
        == "products/3/1.webp"
    )


def test_a_redirect_loop_ends(api, dummyjson):
    api.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})

    result = download_image(api.url_for("/loop"), transport=dummyjson.transport, product_id=3)

    assert (result.outcome, result.message) == ("http_error", "more than 5 redirects")
    assert len(api.log) == MAX_REDIRECTS + 1


@pytest.mark.parametrize("path", ["/a/../../../etc/1.webp", "/a/..%2F..%2Fevil/1.webp", "/a/%2e%2e/x/..%2f1.webp"])
def test_dot_dot_and_encoded_slashes_in_the_url_cannot_place_a_file_outside_media_root(
    api, dummyjson, settings, tmp_path, path
):
    api.expect_request(re.compile(".*")).respond_with_data(payloads.image_bytes("WEBP"))

    result = download_image(f"{api.url_for('')}{path.lstrip('/')}", transport=dummyjson.transport, product_id=3)

    assert result.name == "products/3/1.webp"
    everything = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert everything == ["media/products/3/1.webp"]
    assert media_files(settings) == ["products/3/1.webp"]


def test_a_declared_oversized_body_is_refused_without_reading_it(api, dummyjson, settings):
    settings.CATALOG_MAX_IMAGE_BYTES = 1024 * 1024
    sent = {"bytes": 0}

    def offer_fifty_mib():
        for _ in range(FIFTY_MIB // CHUNK):
            sent["bytes"] += CHUNK
            yield b"\0" * CHUNK

    api.expect_request("/big.webp").respond_with_response(
        Response(offer_fifty_mib(), headers={"Content-Length": str(FIFTY_MIB)}, content_type="image/webp")
    )

    result = download_image(api.url_for("/big.webp"), transport=dummyjson.transport, product_id=3)

    assert (result.outcome, result.size) == ("too_large", 0)
    assert result.message == f"declares {FIFTY_MIB} bytes, over {1024 * 1024}"
    assert sent["bytes"] < FIFTY_MIB // 4


def test_a_streamed_oversized_body_stops_reading_past_the_cap(api, dummyjson, settings):
    settings.CATALOG_MAX_IMAGE_BYTES = 1024 * 1024
    sent = {"bytes": 0}

    def stream_fifty_mib():
        for _ in range(FIFTY_MIB // CHUNK):
            sent["bytes"] += CHUNK
            yield b"\0" * CHUNK

    api.expect_request("/big.webp").respond_with_response(Response(stream_fifty_mib(), content_type="image/webp"))

    result = download_image(api.url_for("/big.webp"), transport=dummyjson.transport, product_id=3)

    assert result.outcome == "too_large"
    assert result.message == f"body passed {1024 * 1024} bytes; stopped reading"
    assert media_files(settings) == []
    assert sent["bytes"] < FIFTY_MIB // 4


def test_a_server_that_never_answers_times_out(api, dummyjson, settings):
    settings.DUMMYJSON_TIMEOUT = "1,0.3"
    client = client_module.new_client()
    released = threading.Event()
    api.expect_request("/products/7").respond_with_handler(lambda _request: released.wait(2) and Response("late"))

    started = time.monotonic()
    assert client.get_product(7) is None
    elapsed = time.monotonic() - started
    released.set()

    assert elapsed < 1.5
    assert AuditEvent.objects.get().outcome == "timeout"
    assert dummyjson.transport.timeout == (2.0, 2.0)


def test_a_trickling_download_is_stopped_by_the_wall_clock_deadline(api, settings):
    settings.DUMMYJSON_DEADLINE = 0.5
    client = client_module.new_client()

    def trickle():
        for _ in range(100):
            time.sleep(0.05)
            yield b"x"

    api.expect_request("/slow.webp").respond_with_response(Response(trickle(), content_type="image/webp"))

    started = time.monotonic()
    result = download_image(api.url_for("/slow.webp"), transport=client.transport, product_id=3)

    assert (result.outcome, result.message) == ("timeout", "body not complete within 0.5 s")
    assert time.monotonic() - started < 2.0


def test_a_body_that_cannot_be_stored_is_recorded_as_an_error(api, dummyjson, mocker):
    api.expect_request("/1.png").respond_with_data(payloads.image_bytes("PNG"))
    mocker.patch("catalog.storage.AtomicFileSystemStorage._save", side_effect=OSError("disk full"))

    result = download_image(api.url_for("/1.png"), transport=dummyjson.transport, product_id=3)

    assert (result.outcome, result.message) == ("error", "could not check or store the body: disk full")
    assert outcomes() == [("download", "error")]
