"""No execution environment outlives the process that started it, however that process ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent("""
    import sys, sandbox
    from sandbox.testing import deploy, invoke
    sb = sandbox.start()
    deploy("sleepy", "import time\\ndef handler(e, c):\\n    time.sleep(e.get('s', 0))\\n")
    invoke("sleepy")
    pids = [pid for env in sb.lambda_runtime.describe_environments()
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


def _workers_after(how: str) -> list[int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
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


def test_workers_end_when_the_process_exits_normally():
    assert _workers_after("exit") == []


def test_workers_end_when_the_process_is_killed_mid_invocation():
    assert _workers_after("hang") == []
