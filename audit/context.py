"""The run id and actor that the audit events of the current work carry.

A sync, a page request or a test run opens a ``run_context``; every event written
inside it, in this thread or in workers started with ``contextvars.copy_context``,
shares its run id, so one id finds all the work of one run.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

DEFAULT_ACTOR = "system"


@dataclass(frozen=True)
class RunContext:
    """Who is acting and under which correlation id."""

    run_id: str
    actor: str


_current: ContextVar[RunContext | None] = ContextVar("audit_run_context", default=None)


def new_run_id() -> str:
    """A fresh correlation id."""
    return uuid.uuid4().hex


def current_run() -> RunContext:
    """The open run context, or a one-off one so that no event lacks a run id."""
    return _current.get() or RunContext(run_id=new_run_id(), actor=DEFAULT_ACTOR)


@contextmanager
def run_context(*, actor: str, run_id: str | None = None) -> Iterator[RunContext]:
    """Tag every audit event written inside the block with one run id and actor."""
    context = RunContext(run_id=run_id or new_run_id(), actor=actor)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
