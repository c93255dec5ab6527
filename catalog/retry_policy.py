"""When a failed GET is tried again, and how long to wait first (urllib3's policy, driven by the transport)."""

from urllib3.exceptions import InvalidHeader, MaxRetryError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_CAP_SECONDS = 30.0
BACKOFF_JITTER_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 30.0


class CappedRetry(Retry):
    """urllib3's retry policy, with ``Retry-After`` honoured only up to a cap.

    An upstream asking us to wait an hour should not stall a sync for an hour.
    """

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if seconds is None else min(seconds, RETRY_AFTER_CAP_SECONDS)


def retry_policy(*, retries: int, backoff_factor: float) -> CappedRetry:
    """A fresh policy for one GET: ``retries`` more tries, exponential backoff with jitter."""
    return CappedRetry(
        total=retries,
        backoff_factor=backoff_factor,
        backoff_jitter=BACKOFF_JITTER_SECONDS,
        backoff_max=BACKOFF_MAX_SECONDS,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )


def next_retry(
    policy: CappedRetry,
    *,
    url: str,
    status_code: int | None,
    headers_have_retry_after: bool,
    response: BaseHTTPResponse | None,
    retryable_error: bool,
) -> tuple[float | None, CappedRetry]:
    """Seconds to wait before trying again (None when the attempt is final), and the updated policy."""
    retryable_status = status_code is not None and policy.is_retry("GET", status_code, headers_have_retry_after)
    if not (retryable_error or retryable_status):
        return None, policy
    try:
        policy = policy.increment("GET", url, response=response if retryable_status else None)
    except MaxRetryError:
        return None, policy
    retry_after = policy.get_retry_after(response) if retryable_status and response is not None else None
    return (retry_after if retry_after is not None else policy.get_backoff_time()), policy
