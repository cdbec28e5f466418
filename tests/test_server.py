"""The sandbox as a service: its own process, owned by whoever started it, reached over loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import boto3
import psutil
import pytest

import sandbox
from sandbox.errors import ServerError


def _machine_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_"))}
    env.update(extra)
    return env


def _raw(sb: sandbox.Sandbox, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are to the server; what it answers until it closes."""
    port = int(sb.endpoint_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


# ---------------------------------------------------------------------- the process split
def test_the_notebook_process_never_imports_moto():
    code = textwrap.dedent("""
        import sys, boto3, sandbox
        from sandbox.testing import deploy, invoke
        from sandbox import SECOND_ACCOUNT_ID
        from sandbox.course import diagram, pricing
        import sandbox.checks.permissions, sandbox.grading.probes
        sb = sandbox.start()
        deploy("f", "def handler(e, c):\\n    return 42\\n")
        assert invoke("f")["Payload"] == 42
        sb.iam.denials(); sb.iam.session(SECOND_ACCOUNT_ID); sb.clock.speed; sb.reset()
        print(sorted({m.split(".")[0] for m in sys.modules} & {"moto", "werkzeug", "flask"}))
        sb.stop()
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_machine_environment(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_server_is_a_child_process_of_its_own(sb):
    server = psutil.Process(sb.pid)
    assert sb.pid != os.getpid()
    assert server.ppid() == os.getpid()
    assert "sandbox.server" in " ".join(server.cmdline())


SPAWNER = """
import os, subprocess
def handler(event, context):
    subprocess.Popen(["sleep", event["marker"]], start_new_session=True)
    subprocess.Popen(["sleep", event["marker"]])
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", event["marker"]])
    return os.getpid()
"""
OWNER = textwrap.dedent(f"""
    import sys, sandbox
    from sandbox.testing import deploy, invoke
    sb = sandbox.start()
    deploy("spawner", {SPAWNER!r})
    invoke("spawner", {{"marker": sys.argv[1]}})
    print(sb.pid, flush=True)
    sys.stdin.read()
""")


def _sleepers(marker: str) -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if process.info["cmdline"] == ["sleep", marker]:
            found.append(process.pid)
    return found


def test_a_killed_owner_leaves_no_process_behind(tmp_path):
    """kill -9 of the notebook's process: 5 s later, no server, no environment, and none of
    the processes a handler started (even in a session of their own) is left."""
    marker = f"{600 + os.getpid() % 1000}.{time.time_ns() % 1000:03d}"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, marker], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env=_machine_environment(TMPDIR=str(tmp_path)))
    try:
        server_pid = int(owner.stdout.readline())
        time.sleep(0.3)  # the forked sleeper execs
        tree = [server_pid] + [p.pid for p in psutil.Process(server_pid).children(True)]
        assert len(_sleepers(marker)) == 3
        assert len(list(tmp_path.iterdir())) >= 2  # the client's folder and the server's
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
                _sleepers(marker) or any(psutil.pid_exists(pid) and
                                         psutil.Process(pid).status() != "zombie"
                                         for pid in tree)):
            time.sleep(0.1)
        assert _sleepers(marker) == []
        assert [pid for pid in tree if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != "zombie"] == []
        assert list(tmp_path.iterdir()) == []  # nor a folder, the client's or the server's
    finally:
        owner.kill()
        owner.wait()
        owner.stdin.close()
        owner.stdout.close()
        for pid in _sleepers(marker):
            os.kill(pid, signal.SIGKILL)


def test_course_serve_answers_any_sdk_and_attaches_notebooks_then_stops_on_ctrl_c():
    serve = subprocess.Popen([sys.executable, "-m", "sandbox.cli", "serve"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_machine_environment())
    try:
        banner = ""
        while "Ctrl+C" not in banner:
            line = serve.stdout.readline()
            assert line, serve.stderr.read()
            banner += line
        settings = dict(line.split("export ", 1)[1].strip().split("=", 1)
                        for line in banner.splitlines() if "export " in line)
        lam = boto3.client("lambda", endpoint_url=settings["AWS_ENDPOINT_URL"],
                           aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
                           region_name=settings["AWS_DEFAULT_REGION"])
        assert lam.list_functions()["Functions"] == []
        attached = subprocess.run([sys.executable, "-c", textwrap.dedent("""
            import boto3, sandbox
            sb = sandbox.start()
            boto3.client("sqs").create_queue(QueueName="shared")
            print(sb.endpoint_url, sb.owned)
            sb.stop()  # an attached sandbox is left running
        """)], capture_output=True, text=True, timeout=60, env=_machine_environment(
            SANDBOX_ENDPOINT=settings["SANDBOX_ENDPOINT"],
            SANDBOX_TOKEN=settings["SANDBOX_TOKEN"]))
        assert attached.returncode == 0, attached.stderr
        assert attached.stdout.split() == [settings["AWS_ENDPOINT_URL"], "False"]
        sqs = boto3.client("sqs", endpoint_url=settings["AWS_ENDPOINT_URL"],
                           aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
                           region_name="us-east-1")
        assert sqs.list_queues()["QueueUrls"][0].endswith("/shared")
        serve.send_signal(signal.SIGINT)
        assert serve.wait(20) == 0
        assert "Stopped." in serve.stdout.read()
    finally:
        serve.kill()
        serve.communicate()


def test_course_serve_on_a_taken_port_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "sandbox.cli", "serve", "--port",
                                 str(port)], capture_output=True, text=True, timeout=60,
                                env=_machine_environment())
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr


def test_a_server_that_will_not_start_says_why(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")
    from sandbox.client import Sandbox

    with pytest.raises(ServerError, match="ended .exit status 1. before it answered"):
        Sandbox._launch(clock_speed=10000, concurrency_limit=1000, enforce_iam=True)


# ---------------------------------------------------------------------- the admin API
def test_the_admin_api_needs_the_server_token(sb):
    request = urllib.request.Request(f"{sb.endpoint_url}/_sandbox/reset", data=b"{}",
                                     method="POST", headers={"X-Sandbox-Token": "guess"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    refused.value.close()
    assert sb.admin.call("status")["pid"] == sb.pid


def test_moto_s_own_api_is_not_served(sb):
    boto3.client("sqs").create_queue(QueueName="kept")
    request = urllib.request.Request(f"{sb.endpoint_url}/moto-api/reset", data=b"",
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404
    refused.value.close()
    assert len(boto3.client("sqs").list_queues()["QueueUrls"]) == 1


def test_a_stopped_sandbox_says_so_and_start_makes_a_new_one():
    code = textwrap.dedent("""
        import sandbox
        first = sandbox.start()
        first.stop()
        try:
            first.reset()
        except sandbox.SandboxError as error:
            print(type(error).__name__)
        second = sandbox.start()
        print(second is not first, second.running)
        second.stop()
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_machine_environment(), timeout=120)
    assert result.stdout.split() == ["SandboxStoppedError", "True", "True"], result.stderr


# ---------------------------------------------------------------------- bounded bodies
def test_a_huge_chunk_announced_then_abandoned_is_refused_at_once(sb):
    server = psutil.Process(sb.pid)
    before = server.memory_info().rss
    answer = _raw(sb, b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\n"
                      b"Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"FFFFFFFFFFFFFFFFFFFF\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    time.sleep(0.5)
    assert server.memory_info().rss - before < 50 * 2**20


def test_a_chunk_larger_than_the_bound_is_413(sb):
    answer = _raw(sb, b"PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n10000000\r\nabc")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_an_invalid_chunk_header_is_400_not_500(sb):
    answer = _raw(sb, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\nzz\r\nabc\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"invalid chunk size" in answer


def test_a_declared_body_over_the_bound_is_413_before_it_is_read(sb):
    answer = _raw(sb, b"PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Length: 99999999999\r\n\r\nabc")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_well_formed_chunked_body_still_reaches_the_service(sb):
    body = json.dumps({"speed": 5000}).encode()
    request = urllib.request.Request(f"{sb.endpoint_url}/_sandbox/clock",
                                     data=iter([body[:5], body[5:]]), method="POST", headers={
                                         "Transfer-Encoding": "chunked",
                                         "X-Sandbox-Token": sb.admin._token})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read()) == {"result": {"speed": 5000}}
        assert sb.clock.speed == 5000
    finally:
        sb.clock.speed = 10000


# ---------------------------------------------------------------------- nothing leaves the machine
@pytest.mark.parametrize("host, local", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("api.s3-website.localhost", True), ("LOCALHOST.", True),
    ("127.0.0.1.nip.io", False), ("localhost.amazonaws.com", False), ("10.0.0.1", False),
    ("example.com", False), ("::ffff:8.8.8.8", False), ("0.0.0.0", False),
])
def test_loopback_is_parsed_not_matched_by_prefix(host, local):
    from sandbox.safety import is_loopback_host

    assert is_loopback_host(host) is local


def test_the_server_process_connects_to_nothing_off_the_machine(monkeypatch):
    """The guard wraps whatever connects and resolves: here, stand-ins that record what they
    were asked, so that no test ever sends a packet away even if the guard were broken."""
    import socket

    from sandbox import safety

    asked: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: asked.append(address))
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: asked.append(host) or [])
    safety.guard_network()
    try:
        with socket.socket() as local:
            local.connect(("127.0.0.1", 9))
        socket.getaddrinfo("localhost", 80)
        assert asked == [("127.0.0.1", 9), "localhost"]
        with pytest.raises(socket.gaierror, match="only loopback names"):
            socket.getaddrinfo("example.com", 80)
        with socket.socket() as away, pytest.raises(safety.OffMachineRefused,
                                                    match="never connects to another machine"):
            away.connect(("192.0.2.1", 80))
        assert asked == [("127.0.0.1", 9), "localhost"]  # neither reached the stand-ins
    finally:
        safety.unguard_network()
    assert not safety._network_originals


def test_each_sandbox_makes_its_administrators_keys_anew(sb):
    """Another process (another notebook, another submission being graded) that does not know
    this sandbox's keys cannot act in it."""
    import re

    from botocore.exceptions import ClientError

    from sandbox.accounts import ACCOUNT_ID, SECOND_ACCOUNT_ID

    mine = sb._administrators[ACCOUNT_ID].access_key_id
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", mine)
    assert mine != sb._administrators[SECOND_ACCOUNT_ID].access_key_id
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith(":user/learner")
    stranger = boto3.client("lambda", aws_access_key_id="AKIASANDBOXLEARNER01",
                            aws_secret_access_key="guessed")
    with pytest.raises(ClientError) as refused:
        stranger.list_functions()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
