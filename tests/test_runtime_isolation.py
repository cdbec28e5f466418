"""Hostile handlers: each can end only its own execution environment, and nothing it starts
outlives that environment. Run with bubblewrap (a PID namespace and a private /tmp) where it works,
and with the supervisor alone (the fallback, as on Binder)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import boto3
import psutil
import pytest
from botocore.config import Config

from sandbox.runtime import workers
from sandbox.testing import deploy, execution_role, invoke

MODES = ["bwrap", "process"]


@pytest.fixture(params=MODES)
def mode(request, sb) -> str:
    if request.param == "bwrap" and not workers.bwrap_works():
        pytest.skip("bubblewrap cannot make a PID namespace on this machine")
    assert sb.admin.use_isolation(request.param) == request.param
    return request.param


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _environment_pids(sb) -> list[int]:
    return [pid for env in sb.admin.environments()
            for pid in [env["pid"], env["supervisor_pid"], *env["runtime_pids"]] if pid]


def _wait_until_dead(pids: list[int], seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.02)
    return [pid for pid in pids if _alive(pid)]


# ---------------------------------------------------------------- the host is out of reach
def test_a_handler_that_kills_its_parent_ends_only_its_own_environment(sb, mode):
    deploy("parricide", "import os, time\n"
                        "def handler(e, c):\n    os.kill(os.getppid(), 9)\n    time.sleep(1)\n"
                        "    return 'survived'\n")
    response = invoke("parricide")
    if mode == "bwrap":  # its parent is PID 1 of its namespace, which ignores the signal
        assert response["Payload"] == "survived"
    else:  # it killed its supervisor, and so itself
        rid = response["ResponseMetadata"]["RequestId"]
        assert response["Payload"] == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: signal: killed"}
    deploy("after", "def handler(e, c):\n    return 'the sandbox still answers'\n")
    assert invoke("after")["Payload"] == "the sandbox still answers"
    assert psutil.Process().status() != psutil.STATUS_ZOMBIE


def test_the_host_pid_is_nowhere_a_handler_can_read_it(sb, mode):
    deploy("snoop", "import os\n"
                    "def handler(e, c):\n"
                    "    seen = open('/proc/self/cmdline').read()\n"
                    "    seen += open(f'/proc/{os.getppid()}/cmdline').read()\n"
                    "    return {'seen': seen.split(chr(0)), 'environ': dict(os.environ)}\n")
    payload = invoke("snoop")["Payload"]
    [described] = sb.admin.environments()
    host = str(psutil.Process(described["pid"]).ppid())
    assert host not in payload["seen"]
    assert host not in payload["environ"].values()


@pytest.mark.skipif(not workers.bwrap_works(), reason="needs bubblewrap")
def test_in_a_pid_namespace_the_host_cannot_be_named(sb):
    sb.admin.use_isolation("bwrap")
    deploy("assassin", "import os\n"
                       "def handler(e, c):\n"
                       "    try:\n        os.kill(e['pid'], 9)\n"
                       "    except ProcessLookupError:\n        return 'no such process'\n")
    assert invoke("assassin", {"pid": os.getpid()})["Payload"] == "no such process"


# ---------------------------------------------------------------- no orphans
SPAWNER = """
import os, subprocess, time
def handler(event, context):
    subprocess.Popen(["sleep", "600"])  # inherits stdout: holds the log pipe
    subprocess.Popen(["sleep", "600"], start_new_session=True)
    if os.fork() == 0:
        time.sleep(600)
        os._exit(0)
    if os.fork() == 0:  # a daemon: double fork, new session
        os.setsid()
        if os.fork() == 0:
            time.sleep(600)
        os._exit(0)
    time.sleep(event.get("sleep", 0.2))
    return "spawned"
"""


def _spawn(sb, timeout: int = 30, **event) -> tuple[dict, list[int]]:
    """Invoke SPAWNER; its answer, and every PID of its environment while the handler ran."""
    deploy("spawner", SPAWNER, Timeout=timeout)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(invoke("spawner", event)))
    thread.start()
    pids: list[int] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the runtime, two sleeps, a fork, a daemon
        described = sb.admin.environments()
        if described and len(described[0]["runtime_pids"]) >= 5:
            pids = _environment_pids(sb)
            break
        time.sleep(0.02)
    thread.join(60)
    return box, pids


@pytest.mark.parametrize("how", ["retire", "reset", "timeout"])
def test_what_a_handler_starts_dies_with_its_environment(sb, mode, how):
    response, pids = _spawn(sb, timeout=1 if how == "timeout" else 30,
                            sleep=5 if how == "timeout" else 0.3)
    assert len(pids) >= 6
    if how == "timeout":
        assert response["Payload"]["errorType"] == "Sandbox.Timedout"
        # reset, not retired: a fresh runtime (forked a moment after) waits for the next
        # invocation, and all else of the old one is gone
        deadline = time.monotonic() + 5
        while True:
            [described] = sb.admin.environments()
            if len(described["runtime_pids"]) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(described["runtime_pids"]) == 1
        assert not set(described["runtime_pids"]) & set(pids)
        pids = [pid for pid in pids if pid not in (described["pid"],
                                                   described["supervisor_pid"])]
    else:
        assert response["Payload"] == "spawned"
        # they outlive the invocation, as on AWS (the daemon's parent is a zombie by now)
        pids = [pid for pid in _environment_pids(sb) if _alive(pid)]
        assert len(pids) >= 6
        if how == "retire":
            assert sb.admin.retire_idle_environments(0) == 1
        else:
            sb.reset()
    assert _wait_until_dead(pids) == []


def test_children_holding_the_log_pipe_do_not_slow_retirement(sb, mode):
    for name in ("a", "b", "c"):
        deploy(name, SPAWNER)
        assert invoke(name)["Payload"] == "spawned"
    started = time.monotonic()
    assert sb.admin.retire_idle_environments(0) == 3
    assert time.monotonic() - started < 4  # it was 2 s an environment, one after the other


def test_after_a_timeout_the_environment_is_reset_and_tmp_kept(sb, mode):
    # /tmp inside bubblewrap; TMPDIR, a folder of the environment's own, without it
    deploy("keeper", "import os, tempfile, time\ncount = 0\n"
                     "KEPT = os.path.join(tempfile.gettempdir(), 'kept')\n"
                     "def handler(e, c):\n    global count\n    count += 1\n"
                     "    with open(KEPT, 'a') as f:\n        f.write('x')\n"
                     "    time.sleep(e.get('sleep', 0))\n"
                     "    return {'count': count, 'kept': len(open(KEPT).read()),"
                     " 'stream': c.log_stream_name}\n", Timeout=1)
    first = invoke("keeper")["Payload"]
    assert invoke("keeper", {"sleep": 3})["Payload"]["errorType"] == "Sandbox.Timedout"
    again = invoke("keeper")
    # a new runtime (module state starts over, INIT again) in the same environment
    assert again["Payload"] == {"count": 1, "kept": 3, "stream": first["stream"]}
    assert "Init Duration" in again["Log"]


# ---------------------------------------------------------------- /tmp
@pytest.mark.skipif(not workers.bwrap_works(), reason="needs bubblewrap")
def test_each_environment_has_its_own_tmp_of_the_configured_size(sb):
    sb.admin.use_isolation("bwrap")
    code = ("import os, time\n"
            "def handler(e, c):\n"
            "    with open('/tmp/mine', 'a') as f:\n        f.write(c.aws_request_id + ',')\n"
            "    time.sleep(e.get('sleep', 0))\n"
            "    st = os.statvfs('/tmp')\n"
            "    return {'mine': open('/tmp/mine').read().count(','),"
            " 'mb': st.f_blocks * st.f_frsize // 2**20}\n")
    deploy("small", code)
    deploy("large", code, EphemeralStorage={"Size": 1024})
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(
        invoke("small", {"sleep": 0.5})["Payload"])) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"mine": 1, "mb": 512}] * 2  # two environments, two /tmp
    assert invoke("small")["Payload"]["mine"] == 2  # warm: its /tmp is kept
    assert invoke("large")["Payload"] == {"mine": 1, "mb": 1024}
    assert not os.path.exists("/tmp/mine")  # not the machine's /tmp


@pytest.mark.skipif(not workers.bwrap_works(), reason="needs bubblewrap")
def test_a_full_tmp_says_no_space_left(sb):
    # /tmp holds EphemeralStorage's 512 MB and no more: the next write fails with ENOSPC
    sb.admin.use_isolation("bwrap")
    deploy("filler", "import os\n"
                     "def handler(e, c):\n"
                     "    block, written = b'x' * 2**24, 0\n"
                     "    try:\n"
                     "        with open('/tmp/fill', 'wb') as f:\n"
                     "            while written < 2**30:\n"
                     "                written += f.write(block)\n"
                     "                f.flush()\n"
                     "    except OSError as error:\n"
                     "        return [error.errno, written // 2**20]\n"
                     "    finally:\n"
                     "        os.remove('/tmp/fill')\n", Timeout=30)
    errno, megabytes = invoke("filler")["Payload"]
    assert errno == 28  # ENOSPC, "No space left on device"
    assert 496 <= megabytes <= 512


@pytest.mark.skipif(not workers.bwrap_works(), reason="needs bubblewrap")
def test_only_tmp_is_writable(sb):
    # Lambda's file system is read-only but for /tmp
    sb.admin.use_isolation("bwrap")
    deploy("writer", "import os\n"
                     "def handler(e, c):\n"
                     "    path = os.path.join(os.environ['LAMBDA_TASK_ROOT'], 'new.txt')\n"
                     "    try:\n        open(path, 'w')\n"
                     "    except OSError as error:\n        return error.errno\n")
    assert invoke("writer")["Payload"] == 30  # EROFS, "Read-only file system"


# ---------------------------------------------------------------- memory and crashes
def test_memory_counts_every_process_of_the_environment(sb, mode):
    deploy("forker", "import subprocess, sys\n"
                     "HOG = 'b = bytearray(300 * 2**20)\\nfor i in range(0, len(b), 4096): "
                     "b[i] = 1\\nimport time; time.sleep(5)'\n"
                     "def handler(e, c):\n    subprocess.run([sys.executable, '-c', HOG])\n"
                     "    return 'fine'\n", Timeout=20)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(invoke("forker")))
    thread.start()
    pids: list[int] = []
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        found = [env["runtime_pids"] for env in sb.admin.environments()]
        if found and len(found[0]) >= 2:  # the runtime and the hog
            pids = found[0]
        time.sleep(0.01)
    thread.join(30)
    response = box
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["Payload"] == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: signal: killed"}
    assert pids and _wait_until_dead(pids) == []  # the runtime and its child, both


@pytest.mark.parametrize("signum, name", [
    (signal.SIGSEGV, "segmentation fault"), (signal.SIGABRT, "aborted"),
    (signal.SIGKILL, "killed"), (signal.SIGTERM, "terminated"),
])
def test_a_crash_names_its_signal_as_lambda_does(sb, mode, signum, name):
    deploy("crash", "import os\ndef handler(e, c):\n    os.kill(os.getpid(), e['signal'])\n")
    response = invoke("crash", {"signal": int(signum)})
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["Payload"] == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: signal: {name}"}


def test_go_signal_names():
    # Lambda's platform is Go: os.ProcessState.String() says "signal: " + the syscall.Signal's
    # name from Go's linux table (zerrors_linux_amd64.go), "signal N" for a number it lacks
    assert workers.exit_reason(signal.SIGBUS) == "signal: bus error"
    assert workers.exit_reason(signal.SIGUSR1) == "signal: user defined signal 1"
    assert workers.exit_reason(signal.SIGXCPU) == "signal: CPU time limit exceeded"
    assert workers.exit_reason(signal.SIGTRAP) == "signal: trace/breakpoint trap"
    assert workers.exit_reason(34) == "signal: signal 34"
    assert workers.exit_reason(3 << 8) == "exit status 3"
    assert len(workers.GO_SIGNAL_NAMES) == 31


# ---------------------------------------------------------------- reset and stop mid-flight
@pytest.mark.parametrize("started", [True, False], ids=["running", "starting"])
def test_reset_answers_every_invocation_in_flight(sb, mode, started):
    deploy("sleeper", "import time\ndef handler(e, c):\n    time.sleep(30)\n", Timeout=60)
    deploy("slow-init", "import time\ntime.sleep(30)\ndef handler(e, c):\n    pass\n",
           Timeout=60)
    errors: list[dict] = []

    lam = boto3.client("lambda", config=Config(retries={"total_max_attempts": 1}))

    def call(name: str) -> None:
        try:
            lam.invoke(FunctionName=name, Payload=b"{}")
        except lam.exceptions.ServiceException as error:
            errors.append(error.response)

    threads = [threading.Thread(target=call, args=(name,))
               for name in ("sleeper", "sleeper", "slow-init", "slow-init")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    # running: each has its processes; starting: some may still wait for a worker
    while sum(env["busy"] and (bool(env["runtime_pids"]) or not started)
              for env in sb.admin.environments()) < 4:
        assert time.monotonic() < deadline, "the invocations never started"
        time.sleep(0.02)
    pids = _environment_pids(sb)
    sb.reset()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    assert len(errors) == 4
    assert {e["ResponseMetadata"]["HTTPStatusCode"] for e in errors} == {500}
    assert {e["Error"]["Message"] for e in errors} == {
        "The sandbox was reset while this invocation ran, so it has no result: its execution "
        "environment and every process in it were ended. Invoke the function again."}
    assert _wait_until_dead(pids) == []
    leftover = [t.name for t in threading.enumerate()
                if t.name.startswith(("runtime-api-", "logs-", "sandbox-retire"))]
    assert leftover == []


def test_the_reaper_retires_idle_environments_in_the_background(sb, mode):
    deploy("idle", "def handler(e, c):\n    return 1\n")
    assert invoke("idle")["Payload"] == 1
    pids = _environment_pids(sb)
    settings = sb.admin.configure_pool(idle_seconds=0.2)
    assert settings["idle_seconds"] == 0.2
    deadline = time.monotonic() + 10
    while sb.admin.environments():  # no call of ours retires it
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert _wait_until_dead(pids) == []


def test_the_warm_pool_keeps_under_its_memory_cap(sb):
    deploy("first", "def handler(e, c):\n    return 1\n")
    deploy("second", "def handler(e, c):\n    return 2\n")
    invoke("first")
    [first] = sb.admin.environments()
    sb.admin.configure_pool(memory_cap_mb=first["memory_kb"] * 1.5 / 1024)
    invoke("second")
    deadline = time.monotonic() + 10
    while len(sb.admin.environments()) > 1:  # the least recently used goes
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert [env["function"] for env in sb.admin.environments()] == ["second"]
    assert json.loads(json.dumps(sb.admin.environments()))  # plain data


STOP_MID_INVOCATION = """
import threading, time, boto3, sandbox
from botocore.config import Config
from sandbox.testing import deploy
sb = sandbox.start()
deploy("sleeper", "import time\\ndef handler(e, c):\\n    time.sleep(30)\\n", Timeout=60)
lam = boto3.client("lambda", config=Config(retries={"total_max_attempts": 1}))
caught = []
def call():
    try:
        lam.invoke(FunctionName="sleeper")
    except lam.exceptions.ServiceException as error:
        caught.append(error.response["Error"]["Message"])
thread = threading.Thread(target=call)
thread.start()
while not any(env["busy"] and env["runtime_pids"]
              for env in sb.admin.environments()):
    time.sleep(0.02)
sb.stop()
thread.join(10)
print(caught)
"""


def test_stop_answers_an_invocation_in_flight():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([sys.executable, "-c", STOP_MID_INVOCATION], capture_output=True,
                         text=True, env=env, timeout=60, check=True).stdout
    assert out.strip() == str([
        "The sandbox was stopped while this invocation ran, so it has no result: its execution "
        "environment and every process in it were ended. Invoke the function again."])


def test_an_invocation_abandoned_by_a_parallel_branch_ends_quietly_at_reset(sb):
    slow = deploy("slow", "import time\ndef handler(e, c):\n    time.sleep(30)\n", Timeout=60)
    fail = deploy("fail", "def handler(e, c):\n    raise ValueError('no')\n")
    branches = [{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": fail,
                                                  "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": slow,
                                                  "End": True}}}]
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True,
                                                   "Branches": branches}}}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="par", definition=json.dumps(definition),
        roleArn=execution_role("par-role", "lambda:InvokeFunction",
                               service="states.amazonaws.com"))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # the failed branch ended the execution; the other branch's invocation still runs
    assert [env["busy"] for env in sb.admin.environments()
            if env["function"] == "slow"] == [True]
    started = time.monotonic()
    sb.reset()  # answers it (ServiceException): no thread of the engine fails loudly
    assert time.monotonic() - started < 10
    assert sb.admin.environments() == []


def test_children_are_found_without_the_kernels_children_files():
    # some kernels lack /proc/<pid>/task/<tid>/children: the supervisor then reads every stat
    import subprocess

    from sandbox.runtime import supervisor

    child = subprocess.Popen(["sleep", "30"])
    try:
        assert child.pid in supervisor._children_by_scan(os.getpid())
        assert child.pid in supervisor.children(os.getpid())
        assert os.getpid() not in supervisor._children_by_scan(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_a_spare_that_failed_to_start_is_raised_not_used(tmp_path, monkeypatch):
    # the spawner answers with the OSError that kept a worker from starting: a cold start that
    # finds it ready raises it (as one that waits for it does), and close() passes over it
    from sandbox.runtime.pool import EnvironmentPool

    def fail(pool: EnvironmentPool, tmp_mb: int) -> workers.Worker:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(EnvironmentPool, "_new_worker", fail)
    (tmp_path / "pool").mkdir()
    pool = EnvironmentPool(endpoint_url="http://127.0.0.1:9", work_dir=str(tmp_path / "pool"),
                           write_logs=lambda spec, stream, lines: None, isolation="process")
    try:
        pool._spares.put(pool._spares.get(timeout=30))  # the first spare's answer, left ready
        with pytest.raises(OSError, match="Too many open files"):
            pool.take_spare()
        pool._ask_for_spare()
        pool._spares.put(pool._spares.get(timeout=30))
    finally:
        pool.close("stopped")  # drains the failed spare left queued
    assert not (tmp_path / "pool").exists()
