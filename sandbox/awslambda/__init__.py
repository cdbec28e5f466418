"""Lambda: moto's API, with code that really runs.

moto runs Lambda code only through Docker. The sandbox hooks (``sandbox/seams.py``) two places
in ``moto/awslambda``: ``LambdaFunction._invoke_lambda``, the seam every service path goes through
(event source mappings, S3 and SNS notifications, Step Functions tasks), and
``LambdaResponse.invoke``, the Invoke API, whose invocation types, qualifiers, error flag, log
tail and limits moto gets wrong (``docs/moto-gaps.md``). Both run code in the execution environments
of ``sandbox.runtime.environments``.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from moto.awslambda.models import lambda_backends
from moto.logs.models import logs_backends

from .. import sts
from ..errors import UnsupportedError
from ..runtime.environments import (
    CUSTOM_RUNTIMES,
    PYTHON_RUNTIMES,
    EnvironmentPool,
    FunctionSpec,
    Invocation,
    Result,
    Throttled,
)
from . import metrics, roles

if TYPE_CHECKING:
    from ..server.service import SandboxService

UNSUPPORTED_RUNTIME = (
    "The sandbox runs Python functions ({python}) with its own interpreter, and custom runtimes "
    "({custom}) whose zip holds an executable 'bootstrap'. Function '{name}' uses {runtime}, which "
    "cannot run here: deploy it with a Python runtime such as python3.12."
)



class LambdaRuntime:
    """The sandbox's Lambda service: turns moto's functions into running code."""

    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self._generation = 0
        self.pool = self._new_pool()
        from .asynchronous import AsyncInvoker

        self.async_invoker = AsyncInvoker(self)
        sandbox.deliveries.register_busy("lambda-async", self.async_invoker.busy)

    def _new_pool(self, isolation: str | None = None) -> EnvironmentPool:
        self._generation += 1
        work_dir = os.path.join(self.sandbox._work_dir, f"lambda-{self._generation}")
        os.makedirs(work_dir, exist_ok=True)
        return EnvironmentPool(endpoint_url=self.sandbox.endpoint_url, work_dir=work_dir,
                               write_logs=write_logs,
                               account_concurrency=self.sandbox.concurrency_limit,
                               isolation=isolation)

    # ---------------------------------------------------------------- building an environment
    def spec(self, fn: Any) -> FunctionSpec:
        backend = lambda_backends[fn.account_id][fn.region]
        layers = []
        for layer in fn.layers:
            version = backend.layers_versions_by_arn(layer["Arn"])
            if version is None:
                # Lambda keeps a deleted layer version for the functions that use it; moto
                # forgets it (moto/awslambda/models.py LayerStorage.delete_layer_version)
                raise UnsupportedError(
                    f"Function '{fn.function_name}' uses layer version {layer['Arn']}, which was "
                    "deleted. Lambda would still run it; the sandbox cannot. Publish the layer "
                    "again and update the function's Layers to the new version.")
            layers.append((version.code_sha_256, version.code_bytes))
        # Lambda runs the function as a session of its role named after the function
        return FunctionSpec(fn, layers, sts.credentials(fn.role, fn.function_name,
                                                        region=fn.region))

    # ---------------------------------------------------------------- running code
    def run(self, fn: Any, payload: bytes, *, invoked_arn: str | None = None,
            client_context: str | None = None, request_id: str | None = None) -> Result:
        """One synchronous invocation; raises Throttled when no environment may start, and
        EnvironmentAborted when the sandbox is reset or stopped before it ends."""
        request_id = request_id or str(uuid.uuid4())
        version = str(fn.version)
        if fn.run_time not in PYTHON_RUNTIMES + CUSTOM_RUNTIMES or fn.package_type != "Zip":
            runtime = fn.run_time if fn.package_type == "Zip" else "a container image"
            message = UNSUPPORTED_RUNTIME.format(
                python=", ".join(PYTHON_RUNTIMES), custom=", ".join(CUSTOM_RUNTIMES),
                name=fn.function_name, runtime=runtime)
            error = {"errorType": "Sandbox.UnsupportedRuntime", "errorMessage": message}
            return Result(request_id, json.dumps(error).encode(), "Unhandled", "", version)
        spec = self.spec(fn)
        reserved = self.reserved_concurrency(fn)
        pool = self.pool  # a reset meanwhile replaces it
        started = datetime.now(timezone.utc)
        try:
            env = pool.acquire(spec, reserved)
        except Throttled:
            metrics.throttled(fn, invoked_arn)
            raise
        metrics.concurrency(fn, pool.busy_count())
        try:
            invocation = Invocation(request_id, payload or b"{}", invoked_arn or fn.function_arn,
                                    client_context)
            result = env.invoke(invocation)
        finally:
            pool.release(env)
        metrics.invoked(fn, result, invoked_arn, started)
        return result

    @staticmethod
    def reserved_concurrency(fn: Any) -> int | None:
        latest = lambda_backends[fn.account_id][fn.region].get_function(fn.function_name)
        value = latest.reserved_concurrency
        return None if value is None else int(value)

    def reset(self) -> None:
        # the pool goes first: invocations in flight end at once (their callers get a
        # ServiceException), so the event queue's threads are free to stop
        self.pool.close("reset")
        self.async_invoker.stop()
        self.pool = self._new_pool()
        self.async_invoker.restart()

    def close(self) -> None:
        self.pool.close("stopped")
        self.async_invoker.stop()

    def describe_environments(self) -> list[dict[str, Any]]:
        """Every execution environment as plain data (function, log stream, busy, memory, the
        PIDs of its worker, supervisor and runtime processes): for tests and the admin API."""
        return self.pool.describe_environments()

    def use_isolation(self, isolation: str) -> str:
        """Retire every environment and isolate the next ones so: "bwrap" (a PID namespace and
        a private /tmp, where bubblewrap works), "process" (a supervisor process only) or
        "auto"; until the next reset. Returns the isolation in effect."""
        self.pool.close("reset")
        self.pool = self._new_pool(isolation)
        return self.pool.isolation

    def configure_pool(self, idle_seconds: float | None = None,
                       memory_cap_mb: float | None = None) -> dict[str, float]:
        """Change how long an idle environment is kept, and the warm pool's memory cap, until
        the next reset; returns both."""
        if idle_seconds is not None:
            self.pool.idle_seconds = float(idle_seconds)
        if memory_cap_mb is not None:
            self.pool.memory_cap_kb = int(memory_cap_mb * 1024)
        return {"idle_seconds": self.pool.idle_seconds,
                "memory_cap_mb": self.pool.memory_cap_kb / 1024}

    def retire_idle_environments(self, idle_seconds: float) -> int:
        """Retire the environments idle for longer than ``idle_seconds`` now (the reaper does it
        after IDLE_SECONDS); how many were retired."""
        before = len(self.pool.environments)
        self.pool.retire_idle(idle_seconds, wait=True)
        return before - len(self.pool.environments)


def write_logs(spec: FunctionSpec, stream: str, lines: list[tuple[int, str]]) -> None:
    """Put an invocation's lines into CloudWatch Logs, group /aws/lambda/<name>, one stream per
    execution environment."""
    if not lines:
        return
    if not roles.may_write_logs(spec, stream):
        return

    logs = logs_backends[spec.account_id][spec.region]
    logs.ensure_log_group(spec.log_group)
    group = logs.groups[spec.log_group]
    if stream not in group.streams:
        group.create_log_stream(stream)
    events = [{"timestamp": stamp, "message": text} for stamp, text in lines]
    group.streams[stream].put_log_events(events)


def install(sandbox: SandboxService) -> LambdaRuntime:
    """The running Lambda service; moto's Lambda is hooked by the rows of ``sandbox.seams``."""
    return LambdaRuntime(sandbox)


def running() -> LambdaRuntime:
    """The running service, for the seams: moto calls them only while a sandbox runs."""
    from ..server.service import running_extension

    runtime: LambdaRuntime = running_extension("awslambda")
    return runtime


def uninstall() -> None:
    pass
