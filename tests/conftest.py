from __future__ import annotations

import ctypes
import sys
import time

import pytest

pytest_plugins: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """Orphans of this session's processes become its children (Linux's child subreaper), so
    that a server or an execution environment left behind is found at the end, wherever its
    parent went."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _leftover_processes() -> list[str]:
    import psutil

    leftovers = []
    for process in psutil.Process().children(recursive=True):
        try:
            command = " ".join(process.cmdline())
        except psutil.Error:
            continue
        if "sandbox.server" in command or "sandbox/runtime/" in command:
            leftovers.append(f"{process.pid} {command}")
    return leftovers


@pytest.fixture
def sb(sandbox_fixture):
    """A fresh sandbox for each test (short name)."""
    return sandbox_fixture


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite ends with no worker process left behind."""
    import sandbox

    running = sandbox.current()
    if running is not None:
        running.stop()
    time.sleep(0.5)  # a stopped server's last workers are being reaped
    leftovers = _leftover_processes()
    if leftovers:
        session.exitstatus = 1
        print("\nLeftover execution environment processes:\n" + "\n".join(leftovers))
