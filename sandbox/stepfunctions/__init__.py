"""Step Functions: moto's ASL interpreter, run the way AWS runs it.

moto ships LocalStack's interpreter (``moto/stepfunctions/parser``) and the sandbox turns it on
(``execute_state_machine``). This extension fixes what stands between it and AWS's behaviour:

- executions (``executions``): an unnamed execution gets a UUID name; StartSyncExecution runs
  Express workflows, and StartExecution runs them asynchronously, with Express ARNs, which
  DescribeExecution, GetExecutionHistory, StopExecution and ListExecutions refuse as AWS does;
  StopExecution ends a waiting callback; ``sb.reset()`` stops every execution and waits for its
  threads;
- the engine's calls (``engine``): made as the state machine's role, with its temporary
  credentials (``sandbox.sts``); the parser's errors carry their AWS error codes;
- the state machine's role (``roles``): one Step Functions may not assume is refused at create
  and update, as AWS refuses it;
- definitions (``validation``): checked at create and update as AWS checks them, refused with
  ``InvalidDefinition`` and AWS's message for each problem;
- JSONata (``jsonata``): evaluated by ``jsonata-python``, so that JSONata states, ``Assign``
  and variables work;
- service integrations (``integrations``): nested executions (``states:startExecution``,
  ``.sync``, ``.sync:2``);
- execution logs (``logs``): ``loggingConfiguration`` writes the history to CloudWatch Logs;
- simulated time (``timing``): Wait states, retry intervals, the execution's TimeoutSeconds and
  a Task's TimeoutSeconds and HeartbeatSeconds run on the sandbox's clock, and the history
  shows the simulated timestamps;
- failures (``failures``): a Choice with no match, a missing Lambda function and a missed
  heartbeat fail with the error names and causes AWS reports, which Retry and Catch match.

Each hook names the moto file it works around; ``tests/test_moto_seams.py`` lists the seams.
"""

from __future__ import annotations

import logging
from typing import Any

from . import roles
from .engine import Clients
from .executions import Executions

_service: StepFunctions | None = None
_patches: list[tuple[Any, str, Any, bool]] = []  # (owner, attribute, original, was it own)
_saved_declarations: dict[str, str] = {}


class StepFunctions:
    """The sandbox's Step Functions service: the executions it runs."""

    def __init__(self, sandbox: Any):
        self.sandbox = sandbox
        self.executions = Executions(sandbox)
        self.clients = Clients(sandbox)

    def reset(self) -> None:
        self.executions.stop_all()
        self.clients.clear()  # the roles' credentials go with the reset

    def close(self) -> None:
        self.executions.stop_all()
        self.clients.clear()


def _patch(owner: Any, attribute: str, value: Any) -> None:
    own = attribute in vars(owner)  # else inherited: uninstall deletes the patch
    _patches.append((owner, attribute, vars(owner).get(attribute), own))  # raw: staticmethod
    setattr(owner, attribute, value)


ENGINE = "moto.stepfunctions.parser.models"  # imported on the first Step Functions request


def install(sandbox: Any) -> StepFunctions:
    global _service
    from .. import lazy

    _service = StepFunctions(sandbox)
    roles.install()
    # the interpreter logs every caught error at ERROR level; a notebook is no place for them
    logging.getLogger("moto.stepfunctions.parser").addHandler(_QUIET)
    logging.getLogger("moto.stepfunctions.parser").propagate = False
    # the interpreter is heavy (1-2 s to import): hook it when moto first loads it
    lazy.when_imported(ENGINE, _hook_engine)
    return _service


def _hook_engine(module: Any) -> None:
    if _service is None or _patches:  # uninstalled, or hooked already
        return
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_callback,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import (
        Timestamp,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    from . import engine, executions, failures, timing, validation

    callback_task = state_task_service_callback.StateTaskServiceCallback

    # every state type's module, so that each one's ``boto_client_for`` is found below
    AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Pass", '
                                    '"End": true}}}')

    for module in engine.engine_modules_using(boto_client.boto_client_for):
        _patch(module, "boto_client_for", engine.boto_client_for)
    for cls in engine.error_codes():
        _patch(cls, "TYPE", cls.code)

    backend = StepFunctionsParserBackend
    _patch(backend, "_validate_definition", staticmethod(validation.validate_definition))
    _patch(backend, "start_execution", executions.start_execution(backend.start_execution))
    _patch(backend, "list_executions", executions.list_executions(backend.list_executions))
    _patch(backend, "_validate_execution_arn",
           executions.validate_execution_arn(backend._validate_execution_arn))
    _patch(StepFunctionResponse, "describe_execution",
           executions.describe_execution_output(StepFunctionResponse.describe_execution))
    _patch(StepFunctionResponse, "start_sync_execution",
           executions.start_sync_execution_response)
    _patch(Execution, "start", executions.execution_start(Execution.start))
    _patch(Execution, "stop", executions.execution_stop)
    _patch(Environment, "set_error", executions.keep_stopped(Environment.set_error))
    _patch(Environment, "set_timed_out", executions.keep_stopped(Environment.set_timed_out))
    _patch(ExecutionWorker, "_get_evaluation_environment",
           executions.evaluation_environment(ExecutionWorker._get_evaluation_environment))

    _patch(ExecutionState, "_evaluate_with_timeout", timing.evaluate_with_timeout)
    _patch(callback_task, "_eval_wait_for_task_token", timing.eval_wait_for_task_token)
    _patch(WaitFunction, "_wait_interval", timing.wait_interval)
    _patch(Timestamp, "_get_wait_seconds", timing.timestamp_wait_seconds)
    _patch(RetrierDecl, "_eval_body", timing.retrier_eval_body)
    _patch(Program, "eval", timing.program_eval)
    _patch(BaseExecutionWorkerCommunication, "terminated",
           timing.reflect_stop_date(BaseExecutionWorkerCommunication.terminated))

    _patch(StateChoice, "_eval_state", failures.choice_eval_state(StateChoice._eval_state))
    _patch(StateTaskLambda, "_from_error", failures.lambda_task_from_error(
        StateTaskLambda._from_error))
    _patch(callback_task, "_from_error", failures.callback_task_from_error(
        callback_task._from_error))

    # nested executions: the sfn integration's parameters and results in botocore's names
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn,
    )

    from . import integrations

    sfn_task = state_task_service_sfn.StateTaskServiceSfn
    _patch(sfn_task, "_from_error", failures.sfn_task_from_error(sfn_task._from_error))
    _patch(sfn_task, "_normalise_parameters",
           integrations.normalise_parameters(sfn_task._normalise_parameters))
    _patch(sfn_task, "_normalise_response", integrations.normalise_response)
    # .sync polls the child's status every 0.5 s (state_task_service_callback.py): a sandbox's
    # child executions take milliseconds, so poll as often as that
    _patch(state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK",
           integrations.SYNC_POLL_SECONDS)

    # JSONata: moto's evaluator is unset, and its declarations of $hash and $uuid are stubs
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
        StringJSONata,
    )
    from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as functions
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    from . import jsonata

    _patch(moto_jsonata, "_eval_jsonata", jsonata.evaluate)
    _patch(StringJSONata, "_eval_body", jsonata.failing_as_aws_does(StringJSONata._eval_body))
    for module in engine.engine_modules_using(moto_jsonata.encode_jsonata_variable_declarations):
        _patch(module, "encode_jsonata_variable_declarations",
               jsonata.encode_variable_declarations)
    stubs = functions._DECLARATION_BY_VARIABLE_REFERENCE
    for name in jsonata.NATIVE:
        _saved_declarations[name] = stubs.pop(name)



def uninstall() -> None:
    global _service
    from .. import lazy

    lazy.forget(ENGINE, _hook_engine)
    roles.uninstall()
    while _patches:
        owner, attribute, original, own = _patches.pop()
        if own:
            setattr(owner, attribute, original)
        else:
            delattr(owner, attribute)
    if _saved_declarations:
        from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as functions

        functions._DECLARATION_BY_VARIABLE_REFERENCE.update(_saved_declarations)
        _saved_declarations.clear()
    logging.getLogger("moto.stepfunctions.parser").removeHandler(_QUIET)
    logging.getLogger("moto.stepfunctions.parser").propagate = True
    _service = None


_QUIET = logging.NullHandler()
