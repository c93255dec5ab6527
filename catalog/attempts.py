"""What one HTTP attempt brought back, and the limits the transport works within: plain records."""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from requests.structures import CaseInsensitiveDict

from audit.models import Outcome


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
    # A fault worth another try although no status says so (refused connection, connect timeout).
    retryable: bool = False

    @property
    def sha256(self) -> str:
        """sha256 of the body, empty when there was none."""
        return hashlib.sha256(self.body).hexdigest() if self.body else ""


BodyCheck = Callable[[Attempt], None]


@dataclass(frozen=True)
class TransportSettings:
    """The transport's limits, read from settings by the client factory."""

    timeout: tuple[float, float]
    retries: int
    backoff_factor: float
    deadline: float
    rate_limit: tuple[int, float] | None = None  # (requests, seconds) for API calls; None: unlimited
