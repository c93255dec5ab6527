"""Cached catalog reads, all dropped at once when a write changes the catalog.

Every key carries the catalog's current generation; a write that changes products
sets a new generation, so stale entries are simply never read again. With
``REDIS_URL`` the cache is shared by every worker and the sync, so a change shows at
once; with the default per-process memory cache, other processes see it within
``READ_TIMEOUT_SECONDS``.
"""

import hashlib
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "catalog:generation"
READ_TIMEOUT_SECONDS = 60

T = TypeVar("T")


def generation() -> str:
    """The catalog's current generation."""
    return str(cache.get_or_set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def invalidate_after_commit() -> None:
    """Start a new generation once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def cached_read(name: str, parts: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or its cached value for these parts in this generation."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"catalog:{name}:{generation()}:{digest}"
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, READ_TIMEOUT_SECONDS)
    return value
