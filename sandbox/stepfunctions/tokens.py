"""Which resource ``SendTaskSuccess``, ``SendTaskFailure`` and ``SendTaskHeartbeat`` are
authorized on: the state machine whose execution waits for the task token.

The Service Authorization Reference lists no resource type for these actions, which would put
them on ``*``; AWS decides them on the state machine of the execution that issued the token. A
worker whose policy allowed ``states:SendTaskSuccess`` but not ``states:SendTaskFailure`` on a
state machine was refused with "is not authorized to perform: states:SendTaskFailure on
resource: arn:aws:states:us-east-1:<account>:stateMachine:<name>" (a recorded AWS answer,
NOAA-OWP/hydrovis issue 837), and AWS's callback examples grant these actions on the state
machine's ARN. So a policy scoped to the state machine allows the call, and one scoped to another
state machine refuses it.

A token no running execution holds (already answered, timed out, made up) is decided on ``*``,
so that a learner allowed on ``*`` hears Step Functions' own answer (``InvalidToken``,
``TaskTimedOut``). Activity tokens are decided the same way, on the state machine (no AWS answer
was found saying otherwise).
"""

from __future__ import annotations

import sys
from typing import Any

ENGINE = "moto.stepfunctions.parser.models"


def state_machine_waiting_for(task_token: Any) -> str | None:
    """The ARN of the state machine whose running execution holds ``task_token``, or None."""
    if not isinstance(task_token, str) or ENGINE not in sys.modules:
        return None  # no engine loaded: no execution holds any token
    from . import running

    try:
        executions = running().executions.running()
    except Exception:  # no sandbox running (the evaluator used on its own)
        return None
    for execution in executions:
        worker = execution.exec_worker
        pool = getattr(getattr(worker, "env", None), "callback_pool_manager", None)
        if pool is not None and pool.get(task_token) is not None:
            # a version's or an alias's execution: the state machine's own ARN
            return ":".join(str(execution.state_machine_arn).split(":")[:7])
    return None
