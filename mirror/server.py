"""Loopback-only threaded HTTP/1.1 server for the mirror: routing, ETags, latency and faults."""

from __future__ import annotations

import collections
import contextlib
import hashlib
import html
import ipaddress
import json
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import unquote, urlsplit

from mirror import api
from mirror.catalog import DEFAULT_DATASET, DEFAULT_SCALE, DEFAULT_SEED, build_catalog
from mirror.drift import drifted
from mirror.faults import API, IMAGES, MIB, NOT_AN_IMAGE, TRICKLE_CHUNK, FaultPlan, FaultSpecs
from mirror.images import FORMATS, GALLERY_SIZE, THUMBNAIL_SIZE, ImageStore, content_type, qr_code_png
from mirror.query import parse_query
from mirror.rate_limit import DEFAULT_MAX_REQUESTS, DEFAULT_WINDOW_S, RATE_LIMIT_MESSAGE, FixedWindowLimiter

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
STREAM_CHUNK = 64 * 1024
QR_CODE_PATH = "/public/qr-code.png"
REQUEST_LOG_SIZE = 100_000
_PRODUCT_PATH = re.compile(r"/products/([1-9][0-9]*)")
_IMAGE_NAME = re.compile(r"([1-9][0-9]*|thumbnail)\.([a-z]+)")


@dataclass
class Response:
    """What a route produced; `stream`, when set, replaces `body` and yields `length` bytes."""

    status: int
    content_type: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[], Iterator[bytes]] | None = None
    length: int | None = None
    etag: str | None = None

    def chunks(self) -> Iterator[bytes]:
        """The body as a sequence of byte chunks."""
        return self.stream() if self.stream else iter((self.body,))


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, JSON_TYPE, body, headers or {})


def _html_404(method: str, path: str) -> Response:
    # Upstream answers unknown routes with an HTML page, not JSON.
    page = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Error</title>'
        f"</head>\n<body><pre>Cannot {method} {html.escape(path)}</pre></body>\n</html>\n"
    )
    return Response(404, HTML_TYPE, page.encode())


def _padded(data: bytes, total: int) -> Callable[[], Iterator[bytes]]:
    """A stream of `data` followed by zero bytes up to `total`, never held in memory at once."""

    def generate() -> Iterator[bytes]:
        yield data
        left, zeros = total - len(data), bytes(STREAM_CHUNK)
        while left > 0:
            yield zeros[: min(left, STREAM_CHUNK)]
            left -= STREAM_CHUNK

    return generate


def _first_bytes(chunks: Iterator[bytes], budget: int) -> Iterator[bytes]:
    """The first `budget` bytes of a chunk stream."""
    for chunk in chunks:
        if budget <= 0:
            return
        yield chunk[:budget]
        budget -= len(chunk)


def _etag_matches(header: str | None, etag: str) -> bool:
    """Weak comparison, as If-None-Match requires."""
    if not header:
        return False
    opaque = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must never keep the process alive
    request_queue_size = 128  # crawlers open many connections at once
    mirror: MirrorServer

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    _delay_ms = 0  # the request's ``delay`` parameter, set by _route
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body
    # waits for the client's delayed ACK and every response gains ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.mirror.track(self.connection, True)

    def finish(self) -> None:
        self.server.mirror.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        # The name `format` is fixed by the base class; quiet unless asked, tests read no logs.
        if self.server.mirror.log_requests:
            super().log_message(format, *args)

    def do_GET(self) -> None:  # pylint: disable=invalid-name  # name required by http.server
        """Serve a GET."""
        self._serve(head=False)

    def do_HEAD(self) -> None:  # pylint: disable=invalid-name
        """Serve a HEAD: the GET headers without the body."""
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        mirror = self.server.mirror
        self._delay_ms = 0
        mirror.record(self.command, self.path)
        if mirror.latency_ms and mirror.pause(mirror.latency_ms / 1000):
            self.close_connection = True  # stopping: answer nothing
            return
        path, query = urlsplit(self.path)[2:4]
        kind = IMAGES if path.startswith("/product-images/") or path == QR_CODE_PATH else API
        if kind == API and (wait_s := mirror.rate_limiter.hit(self.client_address[0])) is not None:
            # Upstream's limiter runs before anything else: even a bad request counts and is refused.
            limited = _json(429, {"message": RATE_LIMIT_MESSAGE}, {"Retry-After": str(wait_s)})
            self._send_safely(limited, head)
            return
        response, product_id = self._route(path, query)
        if self._delay_ms and mirror.pause(self._delay_ms / 1000):
            self.close_connection = True
            return
        plan = mirror.faults
        slow = plan.find("slow", kind, product_id)
        if slow and mirror.pause(slow.value):
            self.close_connection = True
            return
        refusal = plan.refusal(kind, self.path, product_id)
        if refusal:
            response = _json(*refusal)
        if response.status == 200:
            response = self._damage(response, kind, product_id)
            response.etag = response.etag or self._etag(response, kind)
            if response.etag and _etag_matches(self.headers.get("If-None-Match"), response.etag):
                response = Response(304, "", headers={"ETag": response.etag})
        trickle = plan.find("trickle", kind, product_id) if response.status == 200 else None
        truncate = plan.find("truncate", kind, product_id) if response.status == 200 else None
        self._send_safely(response, head, trickle.value if trickle else None, truncate.value if truncate else None)

    def _send_safely(
        self, response: Response, head: bool, trickle: float | None = None, truncate: float | None = None
    ) -> None:
        try:
            self._transmit(response, head, trickle, truncate)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up: expected with faults

    def _route(self, path: str, query: str) -> tuple[Response, int | None]:
        """Build the normal answer and name the product it is about (for fault selectors)."""
        mirror = self.server.mirror
        if path != "/" and path.endswith("/"):
            target = re.sub("/+", "/", path[:-1]) + (f"?{query}" if query else "")
            return Response(
                301,
                "text/plain; charset=utf-8",
                f"Moved Permanently. Redirecting to {target}".encode(),
                {"Location": target},
            ), None
        if path == QR_CODE_PATH:
            return Response(200, content_type("png"), qr_code_png()), None
        if path.startswith("/product-images/"):
            return self._image(path)
        answer = api.respond(drifted(mirror.catalog, mirror.faults), path, parse_query(query))
        if answer is None:
            return _html_404(self.command, path), None
        status, payload, self._delay_ms = answer  # ``delay``: upstream waits, then answers
        match = _PRODUCT_PATH.fullmatch(path)
        return _json(status, payload), int(match.group(1)) if match else None

    def _image(self, path: str) -> tuple[Response, int | None]:
        parts = [unquote(part) for part in path.split("/")[2:]]
        name_match = _IMAGE_NAME.fullmatch(parts[-1]) if len(parts) == 3 else None
        if name_match and name_match.group(2) in FORMATS:
            catalog = self.server.mirror.catalog
            for pid in catalog.find_images(parts[0], parts[1]):
                product = catalog.product(pid)
                urls = [*product["images"], product["thumbnail"]]
                if any(url.rsplit("/", 1)[1] == parts[2] for url in urls):
                    data = self.server.mirror.images.get(pid, *name_match.groups())
                    return Response(200, content_type(name_match.group(2)), data), pid
        return _html_404(self.command, path), None

    def _damage(self, response: Response, kind: str, product_id: int | None) -> Response:
        """Apply the content faults to a normal 200 answer."""
        plan = self.server.mirror.faults
        if kind == API and plan.find("bad-json", kind, product_id):
            # Any strict prefix of a JSON object or array is invalid JSON.
            response.body = response.body[: len(response.body) // 2]
        if kind != IMAGES or product_id is None:
            return response
        if plan.find("wrong-format", kind, product_id):
            name, ext = _IMAGE_NAME.fullmatch(urlsplit(self.path).path.rsplit("/", 1)[1]).groups()
            response.body = self.server.mirror.images.get(product_id, name, "jpg" if ext == "png" else "png")
        if plan.find("not-image", kind, product_id):
            response.body = NOT_AN_IMAGE
        oversized = plan.find("oversized-image", kind, product_id)
        if oversized:
            response.length = max(len(response.body), int(oversized.value * MIB))
            response.stream = _padded(response.body, response.length)
        return response

    @staticmethod
    def _etag(response: Response, kind: str) -> str | None:
        if response.stream:
            return None
        digest = hashlib.blake2b(response.body, digest_size=10).hexdigest()
        # Upstream's JSON ETags are weak; image bytes are exact, so theirs can be strong.
        return f'"{digest}"' if kind == IMAGES else f'W/"{digest}"'

    def _transmit(
        self, response: Response, head: bool, trickle_s: float | None, truncate_fraction: float | None
    ) -> None:
        length = response.length if response.stream else len(response.body)
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        if response.status != 304:
            self.send_header("Content-Length", str(length))
        if response.etag:
            self.send_header("ETag", response.etag)
        for name, value in response.headers.items():
            if name != "ETag" or not response.etag:
                self.send_header(name, value)
        self.end_headers()
        if head or response.status == 304:
            return
        chunks = response.chunks()
        if truncate_fraction is not None:
            chunks = _first_bytes(chunks, int(length * truncate_fraction))
            # Content-Length promised more: closing after the cut is what a dropped link looks like.
            self.close_connection = True
        for chunk in chunks:
            if trickle_s is None:
                self.wfile.write(chunk)
                continue
            for start in range(0, len(chunk), TRICKLE_CHUNK):
                self.wfile.write(chunk[start : start + TRICKLE_CHUNK])
                if self.server.mirror.pause(trickle_s):
                    self.close_connection = True
                    return


def _check_loopback(host: str) -> str:
    """Return the IPv4 loopback address to bind, or raise ValueError for anything else."""
    address = "127.0.0.1" if host == "localhost" else host
    try:
        if ipaddress.ip_address(address).is_loopback and ":" not in address:
            return address
    except ValueError:
        pass
    raise ValueError(
        f"refusing to bind {host!r}: the mirror only listens on 127.0.0.1 (or another IPv4 loopback address)"
    )


class MirrorServer:  # pylint: disable=too-many-instance-attributes  # config + runtime state
    """A DummyJSON-compatible server on a background thread; see the package docstring."""

    def __init__(  # pylint: disable=too-many-arguments,too-many-locals  # one keyword per CLI flag
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = DEFAULT_SEED,
        scale: int = DEFAULT_SCALE,
        dataset: str = DEFAULT_DATASET,
        latency_ms: float = 0,
        faults: FaultSpecs = (),
        rate_limit: int = DEFAULT_MAX_REQUESTS,
        rate_window_s: float = DEFAULT_WINDOW_S,
        image_size: int = GALLERY_SIZE,
        thumbnail_size: int = THUMBNAIL_SIZE,
        cache_dir: str | None = None,
        log_requests: bool = False,
    ) -> None:
        self._httpd = _HTTPServer((_check_loopback(host), port), _Handler)
        self._httpd.mirror = self
        bound_host, bound_port = self._httpd.server_address[:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self.catalog = build_catalog(seed=seed, scale=scale, base_url=self.base_url, dataset=dataset)
        self.images = ImageStore(seed, gallery_size=image_size, thumbnail_size=thumbnail_size, cache_dir=cache_dir)
        self.latency_ms, self.log_requests = latency_ms, log_requests
        self.faults = FaultPlan(faults)
        # The real API's limit, per client address, API routes only; rate_limit=0 turns it off.
        self.rate_limiter = FixedWindowLimiter(rate_limit, rate_window_s)
        # (method, raw target) of recent requests; bounded so a long benchmark run stays lean.
        self.requests: collections.deque[tuple[str, str]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self._httpd.server_address[1]

    def start(self) -> Self:
        """Serve on a daemon thread; returns self for chaining."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"mirror-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and drop open connections."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_faults(self, faults: FaultSpecs = ()) -> None:
        """Replace the active faults (spec string, list of specs or Faults); counters restart."""
        self.faults = FaultPlan(faults)

    def reset(self) -> None:
        """Forget logged requests and fault counters, keeping the faults themselves."""
        with self._lock:
            self.requests.clear()
        self.faults = FaultPlan(self.faults.faults)
        self.rate_limiter.reset()

    def hits(self, path: str) -> int:
        """How many logged requests had exactly this path (query string ignored)."""
        with self._lock:
            return sum(1 for _, target in self.requests if target.split("?", 1)[0] == path)

    def record(self, method: str, target: str) -> None:
        """Log one request as (method, raw target)."""
        with self._lock:
            self.requests.append((method, target))

    def track(self, connection: socket.socket, is_open: bool) -> None:
        """Remember open client sockets so stop() can close them."""
        with self._lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def pause(self, seconds: float) -> bool:
        """Sleep, but wake early when the server stops; True means stop now."""
        return self._stopping.wait(seconds)
