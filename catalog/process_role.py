"""Whether this process serves web requests; a web process never sends a request to the source.

``config/wsgi.py`` and ``config/asgi.py`` mark the process they start, so gunicorn,
runserver and any ASGI server are covered; the HTTP client refuses to send from a
marked process, which makes "page views never wait on the network" a rule, not a habit.
"""

import threading

_web_process = threading.Event()  # an Event: process-wide, thread-safe, and no ``global`` statement


def mark_web_process() -> None:
    """Declare this process a web server for the rest of its life."""
    _web_process.set()


def unmark_web_process() -> None:
    """Undo ``mark_web_process`` (tests that mark their own process)."""
    _web_process.clear()


def is_web_process() -> bool:
    """Whether outbound requests are forbidden here."""
    return _web_process.is_set()
