"""Execution environments: worker processes that run a function's code the way Lambda does.

An environment initialises once (INIT: its module is imported), then serves invocations one at a
time through Lambda's Runtime API. Warm invocations reuse it; a concurrent invocation gets a new
one; updated code or configuration retires the old ones; idle ones are retired after a while.

Every environment's output (``print``, ``logging``, a custom runtime's stderr) and the platform's
own lines (INIT_START, START, END, REPORT) travel through one pipe, so the log reads in the order
things happened: the platform writes its lines into the same pipe the handler writes to.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import bootstrap as _bootstrap

PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")
CUSTOM_RUNTIMES = ("provided.al2023", "provided.al2")
MAX_RESPONSE_BYTES = 6291556  # Lambda's synchronous response limit, as its error message states
TAIL_BYTES = 4096
IDLE_SECONDS = 600  # AWS keeps an idle environment for an unpredictable while; we keep it 10 min
_MARK = "\x1e"  # starts a platform line written into an environment's log pipe
_BOOTSTRAP = os.path.abspath(_bootstrap.__file__)

# Runtime versions as INIT_START names them (the numbers are the sandbox's own).
RUNTIME_VERSIONS = {
    "python3.10": "python:3.10.v58",
    "python3.11": "python:3.11.v62",
    "python3.12": "python:3.12.v64",
    "python3.13": "python:3.13.v33",
    "provided.al2023": "provided:al2023.v94",
    "provided.al2": "provided:al2.v110",
}


def runtime_version_arn(region: str, runtime: str) -> str:
    digest = hashlib.sha256(RUNTIME_VERSIONS[runtime].encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


@dataclass
class Result:
    """What an invocation gave back, in the terms of Lambda's Invoke API."""

    request_id: str
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    log: str = ""  # this invocation's log lines, START to REPORT
    executed_version: str = "$LATEST"

    @property
    def log_tail(self) -> str:
        """Base64 of the last 4 KB of the log, as ``X-Amz-Log-Result`` carries it."""
        return base64.b64encode(self.log.encode("utf-8")[-TAIL_BYTES:]).decode()


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    invoked_arn: str
    client_context: str | None = None
    deadline_ms: int = 0  # set when the invocation starts
    responded: threading.Event = field(default_factory=threading.Event)
    started: float = 0.0
    ended: float = 0.0
    response: bytes | None = None
    error: bytes | None = None
    init_error: bytes | None = None


class FunctionSpec:
    """What an environment needs to know of a function, read once from moto's model."""

    def __init__(self, fn: Any, layers: list[tuple[str, bytes]], credentials: dict[str, str]):
        self.name: str = fn.function_name
        self.version = str(fn.version) if str(fn.version) != "$LATEST" else "$LATEST"
        self.arn: str = fn.function_arn.split(":" + self.version)[0] if self.version != "$LATEST" \
            else fn.function_arn
        self.account_id: str = fn.account_id
        self.region: str = fn.region
        self.runtime: str = fn.run_time or ""
        self.handler: str = fn.handler or ""
        self.memory_size = int(fn.memory_size)
        self.timeout = float(fn.timeout)
        self.environment: dict[str, str] = dict(fn.environment_vars or {})
        self.code: bytes = fn.code_bytes
        self.code_sha: str = getattr(fn, "code_digest", "") or \
            hashlib.sha256(fn.code_bytes).hexdigest()
        self.layers = layers
        self.role: str = fn.role
        self.credentials = credentials
        self.log_group = f"/aws/lambda/{self.name}"
        self.signature = (
            self.code_sha, self.runtime, self.handler, self.memory_size, self.timeout,
            tuple(sorted(self.environment.items())), tuple(sha for sha, _ in layers), self.role,
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.account_id, self.arn, self.version)


class _RuntimeAPIHandler(BaseHTTPRequestHandler):
    """Lambda's Runtime API (``/2018-06-01/runtime/...``) for one execution environment."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes on a kept-alive connection must not wait 40 ms
    server: _RuntimeAPIServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _reply(self, status: int, body: dict | bytes, headers: dict[str, str] | None = None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                f"Content-Length: {len(data)}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path != "/2018-06-01/runtime/invocation/next":
            self._reply(404, {"errorMessage": "Not found", "errorType": "InvalidRequest"})
            return
        invocation = self.server.environment.next_invocation()
        if invocation is None:  # the environment is being retired
            self._reply(500, {"errorMessage": "Container error. Non-recoverable state.",
                              "errorType": "Runtime.Unknown"})
            return
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_arn,
            "Lambda-Runtime-Trace-Id": _trace_id(),
            "Content-Type": "application/json",
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        self._reply(200, invocation.payload, headers)

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.split("/")
        env = self.server.environment
        if self.path == "/2018-06-01/runtime/init/error":
            env.init_error(_error_body(body, self.headers))
            self._reply(202, _ACCEPTED)
            return
        if len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
            invocation = env.current
            if invocation is None or invocation.request_id != parts[4] \
                    or invocation.responded.is_set():
                self._reply(400, {"errorMessage": "Invalid request ID",
                                  "errorType": "InvalidRequestID"})
                return
            if parts[5] == "error":
                env.respond(invocation, error=_error_body(body, self.headers))
            elif len(body) > MAX_RESPONSE_BYTES:
                env.respond(invocation, error=json.dumps({
                    "errorMessage": "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }).encode())
                self._reply(413, {"errorMessage": "Exceeded maximum allowed payload size "
                                  f"({MAX_RESPONSE_BYTES} bytes).",
                                  "errorType": "RequestEntityTooLarge"})
                return
            else:
                env.respond(invocation, response=body)
            self._reply(202, _ACCEPTED)
            return
        self._reply(404, {"errorMessage": "Not found", "errorType": "InvalidRequest"})


class _RuntimeAPIServer(ThreadingHTTPServer):
    daemon_threads = True
    environment: ExecutionEnvironment

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a worker killed mid-request (timeout, retirement) is expected


_ACCEPTED = b'{"status":"OK"}\n'


def _error_body(body: bytes, headers: Any) -> bytes:
    """The runtime's error document, which Lambda hands to the caller verbatim."""
    try:
        if isinstance(json.loads(body), dict):
            return body
    except ValueError:
        pass
    error_type = headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
    return json.dumps({"errorMessage": body.decode("utf-8", "replace"),
                       "errorType": error_type}).encode()


def _trace_id() -> str:
    return (f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
            f"Parent={uuid.uuid4().hex[:16]};Sampled=0")


def _now_ms() -> int:
    return int(time.time() * 1000)


class ExecutionEnvironment:
    """One execution environment: its worker process, Runtime API endpoint and log stream."""

    def __init__(self, pool: EnvironmentPool, spec: FunctionSpec):
        self.pool = pool
        self.spec = spec
        self.stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        self.current: Invocation | None = None
        self.busy = False
        self.retired = False
        self.last_used = time.monotonic()
        self.worker: _Spare | None = None
        self._reader: threading.Thread | None = None
        self._assignment: dict[str, Any] = {}
        self._events: queue.Queue[Invocation | None] = queue.Queue()
        self._lines: list[tuple[int, str]] = []
        self._lines_lock = threading.Lock()
        self._marks: dict[str, threading.Event] = {}
        self._initialised = False
        self._init_started = 0.0
        self.init_duration: float | None = None  # seconds; the first REPORT shows it
        self.peak_kb = 0  # the worker's peak resident memory, as Max Memory Used reports it
        self.server = _RuntimeAPIServer(("127.0.0.1", 0), _RuntimeAPIHandler)
        self.server.environment = self
        self._server_thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
            name=f"runtime-api-{spec.name}", daemon=True)

    @property
    def process(self) -> subprocess.Popen:
        assert self.worker is not None
        return self.worker.process

    # ---------------------------------------------------------------- start-up
    def start(self, task_root: str, opt_root: str | None) -> None:
        self._server_thread.start()
        spec = self.spec
        self._assignment = {
            "env": self._environment(task_root),
            "cwd": task_root,
            "handler": spec.handler,
            "path": self._python_path(task_root, opt_root),
        }
        if spec.runtime in CUSTOM_RUNTIMES:
            self._assignment["exec"] = [self._custom_bootstrap(task_root, opt_root)]
            self._assignment["opt"] = opt_root
        self._boot(self.pool.take_spare())
        self.platform(
            f"INIT_START Runtime Version: {RUNTIME_VERSIONS[spec.runtime]}\t"
            f"Runtime Version ARN: {runtime_version_arn(spec.region, spec.runtime)}\n")
        self._assign()

    def _boot(self, spare: _Spare) -> None:
        self.worker = spare
        self._reader = threading.Thread(target=self._read_logs, args=(spare.log_read,),
                                        name=f"logs-{self.spec.name}", daemon=True)
        self._reader.start()

    def _assign(self) -> None:
        self._initialised = False
        self._init_started = time.perf_counter()
        self.process.stdin.write(json.dumps(self._assignment).encode() + b"\n")
        self.process.stdin.flush()

    def _reboot(self) -> None:
        """A failed INIT is tried once more, in a new process, as Lambda does."""
        self._stop_worker()
        self.peak_kb = 0
        self._boot(self.pool.take_spare())
        self._assign()

    def _custom_bootstrap(self, task_root: str, opt_root: str | None) -> str:
        candidates = [os.path.join(task_root, "bootstrap")]
        if opt_root:
            candidates.append(os.path.join(opt_root, "bootstrap"))
        for path in candidates:
            if os.path.exists(path):
                return path
        return candidates[0]  # exec fails and reports it, as Lambda does

    def _python_path(self, task_root: str, opt_root: str | None) -> list[str]:
        paths = [task_root]
        if opt_root:
            # Lambda puts layers under /opt: /opt/python and /opt/python/lib/pythonX.Y/site-packages
            minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
            paths += [os.path.join(opt_root, "python"),
                      os.path.join(opt_root, "python", "lib", minor, "site-packages")]
        return paths + [self.pool.runtime_packages]

    def _environment(self, task_root: str) -> dict[str, str]:
        spec, pool = self.spec, self.pool
        host, port = self.server.server_address[:2]
        env = {
            # what the machine lends every process
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "en_US.UTF-8",
            "TMPDIR": pool.tmp_dir(self),
            "PYTHONUNBUFFERED": "1",
        }
        env.update(spec.environment)  # the reserved variables below win, as on Lambda
        env.update({
            "_HANDLER": spec.handler,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.stream,
            "AWS_LAMBDA_RUNTIME_API": f"{host}:{port}",
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": os.path.dirname(_BOOTSTRAP),
            "TZ": ":UTC",
            "AWS_ACCESS_KEY_ID": spec.credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": spec.credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": spec.credentials["SessionToken"],
            # not on Lambda: what makes the handler's boto3 reach the sandbox and nothing else
            "AWS_ENDPOINT_URL": pool.endpoint_url,
            "AWS_CONFIG_FILE": pool.empty_file,
            "AWS_SHARED_CREDENTIALS_FILE": pool.empty_file,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        })
        if spec.runtime in CUSTOM_RUNTIMES:
            del env["AWS_EXECUTION_ENV"]  # custom runtimes have none
        return env

    # ---------------------------------------------------------------- the log
    def platform(self, *lines: str, mark: str | None = None) -> threading.Event | None:
        """Write log events into the worker's own output pipe, so they keep their order."""
        event = None
        if mark:
            event = self._marks[mark] = threading.Event()
        record = json.dumps({"lines": lines, "mark": mark})
        try:
            os.write(self.worker.log_write, (_MARK + record + "\n").encode())
        except OSError:
            if event:
                event.set()
        return event

    def _read_logs(self, fd: int) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                self._take_line(raw.decode("utf-8", "replace"), b"\n")
        if buffer:
            self._take_line(buffer.decode("utf-8", "replace"), b"")

    def _take_line(self, line: str, ending: bytes) -> None:
        text, marker, record = line.partition(_MARK)
        now = _now_ms()
        data: dict[str, Any] = {}
        with self._lines_lock:
            if text:  # print output: one event a line, as Lambda splits stdout
                self._lines.append((now, text + (ending.decode() if not marker else "")))
            if not marker:
                return
            try:
                data = json.loads(record)
                self._lines.extend((now, message) for message in data["lines"])
            except (ValueError, KeyError, TypeError):  # the function printed our marker itself
                self._lines.append((now, _MARK + record + ending.decode()))
                return
        if data.get("mark"):
            self._marks.pop(data["mark"]).set()

    def take_lines(self) -> list[tuple[int, str]]:
        with self._lines_lock:
            lines, self._lines = self._lines, []
        return lines

    # ---------------------------------------------------------------- Runtime API callbacks
    def next_invocation(self) -> Invocation | None:
        if not self._initialised:
            self.init_duration = time.perf_counter() - self._init_started
            self._initialised = True
        invocation = self._events.get()
        if invocation is None:
            return None
        self.platform(f"START RequestId: {invocation.request_id} Version: {self.spec.version}\n")
        invocation.started = time.perf_counter()
        # the timeout counts from the start of the invocation, after any INIT
        invocation.deadline_ms = _now_ms() + int(self.spec.timeout * 1000)
        return invocation

    def respond(self, invocation: Invocation, response: bytes | None = None,
                error: bytes | None = None) -> None:
        invocation.ended = time.perf_counter()
        self._sample_memory()  # the worker is alive, waiting for our answer
        invocation.response, invocation.error = response, error
        invocation.responded.set()

    def init_error(self, error: bytes) -> None:
        self._sample_memory()
        current = self.current
        if current is not None and not self._initialised:
            current.init_error = error
            current.responded.set()

    # ---------------------------------------------------------------- one invocation
    def _await(self, invocation: Invocation, invoke_started: float, init_phase: bool) -> str:
        """Wait for the worker: "response", "init_error", "timeout", "init_timeout", "exit" or
        "memory"."""
        limit_kb = self.spec.memory_size * 1024
        while not invocation.responded.wait(POLL_SECONDS):
            self._sample_memory()
            now = time.perf_counter()
            if not self._initialised and init_phase:
                if now - self._init_started >= INIT_TIMEOUT:
                    return "init_timeout"
            elif now - (invocation.started or invoke_started) >= self.spec.timeout:
                return "timeout"
            if self._reap(block=False):
                if invocation.responded.wait(0.05):  # its last words may be on their way
                    break
                return "exit"
            if self.peak_kb > limit_kb:
                return "memory"
        if invocation.init_error is not None:
            return "init_error"
        self._sample_memory()
        if self.peak_kb > limit_kb:
            return "memory"  # it peaked between two looks
        return "response"

    def _sample_memory(self) -> None:
        self.peak_kb = max(self.peak_kb, _peak_kb(self.process.pid))

    def _reap(self, block: bool) -> bool:
        """Whether the worker has exited (waiting for it when ``block``)."""
        if block:
            self.process.wait()
            return True
        return self.process.poll() is not None

    def invoke(self, invocation: Invocation) -> Result:
        """Run one invocation to its end: a result, an error, a timeout or a crash."""
        spec, rid = self.spec, invocation.request_id
        self.current = invocation
        invoke_started = time.perf_counter()
        cold = not self._initialised
        self._events.put(invocation)
        outcome = self._await(invocation, invoke_started, init_phase=cold)
        if cold and outcome in ("init_error", "init_timeout") or (
                outcome == "exit" and not self._initialised):
            # The INIT phase failed: report it, then try once more inside the invoke phase.
            self.platform(self._init_report("init", outcome, invocation))
            invocation.init_error = None
            invocation.responded.clear()
            invoke_started = time.perf_counter()
            self._reboot()
            outcome = self._await(invocation, invoke_started, init_phase=False)
            if outcome in ("init_error", "timeout", "exit", "memory") and not self._initialised:
                self.platform(self._init_report("invoke", outcome, invocation),
                              f"START RequestId: {rid} Version: {spec.version}\n")
                invocation.started = invoke_started
                self.init_duration = None
        ended = time.perf_counter()
        if outcome != "response":
            self._kill()
        memory_mb = spec.memory_size if outcome == "memory" else \
            min(spec.memory_size, max(1, math.ceil(self.peak_kb / 1024)))
        error_type, payload = self._outcome(outcome, invocation)
        if outcome == "timeout":
            duration = spec.timeout
        else:
            duration = ((invocation.ended if outcome == "response" else ended)
                        - (invocation.started or invoke_started))
        init = self.init_duration if outcome != "init_error" else None
        billed = math.ceil((duration + (init or 0)) * 1000)
        report = (f"REPORT RequestId: {rid}\tDuration: {_ms(duration)} ms\tBilled Duration: "
                  f"{max(billed, 1)} ms\tMemory Size: {spec.memory_size} MB\tMax Memory Used: "
                  f"{memory_mb} MB")
        if init is not None:
            report += f"\tInit Duration: {_ms(init)} ms"
        # A platform-detected failure adds its status; a successful REPORT ends with a tab.
        if outcome == "timeout":
            report += "\tStatus: timeout\n"
        elif outcome != "response":
            report += f"\tStatus: error\tError Type: {error_type}\n"
        else:
            report += "\t\n"
        self.init_duration = None
        done = self.platform(f"END RequestId: {rid}\n", report, mark=rid)
        if done is not None:
            done.wait(2)
        lines = self.take_lines()
        self.pool.write_logs(self, lines)
        self.current = None
        if outcome != "response":
            self.retire()
        function_error = "Unhandled" if outcome != "response" or invocation.error is not None \
            else None
        return Result(rid, payload, function_error, _invocation_log(lines, rid), spec.version)

    def _init_report(self, phase: str, outcome: str, invocation: Invocation) -> str:
        took = INIT_TIMEOUT if outcome == "init_timeout" else \
            time.perf_counter() - self._init_started
        if outcome in ("init_timeout", "timeout"):
            status = "Status: timeout"
        else:
            status = f"Status: error\tError Type: {self._outcome(outcome, invocation)[0]}"
        return f"INIT_REPORT Init Duration: {_ms(took)} ms\tPhase: {phase}\t{status}\n"

    def _outcome(self, outcome: str, invocation: Invocation) -> tuple[str | None, bytes]:
        """The error type (None for success) and the payload the caller gets."""
        rid = invocation.request_id
        if outcome == "response":
            if invocation.error is not None:  # the runtime's error, verbatim
                return _error_type(invocation.error), invocation.error
            return None, invocation.response or b""
        if outcome == "init_error":
            error_type = _error_type(invocation.init_error)
            if error_type == "Runtime.InvalidEntrypoint":
                message = json.loads(invocation.init_error)["errorMessage"]
                return error_type, _platform_error(error_type, f"RequestId: {rid} Error: {message}")
            return error_type, invocation.init_error
        if outcome in ("timeout", "init_timeout"):
            return "Sandbox.Timedout", _platform_error(
                "Sandbox.Timedout",
                f"RequestId: {rid} Error: Task timed out after {self.spec.timeout:.2f} seconds")
        self._reap(block=True)
        code = self.process.returncode
        if outcome == "memory":
            return "Runtime.OutOfMemory", _platform_error(
                "Runtime.OutOfMemory",
                f"RequestId: {rid} Error: Runtime exited with error: signal: killed")
        reason = f"signal: {signal.Signals(-code).name[3:].lower()}" if code < 0 \
            else f"exit status {code}"
        return "Runtime.ExitError", _platform_error(
            "Runtime.ExitError", f"RequestId: {rid} Error: Runtime exited with error: {reason}")

    # ---------------------------------------------------------------- the end
    def _kill(self) -> None:
        if self.worker is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._reap(block=True)

    def _stop_worker(self) -> None:
        """End the worker, and read what it wrote to its last byte."""
        if self.worker is None:
            return
        self._kill()
        worker = self.worker
        try:
            worker.process.stdin.close()
        except OSError:
            pass
        os.close(worker.log_write)  # with the worker gone, the reader now sees end of file
        if self._reader is not None:
            self._reader.join(2)
        os.close(worker.log_read)

    def retire(self) -> None:
        """End the process and free everything this environment holds."""
        if self.retired:
            return
        self.retired = True
        self._events.put(None)
        self._stop_worker()
        self.worker = None
        if self._server_thread.is_alive():  # shutdown() waits forever on a server never served
            self.server.shutdown()
            self._server_thread.join(2)
        self.server.server_close()
        self.pool.forget(self)


INIT_TIMEOUT = 10.0  # Lambda caps the INIT phase at 10 seconds
POLL_SECONDS = 0.05  # how often a busy environment's clock, exit and memory are looked at


def _error_type(body: bytes | None) -> str:
    try:
        return str(json.loads(body or b"").get("errorType") or "Runtime.Unknown")
    except (ValueError, AttributeError):
        return "Runtime.Unknown"


def _platform_error(error_type: str, message: str) -> bytes:
    # Lambda's platform (not the runtime) writes these, compactly
    return json.dumps({"errorType": error_type, "errorMessage": message},
                      separators=(",", ":")).encode()


def _invocation_log(lines: list[tuple[int, str]], request_id: str) -> str:
    """This invocation's log from START on, as the Invoke API's log tail shows it."""
    texts = [text for _, text in lines]
    start = f"START RequestId: {request_id} "
    for index, text in enumerate(texts):
        if text.startswith(start):
            texts = texts[index:]
            break
    return "".join(texts)


def _json(value: dict) -> bytes:
    return json.dumps(value).encode()


def _proc_status_kb(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _peak_kb(pid: int) -> int:
    return _proc_status_kb(pid, b"VmHWM:")


class _Spare:
    """A worker process whose interpreter is up, waiting for its assignment."""

    def __init__(self, python: str):
        self.log_read, self.log_write = os.pipe()
        self.process = subprocess.Popen(
            # -S: no site-packages; the function sees the standard library, its own code, its
            # layers and what Lambda's runtime ships (runtime_packages), nothing else
            [python, "-I", "-S", "-u", _BOOTSTRAP, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=self.log_write, stderr=self.log_write,
            start_new_session=True, close_fds=True, env={"PATH": os.environ.get("PATH", "")},
        )

    def discard(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        self.process.stdin.close()
        os.close(self.log_read)
        os.close(self.log_write)


# What Lambda's Python runtimes put on the import path besides the standard library: the AWS SDK
# and what it needs. A handler importing anything else needs it in its zip or a layer, as on AWS.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def runtime_packages(folder: str) -> str:
    """A folder holding (links to) this interpreter's copies of RUNTIME_PACKAGES."""
    import importlib.util

    os.makedirs(folder, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        source = os.path.dirname(spec.origin) if spec.submodule_search_locations \
            else spec.origin
        target = os.path.join(folder, os.path.basename(source))
        if not os.path.exists(target):
            os.symlink(source, target)
    return folder


class Throttled(Exception):
    """No environment may be started: the concurrency limit is reached."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EnvironmentPool:
    """All execution environments of one sandbox, and the spare worker that starts the next."""

    def __init__(self, *, endpoint_url: str, work_dir: str, write_logs: Any,
                 account_concurrency: int = 1000):
        self.endpoint_url = endpoint_url
        self.work_dir = work_dir
        self.empty_file = os.path.join(work_dir, "empty")
        open(self.empty_file, "w").close()
        self.runtime_packages = runtime_packages(os.path.join(work_dir, "runtime"))
        self._write_logs = write_logs
        self.account_concurrency = account_concurrency
        self._lock = threading.Lock()
        self._environments: list[ExecutionEnvironment] = []
        self._spares: queue.Queue[_Spare] = queue.Queue()
        self._spawn_requests: queue.Queue[bool] = queue.Queue()
        self._closed = False
        # One long-lived thread starts every worker: Linux's parent-death signal, which kills a
        # worker when the sandbox's process dies, follows the thread that started it.
        self._spawner = threading.Thread(target=self._spawn_loop, name="sandbox-spawner",
                                         daemon=True)
        self._spawner.start()
        self._spawning = 0  # spawns asked for and not yet done
        self._ask_for_spare()

    # ---------------------------------------------------------------- spares
    def _spawn_loop(self) -> None:
        while True:
            want = self._spawn_requests.get()
            if not want or self._closed:
                break
            self._spares.put(_Spare(sys.executable))
            with self._lock:
                self._spawning -= 1

    def _ask_for_spare(self) -> None:
        with self._lock:
            self._spawning += 1
        self._spawn_requests.put(True)

    def take_spare(self) -> _Spare:
        """A started interpreter; one more is started so that the next cold start finds one."""
        try:
            spare = self._spares.get_nowait()
        except queue.Empty:
            self._ask_for_spare()
            spare = self._spares.get()
        with self._lock:
            keep_one_ready = self._spares.qsize() + self._spawning == 0
        if keep_one_ready:
            self._ask_for_spare()
        return spare

    # ---------------------------------------------------------------- files
    def _extract(self, kind: str, key: str, archives: list[bytes]) -> str:
        target = os.path.join(self.work_dir, kind, key)
        if os.path.isdir(target):
            return target
        staging = f"{target}.{uuid.uuid4().hex}"
        os.makedirs(staging)
        for archive in archives:
            with zipfile.ZipFile(io.BytesIO(archive)) as zf:
                for info in zf.infolist():
                    path = zf.extract(info, staging)
                    mode = info.external_attr >> 16
                    if mode and not info.is_dir():
                        os.chmod(path, mode & 0o7777)
        try:
            os.rename(staging, target)
        except OSError:  # another thread got there first
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def tmp_dir(self, environment: ExecutionEnvironment) -> str:
        path = os.path.join(self.work_dir, "tmp", environment.stream.replace("/", "-"))
        os.makedirs(path, exist_ok=True)
        return path

    def write_logs(self, environment: ExecutionEnvironment, lines: list[tuple[int, str]]) -> None:
        self._write_logs(environment.spec, environment.stream, lines)

    # ---------------------------------------------------------------- environments
    def acquire(self, spec: FunctionSpec, reserved: int | None) -> ExecutionEnvironment:
        """An idle environment of this function, or a new one, or Throttled."""
        stale: list[ExecutionEnvironment] = []
        with self._lock:
            if self._closed:
                raise Throttled("SandboxStopped")
            busy_here = sum(1 for env in self._environments
                            if env.busy and env.spec.name == spec.name
                            and env.spec.account_id == spec.account_id)
            if reserved is not None and busy_here >= reserved:
                raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            if sum(1 for env in self._environments if env.busy) >= self.account_concurrency:
                raise Throttled("ConcurrentInvocationLimitExceeded")
            chosen = None
            for env in reversed(self._environments):
                if env.spec.key != spec.key or env.busy or env.retired:
                    continue
                if env.spec.signature != spec.signature:
                    stale.append(env)
                elif chosen is None:
                    chosen = env
            if chosen is None:  # a new environment counts as busy from now: no race past a limit
                chosen = ExecutionEnvironment(self, spec)
                self._environments.append(chosen)
                new = True
            else:
                new = False
            chosen.busy = True
            chosen.last_used = time.monotonic()
        for env in stale:
            env.retire()
        if not new:
            return chosen
        try:
            task_root = self._extract("task", spec.code_sha, [spec.code])
            opt_root = None
            if spec.layers:
                key = hashlib.sha256("".join(sha for sha, _ in spec.layers).encode()).hexdigest()
                opt_root = self._extract("opt", key, [code for _, code in spec.layers])
            chosen.start(task_root, opt_root)
        except BaseException:
            chosen.retire()
            raise
        return chosen

    def release(self, env: ExecutionEnvironment) -> None:
        with self._lock:
            env.busy = False
            env.last_used = time.monotonic()
        self.retire_idle()

    def retire_idle(self, idle_seconds: float = IDLE_SECONDS) -> None:
        now = time.monotonic()
        with self._lock:
            old = [env for env in self._environments
                   if not env.busy and now - env.last_used > idle_seconds]
        for env in old:
            env.retire()

    def retire_function(self, account_id: str, name: str) -> None:
        with self._lock:
            doomed = [env for env in self._environments
                      if env.spec.account_id == account_id and env.spec.name == name
                      and not env.busy]
        for env in doomed:
            env.retire()

    def forget(self, env: ExecutionEnvironment) -> None:
        with self._lock:
            if env in self._environments:
                self._environments.remove(env)

    @property
    def environments(self) -> list[ExecutionEnvironment]:
        with self._lock:
            return list(self._environments)

    def close(self) -> None:
        """Retire every environment and spare; no process or thread is left."""
        with self._lock:
            self._closed = True
            environments = list(self._environments)
        self._spawn_requests.put(False)
        self._spawner.join(10)
        for env in environments:
            env.retire()
        while True:
            try:
                self._spares.get_nowait().discard()
            except queue.Empty:
                break
        shutil.rmtree(self.work_dir, ignore_errors=True)
