"""Executions: started, named, run, stopped and counted the way Step Functions does.

moto's parser backend (moto/stepfunctions/parser/models.py) names an unnamed execution ``None``,
has no StartSyncExecution, runs an Express workflow's StartExecution as a Standard one, leaves a
stopped ``.waitForTaskToken`` task waiting for ever, and never stops its execution threads when
the backends reset. The sandbox keeps a registry of the executions it started so that
``sb.reset()`` can stop every one and wait for its threads.

Express executions are not kept: AWS answers an Express ARN (``...:express:<machine>:<name>:
<id>``) in DescribeExecution, GetExecutionHistory and StopExecution with ``InvalidArn``, "Invalid
Arn: 'Resource type not valid in this context: express'", and ListExecutions on an Express state
machine with ``StateMachineTypeNotSupported`` (LocalStack's recording of AWS,
tests/aws/services/stepfunctions/v2/test_sfn_api_express.snapshot.json); their history is read in
CloudWatch Logs (``loggingConfiguration``).
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from .timing import ExecutionClock, attach

if TYPE_CHECKING:
    from ..server.service import SandboxService

JOIN_SECONDS = 10.0  # how long reset waits for execution threads, all together


class Executions:
    """The executions started since the last reset, so that reset can stop them."""

    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._started: list[Any] = []

    def add(self, execution: Any) -> None:
        with self._lock:
            self._started.append(execution)

    def running(self) -> list[Any]:
        with self._lock:
            return [e for e in self._started if _is_running(e)]

    def stop_all(self) -> None:
        """Stop every running execution and wait for the engine's threads to end."""
        from moto.stepfunctions.parser.utils import TMP_THREADS

        for _ in range(3):  # an execution whose thread had not begun yet is caught next round
            for execution in self.running():
                stop(execution)
            end = time.monotonic() + JOIN_SECONDS
            for thread in list(TMP_THREADS):
                thread.join(max(0.0, end - time.monotonic()))
            if not any(thread.is_alive() for thread in TMP_THREADS) and not self.running():
                break
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        with self._lock:
            self._started.clear()


def _is_running(execution: Any) -> bool:
    status: str = getattr(execution.exec_status, "value", execution.exec_status)
    return status == "RUNNING"


def _registry() -> Executions:
    from . import running

    return running().executions


def _env(execution: Any) -> Any:
    worker = execution.exec_worker
    return None if worker is None else worker.env


def stop(execution: Any, error: str | None = None, cause: str | None = None) -> None:
    """End an execution at once: ExecutionAborted, even in a ``.waitForTaskToken`` task."""
    env = _env(execution)
    if env is None:
        return
    now = env.event_manager._get_current_timestamp()
    env.set_stop(stop_date=now, cause=cause, error=error)
    clock = getattr(env.event_manager, "_sandbox_clock", None)
    if clock is not None:
        clock.halt()  # the history shows ExecutionAborted at the moment of the stop
    # moto leaves a waiting callback (parser/asl/eval/callback/callback.py) blocked until its
    # timeout, 99999999 s by default: AWS's StopExecution ends the task.
    for endpoint in list(env.callback_pool_manager._pool.values()):
        endpoint.interrupt_all()
    if execution.stop_date is None:
        execution.stop_date = now


# ---------------------------------------------------------------- moto hooks
def start_execution(original: Any) -> Any:
    """Wrap ``StepFunctionsParserBackend.start_execution``: an unnamed execution gets a UUID as
    its name, as on AWS (moto formats ``None`` into the ARN), and a name is validated."""

    @functools.wraps(original)
    def start_execution(self: Any, state_machine_arn: str, name: str | None = None,
                        execution_input: str | None = None, trace_header: str | None = None
                        ) -> Any:
        if name:
            self._validate_name(name)
        if self.describe_state_machine(state_machine_arn).type == "EXPRESS":
            # AWS: "StartExecution isn't idempotent for EXPRESS workflows", so no name lookup
            return start_express_execution(self, state_machine_arn, name, execution_input,
                                           trace_header)
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input,
                        trace_header)

    return start_execution


def list_executions(original: Any) -> Any:
    """Wrap the backend's ``list_executions``: Express state machines have none to list."""
    from .exceptions import StateMachineTypeNotSupported

    @functools.wraps(original)
    def list_executions(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        if self.describe_state_machine(state_machine_arn).type == "EXPRESS":
            raise StateMachineTypeNotSupported()
        return original(self, state_machine_arn, *args, **kwargs)

    return list_executions


EXPRESS_ARN = "Invalid Arn: 'Resource type not valid in this context: express'"


def validate_execution_arn(original: Any) -> Any:
    """Wrap the backend's ``_validate_execution_arn`` (DescribeExecution, GetExecutionHistory,
    StopExecution): an Express execution's ARN is refused as AWS refuses it."""
    from moto.stepfunctions.exceptions import InvalidArn

    @functools.wraps(original)
    def _validate_execution_arn(self: Any, execution_arn: str) -> None:
        if execution_arn.split(":")[5:6] == ["express"]:
            raise InvalidArn(EXPRESS_ARN)
        original(self, execution_arn)

    return _validate_execution_arn


def execution_start(original: Any) -> Any:
    """Wrap the parser's ``Execution.start``: give the execution its clock and its logging
    session, and register it."""

    @functools.wraps(original)
    def start(self: Any) -> None:
        from . import running, status_events
        from .logs import session_for

        self._sandbox_clock = ExecutionClock(running().sandbox.clock, self.start_date)
        if self._cloud_watch_logging_session is None:
            self._cloud_watch_logging_session = session_for(self)
        _registry().add(self)
        status_events.emit(self, "RUNNING")  # before the worker can end it
        original(self)

    return start


def evaluation_environment(original: Any) -> Any:
    """Wrap ``ExecutionWorker._get_evaluation_environment``: history on the execution's clock."""

    @functools.wraps(original)
    def _get_evaluation_environment(self: Any) -> Any:
        env = original(self)
        clock = getattr(self._execution_communication.execution, "_sandbox_clock", None)
        if clock is not None:
            attach(env, clock)
        return env

    return _get_evaluation_environment


def keep_stopped(original: Any) -> Any:
    """Wrap ``Environment.set_error`` and ``set_timed_out``: a stopped execution stays ABORTED.

    moto (parser/asl/eval/environment.py) lets the error of the task that stopping interrupted
    overwrite the stop, so the execution ends FAILED."""
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    @functools.wraps(original)
    def set_state(self: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(self._program_state, ProgramStopped):
            original(self, *args, **kwargs)

    return set_state


def execution_stop(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
    """The parser's ``Execution.stop`` (StopExecution)."""
    stop(self, error=error or None, cause=cause or None)


# ---------------------------------------------------------------- Express workflows
def start_sync_execution(backend: Any, state_machine_arn: str, name: str | None,
                         execution_input: str | None, trace_header: str | None) -> Any:
    """Run an Express execution to its end and return it, as StartSyncExecution does."""
    from moto.stepfunctions.parser.backend.execution import SyncExecution

    from .exceptions import StateMachineTypeNotSupported

    if name:
        backend._validate_name(name)
    if backend.describe_state_machine(state_machine_arn).type != "EXPRESS":
        raise StateMachineTypeNotSupported()
    execution = _express_execution(SyncExecution, backend, state_machine_arn, name,
                                   execution_input, trace_header)
    execution.start()  # SyncExecutionWorker runs it in this thread, to its end
    return execution


def start_express_execution(backend: Any, state_machine_arn: str, name: str | None,
                            execution_input: str | None, trace_header: str | None) -> Any:
    """Start an Express execution in the background, as StartExecution does."""
    from moto.stepfunctions.parser.backend.execution import Execution

    execution = _express_execution(Execution, backend, state_machine_arn, name,
                                   execution_input, trace_header)
    execution.start()
    return execution


def _express_execution(cls: type, backend: Any, state_machine_arn: str, name: str | None,
                       execution_input: str | None, trace_header: str | None) -> Any:
    from moto.stepfunctions.exceptions import InvalidExecutionInput
    from moto.stepfunctions.parser.api import StateMachineType

    state_machine = backend.describe_state_machine(state_machine_arn)
    execution_input = "{}" if execution_input is None else execution_input
    try:
        json.loads(execution_input)
    except ValueError as error:
        raise InvalidExecutionInput(
            f"Invalid State Machine Execution Input: '{error}'") from None
    # a snapshot of the definition, as moto's start_execution takes (parser/models.py)
    snapshot = copy.deepcopy(state_machine, {id(state_machine.executions): [],
                                             id(state_machine.backend): state_machine.backend})
    snapshot.sm_type = StateMachineType.EXPRESS
    name = name or str(uuid.uuid4())
    # Express executions have their own ARN form: ...:express:<machine>:<name>:<id>
    arn = (f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:express:"
           f"{state_machine.name}:{name}:{uuid.uuid4()}")
    return cls(
        name=name, sm_type=StateMachineType.EXPRESS, role_arn=snapshot.roleArn, exec_arn=arn,
        account_id=backend.account_id, region_name=backend.region_name, state_machine=snapshot,
        start_date=datetime.datetime.now(tz=datetime.timezone.utc),
        cloud_watch_logging_session=None, activity_store={}, input_data=execution_input,
        trace_header=trace_header)


def sync_execution_result(execution: Any) -> dict[str, Any]:
    """StartSyncExecution's answer: the execution's end, and what it is billed."""
    result = dict(execution.to_start_sync_execution_output())
    result["status"] = getattr(result["status"], "value", result["status"])
    if not result.get("traceHeader"):
        result.pop("traceHeader", None)
    elapsed_ms = (execution.stop_date - execution.start_date).total_seconds() * 1000
    # Express is billed per 100 ms of duration and per 64 MB of memory
    result["billingDetails"] = {
        "billedDurationInMilliseconds": max(100, math.ceil(elapsed_ms / 100) * 100),
        "billedMemoryUsedInMB": 64,
    }
    return result


def start_sync_execution_response(self: Any) -> Any:
    """``POST / X-Amz-Target: AWSStepFunctions.StartSyncExecution``, missing from moto's
    ``StepFunctionResponse`` (moto/stepfunctions/responses.py)."""
    from moto.core.responses import ActionResult

    execution = start_sync_execution(
        self.stepfunction_backend, self._get_param("stateMachineArn"), self._get_param("name"),
        self._get_param("input"), self._get_param("traceHeader"))
    return ActionResult(sync_execution_result(execution))


def describe_execution_output(original: Any) -> Any:
    """Wrap ``StepFunctionResponse.describe_execution``: ``output`` is JSON text, also when the
    output is a string (moto/stepfunctions/responses.py sends a string output as it is)."""

    @functools.wraps(original)
    def describe_execution(self: Any) -> Any:
        result = original(self)
        described = result.result
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        if "output" in described and isinstance(execution.output, str):
            described["output"] = json.dumps(execution.output, separators=(",", ":"))
        return result

    return describe_execution
