"""Method authorization for REST APIs: Lambda authorizers (TOKEN and REQUEST) and AWS_IAM.

A Lambda authorizer gets ``{"type": "TOKEN", "authorizationToken", "methodArn"}`` or, for
REQUEST, the request's headers, query, path parameters, stage variables and context; it answers
with a ``principalId``, a ``policyDocument`` that must allow ``execute-api:Invoke`` on the
method ARN, and an optional ``context`` that reaches the integration as
``requestContext.authorizer``. Answers are cached per identity for
``authorizerResultTtlInSeconds`` (300 by default), as on AWS: a cached policy is reused for the
other methods of the API, which is why an authorizer should allow more than the one method.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UnsupportedError
from . import events, integrations
from .events import Context
from .gateway import Request

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

    from . import ApiGatewayService

UNAUTHORIZED = (401, {"message": "Unauthorized"}, "UnauthorizedException", True,
                "UNAUTHORIZED")
# AWS's default ACCESS_DENIED gateway responses for authorizer policies spell "Message".
EXPLICIT_DENY = (403, {"Message": "User is not authorized to access this resource with an "
                                  "explicit deny"}, "AccessDeniedException", True,
                 "ACCESS_DENIED")
NOT_ALLOWED = (403, {"Message": "User is not authorized to access this resource"},
               "AccessDeniedException", True, "ACCESS_DENIED")
CONFIGURATION_ERROR = (500, {"message": None}, "AuthorizerConfigurationException", False,
                       "AUTHORIZER_CONFIGURATION_ERROR")
MISSING_AUTHENTICATION_TOKEN = (403, {"message": "Missing Authentication Token"},
                                "MissingAuthenticationTokenException", True,
                                "MISSING_AUTHENTICATION_TOKEN")
DEFAULT_TTL_SECONDS = 300


class Denied(Exception):
    def __init__(self, kind: tuple[Any, ...], reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class AuthorizerCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, tuple[str, ...]], tuple[float, dict[str, Any]]] = {}

    def get(self, key: tuple[str, str, tuple[str, ...]]) -> dict[str, Any] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] < time.monotonic():
                return None
            return found[1]

    def put(self, key: tuple[str, str, tuple[str, ...]], ttl: float,
            answer: dict[str, Any]) -> None:
        if ttl > 0:
            with self._lock:
                self._entries[key] = (time.monotonic() + ttl, answer)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def method_arn(context: Context, request: Request) -> str:
    path = "/" + request.raw_path.lstrip("/")
    return (f"arn:aws:execute-api:{context.region}:{context.account_id}:{context.api_id}/"
            f"{context.stage}/{request.method}{path}")


def authorize(service: ApiGatewayService, request: Request, context: Context,
              method: dict[str, Any],
              authorizers: dict[str, dict[str, Any]], path_parameters: dict[str, str],
              stage_variables: dict[str, str]) -> None:
    """Raise Denied unless the method's authorization lets the request through; fills
    ``context.authorizer`` and ``context.identity``."""
    kind = (method.get("authorizationType") or "NONE").upper()
    if kind == "NONE":
        return
    if kind == "AWS_IAM":
        _iam(request, context)
        return
    if kind != "CUSTOM":
        raise Denied(CONFIGURATION_ERROR, f"The sandbox does not run {kind} authorizers")
    authorizer = authorizers.get(method.get("authorizerId") or "")
    if authorizer is None:
        raise Denied(CONFIGURATION_ERROR, "The method's authorizer does not exist")
    _lambda_authorizer(service, request, context, authorizer, path_parameters,
                       stage_variables)


def _iam(request: Request, context: Context) -> None:
    """AWS_IAM on a REST method: a request signed with Signature Version 4 by a caller whose
    policies allow ``execute-api:Invoke`` on the method's ARN. API Gateway's refusal masks the
    account in that ARN to its last four digits and, for a policy that merely does not allow
    it, gives no reason (recorded AWS answers)."""
    try:
        principal = _signed_caller(request, context, method_arn(context, request))
    except _Refused as refused:
        if refused.unsigned:
            raise Denied(MISSING_AUTHENTICATION_TOKEN, refused.reason) from None
        if refused.unknown_key:
            raise Denied((403, {"message": "The security token included in the request is "
                                           "invalid."}, "UnrecognizedClientException", True,
                          "UNAUTHORIZED"), refused.reason) from None
        arn = method_arn(context, request)
        masked = arn.replace(f":{context.account_id}:", f":********{context.account_id[-4:]}:")
        text = (f"User: {refused.caller} is not authorized to perform: execute-api:Invoke on "
                f"resource: {masked}{' with an explicit deny' if refused.explicit else ''}")
        raise Denied((403, {"Message": text}, "AccessDeniedException", True, "ACCESS_DENIED"),
                     text) from None
    if principal is not None:
        context.identity.update(accountId=principal.account, caller=principal.arn,
                                userArn=principal.arn, user=principal.arn.rsplit("/", 1)[-1])


def http_iam_authorize(request: Request, context: Context, arn: str) -> dict[str, Any]:
    """AWS_IAM on an HTTP API route: the same decision; every refusal is 403 Forbidden, and an
    admitted caller reaches the integration as ``requestContext.authorizer.iam``."""
    try:
        principal = _signed_caller(request, context, arn)
    except _Refused as refused:
        raise JwtDenied(JWT_FORBIDDEN, "", refused.reason) from None
    key = context.identity.get("accessKey")
    found = principal.arn if principal is not None else None
    return {"iam": {"accessKey": key, "accountId": principal.account if principal else
                    context.account_id, "callerId": found, "cognitoIdentity": None,
                    "principalOrgId": None, "userArn": found,
                    "userId": found.rsplit("/", 1)[-1] if found else None}}


class _Refused(Exception):
    def __init__(self, reason: str, *, unsigned: bool = False, unknown_key: bool = False,
                 caller: str = "", explicit: bool = False):
        super().__init__(reason)
        self.reason, self.unsigned, self.unknown_key = reason, unsigned, unknown_key
        self.caller, self.explicit = caller, explicit


def _signed_caller(request: Request, context: Context, arn: str) -> Any:
    """The caller who signed the request, once IAM allows it ``execute-api:Invoke`` on
    ``arn``; None when IAM is not enforced. Raises _Refused."""
    signature = request.header("authorization") or ""
    matched = re.match(r"AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/", signature)
    if not matched:
        raise _Refused("AWS_IAM needs a signed request", unsigned=True)
    key = matched.group(1)
    context.identity["accessKey"] = key
    context.identity["accountId"] = context.account_id
    from .. import iam

    enforcer = iam.enforcer()
    if enforcer is None or not enforcer.enforcing:
        return None
    principal = iam.principal_of_key(key)
    if principal is None:
        raise _Refused("The access key is unknown", unknown_key=True)
    decision = enforcer.authorize(principal, iam.actions.Access("execute-api:Invoke", arn, {}),
                                  region=context.region, operation="Invoke")
    if not decision.allowed:
        raise _Refused(f"{principal.arn} may not execute-api:Invoke {arn}",
                       caller=principal.arn, explicit=decision.decision == "explicitDeny")
    return principal


def _request_value(request: Request, stage_variables: dict[str, str], source: str,
                   header: str, query: str, stage: str) -> str | None:
    """The value an identity source names from a header, the query string or a stage variable
    (REST and HTTP APIs spell the prefixes differently); None for any other source."""
    if source.startswith(header):
        return request.header(source.rsplit(".", 1)[1])
    if source.startswith(query):
        name = source.rsplit(".", 1)[1]
        return next((v for k, v in reversed(request.query_pairs) if k == name), None)
    if source.startswith(stage):
        return stage_variables.get(source.split(".", 1)[1])
    return None


def _identity_values(request: Request, sources: str, stage_variables: dict[str, str],
                     path_parameters: dict[str, str]) -> list[str] | None:
    """The values of a REST authorizer's identity sources (headers, query string, path
    parameters, stage variables, ``context`` variables); None when one is missing or empty."""
    values = []
    for source in [s.strip() for s in (sources or "").split(",") if s.strip()]:
        value = _request_value(request, stage_variables, source, "method.request.header.",
                               "method.request.querystring.", "stageVariables.")
        if source.startswith("method.request.path."):
            value = path_parameters.get(source.rsplit(".", 1)[1])
        elif source.startswith("context."):
            value = {"httpMethod": request.method, "stage": "", "sourceIp": request.source_ip
                     }.get(source.split(".", 1)[1])
        if not value:
            return None
        values.append(value)
    return values


def _lambda_authorizer(service: ApiGatewayService, request: Request, context: Context,
                       authorizer: dict[str, Any], path_parameters: dict[str, str],
                       stage_variables: dict[str, str]) -> None:
    """A REST API Lambda authorizer, TOKEN or REQUEST: its identity, its (cached) answer, the
    policy in the answer, and the context the integration then sees."""
    kind = (authorizer.get("type") or "TOKEN").upper()
    arn = method_arn(context, request)
    sources = authorizer.get("identitySource") or (
        "method.request.header.Authorization" if kind == "TOKEN" else "")
    identity = _identity_values(request, sources, stage_variables, path_parameters)
    if identity is None:
        raise Denied(UNAUTHORIZED, f"The identity source {sources} is missing or empty")
    if kind == "TOKEN":
        event = _token_event(authorizer, identity[0], arn)
    else:
        event = _request_event(request, context, arn, path_parameters, stage_variables)
    ttl = authorizer.get("authorizerResultTtlInSeconds")
    started = time.monotonic()
    answer = _cached_answer(
        service, context, authorizer.get("id") or "", identity,
        DEFAULT_TTL_SECONDS if ttl is None else int(ttl),
        lambda: _call(service, context, authorizer, event, stage_variables))
    _enforce(answer, arn)
    context.authorizer = _rest_authorizer_context(answer, started)
    context.usage_identifier_key = answer.get("usageIdentifierKey")


def _token_event(authorizer: dict[str, Any], token: str, arn: str) -> dict[str, Any]:
    """A TOKEN authorizer's event; a token that does not match the authorizer's
    ``identityValidationExpression`` is refused with 401 without calling the function."""
    expression = authorizer.get("identityValidationExpression")
    if expression and not re.fullmatch(expression, token):
        raise Denied(UNAUTHORIZED, "The token does not match identityValidationExpression")
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}


def _request_event(request: Request, context: Context, arn: str,
                   path_parameters: dict[str, str], stage_variables: dict[str, str]
                   ) -> dict[str, Any]:
    """A REQUEST authorizer's event: the proxy integration's event without the body."""
    proxy = events.event_v1(request, context, path_parameters=path_parameters,
                            stage_variables=stage_variables, binary_media_types=[])
    event = {"type": "REQUEST", "methodArn": arn}
    event.update({k: v for k, v in proxy.items() if k not in ("body", "isBase64Encoded")})
    return event


def _cached_answer(service: ApiGatewayService, context: Context, authorizer_id: str,
                   identity: list[str], ttl: int, ask: Callable[[], Any]) -> Any:
    """The authorizer's answer for this identity: cached for ``ttl`` seconds per API,
    authorizer and identity values, and never cached when there are no identity sources."""
    key = (context.api_id, authorizer_id, tuple(identity))
    answer = service.authorizer_cache.get(key) if identity else None
    if answer is None:
        answer = ask()
        service.authorizer_cache.put(key, ttl if identity else 0, answer)
    return answer


def _rest_authorizer_context(answer: dict[str, Any], started: float) -> dict[str, Any]:
    """``requestContext.authorizer``: the principal, the answer's ``context`` (values as
    strings) and the authorizer's latency."""
    return {
        "principalId": answer.get("principalId"),
        **{key: value if isinstance(value, str) else json.dumps(value)
           for key, value in (answer.get("context") or {}).items()},
        "integrationLatency": int((time.monotonic() - started) * 1000),
    }


def _call(service: ApiGatewayService, context: Context, authorizer: dict[str, Any],
          event: dict[str, Any], stage_variables: dict[str, str]) -> dict[str, Any]:
    answer = _invoke_authorizer(service, context, authorizer, event, stage_variables)
    if not isinstance(answer, dict) or not isinstance(answer.get("policyDocument"), dict):
        raise Denied(CONFIGURATION_ERROR,
                     "The authorizer's answer has no principalId and policyDocument")
    return answer


def _invoke_authorizer(service: ApiGatewayService, context: Context, authorizer: dict[str, Any],
                       event: dict[str, Any], stage_variables: dict[str, str]) -> Any:
    """Run the authorizer function; its answer, or Denied (401 for "Unauthorized")."""
    try:
        target = integrations.lambda_target(authorizer.get("authorizerUri") or "",
                                            stage_variables, context.account_id, context.region)
        source = (f"arn:aws:execute-api:{context.region}:{context.account_id}:"
                  f"{context.api_id}/authorizers/{authorizer.get('id')}")
        integrations.check_permission(target, source, context.account_id,
                                      authorizer.get("authorizerCredentials"))
        payload = integrations.invoke_function(service.lambda_runtime, target,
                                               service.encode(event),
                                               integrations.REST_TIMEOUT_SECONDS)
    except integrations.IntegrationFailure as failure:
        if failure.payload is not None:
            try:
                message = json.loads(failure.payload).get("errorMessage")
            except (ValueError, AttributeError):
                message = None
            if message == "Unauthorized":  # the authorizer's way to say 401
                raise Denied(UNAUTHORIZED, "The authorizer answered Unauthorized") from failure
        raise Denied(CONFIGURATION_ERROR, failure.detail) from failure
    try:
        return json.loads(payload)
    except ValueError as error:
        raise Denied(CONFIGURATION_ERROR, "The authorizer's answer is not JSON") from error


def _enforce(answer: dict[str, Any], arn: str) -> None:
    """The authorizer's policy, evaluated as IAM evaluates an identity policy for
    ``execute-api:Invoke`` on the method's ARN (conditions and NotAction included), by IAM's
    one evaluator, so that ``sb.iam.denials()`` shows the refusal."""
    from .. import iam
    from ..iam.policy import Decision

    enforcer = iam.enforcer()
    if enforcer is None:
        return
    principal = str(answer.get("principalId") or "anonymous")
    decision: Decision = enforcer.decide_policy(
        principal, answer["policyDocument"], "the authorizer's policy",
        action="execute-api:Invoke", resource=arn, source="API Gateway Lambda authorizer")
    if decision.decision == "explicitDeny":
        raise Denied(EXPLICIT_DENY, f"The authorizer's policy denies {arn}")
    if not decision.allowed:
        raise Denied(NOT_ALLOWED, f"The authorizer's policy does not allow {arn}")


# ---------------------------------------------------------------------------------- HTTP API JWT
JWT_UNAUTHORIZED = (401, {"message": "Unauthorized"})
JWT_FORBIDDEN = (403, {"message": "Forbidden"})
COGNITO_ISSUER = re.compile(r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/[\w-]+$")
_jwks_cache: dict[str, KeySetSerialization] = {}
_jwks_lock = threading.Lock()


class JwtDenied(Exception):
    def __init__(self, kind: tuple[int, dict[str, Any]], challenge: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.challenge = challenge  # the www-authenticate header API Gateway sends
        self.reason = reason


def jwt_authorize(authorizer: Any, request: Request, scopes: list[str] | None
                  ) -> dict[str, Any]:
    """Validate the request's JWT as an HTTP API JWT authorizer does (RSA signature by a key
    from the issuer's ``jwks_uri``, ``iss``, ``aud`` or ``client_id``, ``exp``, ``nbf``,
    ``iat``, and one of the route's scopes); the ``requestContext.authorizer`` it yields."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    config = authorizer.jwt_config or {}
    issuer = config.get("issuer") or config.get("Issuer") or ""
    audiences = config.get("audience") or config.get("Audience") or []
    sources = authorizer.identity_source or ["$request.header.Authorization"]
    source = sources[0] if isinstance(sources, list) else str(sources)
    token = request.header(source.rsplit(".", 1)[1]) if source.startswith(
        "$request.header.") else None
    if not token:
        raise JwtDenied(JWT_UNAUTHORIZED, "Bearer", "No token in the identity source")
    if token.lower().startswith("bearer "):
        token = token[7:].strip()

    def invalid(description: str) -> JwtDenied:
        return JwtDenied(JWT_UNAUTHORIZED, f'Bearer scope="" error="invalid_token" '
                                           f'error_description="{description}"', description)

    try:
        keys = KeySet.import_key_set(_jwks(issuer))
        decoded = jwt.decode(token, keys, algorithms=["RS256", "RS384", "RS512"])
    except JoseError as error:
        raise invalid("the token does not have a valid signature") from error
    except (UnsupportedError, ValueError, KeyError, OSError) as error:
        raise invalid(f"the token could not be checked: {error}") from error
    claims = decoded.claims
    now = time.time()
    if claims.get("iss") != issuer:
        raise invalid("the token has an invalid issuer")
    token_audiences = claims.get("aud")
    token_audiences = token_audiences if isinstance(token_audiences, list) else [token_audiences]
    if not ({a for a in token_audiences if a} | {claims.get("client_id")}) & set(audiences):
        raise invalid("the token does not have a valid audience")
    if "exp" not in claims or float(claims["exp"]) <= now:
        raise invalid("the token has expired")
    if "nbf" in claims and float(claims["nbf"]) > now:
        raise invalid("the token is not valid yet")
    if "iat" in claims and float(claims["iat"]) > now:
        raise invalid("the token was issued in the future")
    token_scopes = str(claims.get("scope") or claims.get("scp") or "").split()
    if scopes and not set(scopes) & set(token_scopes):
        wanted = " ".join(scopes)
        raise JwtDenied(JWT_FORBIDDEN, f'Bearer scope="{wanted}" error="insufficient_scope" '
                                       'error_description="expected scopes not present"',
                        f"The token has none of the route's scopes ({wanted})")
    return {"jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()},
                    "scopes": token_scopes if scopes else None}}


def _claim_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    return value if isinstance(value, str) else json.dumps(value)


def _jwks(issuer: str) -> KeySetSerialization:
    """The issuer's signing keys: moto's for its Cognito user pools, else fetched from the
    issuer's OpenID configuration, which must be on this machine (the sandbox has no network)."""
    with _jwks_lock:
        if issuer in _jwks_cache:
            return _jwks_cache[issuer]
    if COGNITO_ISSUER.match(issuer):
        import gzip
        from importlib.resources import files

        resource = files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz")
        keys: KeySetSerialization = json.loads(gzip.decompress(resource.read_bytes()))
    else:
        from urllib.parse import urlsplit

        host = urlsplit(issuer).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise UnsupportedError(f"the sandbox has no network: it cannot fetch the keys of "
                                   f"{issuer}; use an issuer served on 127.0.0.1 or a Cognito "
                                   "user pool")
        configuration = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        keys = _fetch_json(configuration["jwks_uri"])
    with _jwks_lock:
        _jwks_cache[issuer] = keys
    return keys


def _fetch_json(url: str) -> Any:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as answer:
        return json.loads(answer.read())


def forget_keys() -> None:
    with _jwks_lock:
        _jwks_cache.clear()


# ---------------------------------------------------------------------------------- HTTP API Lambda
HTTP_UNAUTHORIZED = (401, {"message": "Unauthorized"})
HTTP_FORBIDDEN = (403, {"message": "Forbidden"})
HTTP_SERVER_ERROR = (500, {"message": "Internal Server Error"})


def http_lambda_authorize(service: ApiGatewayService, authorizer: Any, request: Request,
                          context: Context,
                          route_arn: str, raw_path: str, path_parameters: dict[str, str],
                          stage_variables: dict[str, str]) -> dict[str, Any]:
    """An HTTP API Lambda authorizer (payload 2.0 or 1.0; simple or IAM policy answers); the
    ``requestContext.authorizer`` it yields, or JwtDenied with the status to answer."""
    version = str(authorizer.auth_payload_format_version or "2.0")
    identity = _http_identity(request, context, authorizer.identity_source or [],
                              stage_variables)
    if version == "1.0":
        event = _http_event_v1(request, context, route_arn, identity, path_parameters,
                               stage_variables)
    else:
        event = _http_event_v2(request, context, route_arn, raw_path, identity,
                               path_parameters, stage_variables)
    answer = _cached_answer(
        service, context, authorizer.id, identity, int(authorizer.auth_result_ttl or 0),
        lambda: _http_invoke(service, context, authorizer, event, stage_variables))
    if version == "2.0" and authorizer.enable_simple_response:
        _simple_decision(answer)
    else:
        _http_policy_decision(answer, route_arn)
    authorized = {"lambda": dict(answer.get("context") or {})}
    if version == "1.0" or not authorizer.enable_simple_response:
        authorized["principalId"] = answer.get("principalId")
    return authorized


def _http_identity(request: Request, context: Context, sources: Any,
                   stage_variables: dict[str, str]) -> list[str]:
    """The values of the authorizer's identity sources (headers, query string, stage
    variables, ``$context`` variables); 401 when one is missing or empty."""
    sources = sources if isinstance(sources, list) else [s.strip() for s in str(sources).split(",")]
    identity: list[str] = []
    for source in sources:
        value = _request_value(request, stage_variables, source, "$request.header.",
                               "$request.querystring.", "$stageVariables.")
        if value is None and source.startswith("$context."):
            value = {"routeKey": context.route_key, "stage": context.stage,
                     "httpMethod": request.method}.get(source.split(".", 1)[1])
        if not value:
            raise JwtDenied(HTTP_UNAUTHORIZED, "", f"The identity source {source} is missing")
        identity.append(value)
    return identity


def _http_event_v1(request: Request, context: Context, route_arn: str, identity: list[str],
                   path_parameters: dict[str, str], stage_variables: dict[str, str]
                   ) -> dict[str, Any]:
    """Payload 1.0: a REST REQUEST authorizer's event, with the identity joined by commas."""
    event = events.event_v1(request, context, path_parameters=path_parameters,
                            stage_variables=stage_variables, binary_media_types=[],
                            http_api=True)
    return {"version": "1.0", "type": "REQUEST", "methodArn": route_arn,
            "identitySource": ",".join(identity), "authorizationToken": ",".join(identity),
            **{k: v for k, v in event.items() if k not in ("version", "body", "isBase64Encoded")}}


def _http_event_v2(request: Request, context: Context, route_arn: str, raw_path: str,
                   identity: list[str], path_parameters: dict[str, str],
                   stage_variables: dict[str, str]) -> dict[str, Any]:
    """Payload 2.0: the proxy integration's 2.0 event without the body, with ``routeArn`` and
    the identity as a list."""
    proxy = events.event_v2(request, context, raw_path=raw_path,
                            path_parameters=path_parameters, stage_variables=stage_variables)
    return {"version": "2.0", "type": "REQUEST", "routeArn": route_arn,
            "identitySource": identity,
            **{k: v for k, v in proxy.items() if k not in ("version", "body", "isBase64Encoded")}}


def _http_invoke(service: ApiGatewayService, context: Context, authorizer: Any,
                 event: dict[str, Any], stage_variables: dict[str, str]) -> Any:
    """The authorizer function's answer; a failed call is 401 when the function said
    "Unauthorized", else 500."""
    settings = {"id": authorizer.id, "authorizerUri": authorizer.authorizer_uri,
                "authorizerCredentials": authorizer.auth_creds_arn}
    try:
        return _invoke_authorizer(service, context, settings, event, stage_variables)
    except Denied as denied:
        kind = HTTP_UNAUTHORIZED if denied.kind[0] == 401 else HTTP_SERVER_ERROR
        raise JwtDenied(kind, "", denied.reason) from denied


def _simple_decision(answer: Any) -> None:
    """A simple response (payload 2.0): ``isAuthorized`` decides; 403 when it is false, 500
    when it is missing."""
    if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
        raise JwtDenied(HTTP_SERVER_ERROR, "", "The authorizer's answer has no isAuthorized")
    if not answer["isAuthorized"]:
        raise JwtDenied(HTTP_FORBIDDEN, "", "The authorizer answered isAuthorized: false")


def _http_policy_decision(answer: Any, route_arn: str) -> None:
    """An IAM policy response: the policy must allow ``execute-api:Invoke`` on the route's ARN;
    403 when it does not, 500 when the answer has no policy."""
    if not isinstance(answer, dict) or not isinstance(answer.get("policyDocument"), dict):
        raise JwtDenied(HTTP_SERVER_ERROR, "", "The authorizer's answer has no policyDocument")
    try:
        _enforce(answer, route_arn)
    except Denied as denied:
        raise JwtDenied(HTTP_FORBIDDEN, "", denied.reason) from denied
