"""Sign the committed events no anchor covers yet: what writers left unsigned when they ended between anchors.

Each process anchors only its own chains, so a writer that ends between two anchors (a
gunicorn worker recycled, a command killed, ``verify_audit --record``) leaves its newest
events unsigned, protected by the hash chain alone. ``manage.py audit_anchor`` signs them
from outside: run it often (deploy/ runs it every 10 minutes). It takes only events older
than a grace period, and an anchor vouches only for the seqs it lists, so a transaction that
commits later than that is signed by its writer or by a later sweep.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from .anchor_set import load_anchor_set
from .anchor_store import anchor_store
from .anchors import sign_rows
from .models import AuditEvent
from .signing import verify_keys

FETCH_SIZE = 10_000


@dataclass(frozen=True)
class Sweep:
    """How many events a sweep signed, and the anchors it wrote."""

    signed: int
    anchors: list[str]


def anchor_uncovered(*, older_than: timedelta, using: str = DEFAULT_DB_ALIAS) -> Sweep:
    """Anchor every stored event older than ``older_than`` that no anchor in the store covers.

    Raises ``AnchorStoreUnavailable`` or ``KeyUnavailable`` when the store or keys cannot be
    read, and ``AnchorForged`` when an anchor is not genuine: a sweep never signs past forgery.
    """
    store = anchor_store()
    store.prepare()
    covered = load_anchor_set(store, verify_keys())
    events = AuditEvent.objects.using(using).filter(created_at__lt=timezone.now() - older_than).order_by("seq")
    rows = [
        (seq, hash_)
        for seq, hash_ in events.values_list("seq", "hash").iterator(chunk_size=FETCH_SIZE)
        if covered.expected(seq) is None
    ]
    return Sweep(len(rows), sign_rows(rows, reason="sweep", store=store) if rows else [])
