"""Who may call a GraphQL API, as AppSync decides it ("Configuring authorization and
authentication to secure your GraphQL APIs", AppSync Developer Guide).

The API's ``authenticationType`` and each ``additionalAuthenticationProviders`` entry is a mode
a request may use; the request's headers say which: ``x-api-key`` (``API_KEY``), a SigV4
``Authorization`` (``AWS_IAM``), any other ``Authorization`` (``AWS_LAMBDA``). A request no
enabled mode accepts gets HTTP 401 ``UnauthorizedException``. Then each field is checked
(``execution.py``): with several modes, a type or field marked with mode directives
(``@aws_api_key``, ``@aws_iam``, ``@aws_lambda``...) admits those modes only, an unmarked one
the default mode only; with ``AWS_IAM``, IAM must allow ``appsync:GraphQL`` on
``arn:aws:appsync:<region>:<account>:apis/<id>/types/<Type>/fields/<field>`` (the one
evaluator, ``sandbox/iam``; checked on the operation's top-level fields); a Lambda authorizer's
``deniedFields`` are refused. A refused field is null with an ``Unauthorized`` error, HTTP 200.

Not modelled: Cognito user pools and OIDC (there is no identity provider in the sandbox), and
the SigV4 signature itself (the key decides who signs; the sandbox checks no signatures).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

UNAUTHORIZED = {"errors": [{"errorType": "UnauthorizedException",
                            "message": "You are not authorized to make this call."}]}


@dataclass
class Auth:
    """The request's authorization: its mode, ``$ctx.identity``, and refused fields."""

    mode: str
    identity: Any = None
    principal: Any = None  # an IAM principal (AWS_IAM)
    denied_fields: set[str] = field(default_factory=set)  # "Type.field"


class Refused(Exception):
    """HTTP 401: no enabled mode accepts the request."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def modes(api: Any) -> list[tuple[str, dict[str, Any]]]:
    """(mode, its provider settings) of the API, the default first."""
    found = [(str(api.authentication_type), {
        "lambdaAuthorizerConfig": _as_dict(api.lambda_authorizer_config)})]
    for provider in api.additional_authentication_providers or []:
        provider = _as_dict(provider)
        found.append((str(provider.get("authenticationType")), provider))
    return found


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _expired(expires: Any) -> bool:
    if expires is None:
        return False
    if isinstance(expires, datetime):
        moment = expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
        return moment.timestamp() <= time.time()
    try:
        return float(expires) <= time.time()
    except (TypeError, ValueError):
        return False


class Authorizers:
    """Lambda authorizers' answers, cached per token for their TTL (on the sandbox clock)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def decide(self, api: Any, config: dict[str, Any], token: str, headers: dict[str, str],
               body: dict[str, Any], request_id: str) -> dict[str, Any]:
        from .. import iam
        from ..apigateway.integrations import IntegrationFailure, lambda_target
        from ..server.deliveries import DELIVERED, DENIED, FAILED
        from ..server.service import current
        from .datasources import APPSYNC_PRINCIPAL

        pattern = config.get("identityValidationExpression")
        if pattern and not re.fullmatch(str(pattern), token):
            raise Refused("the token does not match identityValidationExpression")
        service = current()
        if service is None:
            raise Refused("the sandbox has stopped")
        key = (api.api_id, token)
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[0] > time.monotonic():
                return cached[1]
        uri = str(config.get("authorizerUri", ""))
        account, region = api.arn.split(":")[4], api.region
        try:
            target = lambda_target(uri, None, account, region)
        except IntegrationFailure as failure:
            raise Refused(failure.detail) from None
        if not iam.service_may(APPSYNC_PRINCIPAL, "lambda:InvokeFunction", target.invoked_arn,
                               source_arn=api.arn, source_account=account,
                               source=f"AppSync invoking authorizer {target.fn.function_name}"):
            service.deliveries.record(api.arn, target.invoked_arn, request_id, DENIED,
                                      detail="the function policy does not allow "
                                             "appsync.amazonaws.com", kind="appsync")
            raise Refused("the authorizer's function policy does not allow "
                          "appsync.amazonaws.com to invoke it")
        event = {"authorizationToken": token,
                 "requestContext": {"apiId": api.api_id, "accountId": account,
                                    "requestId": request_id,
                                    "queryString": body.get("query", ""),
                                    "operationName": body.get("operationName"),
                                    "variables": body.get("variables") or {}},
                 "requestHeaders": headers}
        try:
            result = service.lambda_runtime.run(target.fn, json.dumps(event).encode(),
                                                invoked_arn=target.invoked_arn)
        except Exception as error:
            service.deliveries.record(api.arn, target.invoked_arn, request_id, FAILED,
                                      detail=str(error), kind="appsync")
            raise Refused(f"the authorizer failed: {error}") from None
        if result.function_error:
            service.deliveries.record(api.arn, target.invoked_arn, request_id, FAILED,
                                      detail=result.payload.decode("utf-8", "replace")[:500],
                                      kind="appsync")
            raise Refused("the authorizer failed")
        service.deliveries.record(api.arn, target.invoked_arn, request_id, DELIVERED,
                                  kind="appsync")
        try:
            answer = json.loads(result.payload)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Refused("the authorizer's answer is not a JSON object with isAuthorized")
        ttl = answer.get("ttlOverride", config.get("authorizerResultTtlInSeconds", 300))
        try:
            seconds = float(ttl)
        except (TypeError, ValueError):
            seconds = 0.0
        if seconds > 0:
            with self._lock:
                self._cache[key] = (time.monotonic() + service.clock.real_seconds(seconds),
                                    answer)
        return answer


def authenticate(api: Any, headers: dict[str, str], body: dict[str, Any], request_id: str,
                 authorizers: Authorizers, source_ip: str) -> Auth:
    """The request's Auth, or Refused (HTTP 401)."""
    enabled = modes(api)
    names = [m for m, _ in enabled]
    api_key = headers.get("x-api-key")
    authorization = headers.get("authorization", "")
    if api_key is not None and "API_KEY" in names:
        found = api.api_keys.get(api_key)
        if found is None or _expired(found.expires):
            raise Refused("the API key is unknown or expired")
        return Auth("API_KEY")
    if authorization.startswith("AWS4-HMAC-SHA256") and "AWS_IAM" in names:
        return _iam(api, authorization, source_ip)
    if authorization and "AWS_LAMBDA" in names:
        config = next(p for m, p in enabled if m == "AWS_LAMBDA").get(
            "lambdaAuthorizerConfig") or {}
        answer = authorizers.decide(api, config, authorization, headers, body, request_id)
        if answer.get("isAuthorized") is not True:
            raise Refused("the Lambda authorizer answered isAuthorized false")
        denied = set()
        for name in answer.get("deniedFields") or []:
            text = str(name)
            matched = re.search(r"types/([^/]+)/fields/([^/]+)$", text)
            denied.add(f"{matched[1]}.{matched[2]}" if matched else text)
        return Auth("AWS_LAMBDA", identity={"resolverContext": answer.get("resolverContext")
                                            or {}}, denied_fields=denied)
    raise Refused("no authorization mode of this API accepts the request: send x-api-key "
                  f"or an Authorization header for one of {', '.join(names)}")


def _iam(api: Any, authorization: str, source_ip: str) -> Auth:
    from ..iam import enforcer
    from ..iam.actions import credential

    signed = credential(authorization, "")
    if signed is None:
        raise Refused("the Authorization header is not a SigV4 signature")
    found = enforcer()
    principal = None if found is None else found.principal_of_key(signed[0])
    if principal is None:
        raise Refused(f"the access key {signed[0]} is not known")
    arn = str(getattr(principal, "arn", ""))
    account = str(getattr(principal, "account", ""))
    identity = {"accountId": account, "cognitoIdentityPoolId": None,
                "cognitoIdentityId": None, "sourceIp": [source_ip],
                "username": signed[0], "userArn": arn, "cognitoIdentityAuthType": None,
                "cognitoIdentityAuthProvider": None}
    return Auth("AWS_IAM", identity=identity, principal=principal)


def iam_allows(auth: Auth, api: Any, type_name: str, field_name: str) -> bool:
    """May the IAM principal call ``appsync:GraphQL`` on the field (the one evaluator)?"""
    from ..iam import enforcer
    from ..iam.actions import Access

    found = enforcer()
    if found is None or not found.enforcing or auth.principal is None:
        return True
    resource = f"{api.arn}/types/{type_name}/fields/{field_name}"
    return bool(found.authorize(auth.principal, Access("appsync:GraphQL", resource, {}),
                                region=api.region, source="request").allowed)


def field_modes(schema: Any, type_name: str, field_name: str, default: str) -> set[str]:
    """The modes that may reach ``type_name.field_name``: its directives, else its type's,
    else the default mode only."""
    from .schema import AUTH_DIRECTIVES

    graphql_type = schema.get_type(type_name)
    node = None
    fields = getattr(graphql_type, "fields", None) or {}
    if field_name in fields:
        node = fields[field_name].ast_node
    for owner in (node, getattr(graphql_type, "ast_node", None)):
        found = {AUTH_DIRECTIVES[d.name.value] for d in (getattr(owner, "directives", None)
                                                         or [])
                 if d.name.value in AUTH_DIRECTIVES}
        if found:
            return found
    return {default}
