"""The notebook's side of the sandbox: a handle on a sandbox server, reached over loopback.

``sandbox.start()`` starts the server (``python -m sandbox.server``) as a child of this process,
or attaches to the one that ``SANDBOX_ENDPOINT`` (and ``SANDBOX_TOKEN``) name, such as
``course serve``'s, and points this process's boto3 at it. AWS things go through AWS's APIs, like
any SDK; the sandbox's own views (the decision trail, the clock, reset) go through its private
admin API (``sandbox/server/admin.py``). This process never imports moto: nothing a cell does can
change how the sandbox behaves except through those APIs.

The server dies with its owner: it watches a pipe whose write end only this process holds, so
however this process ends, the server and every process it started end too.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import safety
from .accounts import ACCOUNT_ID, REGION, SECOND_ACCOUNT_ID, Keys
from .clock import DEFAULT_SPEED
from .errors import BadArgumentError, SandboxError, SandboxStoppedError, ServerError

if TYPE_CHECKING:
    from .trail import Denials, Entry

START_TIMEOUT = 60.0  # seconds for a server to answer; a loaded CI machine is slow
STOP_TIMEOUT = 10.0
ATTACH_VARIABLES = ("SANDBOX_ENDPOINT", "SANDBOX_TOKEN", "SANDBOX_SERVER_LOG")
CLIENT_FOLDER_PREFIX = "serverless-sandbox-client-"  # the server removes it if we die first
NOT_AFTER_STOP = "This sandbox was stopped. Start a new one with sandbox.start()."

_lock = threading.RLock()
_current: Sandbox | None = None


def start(*, clock_speed: float = DEFAULT_SPEED, concurrency_limit: int = 1000,
          enforce_iam: bool = True) -> Sandbox:
    """Start the sandbox, or return the one this process already has.

    IAM is enforced as on AWS: the notebook is the account's administrator, and everything
    a function, a state machine or a service does for it is checked against its role and the
    resource's policy. ``enforce_iam=False`` allows every request (and says so)."""
    global _current
    with _lock:
        if _current is not None and _current.running:
            return _current
        endpoint = os.environ.get("SANDBOX_ENDPOINT")
        if endpoint:
            sandbox = Sandbox._attach(endpoint, os.environ.get("SANDBOX_TOKEN", ""))
        else:
            sandbox = Sandbox._launch(clock_speed=clock_speed,
                                      concurrency_limit=concurrency_limit,
                                      enforce_iam=enforce_iam)
        _current = sandbox
        return sandbox


def current() -> Sandbox | None:
    """The sandbox this process started or attached to, if it is running."""
    return _current


# ---------------------------------------------------------------------- the admin API's client
class Admin:
    """The sandbox's private admin API: ``call("clock", {"speed": 60})``."""

    def __init__(self, endpoint_url: str, token: str):
        self.endpoint_url = endpoint_url
        self._token = token
        # loopback only: no proxy from the machine's settings may see these requests
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, operation: str, params: dict[str, Any] | None = None,
             timeout: float = 60.0) -> Any:
        request = urllib.request.Request(
            f"{self.endpoint_url}/_sandbox/{operation}", data=json.dumps(params or {}).encode(),
            method="POST", headers={"Content-Type": "application/json",
                                    "X-Sandbox-Token": self._token})
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return json.loads(response.read())["result"]
        except urllib.error.HTTPError as error:
            try:
                problem = json.loads(error.read())["error"]
            except (ValueError, KeyError):
                problem = {"type": "ServerError", "message": f"HTTP {error.code}"}
            if problem["type"] == "BadArgumentError":
                raise BadArgumentError(problem["message"]) from None
            raise ServerError(f"the sandbox's server refused {operation!r}: "
                              f"{problem['message']}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise ServerError(f"the sandbox's server at {self.endpoint_url} does not answer "
                              f"({error}). Run sandbox.start() again for a new one.") from None

    # what the course's checks and the tests ask of the Lambda service
    def environments(self) -> list[dict[str, Any]]:
        """Every execution environment: its function, version, pid, state."""
        return list(self.call("lambda.environments"))

    def retire_environments(self, function: str, account: str = ACCOUNT_ID) -> None:
        """Retire the function's idle environments, as Lambda may at any moment."""
        self.call("lambda.retire", {"function": function, "account": account})

    def wait_for_async_invocations(self, timeout: float = 30.0) -> bool:
        """Wait until every queued asynchronous invocation has run and been delivered."""
        return bool(self.call("lambda.wait_idle", {"timeout": timeout}, timeout + 30)["idle"])

    def deliveries(self, since: int = 0) -> list[dict[str, Any]]:
        """The hops events took between services (``sandbox/server/deliveries.py``), oldest
        first, after hop number ``since``."""
        return list(self.call("deliveries", {"since": since}))

    def trace(self, event_id: str) -> list[dict[str, Any]]:
        """The hops of one event (a message id, a request id) and of the events it caused."""
        return list(self.call("deliveries.trace", {"event_id": event_id}))

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every event source has delivered what it holds (retries on the sandbox
        clock included); whether it settled before ``timeout``."""
        return bool(self.call("deliveries.settle", {"timeout": timeout},
                              timeout + 30)["settled"])

    def retire_idle_environments(self, idle_seconds: float) -> int:
        """Retire every environment idle for ``idle_seconds``; how many."""
        return int(self.call("lambda.reap", {"idle_seconds": idle_seconds}))

    def use_isolation(self, isolation: str) -> str:
        """Retire every environment and isolate the next ones so: "bwrap" (a PID namespace and
        a private /tmp, where bubblewrap works), "process" (a supervisor only) or "auto";
        until the next reset. The isolation in effect."""
        return str(self.call("lambda.isolation", {"isolation": isolation}))

    def configure_pool(self, idle_seconds: float | None = None,
                       memory_cap_mb: float | None = None) -> dict[str, float]:
        """How long an idle environment is kept, and the warm pool's memory cap, until the next
        reset; both, as they now are."""
        return dict(self.call("lambda.pool", {"idle_seconds": idle_seconds,
                                              "memory_cap_mb": memory_cap_mb}))

    def server_log(self) -> str:
        """The server's own log (its errors never reach a notebook cell)."""
        return str(self.call("log")["log"])


class Clock:
    """The sandbox's clock, as the notebook sees it: ``speed`` (settable); see sandbox/clock.py."""

    def __init__(self, admin: Admin):
        self._admin = admin

    @property
    def speed(self) -> float:
        return float(self._admin.call("clock")["speed"])

    @speed.setter
    def speed(self, value: float) -> None:
        self._admin.call("clock", {"speed": value})

    def real_seconds(self, simulated: float) -> float:
        return simulated / self.speed

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` of simulated time."""
        time.sleep(max(0.0, seconds) / self.speed)
        return True

    def __repr__(self) -> str:
        return f"Clock(speed={self.speed:g})"


class Iam:
    """IAM as the sandbox enforces it: ``decisions()``, ``denials()``, ``session(account)``,
    and ``enforcing`` (settable)."""

    def __init__(self, admin: Admin, region: str, administrators: dict[str, Keys]):
        self._admin = admin
        self._region = region
        self._administrators = administrators

    @property
    def enforcing(self) -> bool:
        return bool(self._admin.call("iam.enforcing")["enforcing"])

    @enforcing.setter
    def enforcing(self, on: bool) -> None:
        self._admin.call("iam.enforcing", {"enforcing": bool(on)})

    def decisions(self, *, denied: bool | None = None, principal: str | None = None) -> list[Entry]:
        """Every decision kept, oldest first; ``denied=True`` for the refusals only,
        ``principal`` to keep one caller's (an ARN, or part of one such as a role name)."""
        from .trail import Entry

        found = self._admin.call("iam.decisions", {"denied": denied, "principal": principal})
        return [Entry.from_dict(entry) for entry in found]

    def denials(self, limit: int = 5, *, principal: str | None = None) -> Denials:
        """The most recent denials, newest first, each with the statement that decided it."""
        from .trail import Denials

        return Denials(self.decisions(denied=True, principal=principal)[::-1][:limit])

    def service_may(self, service: str, action: str, resource: str, *,
                    source_arn: str | None = None, source_account: str | None = None,
                    source: str = "") -> bool:
        """May AWS service ``service`` (``apigateway.amazonaws.com``) perform ``action`` on
        ``resource`` for ``source_arn``? IAM decides as it decides the service's own requests
        (by the resource's policy) and records it; True when IAM is not enforced."""
        return bool(self._admin.call("iam.service_may", {
            "service": service, "action": action, "resource": resource,
            "source_arn": source_arn, "source_account": source_account,
            "source": source})["allowed"])

    def session(self, account_id: str = ACCOUNT_ID) -> Any:
        """A boto3 session acting as the administrator of ``account_id`` (the course's
        account or ``SECOND_ACCOUNT_ID``)."""
        import boto3

        keys = self._administrators.get(account_id)
        if keys is None:
            raise BadArgumentError(f"the sandbox has two accounts, {ACCOUNT_ID} and "
                                   f"{SECOND_ACCOUNT_ID}, not {account_id!r}")
        return boto3.Session(aws_access_key_id=keys.access_key_id,
                             aws_secret_access_key=keys.secret_access_key,
                             region_name=self._region)


# ---------------------------------------------------------------------- the handle
class Sandbox:
    """A running local AWS. Use ``sandbox.start()`` to get one."""

    account_id = ACCOUNT_ID
    region = REGION

    def __init__(self, status: dict[str, Any], token: str, *,
                 process: subprocess.Popen[bytes] | None = None, owner_fd: int | None = None,
                 work_dir: str = ""):
        self.endpoint_url: str = status["endpoint_url"]
        self.pid: int = status["pid"]  # the server's process
        # this server's administrators' keys: made anew by each server, told only to its clients
        self._administrators = {account: Keys(**keys)
                                for account, keys in status["administrators"].items()}
        self.admin = Admin(self.endpoint_url, token)
        self.clock = Clock(self.admin)
        self.iam = Iam(self.admin, self.region, self._administrators)
        self._process = process
        self._owner_fd = owner_fd
        self._work_dir = work_dir
        self._saved_environment: dict[str, str | None] = {}
        self._uninstall_hooks: list[Callable[[], None]] = []
        self._stopped = False

    # ---------------------------------------------------------------- starting
    @classmethod
    def _launch(cls, *, clock_speed: float, concurrency_limit: int,
                enforce_iam: bool) -> Sandbox:
        arguments = ["--clock-speed", repr(float(clock_speed)),
                     "--concurrency-limit", str(int(concurrency_limit))]
        if not enforce_iam:
            arguments.append("--no-enforce-iam")
        sandbox, _ = launch_server(arguments).wait()
        if not enforce_iam:
            print("IAM enforcement is off: every request is allowed, whatever the policies "
                  "say. sandbox.start() turns it back on.", file=sys.stderr)
        return sandbox

    @classmethod
    def _attach(cls, endpoint_url: str, token: str) -> Sandbox:
        safety.check_botocore()
        admin = Admin(endpoint_url.rstrip("/"), token)
        status = admin.call("status", timeout=10)
        sandbox = cls(status, token,
                      work_dir=tempfile.mkdtemp(prefix=CLIENT_FOLDER_PREFIX))
        sandbox._connect()
        return sandbox

    def _connect(self) -> None:
        """Point this process's boto3 (and ``requests`` to AWS URLs of APIs and websites) at
        the server, and make ``%%lambda`` available in IPython."""
        from . import aws_urls

        config = os.path.join(self._work_dir, "aws-config")
        open(config, "w").close()
        self._saved_environment = safety.apply_environment(
            safety.aws_environment(self.endpoint_url, config, self._administrators[ACCOUNT_ID]))
        safety.forget_boto3_default_session()
        safety.install()
        self._uninstall_hooks = [safety.uninstall, aws_urls.install(self.endpoint_url)]
        _register_magic()

    # ---------------------------------------------------------------- life cycle
    @property
    def running(self) -> bool:
        if self._stopped:
            return False
        return self._process is None or self._process.poll() is None

    @property
    def owned(self) -> bool:
        """Whether this process started the server (else it attached to another's)."""
        return self._process is not None

    def _require_running(self) -> None:
        if not self.running:
            raise SandboxStoppedError(NOT_AFTER_STOP)

    def reset(self) -> None:
        """Delete every resource; end every execution environment and background thread."""
        self._require_running()
        self.admin.call("reset")

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every event has gone everywhere it will go: notifications, subscriptions,
        rules, queues and streams delivered, retries on the sandbox clock run out. Whether it
        settled within ``timeout`` seconds."""
        self._require_running()
        return self.admin.settle(timeout)

    def stop(self) -> None:
        """Stop the server this process started (an attached one is left running), and give
        this process its own AWS settings back."""
        global _current
        with _lock:
            if self._stopped:
                return
            self._stopped = True
            if self._process is not None:
                try:
                    self.admin.call("stop", timeout=STOP_TIMEOUT)
                except ServerError:
                    pass
                if self._owner_fd is not None:
                    os.close(self._owner_fd)  # the server's cue, should the call have failed
                    self._owner_fd = None
                try:
                    self._process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            for uninstall in reversed(self._uninstall_hooks):
                uninstall()
            self._uninstall_hooks.clear()
            for name, value in self._saved_environment.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_environment.clear()
            safety.forget_boto3_default_session()
            shutil.rmtree(self._work_dir, ignore_errors=True)
            if _current is self:
                _current = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        iam = ""
        if self.running:
            try:
                iam = "" if self.iam.enforcing else ", IAM not enforced"
            except ServerError:
                state = "not answering"
        return (f"<Sandbox {state} at {self.endpoint_url} account {self.account_id} "
                f"{self.region}{iam}>")

    # ---------------------------------------------------------------- conveniences
    def api_url(self, api_id: str, stage: str) -> str:
        """The base URL that invokes a deployed REST or HTTP API stage over real HTTP:
        ``<endpoint>/restapis/<api_id>/<stage>/_user_request_``; append the resource path
        (``sb.api_url(api_id, "prod") + "/items/42"``). For an HTTP API's ``$default`` stage
        pass ``"$default"``. While the sandbox runs, ``requests`` also reaches the API at its
        AWS URL, ``https://<api_id>.execute-api.<region>.amazonaws.com/<stage>/...``."""
        self._require_running()
        return f"{self.endpoint_url}/restapis/{api_id}/{stage}/_user_request_"

    def appsync_url(self, api_id: str) -> str:
        """The GraphQL endpoint of an AppSync API, served by the sandbox over real HTTP:
        ``<endpoint>/_appsync/<api_id>/graphql`` (POST ``{"query": ..., "variables": ...}``
        with the ``x-api-key`` or ``Authorization`` header its authorization mode wants). While
        the sandbox runs, ``requests`` also reaches it at its AWS URL,
        ``https://<api_id>.appsync-api.<region>.amazonaws.com/graphql``."""
        self._require_running()
        return f"{self.endpoint_url}/_appsync/{api_id}/graphql"

    def website_url(self, bucket: str) -> str:
        """The URL of an S3 bucket's static website (website hosting configured), served by
        the sandbox on loopback, for a browser on this machine:
        ``http://<bucket>.s3-website.localhost:<port>/`` (a browser resolves ``*.localhost``
        to loopback; scripts that cannot use ``<endpoint>/_website/<bucket>/``)."""
        self._require_running()
        port = self.endpoint_url.rsplit(":", 1)[1]
        return f"http://{bucket}.s3-website.localhost:{port}/"


class LaunchingServer:
    """A sandbox server started by this process and not yet answering (:func:`launch_server`):
    ``wait()`` gives the connected Sandbox and the server's ready line."""

    def __init__(self, process: subprocess.Popen[bytes], work_dir: str, log_path: str,
                 owner_write: int, ready_read: int):
        self.process, self.work_dir, self.log_path = process, work_dir, log_path
        self._owner_write, self._ready_read = owner_write, ready_read

    def wait(self) -> tuple[Sandbox, dict[str, Any]]:
        try:
            # botocore takes a few hundred milliseconds to import: while the server starts,
            # not after (the first AWS call needs it)
            import botocore.session  # noqa: F401

            ready = _read_ready(self._ready_read, self.process, self.log_path)
        except BaseException:
            os.close(self._owner_write)
            self.process.kill()
            self.process.wait()
            shutil.rmtree(self.work_dir, ignore_errors=True)
            raise
        finally:
            os.close(self._ready_read)
        # the ready line carries the server's own administrators' keys
        sandbox = Sandbox(ready, ready["token"], process=self.process,
                          owner_fd=self._owner_write, work_dir=self.work_dir)
        sandbox._connect()
        return sandbox, ready


def launch_server(arguments: list[str], *,
                  wrap: Callable[[str], list[str]] | None = None,
                  environment: Callable[[str], dict[str, str]] | None = None) -> LaunchingServer:
    """Start ``python -m sandbox.server`` as this process's child, owned by it (the server ends
    when this process does), in a folder of its own; ``wrap(folder)`` is a command to run it
    under (a jail), ``environment(folder)`` variables to add. The one way the notebook, and the
    grader's worker, start a server."""
    safety.check_botocore()
    work_dir = tempfile.mkdtemp(prefix=CLIENT_FOLDER_PREFIX)
    log_path = os.path.join(work_dir, "server.log")
    owner_read, owner_write = os.pipe()
    ready_read, ready_write = os.pipe()
    # -P: the caller's folder (a notebook's, a learner's) is not on the server's import path,
    # where a file of theirs named like a module (boto3.py, json.py) would replace it
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    command = [*(wrap(work_dir) if wrap else []), sys.executable, *safe_path, "-m",
               "sandbox.server",
               "--owner-fd", str(owner_read), "--ready-fd", str(ready_write), *arguments]
    # the server sets its own AWS settings; an attach address is for clients, not for it
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("AWS_") and name not in ATTACH_VARIABLES}
    env["SANDBOX_SERVER_LOG"] = log_path
    env.setdefault("PYTHONWARNINGS", "ignore")
    env.update(environment(work_dir) if environment else {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
            pass_fds=(owner_read, ready_write), close_fds=True,
            start_new_session=True)  # a Ctrl+C in a terminal is the owner's to handle
    os.close(owner_read)
    os.close(ready_write)
    return LaunchingServer(process, work_dir, log_path, owner_write, ready_read)


def _read_ready(fd: int, process: subprocess.Popen[bytes], log_path: str) -> dict[str, Any]:
    """The server's readiness line, or ServerError with what it printed if it died first."""
    deadline = time.monotonic() + START_TIMEOUT
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServerError(f"the sandbox's server did not answer within {START_TIMEOUT:g} s"
                              + _log_tail(log_path))
        readable, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if readable:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        elif process.poll() is not None:
            break
    try:
        return dict(json.loads(data))
    except ValueError:
        code = process.wait()
        raise ServerError(f"the sandbox's server ended (exit status {code}) before it "
                          "answered" + _log_tail(log_path)) from None


def _log_tail(path: str) -> str:
    try:
        with open(path, "rb") as log:
            text = log.read()[-4000:].decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f":\n{text}" if text else ""


def _register_magic() -> None:
    """In IPython, ``sandbox.start()`` makes ``%%lambda`` available."""
    if "IPython" not in sys.modules:
        return
    ipython = sys.modules["IPython"].get_ipython()
    if ipython is not None:
        from .course.magic import register

        register(ipython)


# errors a learner may want to catch, re-exported for sandbox/__init__.py
__all__ = ["Sandbox", "SandboxError", "current", "start"]
