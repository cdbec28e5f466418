"""All execution environments of one sandbox: the spare worker that starts the next one, and the
reaper that retires idle ones."""

from __future__ import annotations

import hashlib
import io
import os
import queue
import shutil
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeAlias

from . import workers
from .environment import EnvironmentAborted, ExecutionEnvironment, FunctionSpec

# AWS keeps an idle environment for an undocumented while (minutes, in practice); the sandbox
# keeps one IDLE_SECONDS, and a background reaper retires it after that.
IDLE_SECONDS = 600
REAP_SECONDS = 5.0  # how often the reaper looks
# The warm pool's memory cap: beyond it the least recently used idle environments are retired
# (AWS has no such cap; a laptop or a 2 GB Binder does). A quarter of the machine, at most 1 GB.
WARM_POOL_MB = 1024
RETIRE_THREADS = 8

# Where the spawner answers a request for a worker: the worker, the OSError that kept it from
# starting, or None once the pool is closing.
WorkerQueue: TypeAlias = "queue.Queue[workers.Worker | OSError | None]"
# How a function's log lines reach CloudWatch Logs (sandbox.awslambda.write_logs)
LogWriter: TypeAlias = Callable[[FunctionSpec, str, list[tuple[int, str]]], None]


def warm_pool_cap_kb() -> int:
    total_kb = workers.status_kb_of_file("/proc/meminfo", b"MemTotal:")
    cap = WARM_POOL_MB * 1024
    return min(cap, total_kb // 4) if total_kb else cap


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

    def __init__(self, *, endpoint_url: str, work_dir: str, write_logs: LogWriter,
                 account_concurrency: int = 1000, isolation: str | None = None):
        self.endpoint_url = endpoint_url
        self.work_dir = work_dir
        self.empty_file = os.path.join(work_dir, "empty")
        open(self.empty_file, "w").close()
        self.runtime_packages = runtime_packages(os.path.join(work_dir, "runtime"))
        self._write_logs = write_logs
        self.account_concurrency = account_concurrency
        self._isolation = ""
        self._isolation_ready = threading.Event()
        if isolation in ("bwrap", "process"):
            self._decide_isolation(isolation)  # no probe to wait for, or its refusal raised here
        self.idle_seconds: float = IDLE_SECONDS  # configure_pool may set a fraction
        self.memory_cap_kb = warm_pool_cap_kb()
        self._lock = threading.Lock()
        self._environments: list[ExecutionEnvironment] = []
        self._noted: set[str] = set()  # functions whose log has had its note (first_note)
        self._spares: WorkerQueue = queue.Queue()
        self._spawn_requests: queue.Queue[tuple[int, WorkerQueue] | None] = queue.Queue()
        self._closed = threading.Event()
        self._close_reason = "stopped"
        self._retirer = ThreadPoolExecutor(RETIRE_THREADS, thread_name_prefix="sandbox-retire")
        # One long-lived thread starts every worker: Linux's parent-death signal, which kills a
        # worker when the sandbox's process dies, follows the thread that started it.
        self._spawner = threading.Thread(target=self._spawn_loop, name="sandbox-spawner",
                                         daemon=True)
        self._spawner.start()
        self._reaper = threading.Thread(target=self._reap_loop, name="sandbox-reaper",
                                        daemon=True)
        self._reaper.start()
        self._spawning = 0  # spawns asked for and not yet done
        self._ask_for_spare()

    # ---------------------------------------------------------------- isolation
    def _decide_isolation(self, wanted: str | None) -> None:
        try:
            self._isolation = workers.isolation(wanted)
        finally:
            self._isolation = self._isolation or "process"
            self._isolation_ready.set()

    @property
    def isolation(self) -> str:
        """ "bwrap" or "process" (see workers.isolation)."""
        self._isolation_ready.wait()
        return self._isolation

    @property
    def sandboxed(self) -> bool:
        return self.isolation == "bwrap"

    # ---------------------------------------------------------------- spares
    def _new_worker(self, tmp_mb: int) -> workers.Worker:
        # what a worker must see under /tmp, which bubblewrap replaces by its own
        visible = [self.work_dir, os.path.dirname(workers.BOOTSTRAP), sys.prefix,
                   sys.base_prefix, sys.executable]
        return workers.Worker(sys.executable, tmp_mb=tmp_mb, sandboxed=self.sandboxed,
                              visible=visible)

    def _spawn_loop(self) -> None:
        if not self._isolation_ready.is_set():
            # bubblewrap is probed here, off sandbox.start()'s path (once a process)
            self._decide_isolation(None)
        while True:
            request = self._spawn_requests.get()
            if request is None or self._closed.is_set():
                break
            tmp_mb, answer = request
            try:
                answer.put(self._new_worker(tmp_mb))
            except OSError as error:
                answer.put(error)
            if answer is self._spares:
                with self._lock:
                    self._spawning -= 1

    def _ask_for_spare(self) -> None:
        with self._lock:
            self._spawning += 1
        self._spawn_requests.put((workers.DEFAULT_TMP_MB, self._spares))

    def take_spare(self, tmp_mb: int = workers.DEFAULT_TMP_MB) -> workers.Worker:
        """A started worker; one more is started so that the next cold start finds one. A
        function with a /tmp of another size waits for a worker of its own."""
        if tmp_mb != workers.DEFAULT_TMP_MB and self.sandboxed:
            answer: WorkerQueue = queue.Queue()
            self._spawn_requests.put((tmp_mb, answer))
            return self._wait_for(answer)
        try:
            spare = self._spares.get_nowait()
        except queue.Empty:
            self._ask_for_spare()
            spare = self._wait_for(self._spares)
        if spare is None:
            self._spares.put(None)  # for the next waiter
            raise EnvironmentAborted(self._close_reason)
        if isinstance(spare, OSError):  # the spare failed to start, as _wait_for would raise
            raise spare
        with self._lock:
            keep_one_ready = self._spares.qsize() + self._spawning == 0
        if keep_one_ready:
            self._ask_for_spare()
        return spare

    def _wait_for(self, answer: WorkerQueue) -> workers.Worker:
        while True:
            try:
                found = answer.get(timeout=0.1)
            except queue.Empty:
                if self._closed.is_set():
                    raise EnvironmentAborted(self._close_reason) from None
                continue
            if isinstance(found, BaseException):
                raise found
            if found is None:
                answer.put(None)
                raise EnvironmentAborted(self._close_reason)
            return found

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
    def first_note(self, function: str) -> bool:
        """True the first time a function asks (a note in its log is written once)."""
        with self._lock:
            if function in self._noted:
                return False
            self._noted.add(function)
            return True

    def busy_count(self) -> int:
        """The environments processing an event now (Lambda's ConcurrentExecutions)."""
        with self._lock:
            return sum(1 for env in self._environments if env.busy)

    def acquire(self, spec: FunctionSpec, reserved: int | None) -> ExecutionEnvironment:
        """An idle environment of this function, or a new one, or Throttled."""
        stale: list[ExecutionEnvironment] = []
        with self._lock:
            if self._closed.is_set():  # a reset or stop under way
                raise EnvironmentAborted(self._close_reason)
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
        self._retire_all(stale, wait=False)
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
            chosen.busy = False
            chosen.retire()
            raise
        return chosen

    def release(self, env: ExecutionEnvironment) -> None:
        with self._lock:
            env.busy = False
            env.last_used = time.monotonic()
        if env.broken:
            self._retire_all([env], wait=False)
        self._enforce_memory_cap()

    def _enforce_memory_cap(self) -> None:
        """Retire the least recently used idle environments while the pool is over its cap."""
        doomed: list[ExecutionEnvironment] = []
        with self._lock:
            total = sum(env.peak_kb for env in self._environments if not env.retired)
            if total <= self.memory_cap_kb:
                return
            for env in sorted(self._environments, key=lambda env: env.last_used):
                if total <= self.memory_cap_kb:
                    break
                if not env.busy and not env.retired:
                    doomed.append(env)
                    total -= env.peak_kb
        self._retire_all(doomed, wait=False)

    def _reap_loop(self) -> None:
        while not self._closed.wait(min(REAP_SECONDS, max(0.05, self.idle_seconds / 2))):
            self.retire_idle(self.idle_seconds, wait=True)

    def retire_idle(self, idle_seconds: float = IDLE_SECONDS, wait: bool = True) -> None:
        now = time.monotonic()
        with self._lock:
            old = [env for env in self._environments
                   if not env.busy and not env.retired and now - env.last_used > idle_seconds]
        self._retire_all(old, wait=wait)

    def retire_function(self, account_id: str, name: str) -> None:
        with self._lock:
            doomed = [env for env in self._environments
                      if env.spec.account_id == account_id and env.spec.name == name
                      and not env.busy]
        self._retire_all(doomed, wait=True)

    def _retire_all(self, doomed: list[ExecutionEnvironment], wait: bool) -> None:
        """Retire these environments in parallel, off the caller's thread unless ``wait``."""
        if not doomed:
            return
        with self._lock:
            for env in doomed:  # none of them may be handed out from now on
                if env in self._environments:
                    self._environments.remove(env)
        try:
            futures = [self._retirer.submit(env.retire) for env in doomed]
        except RuntimeError:  # the pool is closing: retire here
            for env in doomed:
                env.retire()
            return
        if wait:
            for future in futures:
                future.result()

    def forget(self, env: ExecutionEnvironment) -> None:
        with self._lock:
            if env in self._environments:
                self._environments.remove(env)

    @property
    def environments(self) -> list[ExecutionEnvironment]:
        with self._lock:
            return list(self._environments)

    def describe_environments(self) -> list[dict[str, Any]]:
        """Every environment as plain data: function, stream, busy, memory, worker PIDs."""
        return [env.describe() for env in self.environments]

    def close(self, reason: str = "reset") -> None:
        """Retire every environment and spare; no process or thread is left. Invocations in
        flight end at once with EnvironmentAborted(reason)."""
        with self._lock:
            self._close_reason = reason
            self._closed.set()
            environments = list(self._environments)
            self._environments.clear()
        for env in environments:
            env.abort(reason)
        self._spares.put(None)  # wakes a cold start waiting for a spare
        self._spawn_requests.put(None)
        futures = [self._retirer.submit(env.retire) for env in environments]
        for future in futures:
            future.result()
        self._retirer.shutdown(wait=True)
        self._spawner.join(10)
        self._reaper.join(10)
        while True:
            try:
                spare = self._spares.get_nowait()
            except queue.Empty:
                break
            if isinstance(spare, workers.Worker):  # (not None, nor a spare that failed to start)
                spare.terminate()
                os.close(spare.log_read)
        shutil.rmtree(self.work_dir, ignore_errors=True)
