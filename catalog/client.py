"""The only code that talks HTTP: a timeout-guarded, retrying, audited DummyJSON client.

Every attempt, retries and redirect hops included, is written to the audit log as
one ``fetch`` or ``download`` event; a URL refused before any request is one
``blocked`` event. The course's functions (``get_product``, ``get_product_price``,
``get_product_images``, ``download_product_images``) return ``None`` on a network
or data fault and say why in the log; they never raise for one.
"""

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import InvalidHeader, MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from audit.models import Kind, Outcome
from audit.services import record_event

from . import conf
from .image_rules import FORMAT_EXTENSIONS, THUMBNAIL_STEM
from .images import ImageInfo, InvalidImageError, inspect_image
from .process_role import is_web_process

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CAP_SECONDS = 30.0
BACKOFF_JITTER_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 30.0
MAX_REDIRECTS = 5
READ_CHUNK_BYTES = 64 * 1024
MAX_JSON_BYTES = 64 * 1024 * 1024
POOL_SIZE = 32
ALLOWED_SCHEMES = frozenset({"http", "https"})
USER_AGENT = "catalog-audit/1.0"
WEB_PROCESS_REFUSAL = "outbound requests are not sent from a web process"


class SourceError(Exception):
    """The source could not give a usable answer; the audit log has each attempt."""

    def __init__(self, message: str, *, outcome: str = Outcome.ERROR) -> None:
        super().__init__(message)
        self.outcome = outcome


class CappedRetry(Retry):
    """urllib3's retry policy, with ``Retry-After`` honoured only up to a cap.

    An upstream asking us to wait an hour should not stall a sync for an hour.
    """

    def get_retry_after(self, response) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if seconds is None else min(seconds, RETRY_AFTER_CAP_SECONDS)


@dataclass
class Attempt:  # pylint: disable=too-many-instance-attributes
    """What one HTTP attempt brought back, and how it was judged."""

    url: str
    outcome: str = Outcome.ERROR
    status_code: int | None = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict)  # as requests gives them
    message: str = ""
    duration_ms: float = 0.0
    value: Any = None
    raw: Any = None

    @property
    def sha256(self) -> str:
        """sha256 of the body, empty when there was none."""
        return hashlib.sha256(self.body).hexdigest() if self.body else ""


@dataclass(frozen=True)
class ProductPage:
    """One page of a product listing."""

    products: list[dict]
    total: int
    skip: int


@dataclass(frozen=True)
class DownloadResult:  # pylint: disable=too-many-instance-attributes
    """What became of one image URL: stored, unchanged (304), or refused and why."""

    url: str
    outcome: str
    name: str = ""
    sha256: str = ""
    size: int = 0
    format: str = ""
    width: int = 0
    height: int = 0
    etag: str = ""
    message: str = ""

    @property
    def stored(self) -> bool:
        """Whether new bytes were written to storage."""
        return self.outcome == Outcome.OK


def stored_image_name(product_id: int, kind: str, position: int, image_format: str) -> str:
    """Where an image lives in storage, built only from trusted values, never from URL text."""
    stem = THUMBNAIL_STEM if kind == "thumbnail" else str(int(position))
    return f"products/{int(product_id)}/{stem}.{FORMAT_EXTENSIONS[image_format]}"


def normalize_product_id(product_id: Any) -> int | None:
    """A positive integer id from an int or a string of digits; None for anything else."""
    if isinstance(product_id, bool):
        return None
    if isinstance(product_id, str) and product_id.strip().isdigit():
        product_id = int(product_id)
    if isinstance(product_id, int) and product_id > 0:
        return product_id
    return None


def is_product(data: Any) -> bool:
    """The minimal shape of a product object."""
    return isinstance(data, dict) and isinstance(data.get("id"), int) and not isinstance(data.get("id"), bool)


def is_envelope(data: Any) -> bool:
    """The shape of a listing page: ``{"products": [...], "total": N, ...}``."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("products"), list)
        and isinstance(data.get("total"), int)
        and data["total"] >= 0
    )


class DummyJSONClient:
    """A pooled session plus the policies: timeouts, deadline, retries, allow-list, audit."""

    def __init__(  # pylint: disable=too-many-arguments
        self,
        base_url: str | None = None,
        *,
        timeout: tuple[float, float] | None = None,
        retries: int | None = None,
        backoff_factor: float | None = None,
        deadline: float | None = None,
        storage: Storage | None = None,
        max_parallel_requests: int | None = None,
    ) -> None:
        self.base_url = (base_url or conf.base_url()).rstrip("/")
        self.timeout = timeout or conf.timeout()
        self.retries = conf.retries() if retries is None else retries
        self.backoff_factor = conf.backoff_factor() if backoff_factor is None else backoff_factor
        self.deadline = conf.deadline() if deadline is None else deadline
        self.storage = storage or default_storage
        self.sleep: Callable[[float], None] = time.sleep  # tests replace it to observe backoff
        # Caps requests in flight across threads. Only the exchange itself holds a slot, so
        # checking, storing and auditing one image overlaps the next image's download.
        self.request_slots = threading.BoundedSemaphore(max_parallel_requests) if max_parallel_requests else None
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Proxy variables are read once here, not on every request: requests re-scans the
        # environment and ~/.netrc per call when trust_env is on, a real cost at 800 requests.
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        self.session.trust_env = False
        # Retries are driven here, not inside urllib3, so that each attempt is audited.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    # -- the course's API -------------------------------------------------------------

    def get_product(self, product_id: Any) -> dict | None:
        """One product object, or None (unknown id, network fault, bad body)."""
        checked_id = normalize_product_id(product_id)
        if checked_id is None:
            logger.warning("get_product: %r is not a product id", product_id)
            return None
        attempt = self.get_json(f"/products/{checked_id}", product_id=checked_id, expect=is_product)
        return attempt.value if attempt.outcome == Outcome.OK else None

    def get_product_price(self, product_id: Any) -> float | None:
        """The product's price, or None when the product or a numeric price is missing."""
        product = self.get_product(product_id)
        price = product.get("price") if product else None
        if isinstance(price, (int, float)) and not isinstance(price, bool):
            return float(price)
        if product is not None:
            logger.warning("get_product_price: product %s has no numeric price: %r", product_id, price)
        return None

    def get_product_images(self, product_id: Any) -> list[str] | None:
        """The product's gallery image URLs, or None when missing or not a list of strings."""
        product = self.get_product(product_id)
        images = product.get("images") if product else None
        if isinstance(images, list) and all(isinstance(url, str) for url in images):
            return images
        if product is not None:
            logger.warning("get_product_images: product %s has no list of image URLs", product_id)
        return None

    def download_product_images(
        self, product_id: Any, *, include_thumbnail: bool = True
    ) -> list[DownloadResult] | None:
        """Download a product's gallery (and thumbnail); return what was stored, None if no product."""
        product = self.get_product(product_id)
        if product is None:
            return None
        urls = [("image", position, url) for position, url in enumerate(product.get("images") or [], start=1)]
        if include_thumbnail and isinstance(product.get("thumbnail"), str):
            urls.append(("thumbnail", 0, product["thumbnail"]))
        results = [
            self.download_image(url, product_id=product["id"], kind=kind, position=position)
            for kind, position, url in urls
            if isinstance(url, str)
        ]
        return [result for result in results if result.stored]

    # -- listings -------------------------------------------------------------------

    def iter_product_pages(
        self, page_size: int = 100, *, path: str = "/products", limit: int | None = None
    ) -> Iterator[ProductPage]:
        """Page through a listing with ``limit``/``skip`` until ``total``; raise SourceError on a bad page.

        The envelope's ``limit`` is the count returned, not the count asked for, so the
        next ``skip`` is advanced by the products actually received.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        skip = 0
        while limit is None or skip < limit:
            wanted = page_size if limit is None else min(page_size, limit - skip)
            attempt = self.get_json(path, params={"limit": wanted, "skip": skip}, expect=is_envelope)
            if attempt.outcome != Outcome.OK:
                raise SourceError(
                    f"{path} page at skip={skip} failed: {attempt.outcome} {attempt.message}".strip(),
                    outcome=attempt.outcome,
                )
            envelope = attempt.value
            products = envelope["products"]
            yield ProductPage(products=products, total=envelope["total"], skip=skip)
            skip += len(products)
            if skip >= envelope["total"] or (limit is not None and skip >= limit):
                return
            if not products:
                # Stopping quietly would read as a complete listing, and the sync would
                # unpublish every product it did not reach.
                raise SourceError(
                    f"{path} page at skip={skip} is empty although total is {envelope['total']}",
                    outcome=Outcome.INVALID,
                )

    def iter_products(self, page_size: int = 100, *, path: str = "/products") -> Iterator[dict]:
        """Every product of a listing, one page in memory at a time."""
        for page in self.iter_product_pages(page_size, path=path):
            yield from page.products

    def get_categories(self) -> list[dict] | None:
        """The category list (``slug``, ``name``, ``url``), or None on a fault."""
        attempt = self.get_json(
            "/products/categories",
            expect=lambda data: isinstance(data, list) and all(isinstance(item, dict) for item in data),
        )
        return attempt.value if attempt.outcome == Outcome.OK else None

    # -- the building blocks ------------------------------------------------------------

    def get_json(
        self,
        path: str,
        *,
        params: dict | None = None,
        product_id: int | None = None,
        expect: Callable[[Any], bool] = lambda data: True,
    ) -> Attempt:
        """GET a JSON document from the API; ``value`` holds it when the outcome is ok."""
        url = f"{self.base_url}{path}"
        if params:
            url = requests.Request("GET", url, params=params).prepare().url

        def judge(attempt: Attempt) -> None:
            try:
                data = json.loads(attempt.body)
            except ValueError as error:
                attempt.outcome, attempt.message = Outcome.INVALID, f"body is not JSON: {error}"
                return
            if not expect(data):
                attempt.outcome, attempt.message = Outcome.INVALID, "body is not of the expected shape"
                return
            attempt.value = data

        return self.get(url, kind=Kind.FETCH, max_bytes=MAX_JSON_BYTES, product_id=product_id, judge=judge)

    def download_image(  # pylint: disable=too-many-arguments
        self, url: str, *, product_id: int, kind: str = "image", position: int = 1, etag: str = ""
    ) -> DownloadResult:
        """Download, check and store one image; never raises for a network or data fault.

        The bytes themselves are checked with Pillow against ``CATALOG_IMAGE_FORMATS``,
        and the file is named from the product id and position, never from the URL.
        With ``etag``, an unchanged image answers 304 and nothing is written.
        """
        allowed_formats = conf.image_formats()
        stored: dict[str, Any] = {}

        def judge(attempt: Attempt) -> None:
            try:
                info: ImageInfo = inspect_image(attempt.body)
            except InvalidImageError as error:
                attempt.outcome, attempt.message = Outcome.INVALID, str(error)
                return
            if info.format not in allowed_formats:
                attempt.outcome = Outcome.INVALID
                attempt.message = f"{info.format} is not an allowed format ({', '.join(sorted(allowed_formats))})"
                return
            name = stored_image_name(product_id, kind, position, info.format)
            stored.update(name=self.storage.save(name, ContentFile(attempt.body)), info=info)

        headers = {"If-None-Match": etag} if etag else {}
        attempt = self.get(
            url,
            kind=Kind.DOWNLOAD,
            max_bytes=conf.max_image_bytes(),
            product_id=product_id,
            headers=headers,
            judge=judge,
        )
        info = stored.get("info")
        return DownloadResult(
            url=url,
            outcome=attempt.outcome,
            name=stored.get("name", ""),
            sha256=attempt.sha256,
            size=len(attempt.body),
            format=info.format if info else "",
            width=info.width if info else 0,
            height=info.height if info else 0,
            etag=attempt.headers.get("ETag", etag if attempt.outcome == Outcome.NOT_MODIFIED else ""),
            message=attempt.message,
        )

    def refusal(self, url: str) -> str | None:
        """Why a URL may not be requested, or None when it may."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            netloc = conf.netloc_of(url)
        except ValueError:
            return "the URL cannot be parsed"
        if parts.scheme not in ALLOWED_SCHEMES:
            return f"scheme {parts.scheme or '(none)'!r} is not allowed"
        # Parsers disagree on backslashes and user info (``http://a\\@b/``): refuse both, so
        # the host checked here is the host requests connects to.
        if "\\" in url or parts.username is not None or parts.password is not None:
            return "URLs with a backslash or user info are not allowed"
        allowed = conf.allowed_hosts(self.base_url)
        if not host or (host not in allowed and netloc not in allowed):
            return f"host {host or '(none)'!r} is not in CATALOG_IMAGE_HOSTS"
        return None

    def get(  # pylint: disable=too-many-arguments
        self,
        url: str,
        *,
        kind: str,
        max_bytes: int,
        product_id: int | None = None,
        headers: dict[str, str] | None = None,
        judge: Callable[[Attempt], None] | None = None,
    ) -> Attempt:
        """GET with retries and checked redirects, auditing each attempt; returns the last one."""
        policy = CappedRetry(
            total=self.retries,
            backoff_factor=self.backoff_factor,
            backoff_jitter=BACKOFF_JITTER_SECONDS,
            backoff_max=BACKOFF_MAX_SECONDS,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
        )
        if is_web_process():
            # Page views never wait on the source: workers fetch, web processes only queue.
            return self._refuse(url, WEB_PROCESS_REFUSAL, kind=kind, product_id=product_id)
        attempt_number, redirects = 0, 0
        while True:
            attempt_number += 1
            if reason := self.refusal(url):
                return self._refuse(url, reason, kind=kind, product_id=product_id)
            attempt = self._send_once(url, headers=headers or {}, max_bytes=max_bytes)
            location = self._redirect_target(attempt, redirects)
            if attempt.outcome == Outcome.OK and judge and not location:
                self._judge(attempt, judge)
            delay, policy = self._retry_delay(attempt, policy)
            details = {"retry_in_s": round(delay, 3)} if delay is not None else {}
            if location:
                details["location"] = location
            self._audit(attempt, kind=kind, product_id=product_id, attempt_number=attempt_number, details=details)
            if location:
                url, redirects, attempt_number = location, redirects + 1, 0
                continue
            if delay is None:
                self._log_failure(attempt)
                return attempt
            self.sleep(delay)

    @staticmethod
    def _judge(attempt: Attempt, judge: Callable[[Attempt], None]) -> None:
        """Check (and store) a body; a failure there is the attempt's outcome, never a lost event."""
        try:
            judge(attempt)
        except Exception as error:  # pylint: disable=broad-exception-caught  # recorded, not lost
            logger.exception("checking the body of %s failed", attempt.url)
            attempt.outcome, attempt.message = Outcome.ERROR, f"could not check or store the body: {error}"

    @staticmethod
    def _redirect_target(attempt: Attempt, redirects: int) -> str | None:
        """The absolute URL a redirect points to; the hop's own event says where it led."""
        location = attempt.headers.get("Location")
        if attempt.status_code not in REDIRECT_STATUSES or not location:
            return None
        if redirects >= MAX_REDIRECTS:
            attempt.outcome, attempt.message = Outcome.HTTP_ERROR, f"more than {MAX_REDIRECTS} redirects"
            return None
        attempt.outcome = Outcome.OK
        return urljoin(attempt.url, location)

    def _retry_delay(self, attempt: Attempt, policy: CappedRetry) -> tuple[float | None, CappedRetry]:
        """Seconds to wait before trying again, or None when this attempt is final."""
        retryable_error = attempt.outcome == Outcome.CONNECTION_ERROR
        retryable_status = attempt.status_code is not None and policy.is_retry(
            "GET", attempt.status_code, "Retry-After" in attempt.headers
        )
        if not (retryable_error or retryable_status):
            return None, policy
        try:
            policy = policy.increment("GET", attempt.url, response=attempt.raw if retryable_status else None)
        except MaxRetryError:
            return None, policy
        retry_after = policy.get_retry_after(attempt.raw) if retryable_status else None
        return (retry_after if retry_after is not None else policy.get_backoff_time()), policy

    def _send_once(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Attempt:
        """One request: headers within the read timeout, the whole body within the deadline."""
        with self.request_slots or contextlib.nullcontext():
            return self._exchange(url, headers=headers, max_bytes=max_bytes)

    def _exchange(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Attempt:
        attempt = Attempt(url=url)
        started = time.monotonic()
        try:
            response = self.session.get(url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=False)
        except requests.exceptions.ReadTimeout as error:
            attempt.outcome, attempt.message = Outcome.TIMEOUT, f"no response within {self.timeout[1]} s: {error}"
        except requests.exceptions.ConnectionError as error:  # ConnectTimeout included
            attempt.outcome, attempt.message = Outcome.CONNECTION_ERROR, str(error)
        except requests.exceptions.RequestException as error:
            attempt.outcome, attempt.message = Outcome.ERROR, str(error)
        else:
            with response:
                attempt.status_code, attempt.headers, attempt.raw = response.status_code, response.headers, response.raw
                self._read_body(response, attempt, max_bytes=max_bytes, started=started)
        attempt.duration_ms = (time.monotonic() - started) * 1000
        return attempt

    def _read_body(self, response: requests.Response, attempt: Attempt, *, max_bytes: int, started: float) -> None:
        """Read the body in small pieces, stopping at the size cap or the wall-clock deadline."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            attempt.outcome, attempt.message = Outcome.TOO_LARGE, f"declares {declared} bytes, over {max_bytes}"
            return
        chunks, size = [], 0
        try:
            while chunk := response.raw.read1(READ_CHUNK_BYTES, decode_content=True):
                size += len(chunk)
                if size > max_bytes:
                    attempt.outcome, attempt.message = (
                        Outcome.TOO_LARGE,
                        f"body passed {max_bytes} bytes; stopped reading",
                    )
                    return
                if time.monotonic() - started > self.deadline:
                    attempt.outcome, attempt.message = Outcome.TIMEOUT, f"body not complete within {self.deadline} s"
                    return
                chunks.append(chunk)
        except ReadTimeoutError as error:
            attempt.outcome, attempt.message = Outcome.TIMEOUT, f"body stalled: {error}"
            return
        except (Urllib3HTTPError, OSError) as error:
            attempt.outcome, attempt.message = Outcome.CONNECTION_ERROR, f"body cut short: {error}"
            return
        attempt.body = b"".join(chunks)
        if response.status_code == 304:
            attempt.outcome = Outcome.NOT_MODIFIED
        elif 200 <= response.status_code < 300:
            attempt.outcome = Outcome.OK
        else:
            attempt.outcome, attempt.message = Outcome.HTTP_ERROR, f"HTTP {response.status_code}"

    def _audit(
        self, attempt: Attempt, *, kind: str, product_id: int | None, attempt_number: int, details: dict
    ) -> None:
        record_event(
            kind=kind,
            outcome=attempt.outcome,
            method="GET",
            url=attempt.url,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            body_bytes=len(attempt.body),
            sha256=attempt.sha256,
            attempt=attempt_number,
            product_id=product_id,
            message=attempt.message[:1000],
            details=details,
        )

    def _refuse(self, url: str, reason: str, *, kind: str, product_id: int | None) -> Attempt:
        logger.warning("refused %s: %s", url, reason)
        record_event(kind=kind, outcome=Outcome.BLOCKED, method="GET", url=url, product_id=product_id, message=reason)
        return Attempt(url=url, outcome=Outcome.BLOCKED, message=reason)

    @staticmethod
    def _log_failure(attempt: Attempt) -> None:
        if attempt.outcome not in (Outcome.OK, Outcome.NOT_MODIFIED):
            logger.warning("GET %s: %s %s", attempt.url, attempt.outcome, attempt.message)


_clients: dict[tuple, DummyJSONClient] = {}


def default_client() -> DummyJSONClient:
    """The shared client for the current settings (a new one when tests change them)."""
    key = (conf.base_url(), conf.timeout(), conf.retries(), conf.backoff_factor(), conf.deadline())
    if key not in _clients:
        _clients[key] = DummyJSONClient()
    return _clients[key]


def get_product(product_id: Any) -> dict | None:
    """The course's ``get_product``: one product as a dict, or None."""
    return default_client().get_product(product_id)


def get_product_price(product_id: Any) -> float | None:
    """The course's ``get_product_price``: the price as a float, or None."""
    return default_client().get_product_price(product_id)


def get_product_images(product_id: Any) -> list[str] | None:
    """The course's ``get_product_images``: the gallery URLs, or None."""
    return default_client().get_product_images(product_id)


def download_product_images(product_id: Any, *, include_thumbnail: bool = True) -> list[DownloadResult] | None:
    """The course's image download: store a product's images; return what was stored."""
    return default_client().download_product_images(product_id, include_thumbnail=include_thumbnail)


def download_image(
    url: str, *, product_id: int, kind: str = "image", position: int = 1, etag: str = ""
) -> DownloadResult:
    """Download, check and store one image through the shared client."""
    return default_client().download_image(url, product_id=product_id, kind=kind, position=position, etag=etag)


def iter_products(page_size: int = 100) -> Iterator[dict]:
    """Every product of ``/products``, paged."""
    return default_client().iter_products(page_size)


def get_categories() -> list[dict] | None:
    """The category list, or None."""
    return default_client().get_categories()
