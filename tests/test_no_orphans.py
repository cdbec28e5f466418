"""No execution environment outlives the process that started it, however that process ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from sandbox.runtime import workers

SCRIPT = textwrap.dedent("""
    import sys, time, sandbox
    from sandbox.testing import deploy, invoke
    sb = sandbox.start()
    deploy("sleepy", "import os, subprocess, time\\n"
                     "def handler(e, c):\\n"
                     "    if e.get('spawn'):\\n"
                     "        subprocess.Popen(['sleep', '600'], start_new_session=True)\\n"
                     "        if os.fork() == 0:\\n"
                     "            os.setsid()\\n"
                     "            time.sleep(600)\\n"
                     "    time.sleep(e.get('s', 0))\\n")
    invoke("sleepy", {"spawn": True})
    time.sleep(0.2)
    pids = [pid for env in sb.admin.environments()
            for pid in [env["pid"], env["supervisor_pid"], *env["runtime_pids"]]]
    print(" ".join(map(str, pids)), flush=True)
    if sys.argv[1] == "hang":
        invoke("sleepy", {"s": 60})
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


def _workers_after(how: str, isolation: str) -> list[int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env[workers.ISOLATION_VARIABLE] = isolation
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, how], stdout=subprocess.PIPE,
                               text=True, env=env)
    pids = [int(pid) for pid in process.stdout.readline().split()]
    assert pids and all(_alive(pid) for pid in pids)
    if how == "hang":
        time.sleep(0.5)  # the handler is now mid-invocation
        process.send_signal(signal.SIGKILL)  # a kernel restart, a crash, "kill -9"
    process.wait(timeout=60)
    process.stdout.close()
    deadline = time.time() + 5
    while time.time() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


@pytest.fixture(params=["bwrap", "process"])
def isolation(request) -> str:
    if request.param == "bwrap" and not workers.bwrap_works():
        pytest.skip("bubblewrap cannot make a PID namespace on this machine")
    return request.param


# the handler's own children, a new session and a daemon among them, end with it too
def test_workers_end_when_the_process_exits_normally(isolation):
    assert _workers_after("exit", isolation) == []


def test_workers_end_when_the_process_is_killed_mid_invocation(isolation):
    assert _workers_after("hang", isolation) == []
