from __future__ import annotations

import os
import subprocess

import pytest

from sandbox.testing import sandbox_fixture, sandbox_session  # noqa: F401  (fixtures)

pytest_plugins: list[str] = []


def _bootstrap_processes() -> list[str]:
    """This process's workers still running (bubblewrap or the supervisor, its direct child)."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if "sandbox/runtime/supervisor.py" in line and line.split()[1] == str(os.getpid())]


@pytest.fixture
def sb(sandbox_fixture):  # noqa: F811
    """A fresh sandbox for each test (short name)."""
    return sandbox_fixture


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite ends with no worker process left behind."""
    import sandbox

    running = sandbox.current()
    if running is not None:
        running.stop()
    leftovers = _bootstrap_processes()
    if leftovers:
        session.exitstatus = 1
        print("\nLeftover execution environment processes:\n" + "\n".join(leftovers))
