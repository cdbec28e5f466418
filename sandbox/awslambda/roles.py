"""Lambda and its execution role, checked as AWS checks them.

- CreateFunction (and UpdateFunctionConfiguration) refuse a role that does not trust
  ``lambda.amazonaws.com``: ``The role defined for the function cannot be assumed by Lambda.``
  (``moto/awslambda/models.py`` ``LambdaStorage.put_function`` checks only that the role exists).
- CreateEventSourceMapping needs a role that may read the queue or stream: checked with the
  mapping's other rules in ``sandbox/awslambda/mappings.py``.
- A function's log lines reach CloudWatch Logs only when its role may write them (the classic
  "my function has no logs").

IAM decides (``sandbox.iam.service_may``, ``sandbox.iam.role_may``).
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.logs.models import logs_backends

from .. import iam

LAMBDA_CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."


def _put_function(original: Any) -> Any:
    def put_function(self: Any, fn: Any) -> None:
        # a malformed or missing role is moto's to refuse (awslambda/models.py put_function)
        if iam.role_exists(fn.role) and not iam.service_may(
                "lambda.amazonaws.com", "sts:AssumeRole", fn.role, source_arn=fn.function_arn,
                source_account=fn.account_id,
                source=f"Lambda assuming the role of {fn.function_name}"):
            raise InvalidParameterValueException(LAMBDA_CANNOT_ASSUME)
        original(self, fn)

    return put_function


def may_write_logs(spec: Any, stream: str) -> bool:
    """Lambda writes a function's logs with its role: without logs:CreateLogStream and
    logs:PutLogEvents (and logs:CreateLogGroup for a new group) they are lost, silently."""
    group = f"arn:aws:logs:{spec.region}:{spec.account_id}:log-group:{spec.log_group}"
    logs = logs_backends[spec.account_id][spec.region]
    wanted = []
    if spec.log_group not in logs.groups:
        wanted.append(("logs:CreateLogGroup", group + ":log-stream:"))
    if spec.log_group not in logs.groups or stream not in logs.groups[spec.log_group].streams:
        wanted.append(("logs:CreateLogStream", f"{group}:log-stream:{stream}"))
    wanted.append(("logs:PutLogEvents", f"{group}:log-stream:{stream}"))
    return all(iam.role_may(spec.role, action, resource, region=spec.region,
                            source=f"Lambda log delivery for {spec.name}",
                            session_key=spec.credentials["AccessKeyId"])
               for action, resource in wanted)
