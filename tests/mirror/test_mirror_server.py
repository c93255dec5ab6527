"""The mirror's HTTP endpoints over real loopback sockets."""

import io
import time

import pytest
import requests
from PIL import Image

from mirror.catalog import CATEGORIES, SYNTHETIC, build_catalog
from mirror.server import MirrorServer

TIMEOUT = 5


# These tests pin generated titles, slugs and image formats: this module serves the generator.
@pytest.fixture(name="mirror_server", scope="module")
def fixture_synthetic_mirror_server():
    """A mirror of the generated catalog (`--dataset synthetic`), shared by this module."""
    with MirrorServer(dataset=SYNTHETIC) as server:
        yield server


def get(server, path, **kwargs):
    """GET a path on the server, without following redirects."""
    return requests.get(f"{server.base_url}{path}", timeout=TIMEOUT, allow_redirects=False, **kwargs)


def test_products_lists_the_first_30_in_an_envelope(mirror):
    body = get(mirror, "/products").json()
    assert list(body) == ["products", "total", "skip", "limit"]
    assert [p["id"] for p in body["products"]] == list(range(1, 31))
    assert (body["total"], body["skip"], body["limit"]) == (194, 0, 30)


def test_products_match_the_catalog_with_the_servers_own_urls(mirror):
    expected = build_catalog(base_url=mirror.base_url, dataset=SYNTHETIC).product(1)
    assert get(mirror, "/products?limit=1").json()["products"] == [expected]
    assert expected["thumbnail"].startswith(f"{mirror.base_url}/product-images/")


def test_limit_zero_returns_every_product(mirror):
    body = get(mirror, "/products?limit=0").json()
    assert (len(body["products"]), body["total"], body["limit"]) == (194, 194, 194)


def test_limit_has_no_maximum(mirror):
    assert get(mirror, "/products?limit=1000").json()["limit"] == 194


def test_reply_limit_counts_what_was_returned_after_skip(mirror):
    body = get(mirror, "/products?skip=190&limit=10").json()
    assert [p["id"] for p in body["products"]] == [191, 192, 193, 194]
    assert (body["total"], body["skip"], body["limit"]) == (194, 190, 4)


def test_select_returns_only_those_fields_plus_id(mirror):
    body = get(mirror, "/products?limit=2&select=title,price").json()
    assert [list(p) for p in body["products"]] == [["id", "title", "price"]] * 2


def test_select_of_an_unknown_field_returns_only_id(mirror):
    assert get(mirror, "/products?limit=1&select=nope").json()["products"] == [{"id": 1}]


def test_sort_by_price_ascending_and_descending(mirror):
    ascending = [p["price"] for p in get(mirror, "/products?limit=0&sortBy=price&order=asc").json()["products"]]
    descending = [p["price"] for p in get(mirror, "/products?limit=0&sortBy=price&order=desc").json()["products"]]
    assert ascending == sorted(ascending)
    assert len(ascending) == 194
    assert descending == sorted(ascending, reverse=True)


def test_sort_puts_products_without_the_field_last(mirror):
    products = get(mirror, "/products?limit=0&sortBy=brand&select=brand").json()["products"]
    brands = [p.get("brand") for p in products]
    present = [b for b in brands if b is not None]
    assert brands == present + [None] * (194 - len(present))
    assert present == sorted(present)


def test_an_order_other_than_asc_or_desc_is_a_400(mirror):
    response = get(mirror, "/products?sortBy=price&order=sideways")
    assert response.status_code == 400
    assert response.json() == {"message": "Order can be: 'asc' or 'desc'"}


def test_order_without_sort_by_is_ignored(mirror):
    assert get(mirror, "/products?order=sideways").status_code == 200


@pytest.mark.parametrize("name", ["limit", "skip"])
@pytest.mark.parametrize("value", ["abc", "1x", "1&{name}=2"])
def test_a_limit_or_skip_that_is_not_a_number_is_a_400_with_the_real_message(mirror, name, value):
    response = get(mirror, f"/products?{name}={value.format(name=name)}")
    assert response.status_code == 400
    assert response.json() == {"message": f"Invalid '{name}' - must be a number"}


def test_a_negative_limit_drops_that_many_from_the_end_as_upstream_does(mirror):
    assert [p["id"] for p in get(mirror, "/products?limit=-190").json()["products"]] == [1, 2, 3, 4]


def test_a_negative_skip_is_ignored_but_echoed(mirror):
    body = get(mirror, "/products?limit=2&skip=-5").json()
    assert ([p["id"] for p in body["products"]], body["skip"]) == ([1, 2], -5)


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        ("abc", "Delay must be a number in milliseconds"),
        ("5001", "Delay cannot be greater than 5 seconds"),
        ("-1", "Delay cannot be less than 0"),
    ],
)
def test_a_bad_delay_is_a_400_with_the_real_message(mirror, delay, message):
    response = get(mirror, f"/products/1?delay={delay}")
    assert (response.status_code, response.json()) == (400, {"message": message})


def test_delay_holds_the_answer_back(mirror):
    started = time.perf_counter()
    assert get(mirror, "/products/1?delay=300").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_q_in_brackets_searches_like_q(mirror):
    plain = get(mirror, "/products/search?q=phone").json()
    assert get(mirror, "/products/search?q[valueSearch]=phone").json() == plain
    assert plain["total"] > 0


@pytest.mark.parametrize("query", ["q[]=phone", "q[other]=phone", "q=a&q=b"])
def test_q_that_is_not_a_string_is_a_400(mirror, query):
    response = get(mirror, f"/products/search?{query}")
    assert (response.status_code, response.json()) == (400, {"message": "Invalid 'q' - must be a string"})


def test_product_by_id_is_the_bare_object(mirror):
    body = get(mirror, "/products/7").json()
    assert body == build_catalog(base_url=mirror.base_url, dataset=SYNTHETIC).product(7)


def test_product_by_id_supports_select(mirror):
    assert get(mirror, "/products/7?select=title").json() == {"id": 7, "title": "Amber & Plum Cologne"}


def test_unknown_product_returns_404_with_message(mirror):
    response = get(mirror, "/products/999")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"message": "Product with id '999' not found"}


@pytest.mark.parametrize("raw_id", ["abc", "0", "01"])
def test_non_numeric_or_non_canonical_ids_are_not_found_like_upstream(mirror, raw_id):
    response = get(mirror, f"/products/{raw_id}")
    assert response.status_code == 404
    assert response.json() == {"message": f"Product with id '{raw_id}' not found"}


def test_search_matches_title_or_description_case_insensitively(mirror):
    catalog = build_catalog(base_url=mirror.base_url, dataset=SYNTHETIC)
    in_title = {p["id"] for p in catalog if "walnut" in p["title"].lower()}
    in_description = {p["id"] for p in catalog if "walnut" in p["description"].lower()}
    body = get(mirror, "/products/search?q=WalNut&limit=0").json()
    assert [p["id"] for p in body["products"]] == sorted(in_title | in_description)
    assert (body["total"], len(in_title - in_description), len(in_description - in_title)) == (27, 15, 12)


def test_search_reads_dashes_as_spaces(mirror):
    body = get(mirror, "/products/search?q=amber-%26-plum&select=title").json()
    assert body == {"products": [{"id": 7, "title": "Amber & Plum Cologne"}], "total": 1, "skip": 0, "limit": 1}


def test_search_with_an_empty_query_matches_everything(mirror):
    body = get(mirror, "/products/search?q=").json()
    assert (body["total"], body["limit"]) == (194, 30)


def test_search_supports_limit_skip_and_select(mirror):
    body = get(mirror, "/products/search?q=&limit=2&skip=5&select=id").json()
    assert body == {"products": [{"id": 6}, {"id": 7}], "total": 194, "skip": 5, "limit": 2}


def test_search_without_matches_is_an_empty_envelope(mirror):
    assert get(mirror, "/products/search?q=zzzz").json() == {"products": [], "total": 0, "skip": 0, "limit": 0}


def test_categories_list_slug_name_and_url(mirror):
    body = get(mirror, "/products/categories").json()
    assert len(body) == 24
    assert body[4] == {
        "slug": "home-decoration",
        "name": "Home Decoration",
        "url": f"{mirror.base_url}/products/category/home-decoration",
    }


def test_category_list_is_the_24_slugs(mirror):
    assert get(mirror, "/products/category-list").json() == list(CATEGORIES)


def test_category_returns_its_products_in_an_envelope(mirror):
    body = get(mirror, "/products/category/beauty?select=category").json()
    assert body == {
        "products": [{"id": i, "category": "beauty"} for i in range(1, 6)],
        "total": 5,
        "skip": 0,
        "limit": 5,
    }


def test_category_slug_matches_case_insensitively(mirror):
    assert get(mirror, "/products/category/BEAUTY").json()["total"] == 5


def test_unknown_category_is_200_with_no_products(mirror):
    response = get(mirror, "/products/category/nope")
    assert response.status_code == 200
    assert response.json() == {"products": [], "total": 0, "skip": 0, "limit": 0}


@pytest.mark.parametrize(
    ("path", "location"),
    [("/products/", "/products"), ("/products/1/?select=title", "/products/1?select=title")],
)
def test_trailing_slash_redirects_permanently_to_the_path_without_it(mirror, path, location):
    response = get(mirror, path)
    assert response.status_code == 301
    assert response.headers["Location"] == location


@pytest.mark.parametrize("path", ["/products/1/x", "/carts", "/"])
def test_unknown_deeper_path_returns_404_html(mirror, path):
    response = get(mirror, path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"<pre>Cannot GET {path}</pre>" in response.text


def test_json_has_a_weak_etag_and_a_matching_if_none_match_gets_304(mirror):
    first = get(mirror, "/products/1")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = get(mirror, "/products/1", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    assert get(mirror, "/products/1", headers={"If-None-Match": '"other"'}).status_code == 200
    assert get(mirror, "/products/2", headers={"If-None-Match": etag}).status_code == 200


def test_head_sends_the_get_headers_without_a_body(mirror):
    full = get(mirror, "/products/3")
    head = requests.head(f"{mirror.base_url}/products/3", timeout=TIMEOUT)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == full.headers["Content-Length"] == str(len(full.content))


def test_every_image_of_a_product_is_served_in_its_format_and_size(mirror):
    product = get(mirror, "/products/1").json()
    pillow_formats = {"webp": "WEBP", "jpg": "JPEG", "png": "PNG"}
    content_types = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
    for url, side in [*((u, 600) for u in product["images"]), (product["thumbnail"], 300)]:
        response = requests.get(url, timeout=TIMEOUT)
        ext = url.rsplit(".", 1)[1]
        assert response.status_code == 200
        assert response.headers["Content-Type"] == content_types[ext]
        assert response.headers["Content-Length"] == str(len(response.content))
        with Image.open(io.BytesIO(response.content)) as image:
            assert (image.format, image.size) == (pillow_formats[ext], (side, side))


def test_jpg_and_png_products_serve_matching_bytes(mirror):
    assert requests.get(get(mirror, "/products/6").json()["thumbnail"], timeout=TIMEOUT).content[:3] == b"\xff\xd8\xff"
    assert (
        requests.get(get(mirror, "/products/15").json()["thumbnail"], timeout=TIMEOUT).content[:8]
        == b"\x89PNG\r\n\x1a\n"
    )


@pytest.mark.parametrize("pid", [7, 13, 17])
def test_percent_encoded_slugs_with_special_characters_are_decoded(mirror, pid):
    url = get(mirror, f"/products/{pid}").json()["thumbnail"]
    assert "%" in url or "." in url.rsplit("/", 2)[1]
    assert requests.get(url, timeout=TIMEOUT).status_code == 200


def test_images_carry_an_etag_and_honour_if_none_match(mirror):
    url = get(mirror, "/products/2").json()["thumbnail"]
    etag = requests.get(url, timeout=TIMEOUT).headers["ETag"]
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=TIMEOUT)
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize(
    "path",
    [
        "/product-images/beauty/no-such-slug/1.webp",
        "/product-images/beauty/willow-leather-eye-palette/2.webp",
        "/product-images/beauty/willow-leather-eye-palette/1.png",
        "/product-images/beauty/willow-leather-eye-palette",
    ],
)
def test_unknown_images_are_404(mirror, path):
    assert get(mirror, path).status_code == 404


def test_qr_code_is_a_png_on_the_mirror(mirror):
    url = get(mirror, "/products/1").json()["meta"]["qrCode"]
    response = requests.get(url, timeout=TIMEOUT)
    assert url == f"{mirror.base_url}/public/qr-code.png"
    assert (response.status_code, response.headers["Content-Type"]) == (200, "image/png")


def test_the_request_log_records_method_and_target(mirror):
    get(mirror, "/products/1?select=title")
    get(mirror, "/products/1")
    requests.head(f"{mirror.base_url}/products", timeout=TIMEOUT)
    assert list(mirror.requests) == [("GET", "/products/1?select=title"), ("GET", "/products/1"), ("HEAD", "/products")]
    assert (mirror.hits("/products/1"), mirror.hits("/products"), mirror.hits("/products/2")) == (2, 1, 0)


def test_same_seed_serves_the_same_bytes_on_another_server(mirror, mirror_factory):
    other = mirror_factory(dataset=SYNTHETIC)
    ours, theirs = get(mirror, "/products?limit=0"), get(other, "/products?limit=0")
    assert ours.text.replace(mirror.base_url, "") == theirs.text.replace(other.base_url, "")
    path = "/product-images/beauty/willow-leather-eye-palette/1.webp"
    assert get(mirror, path).content == get(other, path).content


def test_a_different_seed_serves_different_products_and_images(mirror, mirror_factory):
    other = mirror_factory(seed=7, dataset=SYNTHETIC)
    assert get(other, "/products/1").json()["title"] != get(mirror, "/products/1").json()["title"]
    assert get(other, "/products/category-list").json() == list(CATEGORIES)
    ours = requests.get(get(mirror, "/products/1").json()["thumbnail"], timeout=TIMEOUT).content
    theirs = requests.get(get(other, "/products/1").json()["thumbnail"], timeout=TIMEOUT).content
    assert ours != theirs


def test_image_sizes_are_configurable(mirror_factory):
    server = mirror_factory(image_size=64, thumbnail_size=32, dataset=SYNTHETIC)
    product = get(server, "/products/1").json()
    with Image.open(io.BytesIO(requests.get(product["images"][0], timeout=TIMEOUT).content)) as image:
        assert image.size == (64, 64)
    with Image.open(io.BytesIO(requests.get(product["thumbnail"], timeout=TIMEOUT).content)) as image:
        assert image.size == (32, 32)


def test_scale_10000_serves_every_id_quickly(mirror_factory):
    server = mirror_factory(scale=10_000)
    started = time.perf_counter()
    body = get(server, "/products?limit=3&skip=9997&select=id").json()
    assert body == {"products": [{"id": 9998}, {"id": 9999}, {"id": 10000}], "total": 10_000, "skip": 9997, "limit": 3}
    assert get(server, "/products/10000").status_code == 200
    assert get(server, "/products/10001").status_code == 404
    thumbnail = get(server, "/products/9999").json()["thumbnail"]
    assert requests.get(thumbnail, timeout=TIMEOUT).status_code == 200
    assert time.perf_counter() - started < 5


def test_latency_delays_every_response(mirror_factory):
    server = mirror_factory(latency_ms=200)
    started = time.perf_counter()
    assert get(server, "/products/1").status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_non_loopback_hosts_are_refused():
    with pytest.raises(ValueError, match=r"refusing to bind '0.0.0.0'"):
        MirrorServer(host="0.0.0.0")
    with pytest.raises(ValueError):
        MirrorServer(host="example.com")


def test_localhost_binds_127_0_0_1_and_the_context_manager_stops_it():
    with MirrorServer(host="localhost") as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert get(server, "/products/category-list").status_code == 200
    with pytest.raises(requests.ConnectionError):
        get(server, "/products")


def test_images_can_be_kept_in_a_disk_cache(mirror_factory, tmp_path):
    server = mirror_factory(cache_dir=str(tmp_path), dataset=SYNTHETIC)
    first = get(server, "/product-images/beauty/willow-leather-eye-palette/thumbnail.webp").content
    cached = list(tmp_path.iterdir())
    assert [path.name for path in cached] == ["v1-42-1-thumbnail-300.webp"]
    assert cached[0].read_bytes() == first
    fresh = mirror_factory(cache_dir=str(tmp_path), dataset=SYNTHETIC)
    assert get(fresh, "/product-images/beauty/willow-leather-eye-palette/thumbnail.webp").content == first
