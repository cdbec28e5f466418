"""Fargate tasks that run: the task lifecycle on the sandbox clock, and Python containers as
local processes.

A task moves through the states "Amazon ECS task lifecycle" (Amazon ECS Developer Guide) names:
PROVISIONING (its network interface), PENDING (the image is pulled: ``pullStartedAt``,
``pullStoppedAt``), ACTIVATING, RUNNING (``startedAt``), DEACTIVATING, STOPPING
(``stoppingAt``), DEPROVISIONING, STOPPED (``stoppedAt``, ``stopCode``, ``stoppedReason``).
The time each step takes is a model (``PHASE_SECONDS``), waited on the sandbox clock; the
task's timestamps are on that clock too: ``createdAt`` is when RunTask was called, each later
one adds the simulated time the steps took (so at 10,000x a task's ``stoppedAt`` may lie in the
future of the machine's clock).

A container runs when its image is a Python image (:func:`python_runtime`) and its command
(``entryPoint`` + ``command``) starts with ``python``: that command runs as a local process, in
a worker of its own of the Lambda runtime's kind (bubblewrap where the machine allows: a PID
namespace, the machine's files read-only, a private /tmp of 512 MB; else a process group of its
own), on the interpreter of the tag's Python version where the machine has it
(``sandbox/runtime/interpreters.py``), with the task's environment, the task role's
credentials endpoint (``credentials.py``) and ``AWS_ENDPOINT_URL`` naming the sandbox; its
memory is watched against the container's (or the task's) limit. Its exit code
is the container's ``exitCode``; an essential container's exit stops the task
(``EssentialContainerExited``). Any other container is accepted, moves through the lifecycle
without running, and says so in its ``reason``: the task stays RUNNING until it is stopped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..runtime import interpreters
from ..runtime.supervisor import children
from . import container as _container

if TYPE_CHECKING:
    from ..runtime.workers import Worker
    from . import Ecs

# Simulated seconds each step of the lifecycle takes here: a model, not AWS's measurements
# (AWS does not publish them; Fargate tasks commonly reach RUNNING in 30 to 60 s).
PHASE_SECONDS = {"PROVISIONING": 10.0, "PENDING": 20.0, "ACTIVATING": 2.0,
                 "DEACTIVATING": 2.0, "STOPPING": 1.0, "DEPROVISIONING": 10.0}
START_SECONDS = 10.0  # real seconds a container's process may take to start (else: RUNNING anyway)
STOP_GRACE = 1.0  # real seconds a container has, at least, to end after SIGTERM
DEFAULT_STOP_TIMEOUT = 30.0  # a container's stopTimeout when none is given (Fargate: max 120)
CONTAINER_BOOT = os.path.abspath(_container.__file__)
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"

# Images whose command the sandbox runs: Docker Hub's official python image (python:3.12,
# python:3.12-slim, docker.io/library/python:...), its ECR Public mirror, and the Lambda base
# images for Python (public.ecr.aws/lambda/python:3.12).
PYTHON_IMAGE = re.compile(
    r"^(?:(?:docker\.io/)?(?:library/)?|public\.ecr\.aws/(?:docker/library|lambda)/)"
    r"python(?::(?P<tag>[^@]+))?(?:@sha256:[0-9a-f]+)?$")
PYTHON_COMMAND = re.compile(r"^(?:.*/)?python(?:3(?:\.\d+)?)?$")

NOT_PYTHON_IMAGE = ("SANDBOX: the image {image!r} is not a Python image (python:3.X, "
                    "public.ecr.aws/lambda/python:3.X): the sandbox has no Docker and does not "
                    "run it. The container is shown RUNNING until the task is stopped.")
OUT_OF_MEMORY = "OutOfMemoryError: Container killed due to memory usage"
NOT_PYTHON_COMMAND = ("SANDBOX: the command {command!r} does not start with python (python, "
                      "python3, python3.12): the sandbox runs a Python image's python command "
                      "only. The container is shown RUNNING until the task is stopped.")


def python_runtime(image: str) -> str | None:
    """The Lambda-style runtime name ("python3.12") whose interpreter runs a Python image's
    command, "" for a Python image of no exact version (python, python:3, python:latest: the
    sandbox's own interpreter), None for any other image."""
    found = PYTHON_IMAGE.match(image.strip())
    if not found:
        return None
    version = re.match(r"3\.(\d+)", found.group("tag") or "")
    return f"python3.{version.group(1)}" if version else ""


class ContainerRun:
    """One container of a task: its process when it runs one, else the reason it does not."""

    def __init__(self, task: TaskRun, definition: dict[str, Any], override: dict[str, Any]):
        self.task = task
        self.definition = definition
        self.name: str = definition.get("name", "")
        self.image: str = definition.get("image", "")
        self.essential = bool(definition.get("essential", True))
        self.command: list[str] = list(definition.get("entryPoint") or []) + list(
            override.get("command") or definition.get("command") or [])
        self.environment = {item["name"]: str(item.get("value", ""))
                            for item in definition.get("environment") or []}
        self.environment.update({item["name"]: str(item.get("value", ""))
                                 for item in override.get("environment") or []})
        self.stop_timeout = float(definition.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
        runtime = python_runtime(self.image)
        self.runtime = runtime
        self.placeholder_reason = ""
        if runtime is None:
            self.placeholder_reason = NOT_PYTHON_IMAGE.format(image=self.image)
        elif self.command and not PYTHON_COMMAND.match(self.command[0]):
            self.placeholder_reason = NOT_PYTHON_COMMAND.format(command=self.command)
        self.worker: Worker | None = None
        self.started = threading.Event()  # its command runs (the starter said so)
        self.exit_code: int | None = None
        self.skipped = 0.0  # simulated seconds the container slept beyond real time
        self.log_stream = ""
        self.lines: list[tuple[int, str]] = []
        self._reader: threading.Thread | None = None
        self.model = ContainerModel(task, self)

    @property
    def runs(self) -> bool:
        return not self.placeholder_reason

    # ---------------------------------------------------------------- the process
    def start(self, env: dict[str, str]) -> None:
        """Start the command in a worker of its own (started by the task's thread, which
        outlives it: the worker's parent-death signal follows the thread that started it)."""
        from ..runtime import workers

        pool = self.task.ecs.service.lambda_runtime.pool
        interpreter = sys.executable
        if self.runtime:
            found = interpreters.for_runtime(self.runtime)
            interpreter = found.path
            if found.note():  # its log says, first, that the image's Python is not this one
                self._line(found.note().rstrip("\n").replace(
                    f"{self.runtime} runs", f"the image {self.image!r} runs", 1))
        arguments = self.command[1:] if self.command else []
        cwd = "/tmp" if pool.sandboxed else self.task.scratch
        working = self.definition.get("workingDirectory")
        if working and os.path.isdir(working):
            cwd = working
        # what the worker must see under /tmp, which bubblewrap replaces by its own: the
        # sandbox's folders, and the working directory and files the command names
        named = [os.path.join(cwd, a) for a in arguments if not a.startswith("-")]
        visible = [pool.work_dir, os.path.dirname(workers.BOOTSTRAP), sys.prefix,
                   sys.base_prefix, sys.executable, interpreter, cwd,
                   *[os.path.dirname(os.path.abspath(path)) for path in named
                     if len(path) < 4096 and os.path.exists(path)]]
        worker = self.worker = workers.Worker(
            sys.executable, tmp_mb=workers.DEFAULT_TMP_MB, sandboxed=pool.sandboxed,
            visible=visible)
        assignment = {"env": env, "cwd": cwd, "handler": "", "path": [],
                      "exec": [interpreter, "-I", "-S", "-u", self.task.ecs.container_boot(pool),
                               *arguments]}
        self._reader = threading.Thread(target=self._read, args=(worker.log_read,),
                                        name=f"ecs-logs-{self.name}", daemon=True)
        self._reader.start()
        worker.send(json.dumps(assignment).encode())

    def _read(self, fd: int) -> None:
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
                self._line(raw.decode("utf-8", "replace"))
        if buffer:
            self._line(buffer.decode("utf-8", "replace"))

    def _line(self, text: str) -> None:
        if text == _container.STARTED:
            self.started.set()
            return
        if text.startswith(_container.MARK):
            try:
                self.skipped += float(text[len(_container.MARK):])
            except ValueError:
                pass
            return
        stamp = int(self.task.now().timestamp() * 1000)
        self.lines.append((stamp, text))
        self.task.ecs.write_log(self, [(stamp, text)])

    @property
    def memory_limit_mib(self) -> int:
        """The container's hard limit: its own ``memory``, else the task's."""
        own = self.definition.get("memory")
        return int(own) if own else int(self.task.definition.memory or 0)

    def wait(self, stop: threading.Event) -> int | None:
        """The container's exit code once its process ends; None if ``stop`` is set first.
        A container whose processes use more memory than its limit is killed, as Docker's
        out-of-memory killer kills it on Fargate (exit code 137, reason "OutOfMemoryError:
        Container killed due to memory usage")."""
        worker = self.worker
        if worker is None:
            return None
        limit_kb = self.memory_limit_mib * 1024
        while not stop.is_set():
            try:
                status = worker.runtime_status(timeout=0.05)
            except (OSError, ValueError):  # a reset closed the worker meanwhile
                return None
            if status is not None:
                return self._ended(status)
            if limit_kb and worker.memory_kb() > limit_kb:
                worker.kill_runtime()
                self.model.reason = OUT_OF_MEMORY
                status = worker.runtime_status(timeout=5)
                self._ended(status if status is not None else signal.SIGKILL)
                return 137
        return None

    def _ended(self, status: int) -> int:
        if self._reader is not None:
            self._reader.join(timeout=1)  # what it printed last is in the log first
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)  # as Docker reports a container killed by a signal
        return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1

    def signal_stop(self) -> None:
        """SIGTERM to the container's main process, as ``docker stop`` sends it."""
        worker = self.worker
        if worker is None or worker.closed:
            return
        supervisor = worker.supervisor_pid
        for pid in children(supervisor) if supervisor else []:
            try:
                os.kill(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass

    def end(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.terminate()
        if self._reader is not None:
            self._reader.join(timeout=1)


class ContainerModel:
    """What DescribeTasks shows of a container (moto's serializer reads these attributes)."""

    def __init__(self, task: TaskRun, run: ContainerRun):
        self.container_arn = (f"arn:aws:ecs:{task.region}:{task.account_id}:container/"
                              f"{task.cluster_name}/{task.task_id}/{uuid.uuid4()}")
        self.task_arn = task.task.task_arn
        self.name = run.name
        self.image = run.image
        self.last_status = "PENDING"
        self.exit_code: int | None = None
        self.reason: str | None = run.placeholder_reason or None
        self.network_interfaces: list[dict[str, Any]] = []
        self.health_status = "UNKNOWN"
        self.cpu = str(run.definition.get("cpu", 0))
        if run.definition.get("memory") is not None:
            self.memory = str(run.definition["memory"])
        if run.definition.get("memoryReservation") is not None:
            self.memory_reservation = str(run.definition["memoryReservation"])


class TaskRun:
    """One Fargate task the sandbox drives through its lifecycle (moto keeps the record)."""

    def __init__(self, ecs: Ecs, backend: Any, task: Any, definition: Any):
        self.ecs = ecs
        self.backend = backend
        self.task = task
        self.definition = definition
        self.account_id: str = backend.account_id
        self.region: str = backend.region_name
        self.cluster_name: str = task.cluster_name
        self.task_id: str = task.id
        self.created = datetime.now(timezone.utc)
        self.elapsed = 0.0  # simulated seconds from createdAt to the last step
        self._running_since: float | None = None  # real time.monotonic() of startedAt
        self.stop_requested = threading.Event()
        self.finished = threading.Event()
        self.stop_code = ""
        self.stop_reason = ""
        self.scratch = os.path.join(ecs.work_dir, "tasks", self.task_id)
        overrides = {item.get("name"): item for item in
                     (task.overrides or {}).get("containerOverrides") or []}
        self.containers = [ContainerRun(self, d, overrides.get(d.get("name"), {}))
                           for d in definition.container_definitions]
        self._thread = threading.Thread(target=self._run, name=f"ecs-task-{self.task_id}",
                                        daemon=True)
        self._shape()

    # ---------------------------------------------------------------- what describe shows
    def _shape(self) -> None:
        task = self.task
        task._transitions = []  # the lifecycle is the sandbox's: moto's status never advances
        task.last_status = "PROVISIONING"
        task.desired_status = "RUNNING"
        task.containers = [c.model for c in self.containers]
        task.created_at = self.created
        task.cpu = self.definition.cpu
        task.memory = self.definition.memory
        task.launch_type = task.launch_type or "FARGATE"
        task.platform_version = task.platform_version or "1.4.0"
        task.platform_family = "Linux"
        task.availability_zone = f"{self.region}a"
        task.connectivity = "CONNECTED"
        task.health_status = "UNKNOWN"
        task.version = 1
        # 20 GiB unless the task definition asks for more (21 to 200 GiB); the worker's /tmp
        # stays 512 MB here (README)
        size = int((self.definition.ephemeral_storage or {}).get("sizeInGiB") or 20)
        task.ephemeral_storage = {"sizeInGiB": size}
        task.fargate_ephemeral_storage = {"sizeInGiB": size}

    def now(self) -> datetime:
        """The task's clock: createdAt plus the simulated time its steps took, plus, while it
        runs, the real time since startedAt and what its containers slept on the sandbox
        clock."""
        seconds = self.elapsed
        if self._running_since is not None:
            seconds += time.monotonic() - self._running_since + sum(
                c.skipped for c in self.containers)
        return self.created + timedelta(seconds=seconds)

    def _step(self, status: str, *, until_stopped: bool = False) -> bool:
        """Enter ``status`` and wait its modelled time; False if the sandbox stopped or, with
        ``until_stopped`` (the steps before RUNNING), StopTask cut the wait short."""
        self.task.last_status = status
        self.task.version = int(getattr(self.task, "version", 1)) + 1
        seconds = PHASE_SECONDS.get(status, 0.0)
        if not until_stopped:
            self.elapsed += seconds
            return self.ecs.clock.sleep(seconds)
        began = time.monotonic()
        cut = self.stop_requested.wait(self.ecs.clock.real_seconds(seconds))
        self.elapsed += min(seconds, (time.monotonic() - began) * self.ecs.clock.speed) \
            if cut else seconds
        return not cut

    def _stamp(self) -> datetime:
        return self.created + timedelta(seconds=self.elapsed)

    @property
    def busy(self) -> bool:
        """Whether settle() should wait for this task: it is between states, or runs a
        process of its own (a task a service started runs until it is stopped)."""
        if self.finished.is_set():
            return False
        status = self.task.last_status
        if status != "RUNNING":
            return True
        from_service = str(self.task.group or "").startswith("service:")
        return not from_service and any(c.worker is not None for c in self.containers)

    # ---------------------------------------------------------------- the lifecycle
    def start(self) -> None:
        self._thread.start()

    def request_stop(self, code: str, reason: str) -> None:
        if self.stop_requested.is_set() or self.finished.is_set():
            return
        self.stop_code, self.stop_reason = code, reason
        self.task.desired_status = "STOPPED"
        self.stop_requested.set()

    def _run(self) -> None:
        try:
            self._lifecycle()
        except Exception as error:  # noqa: BLE001  the task fails, the sandbox goes on
            self.stop_code = self.stop_code or "TaskFailedToStart"
            self.stop_reason = self.stop_reason or f"SANDBOX: the task failed: {error}"
            self._finish()
        finally:
            self.finished.set()

    def _lifecycle(self) -> None:
        task = self.task
        if not self._step("PROVISIONING", until_stopped=True):
            return self._stop_before_start()
        task.pull_started_at = self._stamp()
        if not self._step("PENDING", until_stopped=True):
            return self._stop_before_start()
        task.pull_stopped_at = self._stamp()
        problem = self.ecs.start_problem(self)
        if problem:
            self.stop_code, self.stop_reason = "TaskFailedToStart", problem
            task.desired_status = "STOPPED"
            return self._stop_before_start()
        if self.stop_requested.is_set():
            return self._stop_before_start()
        if not self._step("ACTIVATING", until_stopped=True):
            return self._stop_before_start()
        os.makedirs(self.scratch, exist_ok=True)
        for container in self.containers:
            if container.runs:
                container.start(self.ecs.container_environment(self, container))
        for container in self.containers:  # RUNNING once each command runs (or has ended)
            deadline = time.monotonic() + START_SECONDS
            while (container.worker is not None and not container.started.wait(0.01)
                   and not container.worker.gone() and time.monotonic() < deadline
                   and not self.stop_requested.is_set()):
                pass
        task.last_status = "RUNNING"
        task.started_at = task.connectivity_at = self._stamp()
        self._running_since = time.monotonic()
        for container in self.containers:
            container.model.last_status = "RUNNING"
        self._watch()
        self._wind_down()

    def _watch(self) -> None:
        """Until the task is stopped: watch each running container; an essential one's exit
        stops the task (ECS: "Essential container in task exited")."""
        waiters = []
        for container in self.containers:
            if container.runs:
                thread = threading.Thread(target=self._wait_container, args=(container,),
                                          daemon=True, name=f"ecs-wait-{container.name}")
                thread.start()
                waiters.append(thread)
        self.stop_requested.wait()
        for thread in waiters:
            thread.join(timeout=2)  # each returns within a poll once the stop is asked

    def _wait_container(self, container: ContainerRun) -> None:
        code = container.wait(self.stop_requested)
        if code is None:
            return
        self._container_exited(container, code)
        if container.essential:
            self.request_stop("EssentialContainerExited", "Essential container in task exited")

    def _container_exited(self, container: ContainerRun, code: int) -> None:
        container.exit_code = code
        container.model.exit_code = code
        container.model.last_status = "STOPPED"
        container.end()

    def _wind_down(self) -> None:
        task = self.task
        task.stopping_at = self._running_stamp()
        task.execution_stopped_at = task.stopping_at
        self._freeze_running_time()
        task.last_status = "DEACTIVATING"
        self.ecs.clock.sleep(PHASE_SECONDS["DEACTIVATING"])
        self.elapsed += PHASE_SECONDS["DEACTIVATING"]
        task.last_status = "STOPPING"
        for container in self.containers:
            if container.worker is not None:
                self._stop_container(container)
            elif container.model.last_status != "STOPPED":
                container.model.last_status = "STOPPED"
        self._step("STOPPING")
        self._finish()

    def _stop_container(self, container: ContainerRun) -> None:
        """SIGTERM, then SIGKILL after the container's stopTimeout (on the sandbox clock)."""
        container.signal_stop()
        worker = container.worker
        if worker is None:  # a reset ended it meanwhile
            return
        began = time.monotonic()
        # a process answers SIGTERM in real time: it gets at least STOP_GRACE real seconds
        # (or its whole stopTimeout, if shorter), however fast the clock runs
        deadline = began + max(self.ecs.clock.real_seconds(container.stop_timeout),
                               min(container.stop_timeout, STOP_GRACE))
        status = None
        while status is None and time.monotonic() < deadline:
            status = worker.runtime_status(timeout=0.02)
        if status is None:  # it outlived its stopTimeout: SIGKILL
            self.elapsed += container.stop_timeout
            worker.kill_runtime()
            status = worker.runtime_status(timeout=5) or signal.SIGKILL
        else:  # it ended on SIGTERM: the real time that took is the task's time
            self.elapsed += time.monotonic() - began
        self._container_exited(container, container._ended(status))

    def _running_stamp(self) -> datetime:
        return self.now()

    def _freeze_running_time(self) -> None:
        if self._running_since is not None:
            self.elapsed += time.monotonic() - self._running_since + sum(
                c.skipped for c in self.containers)
            self._running_since = None

    def _stop_before_start(self) -> None:
        self.task.stopping_at = self._stamp()
        self._finish()

    def _finish(self) -> None:
        task = self.task
        self._freeze_running_time()
        for container in self.containers:
            if container.worker is not None:
                container.worker.kill_runtime()
                container.end()
            container.model.last_status = "STOPPED"
        if not getattr(task, "stopping_at", None):
            task.stopping_at = self._stamp()
        task.last_status = "DEPROVISIONING"
        self._step("DEPROVISIONING")
        task.desired_status = "STOPPED"
        task.stop_code = self.stop_code or "TaskFailedToStart"
        task.stopped_reason = self.stop_reason
        task.stopped_at = self._stamp()
        task.last_status = "STOPPED"
        task.version = int(getattr(task, "version", 1)) + 1
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.ecs.task_stopped(self)

    def kill(self) -> None:
        """The sandbox resets or stops: end the processes now."""
        self.stop_requested.set()
        for container in self.containers:
            container.end()
