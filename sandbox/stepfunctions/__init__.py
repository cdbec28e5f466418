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
- aws-sdk integrations (``sdk``): errors named as AWS names them (``S3.NoSuchKeyException``,
  ``DynamoDb.ConditionalCheckFailedException``), services by their Step Functions names
  (``aws-sdk:eventbridge``, ``aws-sdk:cloudwatchlogs``);
- task tokens (``tokens``): SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat are
  authorized on the state machine waiting for the token, as AWS authorizes them;
- Distributed Map (``distributed``): EXPRESS child workflows and whole tolerated-failure
  percentages parse; S3 listings give AWS's object records; failures beyond the tolerated
  count or percentage fail the run with States.ExceededToleratedFailureThreshold; ItemBatcher
  and manifest readers are refused saying the sandbox does not run them;
- execution logs (``logs``): ``loggingConfiguration`` writes the history to CloudWatch Logs;
- simulated time (``timing``): Wait states, retry intervals, the execution's TimeoutSeconds and
  a Task's TimeoutSeconds and HeartbeatSeconds run on the sandbox's clock, and the history
  shows the simulated timestamps;
- failures (``failures``): a Choice with no match, a missing Lambda function and a missed
  heartbeat fail with the error names and causes AWS reports, which Retry and Catch match.

Each hook is a row of ``sandbox/seams.py``, naming the moto file it works around.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .engine import Clients
from .executions import Executions

if TYPE_CHECKING:
    from ..server.service import SandboxService



class StepFunctions:
    """The sandbox's Step Functions service: the executions it runs."""

    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self.executions = Executions(sandbox)
        self.clients = Clients(sandbox)

    def reset(self) -> None:
        self.executions.stop_all()
        self.clients.clear()  # the roles' credentials go with the reset

    def close(self) -> None:
        self.executions.stop_all()
        self.clients.clear()


def install(sandbox: SandboxService) -> StepFunctions:
    """The running Step Functions service; moto's engine is hooked by the rows of
    ``sandbox.seams`` when moto first loads it (it takes 1-2 s to import)."""
    service = StepFunctions(sandbox)
    # the interpreter logs every caught error at ERROR level; a notebook is no place for them
    logging.getLogger("moto.stepfunctions.parser").addHandler(_QUIET)
    logging.getLogger("moto.stepfunctions.parser").propagate = False
    return service


def running() -> StepFunctions:
    """The running service, for the seams: moto calls them only while a sandbox runs."""
    from ..server.service import running_extension

    service: StepFunctions = running_extension("stepfunctions")
    return service


def uninstall() -> None:
    logging.getLogger("moto.stepfunctions.parser").removeHandler(_QUIET)
    logging.getLogger("moto.stepfunctions.parser").propagate = True


_QUIET = logging.NullHandler()
