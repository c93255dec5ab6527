"""Offline DummyJSON-compatible mirror: invented products, generated images, injectable faults.

Pure stdlib + Pillow (no Django); it binds 127.0.0.1 only and never needs the network.

Run it::

    python -m mirror --port 8001 [--host 127.0.0.1] [--seed 42] [--scale 194] [--latency-ms 0]
                     [--faults SPECS] [--image-size 600] [--thumbnail-size 300]
                     [--cache-dir .mirror-cache] [--verbose]

It prints ``mirror: serving 194 products at http://127.0.0.1:8001``, serves until Ctrl-C or
SIGTERM and exits 0. ``--port 0`` picks a free port; a non-loopback ``--host`` is refused.
Rendered images are kept in ``--cache-dir`` (``''`` for memory only) so later runs are instant.

Use it from Python::

    from mirror import MirrorServer
    with MirrorServer(seed=42, scale=194, latency_ms=0, faults="5xx-burst:2") as server:
        requests.get(f"{server.base_url}/products?limit=5")
        server.hits("/products")             # 1; server.requests lists (method, raw target)
        server.set_faults("oversized-image@every=3")   # replace faults at runtime
        server.reset()                       # clear the request log and fault counters

With pytest (``-p mirror.pytest_plugin``): ``mirror_server`` (session-wide default server),
``mirror`` (that server with faults cleared and an empty request log, per test) and
``mirror_factory`` (``mirror_factory(scale=10_000, latency_ms=50, faults="slow:2")`` starts
extra servers, all stopped after the test).

Endpoints (GET and HEAD), as the real API at https://dummyjson.com:

- ``/products``: ``{"products", "total", "skip", "limit"}``; ``limit`` (default 30, 0 = all, no
  maximum), ``skip``, ``select=a,b`` (plus ``id``), ``sortBy=FIELD&order=asc|desc``. The reply's
  ``limit`` is the number of products returned.
- ``/products/{id}``: the bare product; unknown or non-numeric id: 404
  ``{"message": "Product with id '999' not found"}``.
- ``/products/search?q=``: ``q`` lower-cased, ``-`` read as a space, substring of title or
  description; empty ``q`` matches all. Same paging/select/sort parameters.
- ``/products/categories`` (``[{slug, name, url}]``), ``/products/category-list`` (slugs),
  ``/products/category/{slug}`` (envelope; unknown slug: 200 with no products).
- ``/product-images/{category}/{slug}/{n|thumbnail}.{webp|jpg|png}``: images drawn with Pillow
  (600x600 gallery, 300x300 thumbnails by default), and ``/public/qr-code.png``.
- Errors: non-numeric or negative ``limit``/``skip`` and ``order`` other than asc/desc: 400
  ``{"message"}``; trailing slash: 301 to the path without it; other paths: 404 HTML page.
- JSON carries a weak ETag, images a strong one; a matching ``If-None-Match`` gets 304.

Products are invented (word-combination titles, never upstream's texts) with upstream's keys,
types and 24 category slugs; some slugs contain ``'``, ``&`` or ``.`` (percent-encoded in image
URLs) and ids 97 and 194 share a title. Same seed, same bytes.

Faults (``--faults`` / ``faults=`` / ``set_faults``), documented in ``mirror.faults``:
``5xx-burst``, ``rate-limit``, ``throttle``, ``slow``, ``trickle``, ``truncate``, ``bad-json``,
``oversized-image``, ``not-image``, ``wrong-format``; each scopeable with ``@api``, ``@images``,
``@ids=1+2`` or ``@every=K``.

Modules: ``catalog`` (products as a pure function of seed, scale and id, built on demand, so
``--scale 10000`` is cheap), ``api`` (the endpoints), ``images`` (Pillow drawings, cached),
``faults`` (fault specs), ``server`` (HTTP, ETags, latency, faults), ``pytest_plugin``.
"""

from mirror.catalog import Catalog, build_catalog
from mirror.faults import Fault, FaultPlan, parse_faults
from mirror.server import MirrorServer

__all__ = ["Catalog", "Fault", "FaultPlan", "MirrorServer", "build_catalog", "parse_faults"]
