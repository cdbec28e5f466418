"""Step Functions' ``arn:aws:states:::ecs:runTask`` (and ``.sync``) integration, whose result
moto's engine leaves in botocore's shape: "Manage Amazon ECS or Fargate tasks with Step
Functions" (Step Functions Developer Guide) names parameters and results in PascalCase
(``Cluster``, ``Tasks``, ``LastStatus``). The names are converted as the nested-execution
integration converts them (``sandbox/stepfunctions/integrations.py``); the task's timestamps,
which the execution's JSON cannot hold as dates, become epoch milliseconds, as the AWS SDK for
Java that Step Functions answers with writes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _millis(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_millis(item) for item in value]
    return value


def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                       service_action_name: str | None = None) -> None:
    """``StateTaskServiceEcs._normalise_response``: PascalCase names, dates as epoch ms."""
    from ..stepfunctions.integrations import normalise_response as pascal_case

    pascal_case(self, response, boto_service_name, service_action_name)
    if isinstance(response, dict):
        for key, value in list(response.items()):
            response[key] = _millis(value)
