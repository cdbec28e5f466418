"""Lambda function policies (resource-based policies): may this service invoke this function?

``AddPermission`` stores statements on the function (moto keeps them in
``LambdaFunction.policy.statements``, ``awslambda/policy.py``) but moto never reads them. AWS
evaluates them whenever a service such as API Gateway, S3 or SNS invokes a function: an explicit
Deny wins, then any Allow grants, and with neither the call is refused.

This is a deliberately small evaluator for service principals; full IAM evaluation (identity
policies, permission boundaries, every condition operator) belongs to the IAM extension.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

INVOKE = "lambda:InvokeFunction"


def allows_invoke(fn: Any, principal: str, source_arn: str | None = None,
                  source_account: str | None = None, *, invoked_arn: str | None = None,
                  action: str = INVOKE) -> bool:
    """Whether ``fn``'s function policy lets the service ``principal`` (for example
    ``apigateway.amazonaws.com``) perform ``action`` on it, for a request made on behalf of
    ``source_arn`` in ``source_account``. ``invoked_arn`` is the ARN the caller named: a
    permission added for an alias or version covers only that qualified ARN, as on AWS."""
    return evaluate(_statements(fn), principal=principal, action=action,
                    resource=invoked_arn or fn.function_arn,
                    context={"aws:sourcearn": source_arn, "aws:sourceaccount": source_account})


def _statements(fn: Any) -> list[dict[str, Any]]:
    """The function's statements; moto files a permission for an alias or version on the
    object it resolves to, so the unqualified function's are read too (each statement's
    Resource still says which ARN it covers)."""
    found = list(getattr(getattr(fn, "policy", None), "statements", None) or [])
    try:
        from moto.awslambda.models import lambda_backends

        latest = lambda_backends[fn.account_id][fn.region].get_function(fn.function_name)
    except Exception:  # not a moto function (a test double): its own statements only
        return found
    if latest is not fn:
        found += [s for s in latest.policy.statements if s not in found]
    return found


def evaluate(statements: Iterable[dict[str, Any]], *, principal: str, action: str,
             resource: str, context: dict[str, str | None]) -> bool:
    """IAM's rule for one policy: an explicit Deny wins, then an Allow; otherwise denied."""
    allowed = False
    for statement in statements:
        if not _applies(statement, principal, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _applies(statement: dict[str, Any], principal: str, action: str, resource: str,
             context: dict[str, str | None]) -> bool:
    return (_principal_matches(statement.get("Principal"), principal)
            and any(_like(pattern, action, case=False)
                    for pattern in _as_list(statement.get("Action")))
            and any(_arn_like(pattern, resource) for pattern in _as_list(statement.get("Resource")))
            and _conditions_hold(statement.get("Condition") or {}, context))


def _principal_matches(declared: Any, principal: str) -> bool:
    if declared == "*":
        return True
    if isinstance(declared, dict):
        return any(value == "*" or value == principal
                   for key, values in declared.items()
                   if key in ("Service", "AWS") for value in _as_list(values))
    return declared == principal


# Condition operators a function policy uses (AddPermission writes ArnLike on AWS:SourceArn and
# StringEquals on AWS:SourceAccount). An operator this evaluator does not know never holds, so an
# unusual policy errs towards "denied", never towards "allowed".
def _string_equals(pattern: str, value: str) -> bool:
    return pattern == value


_OPERATORS = {
    "StringEquals": _string_equals,
    "StringLike": lambda pattern, value: _like(pattern, value),
    "ArnEquals": lambda pattern, value: _arn_like(pattern, value),
    "ArnLike": lambda pattern, value: _arn_like(pattern, value),
}


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str | None]) -> bool:
    for operator, tests in conditions.items():
        negated = "Not" in operator
        name = operator.replace("Not", "", 1) if negated else operator
        compare = _OPERATORS.get(name)
        if compare is None or not isinstance(tests, dict):
            return False
        for key, patterns in tests.items():
            value = context.get(key.lower())
            if value is None:  # an absent key matches nothing: only a negated test holds
                if negated:
                    continue
                return False
            matched = any(compare(str(pattern), value) for pattern in _as_list(patterns))
            if matched == negated:
                return False
    return True


def _arn_like(pattern: str, arn: str) -> bool:
    """ArnLike: each of the six colon-separated parts is matched on its own, with * and ?."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        _like(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def _like(pattern: str, value: str, case: bool = True) -> bool:
    return _glob(pattern, case).fullmatch(value) is not None


@lru_cache(maxsize=512)
def _glob(pattern: str, case: bool) -> re.Pattern[str]:
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(text, 0 if case else re.IGNORECASE)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
