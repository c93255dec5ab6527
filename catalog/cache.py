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
    return cache.get_or_set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def invalidate_after_commit() -> None:
    """Start a new generation once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def cache_key(name: str, parts: Any) -> str:
    """The key of a cached read: its name, the current generation and a digest of its parts."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"catalog:{name}:{generation()}:{digest}"


def cached_value(name: str, parts: Any) -> Any:
    """The value kept for these parts in this generation, or None."""
    return cache.get(cache_key(name, parts))


def keep_cached(name: str, parts: Any, value: Any) -> None:
    """Keep a value for these parts in this generation, for ``READ_TIMEOUT_SECONDS`` at most."""
    cache.set(cache_key(name, parts), value, READ_TIMEOUT_SECONDS)


def cached_read(name: str, parts: Any, compute: Callable[[], T]) -> T:
    """``compute()``, or its cached value for these parts in this generation."""
    value = cached_value(name, parts)
    if value is None:
        value = compute()
        keep_cached(name, parts, value)
    return value
