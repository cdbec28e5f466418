"""The sandbox's pytest fixtures, loaded by pytest through the package's ``pytest11`` entry
point: ``sandbox_session`` (one sandbox for the session) and ``sandbox_fixture`` (that sandbox,
emptied before and after each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import client


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[client.Sandbox]:
    """One sandbox for the whole test session, stopped at its end."""
    yield client.start()
    running = client.current()
    if running is not None:
        running.stop()


@pytest.fixture
def sandbox_fixture(sandbox_session: client.Sandbox) -> Iterator[client.Sandbox]:
    """A running sandbox with no resources in it, reset again after the test."""
    sandbox = client.start()  # the session's, or a new one if a test stopped it
    sandbox.reset()
    yield sandbox
    sandbox.reset()
