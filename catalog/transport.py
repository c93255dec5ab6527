"""The only code that talks HTTP: one audited GET with timeouts, a deadline, retries, redirects and caps.

Every attempt, retries and redirect hops included, is written to the audit log as
one ``fetch`` or ``download`` event; a URL refused before any request is one
``blocked`` event. A network fault is an attempt's outcome, never an exception.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import ReadTimeoutError

from audit.models import Outcome
from audit.services import record_event

from .attempts import Attempt, BodyCheck, TransportSettings
from .deadline import DeadlineAdapter, ExchangeDeadline
from .process_role import is_web_process
from .rate_limit import RequestRateLimiter
from .retry_policy import CappedRetry, next_retry, retry_policy
from .url_policy import refusal_reason

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
READ_CHUNK_BYTES = 64 * 1024
POOL_SIZE = 32
USER_AGENT = "catalog-audit/1.0"
MESSAGE_MAX_LENGTH = 1000
WEB_PROCESS_REFUSAL = "outbound requests are not sent from a web process"


class Transport:
    """A pooled session plus the policies: timeouts, deadline, retries, redirects, allow-list, audit."""

    def __init__(self, *, base_url: str, limits: TransportSettings, max_parallel_requests: int | None = None) -> None:
        self.base_url = base_url
        self.timeout = limits.timeout
        self.retries = limits.retries
        self.backoff_factor = limits.backoff_factor
        self.deadline = limits.deadline
        self.sleep: Callable[[float], None] = time.sleep  # tests replace it to observe backoff
        # Caps requests in flight across threads. Only the exchange itself holds a slot, so
        # checking, storing and auditing one image overlaps the next image's download.
        self.request_slots = threading.BoundedSemaphore(max_parallel_requests) if max_parallel_requests else None
        # The source's published limit, kept on our side: a sync never collects a 429 it could avoid.
        self.rate_limiter = (
            RequestRateLimiter(max_requests=limits.rate_limit[0], per_seconds=limits.rate_limit[1])
            if limits.rate_limit
            else None
        )
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Proxy variables are read once here, not on every request: requests re-scans the
        # environment and ~/.netrc per call when trust_env is on, a real cost at 800 requests.
        self.session.proxies.update(requests.utils.get_environ_proxies(base_url))
        self.session.trust_env = False
        # Retries are driven here, not inside urllib3, so that each attempt is audited.
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    def get(  # pylint: disable=too-many-arguments
        self,
        url: str,
        *,
        kind: str,
        max_bytes: int,
        product_id: int | None = None,
        headers: dict[str, str] | None = None,
        check_body: BodyCheck | None = None,
        rate_limited: bool = False,
    ) -> Attempt:
        """GET with retries and checked redirects, auditing each attempt; returns the last one.

        ``check_body`` judges a 2xx body: it may set the attempt's outcome and message.
        ``rate_limited`` requests (the API's, not the image CDN's) wait for the rate limiter.
        """
        if is_web_process():
            # Page views never wait on the source: workers fetch, web processes only queue.
            return self._refuse(url, WEB_PROCESS_REFUSAL, kind=kind, product_id=product_id)
        policy = retry_policy(retries=self.retries, backoff_factor=self.backoff_factor)
        attempt_number, redirects = 0, 0
        while True:
            attempt_number += 1
            if reason := refusal_reason(url, base_url=self.base_url):
                return self._refuse(url, reason, kind=kind, product_id=product_id)
            attempt = self._send_once(url, headers=headers or {}, max_bytes=max_bytes, rate_limited=rate_limited)
            location = self._redirect_target(attempt, redirects)
            if attempt.outcome == Outcome.OK and check_body and not location:
                self._check(attempt, check_body)
            delay, policy = self._retry_delay(attempt, policy)
            self._audit(
                attempt,
                kind=kind,
                product_id=product_id,
                attempt_number=attempt_number,
                details=self._next_step(delay, location),
            )
            if location:
                url, redirects, attempt_number = location, redirects + 1, 0
                continue
            if delay is None:
                self._log_failure(attempt)
                return attempt
            self.sleep(delay)

    @staticmethod
    def _next_step(delay: float | None, location: str | None) -> dict[str, Any]:
        """What the attempt's event says comes next: a retry after a delay, or a redirect."""
        details: dict[str, Any] = {"retry_in_s": round(delay, 3)} if delay is not None else {}
        if location:
            details["location"] = location
        return details

    @staticmethod
    def _check(attempt: Attempt, check_body: BodyCheck) -> None:
        """Check (and store) a body; a failure there is the attempt's outcome, never a lost event."""
        try:
            check_body(attempt)
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

    @staticmethod
    def _retry_delay(attempt: Attempt, policy: CappedRetry) -> tuple[float | None, CappedRetry]:
        return next_retry(
            policy,
            url=attempt.url,
            status_code=attempt.status_code,
            headers_have_retry_after="Retry-After" in attempt.headers,
            response=attempt.raw,
            retryable_error=attempt.retryable,
        )

    def _send_once(self, url: str, *, headers: dict[str, str], max_bytes: int, rate_limited: bool) -> Attempt:
        """One request: headers within the read timeout, the whole body within the deadline.

        The rate limit is waited for before a request slot is taken, so a paced API call
        never holds up image downloads.
        """
        limiter = self.rate_limiter if rate_limited else None
        with limiter.slot() if limiter else contextlib.nullcontext(), self.request_slots or contextlib.nullcontext():
            return self._exchange(url, headers=headers, max_bytes=max_bytes)

    def _exchange(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Attempt:
        attempt = Attempt(url=url)
        started = time.monotonic()
        # The watchdog bounds the whole exchange, status line and headers included: socket
        # timeouts alone restart with every byte a trickling source sends.
        with ExchangeDeadline(self.deadline) as deadline:
            try:
                response = self.session.get(
                    url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=False
                )
            except requests.exceptions.Timeout as error:
                # Any Timeout, ConnectTimeout and ReadTimeout included, and a bare Timeout a test raises.
                self._timed_out(attempt, error)
            except requests.exceptions.ConnectionError as error:
                attempt.outcome, attempt.message, attempt.retryable = Outcome.CONNECTION_ERROR, str(error), True
            except requests.exceptions.RequestException as error:
                attempt.outcome, attempt.message = Outcome.ERROR, str(error) or type(error).__name__
            else:
                with response:
                    attempt.status_code, attempt.headers = response.status_code, response.headers
                    attempt.raw = response.raw
                    self._read_body(response, attempt, max_bytes=max_bytes, started=started)
        if deadline.expired:
            # The watchdog shut the socket: whatever was read is incomplete, however it ended.
            attempt.outcome, attempt.retryable, attempt.body = Outcome.TIMEOUT, False, b""
            attempt.message = (
                f"body not complete within {self.deadline} s"
                if attempt.status_code is not None
                else f"no status line and headers within the {self.deadline} s deadline"
            )
        attempt.duration_ms = (time.monotonic() - started) * 1000
        return attempt

    def _timed_out(self, attempt: Attempt, error: requests.exceptions.Timeout) -> None:
        connect, read = self.timeout
        if isinstance(error, requests.exceptions.ConnectTimeout):
            # Nothing was sent yet, so trying again is safe, as for a refused connection.
            attempt.message, attempt.retryable = f"no connection within {connect} s", True
        else:
            attempt.message = f"no response within {read} s"
        attempt.outcome = Outcome.TIMEOUT
        if detail := str(error):
            attempt.message += f": {detail}"

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
            attempt.retryable = True
            return
        attempt.body = b"".join(chunks)
        if response.status_code == 304:
            attempt.outcome = Outcome.NOT_MODIFIED
        elif 200 <= response.status_code < 300:
            attempt.outcome = Outcome.OK
        else:
            attempt.outcome, attempt.message = Outcome.HTTP_ERROR, f"HTTP {response.status_code}"

    @staticmethod
    def _audit(
        attempt: Attempt, *, kind: str, product_id: int | None, attempt_number: int, details: dict[str, Any]
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
            message=attempt.message[:MESSAGE_MAX_LENGTH],
            details=details,
        )

    @staticmethod
    def _refuse(url: str, reason: str, *, kind: str, product_id: int | None) -> Attempt:
        logger.warning("refused %s: %s", url, reason)
        record_event(kind=kind, outcome=Outcome.BLOCKED, method="GET", url=url, product_id=product_id, message=reason)
        return Attempt(url=url, outcome=Outcome.BLOCKED, message=reason)

    @staticmethod
    def _log_failure(attempt: Attempt) -> None:
        if attempt.outcome not in (Outcome.OK, Outcome.NOT_MODIFIED):
            logger.warning("GET %s: %s %s", attempt.url, attempt.outcome, attempt.message)
