"""Pytest fixtures for the mirror; enable with ``-p mirror.pytest_plugin``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from mirror.server import MirrorServer


# Fixture functions get a `fixture_` prefix and a `name=`, so parameters never shadow them.
@pytest.fixture(name="mirror_server", scope="session")
def fixture_mirror_server() -> Iterator[MirrorServer]:
    """The shared mirror: 194 products, seed 42, no latency, no faults, and no rate limit, since
    every test of a session shares one client address (``mirror_factory(rate_limit=100)`` tests it)."""
    with MirrorServer(rate_limit=0) as server:
        yield server


@pytest.fixture(name="mirror")
def fixture_mirror(mirror_server: MirrorServer) -> Iterator[MirrorServer]:
    """The shared mirror with faults cleared and the request log empty; faults a test sets
    are cleared again afterwards."""
    mirror_server.set_faults(())
    mirror_server.reset()
    yield mirror_server
    mirror_server.set_faults(())


@pytest.fixture(name="mirror_factory")
def fixture_mirror_factory() -> Iterator[Callable[..., MirrorServer]]:
    """Start extra mirrors with MirrorServer keyword arguments; all stop after the test.

    The rate limit is off unless a test passes ``rate_limit``, as for ``mirror``."""
    servers: list[MirrorServer] = []

    def start(**kwargs: object) -> MirrorServer:
        kwargs.setdefault("rate_limit", 0)
        server = MirrorServer(**kwargs).start()  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
