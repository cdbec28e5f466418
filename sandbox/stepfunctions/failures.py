"""How states fail: the error names and causes AWS reports, so that Retry and Catch see them.

moto's interpreter (moto/stepfunctions/parser/asl/component/state/...) names three failures
otherwise than Step Functions does:

- a Choice state with no matching rule and no ``Default`` fails with the Python text of a
  ``RuntimeError`` (``choice/state_choice.py``). AWS fails the execution with ``States.Runtime``
  and "Failed to transition out of the state. The state does not point to a next state." (the
  Choice page of the developer guide: "the state machine will throw an error due to a failure to
  transition out of the state"), which ``States.ALL`` does not catch. The ASL specification
  names ``States.NoChoiceMatched`` for this case, but Step Functions does not report it;
- a Task whose ``Resource`` is a function ARN answers a Lambda API error as ``Exception``
  (``state_task/state_task_lambda.py``). AWS reports ``Lambda.<code>`` and the SDK's rendering
  of the error, as it does for ``arn:aws:states:::lambda:invoke``: ``Function not found: <arn>
  (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: <id>;
  Proxy: null)`` (LocalStack's recording of AWS, tests/aws/services/stepfunctions/v2/
  error_handling/test_task_service_lambda.snapshot.json, ``test_no_such_function``);
- a ``states:startExecution`` task refused by Step Functions names its error by appending
  "Exception" to the API's error code (``state_task_service_sfn.py``), so that a code that
  already ends in it doubles: ``StepFunctions.AccessDeniedExceptionException``. The error is
  named after the SDK's exception class, ``StepFunctions.AccessDeniedException``, as
  ``StepFunctions.ExecutionAlreadyExistsException`` is after ``ExecutionAlreadyExists``;
- a task that misses its heartbeat times out as ``States.Timeout``, which is what AWS writes in
  ``TaskTimedOut`` and ``ExecutionFailed`` (LocalStack's recording of AWS, timeouts/
  test_heartbeats.snapshot.json), but a Retry or Catch on ``States.HeartbeatTimeout`` does not
  match it; on AWS it does ("HeartbeatTimeout is available inside the Catch and Retry fields",
  Error handling in Step Functions).
"""

from __future__ import annotations

import functools
from typing import Any

NO_NEXT_STATE = "Failed to transition out of the state. The state does not point to a next state."
_NO_BRANCH = "No branching option reached"  # the start of moto's RuntimeError


def choice_eval_state(original: Any) -> Any:
    """Wrap ``StateChoice._eval_state``: no match and no Default fails as AWS fails it."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    runtime = StatesErrorNameType.StatesRuntime

    @functools.wraps(original)
    def _eval_state(self: Any, env: Any) -> None:
        try:
            original(self, env)
        except RuntimeError as error:
            if not str(error.args[0] if error.args else "").startswith(_NO_BRANCH):
                raise
            # the interpreter prefixes the cause of a States.Runtime error with the state's name
            # and the id of its entered event, as AWS does
            raise FailureEventException(FailureEvent(
                env=env, error_name=StatesErrorName(typ=runtime),
                event_type=HistoryEventType.ExecutionFailed,
                # moto declares EventDetails total; an event carries one kind of details
                event_details=EventDetails(executionFailedEventDetails=ExecutionFailedEventDetails(  # type: ignore[typeddict-item]
                    error=runtime.to_name(), cause=NO_NEXT_STATE)))) from None

    return _eval_state


def lambda_task_from_error(original: Any) -> Any:
    """Wrap ``StateTaskLambda._from_error``: a Lambda API error is ``Lambda.<code>``, with the
    cause the ``lambda:invoke`` integration gives it."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_lambda,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    describe = state_task_service_lambda.StateTaskServiceLambda._error_cause_from_client_error

    @functools.wraps(original)
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error, cause = describe(ex)
        return FailureEvent(
            env=env, error_name=CustomErrorName(error),
            event_type=HistoryEventType.LambdaFunctionFailed,
            # moto declares EventDetails total; an event carries one kind of details
            event_details=EventDetails(lambdaFunctionFailedEventDetails=(  # type: ignore[typeddict-item]
                LambdaFunctionFailedEventDetails(error=error, cause=cause))))

    return _from_error


def callback_task_from_error(original: Any) -> Any:
    """Wrap ``StateTaskServiceCallback._from_error``: a missed heartbeat is ``States.Timeout``
    that ``States.HeartbeatTimeout`` also matches."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError

    @functools.wraps(original)
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        failure = original(self, env, ex)
        if not isinstance(ex, HeartbeatTimeoutError):
            return failure
        return FailureEvent(env=env, error_name=heartbeat_timeout(),
                            event_type=failure.event_type, event_details=failure.event_details)

    return _from_error


def heartbeat_timeout() -> Any:
    """``States.Timeout``, as the history names it, matched by ``States.HeartbeatTimeout`` too."""
    return _heartbeat_timeout_name()(typ=_names().StatesTimeout)


def _names() -> Any:
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    return StatesErrorNameType


@functools.cache
def _heartbeat_timeout_name() -> type:
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    matched = (_names().StatesTimeout.to_name(), _names().StatesHeartbeatTimeout.to_name())

    class HeartbeatTimeout(StatesErrorName):
        def matches(self, error_name: str | None) -> bool:
            return error_name in matched

    return HeartbeatTimeout


def sfn_task_from_error(original: Any) -> Any:
    """Wrap ``StateTaskServiceSfn._from_error``: one "Exception" at the end of the name."""

    @functools.wraps(original)
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        failure = original(self, env, ex)
        name = getattr(failure.error_name, "error_name", None) or ""
        if name.endswith("ExceptionException"):
            fixed = name[:-len("Exception")]
            failure.error_name.error_name = fixed
            details = (failure.event_details or {}).get("taskFailedEventDetails")
            if details and details.get("error") == name:
                details["error"] = fixed
        return failure

    return _from_error


# ---------------------------------------------------------------- error names
def carried_error_name(error_name: str | None) -> Any:
    """The error name a Parallel branch or a Map iteration carries up: a reserved name
    (``States.Timeout``, ``States.TaskFailed``...) stays a reserved name, so that
    ``States.TaskFailed`` still does not catch ``States.Timeout`` (Error handling in Step
    Functions); moto's ``branches_decl.py`` and ``iteration_worker.py`` wrapped every name in
    ``CustomErrorName``, whose check then raised ``ValueError``."""
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    if error_name and error_name.startswith("States."):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            pass  # not a reserved name: a Fail state's own
    return CustomErrorName(error_name)


def custom_error_name_init(self: Any, error_name: str | None) -> None:
    """``CustomErrorName.__init__`` without the ASL specification's "MUST NOT begin with
    States." check: Step Functions runs Fail states whose own error starts with ``States.``
    (AWS's published samples use them), and reports the name as given."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName

    ErrorName.__init__(self, error_name=error_name)
