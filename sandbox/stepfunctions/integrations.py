"""Service integrations the interpreter gets wrong: nested executions (``states:startExecution``,
``.sync`` and ``.sync:2``).

A Task names the API's parameters in Step Functions' case (``StateMachineArn``, ``Input``) and
reads its result in that case too (``ExecutionArn``, ``StartDate``). LocalStack converts both
through botocore's model of the API; moto's copy stubs those conversions out
(moto/stepfunctions/parser/asl/component/state/exec/state_task/service/state_task_service.py
``_normalise_parameters`` and ``_normalise_response`` do nothing), so botocore fails on
``StateMachineArn`` (``KeyError``) and the ``.sync`` patterns cannot find ``ExecutionArn``.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

SYNC_POLL_SECONDS = 0.02  # how often a .sync task asks how its child execution is doing


@functools.cache
def operation_model(service: str, action: str) -> Any:
    """botocore's model of ``service``'s operation ``action`` (snake_case, as boto3 names it)."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if xform_name(name) == action:
            return model.operation_model(name)
    raise KeyError(f"{service} has no operation {action}")


def normalise_parameters(original: Any) -> Any:
    """Wrap ``StateTaskServiceSfn._normalise_parameters``: then name the parameters as botocore
    does (``StateMachineArn`` becomes ``stateMachineArn``)."""

    @functools.wraps(original)
    def _normalise_parameters(self: Any, parameters: dict[str, Any],
                              boto_service_name: str | None = None,
                              service_action_name: str | None = None) -> None:
        original(self, parameters, boto_service_name, service_action_name)
        shape = operation_model(self._get_boto_service_name(boto_service_name),
                                self._get_boto_service_action(service_action_name)).input_shape
        if shape is not None:
            self._to_boto_request(parameters, shape)

    return _normalise_parameters


def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                       service_action_name: str | None = None) -> None:
    """``StateTaskServiceSfn._normalise_response``: the result in Step Functions' case
    (``executionArn`` becomes ``ExecutionArn``)."""
    shape = operation_model(self._get_boto_service_name(boto_service_name),
                            self._get_boto_service_action(service_action_name)).output_shape
    if shape is not None:
        self._from_boto_response(response, shape)
    if isinstance(response, dict):  # dates as the history writes them, so the output is JSON
        for key, value in response.items():
            if isinstance(value, datetime.datetime):
                response[key] = value.isoformat()
