"""Fault specs and each injected fault as a client sees it."""

import http.client
import json
import threading
import time

import pytest
import requests

from mirror.catalog import SYNTHETIC
from mirror.faults import RATE_LIMIT_MESSAGE, Fault, FaultPlan, parse_faults
from mirror.server import MirrorServer

TIMEOUT = 5
IMAGE_1 = "/product-images/beauty/willow-leather-eye-palette/1.webp"  # product 1, WebP
IMAGE_24 = "/product-images/groceries/lunar-leather-tea-blend/thumbnail.png"  # product 24, PNG


# These tests pin generated titles, slugs and image formats: this module serves the generator.
@pytest.fixture(name="mirror_server", scope="module")
def fixture_synthetic_mirror_server():
    """A mirror of the generated catalog (`--dataset synthetic`), shared by this module."""
    with MirrorServer(dataset=SYNTHETIC) as server:
        yield server


def get(server, path, timeout=TIMEOUT, **kwargs):
    """GET a path on the server, without following redirects."""
    return requests.get(f"{server.base_url}{path}", timeout=timeout, allow_redirects=False, **kwargs)


def raw_get(server, path, timeout=TIMEOUT):
    """A response object whose body has not been read yet."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    connection.request("GET", path)
    return connection, connection.getresponse()


def test_specs_parse_names_values_and_selectors():
    assert parse_faults("5xx-burst:3, slow@images,bad-json@ids=1+2,oversized-image:2@every=3") == (
        Fault("5xx-burst", 3.0, frozenset({"api", "images"})),
        Fault("slow", 10.0, frozenset({"images"})),
        Fault("bad-json", 0, frozenset({"api"}), ids=frozenset({1, 2})),
        Fault("oversized-image", 2.0, frozenset({"images"}), every=3),
    )
    assert parse_faults(["rate-limit", Fault("throttle", 5, frozenset({"api"}))])[1].value == 5
    assert not parse_faults("")
    assert not parse_faults(None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode", "unknown fault 'explode'"),
        ("slow:soon", "is not a number"),
        ("slow:-1", "must be a finite number >= 0"),
        ("slow@somewhere", "bad selector 'somewhere'"),
        ("bad-json@images", "cannot apply"),
        ("truncate@ids=", "bad selector"),
        ("truncate@every=0", "bad selector"),
    ],
)
def test_bad_specs_raise_a_readable_error(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_faults(spec)


def test_selectors_choose_kinds_and_products():
    fault = parse_faults("truncate@images@every=2")[0]
    assert [fault.applies("images", pid) for pid in (1, 2, None)] == [False, True, False]
    assert not fault.applies("api", 2)
    assert parse_faults("truncate@ids=5")[0].applies("api", 5)


def test_5xx_burst_fails_the_first_requests_of_each_path_then_recovers(mirror):
    mirror.set_faults("5xx-burst:3")
    assert [get(mirror, "/products/1").status_code for _ in range(4)] == [503, 500, 502, 200]
    assert [get(mirror, "/products/1?select=id").status_code for _ in range(2)] == [503, 500]
    assert get(mirror, "/products/2").json() == {"message": "injected 503 (1/3)"}
    assert mirror.hits("/products/1") == 6


def test_5xx_burst_applies_to_images_too(mirror):
    mirror.set_faults("5xx-burst:1")
    assert [get(mirror, IMAGE_1).status_code for _ in range(2)] == [503, 200]


def test_a_fault_scoped_to_ids_spares_other_products_and_lists(mirror):
    mirror.set_faults("5xx-burst:1@ids=24")
    assert get(mirror, "/products/1").status_code == 200
    assert get(mirror, "/products").status_code == 200
    assert get(mirror, "/products/24").status_code == 503
    assert get(mirror, IMAGE_24).status_code == 503
    assert get(mirror, IMAGE_1).status_code == 200


def test_set_faults_replaces_faults_at_runtime_and_reset_restarts_counters(mirror):
    mirror.set_faults("5xx-burst:1")
    assert get(mirror, "/products/1").status_code == 503
    assert get(mirror, "/products/1").status_code == 200
    mirror.reset()
    assert get(mirror, "/products/1").status_code == 503
    assert list(mirror.requests) == [("GET", "/products/1")]
    mirror.set_faults(())
    assert get(mirror, "/products/3").status_code == 200


def test_rate_limit_answers_429_with_retry_after_then_serves(mirror):
    mirror.set_faults("rate-limit:2")
    first = get(mirror, "/products")
    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert first.json() == {"message": RATE_LIMIT_MESSAGE}
    assert [get(mirror, "/products").status_code for _ in range(2)] == [429, 200]


def test_throttle_allows_n_requests_per_window_across_paths(mirror):
    mirror.set_faults("throttle:3")
    statuses = [get(mirror, f"/products/{pid}").status_code for pid in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = get(mirror, "/products/9")
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert refused.json() == {"message": "request limit exceeded, please wait a few seconds"}


def test_throttle_window_slides():
    clock = [1000.0]
    plan = FaultPlan("throttle:1", clock=lambda: clock[0])
    assert plan.refusal("api", "/products", None) is None
    assert plan.refusal("api", "/products", None)[0] == 429
    clock[0] += 10
    assert plan.refusal("api", "/products", None) is None


def test_slow_holds_the_status_line_past_a_read_timeout(mirror):
    mirror.set_faults("slow:0.6@ids=1")
    with pytest.raises(requests.ReadTimeout):
        get(mirror, "/products/1", timeout=(TIMEOUT, 0.2))


def test_slow_holds_only_the_products_it_is_scoped_to(mirror):
    mirror.set_faults("slow:4@ids=1")
    held = threading.Thread(target=get, args=(mirror, "/products/1"), kwargs={"timeout": (TIMEOUT, 10)})
    held.start()
    assert get(mirror, "/products/2").status_code == 200
    # Product 2 was answered while product 1 was still held: the fault is scoped, not global.
    assert held.is_alive()
    held.join()


def test_trickle_keeps_every_read_alive_so_only_a_deadline_stops_it(mirror):
    mirror.set_faults("trickle:0.05")
    connection, response = raw_get(mirror, "/products?limit=0", timeout=1)
    total = int(response.headers["Content-Length"])
    received, deadline = b"", time.monotonic() + 0.5
    while time.monotonic() < deadline:
        received += response.read1(64)  # each read returns within the 1 s socket timeout
    connection.close()
    assert response.status == 200
    assert 8 <= len(received) <= 200 < total


def test_truncate_sends_less_than_content_length_then_closes(mirror):
    mirror.set_faults("truncate:0.25")
    connection, response = raw_get(mirror, "/products/1")
    declared = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    connection.close()
    assert len(caught.value.partial) == int(declared * 0.25)


def test_truncate_makes_requests_raise(mirror):
    mirror.set_faults("truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(mirror, IMAGE_1)


def test_bad_json_is_a_200_with_a_body_that_does_not_parse(mirror):
    mirror.set_faults("bad-json")
    response = get(mirror, "/products/1")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(response.content))
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert get(mirror, IMAGE_1).content[:4] == b"RIFF"


def test_oversized_image_streams_the_declared_size(mirror):
    mirror.set_faults("oversized-image:2@ids=1")
    response = get(mirror, IMAGE_1, stream=True)
    assert response.headers["Content-Length"] == str(2 * 1024 * 1024)
    assert response.headers["Content-Type"] == "image/webp"
    chunks = list(response.iter_content(64 * 1024))
    assert chunks[0][:4] == b"RIFF"
    assert sum(map(len, chunks)) == 2 * 1024 * 1024
    assert len(get(mirror, IMAGE_24).content) < 100_000


def test_oversized_image_defaults_to_50_mib_without_reading_it(mirror):
    mirror.set_faults("oversized-image")
    connection, response = raw_get(mirror, IMAGE_1)
    assert response.headers["Content-Length"] == str(50 * 1024 * 1024)
    connection.close()
    assert get(mirror, "/products/1").status_code == 200


def test_not_image_serves_html_under_an_image_content_type(mirror):
    mirror.set_faults("not-image@every=2")
    response = get(mirror, IMAGE_24)
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"<!DOCTYPE html>")
    assert get(mirror, IMAGE_1).content[:4] == b"RIFF"


def test_wrong_format_serves_bytes_that_do_not_match_the_extension(mirror):
    mirror.set_faults("wrong-format")
    webp = get(mirror, IMAGE_1)
    png = get(mirror, IMAGE_24)
    assert (webp.headers["Content-Type"], webp.content[:8]) == ("image/webp", b"\x89PNG\r\n\x1a\n")
    assert (png.headers["Content-Type"], png.content[:3]) == ("image/png", b"\xff\xd8\xff")


def test_stop_wakes_a_slow_response_instead_of_waiting_for_it(mirror_factory):
    server = mirror_factory(faults="slow:30")
    errors = []

    def call():
        try:
            get(server, "/products/1")
        except requests.RequestException as error:
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    server.stop()
    caller.join(timeout=5)
    # The fault holds for 30 s: a caller that is done within 5 s was released by stop().
    assert not caller.is_alive()
    assert len(errors) == 1
