"""One execution environment: a worker, its Runtime API endpoint and its log stream.

An environment initialises once (INIT: its module is imported), then serves invocations one at a
time through Lambda's Runtime API. After a timeout or a crash it is reset, as Lambda resets it:
the runtime and everything it started are killed, the next invocation runs INIT again, and
``/tmp`` (and the log stream) stay.

Every environment's output (``print``, ``logging``, a custom runtime's stderr) and the platform's
own lines (INIT_START, START, END, REPORT) travel through one pipe, so the log reads in the order
things happened: the platform writes its lines into the same pipe the handler writes to.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import interpreters, workers
from .api import RuntimeAPIServer
from .reports import (
    CUSTOM_RUNTIMES,
    RUNTIME_VERSIONS,
    Result,
    error_type,
    invocation_log,
    ms,
    now_ms,
    platform_error,
    runtime_version_arn,
)

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction

    from .bootstrap import Assignment  # (bootstrap.py declares it for the type checker only)
    from .pool import EnvironmentPool

INIT_TIMEOUT = 10.0  # Lambda caps the INIT phase at 10 seconds
POLL_SECONDS = 0.05  # how often a busy environment's clock, exit and memory are looked at
_MARK = "\x1e"  # starts a platform line written into an environment's log pipe
# Lambda sends a function's log lines to CloudWatch Logs as events of at most 256 KB, the size
# CloudWatch counts as the UTF-8 message plus 26 bytes: a longer line becomes several events.
MAX_EVENT_BYTES = 256 * 1024 - 26


def split_event(text: str) -> list[str]:
    """A log line as the events CloudWatch Logs gets: pieces of at most MAX_EVENT_BYTES bytes
    of UTF-8, cut between characters."""
    data = text.encode("utf-8")
    if len(data) <= MAX_EVENT_BYTES:
        return [text]
    pieces, start = [], 0
    while start < len(data):
        end = min(start + MAX_EVENT_BYTES, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a character
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


class EnvironmentAborted(Exception):
    """The sandbox was reset or stopped while an invocation ran: there is no answer to give."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


_SYSTEM_LEVELS = {"DEBUG": 0, "INFO": 1, "WARN": 2}


def json_platform_line(line: str, system_level: str = "INFO") -> str:
    """A platform line as Lambda writes it with LogFormat JSON
    (monitoring-cloudwatchlogs-logformat.html, the Telemetry API's event schema):
    ``{"time": ..., "type": "platform.start", "record": {...}}``; ``platform.initStart``,
    ``platform.start`` and ``platform.report`` are INFO events, dropped below a
    ``SystemLogLevel`` of WARN; the END line has no JSON event. Other lines (the sandbox's
    notes) pass through."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    info = _SYSTEM_LEVELS.get(system_level, 1) <= _SYSTEM_LEVELS["INFO"]
    event: dict[str, Any] | None = None
    if line.startswith("INIT_START "):
        fields = dict(part.split(": ", 1) for part in line[len("INIT_START "):].strip().split("\t")
                      if ": " in part)
        event = {"type": "platform.initStart", "record": {
            "initializationType": "on-demand", "phase": "init",
            "runtimeVersion": fields.get("Runtime Version", ""),
            "runtimeVersionArn": fields.get("Runtime Version ARN", "")}}
    elif line.startswith("START RequestId: "):
        request_id, _, version = line[len("START RequestId: "):].strip().partition(" Version: ")
        event = {"type": "platform.start", "record": {"requestId": request_id,
                                                      "version": version}}
    elif line.startswith("END RequestId: "):
        return ""
    elif line.startswith("REPORT RequestId: "):
        parts = line[len("REPORT RequestId: "):].rstrip("\n").split("\t")
        fields = dict(part.split(": ", 1) for part in parts[1:] if ": " in part)

        def number(key: str) -> float:
            return float(fields[key].split()[0])

        metrics: dict[str, Any] = {"durationMs": number("Duration"),
                                   "billedDurationMs": int(number("Billed Duration")),
                                   "memorySizeMB": int(number("Memory Size")),
                                   "maxMemoryUsedMB": int(number("Max Memory Used"))}
        if "Init Duration" in fields:
            metrics["initDurationMs"] = number("Init Duration")
        record: dict[str, Any] = {"requestId": parts[0], "metrics": metrics,
                                  "status": fields.get("Status", "success")}
        if "Error Type" in fields:
            record["errorType"] = fields["Error Type"]
        event = {"type": "platform.report", "record": record}
    else:
        return line
    if not info:
        return ""
    return json.dumps({"time": stamp, **event}) + "\n"


class FunctionSpec:
    """What an environment needs to know of a function, read once from moto's model."""

    def __init__(self, fn: LambdaFunction, layers: list[tuple[str, bytes]],
                 credentials: dict[str, str]):
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
        self.tmp_mb = int(getattr(fn, "ephemeral_storage", None) or workers.DEFAULT_TMP_MB)
        self.environment: dict[str, str] = dict(fn.environment_vars or {})
        self.code: bytes = fn.code_bytes
        self.code_sha: str = getattr(fn, "code_digest", "") or \
            hashlib.sha256(fn.code_bytes).hexdigest()
        self.layers = layers
        self.role: str = fn.role
        self.credentials = credentials
        # LoggingConfig (sandbox/awslambda/configuration.py): the format, levels and log group
        logging_config = getattr(fn, "logging_config", None) or {}
        self.log_group = logging_config.get("LogGroup") or f"/aws/lambda/{self.name}"
        self.log_format: str = logging_config.get("LogFormat") or "Text"
        self.application_log_level: str = logging_config.get("ApplicationLogLevel") or "INFO"
        self.system_log_level: str = logging_config.get("SystemLogLevel") or "INFO"
        self.signature = (
            self.code_sha, self.runtime, self.handler, self.memory_size, self.timeout,
            tuple(sorted(self.environment.items())), tuple(sha for sha, _ in layers), self.role,
            self.tmp_mb, self.log_group, self.log_format, self.application_log_level,
            self.system_log_level,
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.account_id, self.arn, self.version)


class ExecutionEnvironment:
    """One execution environment: its worker, Runtime API endpoint and log stream."""

    def __init__(self, pool: EnvironmentPool, spec: FunctionSpec):
        self.pool = pool
        self.spec = spec
        self.stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        self.current: Invocation | None = None
        self.busy = False
        self.retired = False
        self.broken = False  # to be retired rather than reset
        self.last_used = time.monotonic()
        self.worker: workers.Worker | None = None
        self._reader: threading.Thread | None = None
        self._assignment: Assignment | None = None  # what start() gives the runtime
        self._events: queue.Queue[Invocation | None] = queue.Queue()
        self._lines: list[tuple[int, str]] = []
        self._lines_lock = threading.Lock()
        self._marks: dict[str, threading.Event] = {}
        self._initialised = False
        self._init_started = 0.0
        self._runtime_status: int | None = None  # the ended runtime's wait status
        self._needs_reset = False
        self._aborted: str | None = None
        self._outside = threading.Event()  # no thread is inside invoke()
        self._outside.set()
        self._retire_lock = threading.Lock()
        self.init_duration: float | None = None  # seconds; the first REPORT shows it
        self.peak_kb = 0  # the environment's peak memory, as Max Memory Used reports it
        self.server = RuntimeAPIServer(self)

    # ---------------------------------------------------------------- start-up
    def start(self, task_root: str, opt_root: str | None) -> None:
        self.server.start()
        spec = self.spec
        assignment: Assignment = {
            "env": self._environment(task_root),
            "cwd": task_root,
            "handler": spec.handler,
            "path": self._python_path(task_root, opt_root),
        }
        if spec.runtime in CUSTOM_RUNTIMES:
            assignment["exec"] = [self._custom_bootstrap(task_root, opt_root)]
            assignment["opt"] = opt_root
        else:
            interpreter = interpreters.for_runtime(spec.runtime)
            if not interpreter.own:
                assignment["python"] = interpreter.path
        self._assignment = assignment
        self._boot(self.pool.take_spare(spec.tmp_mb))
        self._init_start()

    def _boot(self, worker: workers.Worker) -> None:
        self.worker = worker
        self._reader = threading.Thread(target=self._read_logs, args=(worker.log_read,),
                                        name=f"logs-{self.spec.name}", daemon=True)
        self._reader.start()

    def _init_start(self) -> None:
        spec = self.spec
        lines = [f"INIT_START Runtime Version: {RUNTIME_VERSIONS[spec.runtime]}\t"
                 f"Runtime Version ARN: {runtime_version_arn(spec.region, spec.runtime)}\n"]
        if self.spec.runtime not in CUSTOM_RUNTIMES and self.pool.first_note(self.spec.name):
            note = interpreters.for_runtime(self.spec.runtime).note()
            if note:
                lines.append(note)  # once per function: its Python is not its runtime's
        self.platform(*lines)
        self._assign()

    def _assign(self) -> None:
        assert self.worker is not None and self._assignment is not None  # (start() set both)
        self._initialised = False
        self._runtime_status = None
        self._init_started = time.perf_counter()
        self.worker.send(json.dumps(self._assignment).encode())

    def _restart(self) -> None:
        """A new runtime in the same environment (same /tmp, same log stream)."""
        self._end_runtime()
        self.peak_kb = 0
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
            minor = self.spec.runtime if self.spec.runtime.startswith("python") \
                else f"python{sys.version_info.major}.{sys.version_info.minor}"
            paths += [os.path.join(opt_root, "python"),
                      os.path.join(opt_root, "python", "lib", minor, "site-packages")]
        return paths + [self.pool.runtime_packages]

    def _environment(self, task_root: str) -> dict[str, str]:
        spec, pool = self.spec, self.pool
        env = {
            # what the machine lends every process
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "en_US.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }
        if not pool.sandboxed:  # without bubblewrap /tmp is the machine's: a folder of its own
            env["TMPDIR"] = pool.tmp_dir(self)
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
            "AWS_LAMBDA_RUNTIME_API": self.server.address,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": os.path.dirname(workers.BOOTSTRAP),
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
        if spec.log_format == "JSON":  # the runtime writes its logging records as JSON
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
        if spec.runtime in CUSTOM_RUNTIMES:
            del env["AWS_EXECUTION_ENV"]  # custom runtimes have none
        return env

    # ---------------------------------------------------------------- the log
    def platform(self, *lines: str, mark: str | None = None) -> threading.Event | None:
        """Write log events into the worker's own output pipe, so they keep their order."""
        if self.spec.log_format == "JSON":
            lines = tuple(json_platform_line(line, self.spec.system_log_level)
                          for line in lines)
            lines = tuple(line for line in lines if line)
        event = None
        if mark:
            event = self._marks[mark] = threading.Event()
        record = json.dumps({"lines": lines, "mark": mark})
        worker = self.worker
        try:
            if worker is None or worker.closed:
                raise OSError
            os.write(worker.log_write, (_MARK + record + "\n").encode())
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
            while len(buffer) > MAX_EVENT_BYTES and _MARK.encode() not in buffer:
                # a line longer than an event: its full events now, not all of it in memory
                cut = MAX_EVENT_BYTES
                while (buffer[cut] & 0xC0) == 0x80:
                    cut -= 1
                self._take_line(buffer[:cut].decode("utf-8", "replace"), b"")
                buffer = buffer[cut:]
        if buffer:
            self._take_line(buffer.decode("utf-8", "replace"), b"")
        for event in list(self._marks.values()):  # nothing more will come
            event.set()

    def _take_line(self, line: str, ending: bytes) -> None:
        text, marker, record = line.partition(_MARK)
        now = now_ms()
        data: dict[str, Any] = {}
        with self._lines_lock:
            if text:  # print output: one event a line, as Lambda splits stdout
                self._add(now, text + (ending.decode() if not marker else ""))
            if not marker:
                return
            try:
                data = json.loads(record)
                for message in data["lines"]:
                    self._add(now, message)
            except (ValueError, KeyError, TypeError):  # the function printed our marker itself
                self._add(now, _MARK + record + ending.decode())
                return
        if data.get("mark"):
            done = self._marks.pop(data["mark"], None)
            if done is not None:
                done.set()

    def _add(self, stamp: int, text: str) -> None:
        self._lines.extend((stamp, piece) for piece in split_event(text))

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
        invocation.deadline_ms = now_ms() + int(self.spec.timeout * 1000)
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
        """Wait for the worker: "response", "init_error", "timeout", "init_timeout", "exit",
        "memory" or "aborted"."""
        limit_kb = self.spec.memory_size * 1024
        while not invocation.responded.wait(self._next_look(invocation)):
            if self._aborted:
                return "aborted"
            self._sample_memory()
            now = time.perf_counter()
            if not self._initialised and init_phase:
                if now - self._init_started >= INIT_TIMEOUT:
                    return "init_timeout"
            elif now - (invocation.started or invoke_started) >= self.spec.timeout:
                return "timeout"
            if self._runtime_ended():
                if invocation.responded.wait(0.05):  # its last words may be on their way
                    break
                return "exit"
            if self.peak_kb > limit_kb:
                return "memory"
        if self._aborted:
            return "aborted"
        if invocation.init_error is not None:
            return "init_error"
        if invocation.started and invocation.ended - invocation.started >= self.spec.timeout:
            return "timeout"  # it answered after its deadline: Lambda had stopped it by then
        self._sample_memory()
        if self.peak_kb > limit_kb:
            return "memory"  # it peaked between two looks
        return "response"

    def _next_look(self, invocation: Invocation) -> float:
        """Seconds until the next look at the worker: at most POLL_SECONDS, and never past the
        invocation's deadline, which Lambda enforces to the millisecond."""
        if not invocation.started:
            return POLL_SECONDS
        left = invocation.started + self.spec.timeout - time.perf_counter()
        return max(0.001, min(POLL_SECONDS, left))

    def _sample_memory(self) -> None:
        worker = self.worker
        if worker is not None and not worker.closed:
            self.peak_kb = max(self.peak_kb, worker.memory_kb())

    def _runtime_ended(self) -> bool:
        """Whether the runtime has ended (its supervisor says so, or is itself gone)."""
        if self._runtime_status is None and self.worker is not None:
            self._runtime_status = self.worker.runtime_status()
        return self._runtime_status is not None

    def _end_runtime(self) -> None:
        """Kill the runtime (if it still runs) and everything it started; its status stays."""
        if self.worker is None or self._runtime_ended():
            return
        self.worker.kill_runtime()
        deadline = time.monotonic() + 5
        while not self._aborted and time.monotonic() < deadline:
            self._runtime_status = self.worker.runtime_status(timeout=POLL_SECONDS)
            if self._runtime_status is not None:
                return
        if self._runtime_status is None:
            self._runtime_status = 9  # SIGKILL: the supervisor did not answer in time

    def invoke(self, invocation: Invocation) -> Result:
        """Run one invocation to its end: a result, an error, a timeout or a crash; raises
        EnvironmentAborted when the sandbox is reset or stopped meanwhile."""
        self._outside.clear()
        try:
            if self._aborted:
                raise EnvironmentAborted(self._aborted)
            return self._invoke(invocation)
        finally:
            self._outside.set()

    def _invoke(self, invocation: Invocation) -> Result:
        spec, rid = self.spec, invocation.request_id
        if self._needs_reset:  # the last invocation failed: this one starts with INIT
            self._needs_reset = False
            self._init_start()
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
            self._restart()
            outcome = self._await(invocation, invoke_started, init_phase=False)
            if outcome in ("init_error", "timeout", "exit", "memory") and not self._initialised:
                self.platform(self._init_report("invoke", outcome, invocation),
                              f"START RequestId: {rid} Version: {spec.version}\n")
                invocation.started = invoke_started
                self.init_duration = None
        if outcome == "aborted":
            raise EnvironmentAborted(self._aborted or "aborted")
        ended = time.perf_counter()
        if outcome != "response":
            self._end_runtime()
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
        report = (f"REPORT RequestId: {rid}\tDuration: {ms(duration)} ms\tBilled Duration: "
                  f"{max(billed, 1)} ms\tMemory Size: {spec.memory_size} MB\tMax Memory Used: "
                  f"{memory_mb} MB")
        if init is not None:
            report += f"\tInit Duration: {ms(init)} ms"
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
        if self._aborted:
            raise EnvironmentAborted(self._aborted)
        lines = self.take_lines()
        self.pool.write_logs(self, lines)
        self.current = None
        if self.worker is not None and self.worker.gone():
            self.broken = True  # its supervisor was killed (possible without a namespace)
        if outcome != "response":
            # Lambda resets the environment: a new runtime and INIT on the next invocation
            self._needs_reset = True
            self.peak_kb = 0
        function_error = "Unhandled" if outcome != "response" or invocation.error is not None \
            else None
        return Result(rid, payload, function_error, invocation_log(lines, rid), spec.version,
                      round(duration * 1000, 2))

    def _init_report(self, phase: str, outcome: str, invocation: Invocation) -> str:
        took = INIT_TIMEOUT if outcome == "init_timeout" else \
            time.perf_counter() - self._init_started
        if outcome in ("init_timeout", "timeout"):
            status = "Status: timeout"
        else:
            status = f"Status: error\tError Type: {self._outcome(outcome, invocation)[0]}"
        return f"INIT_REPORT Init Duration: {ms(took)} ms\tPhase: {phase}\t{status}\n"

    def _outcome(self, outcome: str, invocation: Invocation) -> tuple[str | None, bytes]:
        """The error type (None for success) and the payload the caller gets."""
        rid = invocation.request_id
        if outcome == "response":
            if invocation.error is not None:  # the runtime's error, verbatim
                return error_type(invocation.error), invocation.error
            return None, invocation.response or b""
        if outcome == "init_error":
            kind = error_type(invocation.init_error)
            if kind == "Runtime.InvalidEntrypoint":
                message = json.loads(invocation.init_error or b"{}")["errorMessage"]
                return kind, platform_error(kind, f"RequestId: {rid} Error: {message}")
            return kind, invocation.init_error or b""
        if outcome in ("timeout", "init_timeout"):
            return "Sandbox.Timedout", platform_error(
                "Sandbox.Timedout",
                f"RequestId: {rid} Error: Task timed out after {self.spec.timeout:.2f} seconds")
        self._end_runtime()
        if outcome == "memory":
            return "Runtime.OutOfMemory", platform_error(
                "Runtime.OutOfMemory",
                f"RequestId: {rid} Error: Runtime exited with error: signal: killed")
        reason = workers.exit_reason(self._runtime_status or 0)
        return "Runtime.ExitError", platform_error(
            "Runtime.ExitError", f"RequestId: {rid} Error: Runtime exited with error: {reason}")

    # ---------------------------------------------------------------- the end
    def abort(self, reason: str) -> None:
        """Wake whoever waits in this environment: the sandbox is being reset or stopped."""
        self._aborted = reason
        current = self.current
        if current is not None:
            current.responded.set()
        for event in list(self._marks.values()):
            event.set()

    def retire(self) -> None:
        """End every process of this environment and free everything it holds."""
        with self._retire_lock:
            if self.retired:
                return
            self.retired = True
        if not self._outside.is_set():  # an invocation runs: it answers first, at once
            self.abort(self._aborted or "retired")
            self._outside.wait(5)
        self._events.put(None)
        worker = self.worker
        if worker is not None:
            worker.terminate()  # every process of it is dead when this returns
            if self._reader is not None:
                self._reader.join(2)  # the pipe's writers are gone: end of file at once
            try:
                os.close(worker.log_read)
            except OSError:
                pass
        self.server.stop()
        self.pool.forget(self)

    def describe(self) -> dict[str, Any]:
        """This environment as plain data (for tests and the admin API)."""
        return {"function": self.spec.name, "version": self.spec.version,
                "stream": self.stream, "busy": self.busy, "memory_kb": self.peak_kb,
                "idle_seconds": round(time.monotonic() - self.last_used, 3),
                "pid": 0, "supervisor_pid": 0, "runtime_pids": [],  # until it has a worker
                "sandboxed": self.pool.sandboxed, "tmp_mb": self.spec.tmp_mb,
                **(self.worker.describe() if self.worker is not None else {})}
