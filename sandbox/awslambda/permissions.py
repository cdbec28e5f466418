"""Lambda function policies (resource-based policies): may this service invoke this function?

``AddPermission`` stores statements on the function (moto keeps them in
``LambdaFunction.policy.statements``, ``awslambda/policy.py``) but moto never reads them. AWS
evaluates them whenever a service such as API Gateway, S3 or SNS invokes a function; a service
principal is decided by the function policy alone. The decision is IAM's own
(``sandbox.iam.policy``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..iam.policy import Policy, Request
from ..iam.policy import evaluate as evaluate_request

INVOKE = "lambda:InvokeFunction"


def allows_invoke(fn: Any, principal: str, source_arn: str | None = None,
                  source_account: str | None = None, *, invoked_arn: str | None = None,
                  action: str = INVOKE) -> bool:
    """Whether ``fn``'s function policy lets the service ``principal`` (for example
    ``apigateway.amazonaws.com``) perform ``action`` on it, for a request made on behalf of
    ``source_arn`` in ``source_account``. ``invoked_arn`` is the ARN the caller named: a
    permission added for an alias or version covers only that qualified ARN, as on AWS."""
    from ..iam import service_context

    return evaluate(statements_of(fn), principal=principal, action=action,
                    resource=invoked_arn or fn.function_arn,
                    context=service_context(principal, source_arn, source_account))


def _policy(statements: list[dict[str, Any]], name: str) -> Policy:
    return Policy({"Version": "2012-10-17", "Statement": statements}, "resource",
                  f"function policy of {name}")


def statements_of(fn: Any) -> list[dict[str, Any]]:
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
    """IAM's decision for one function policy and a service principal's request."""
    request = Request(principal=principal, action=action, resource=resource,
                      context={k: v for k, v in context.items() if v is not None})
    return evaluate_request(request, resource=_policy(list(statements), "the function")).allowed
