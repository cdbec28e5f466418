"""HTTP APIs (API Gateway v2): stages, routes, Lambda and HTTP proxy integrations, CORS.

moto stores HTTP APIs but has no deployments for them, so every stage serves the API as it is
now, as a stage with automatic deployment does (the usual ``$default`` stage).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import authorizers, events, integrations
from .events import Context, MalformedResponse
from .gateway import Request, Response, json_response

if TYPE_CHECKING:
    from . import ApiGatewayService

NOT_FOUND = (404, {"message": "Not Found"})
INTERNAL_SERVER_ERROR = (500, {"message": "Internal Server Error"})
# An HTTP API whose integration does not answer within 30 s answers 503.
SERVICE_UNAVAILABLE = (503, {"message": "Service Unavailable"})


def find_http_api(api_id: str) -> Any | None:
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account in list(dict.values(apigatewayv2_backends)):
        for backend in list(dict.values(account)):
            api = backend.apis.get(api_id)
            if api is not None and (api.protocol_type or "HTTP").upper() == "HTTP":
                return api
    return None


def _error(kind: tuple[int, dict[str, Any]], request: Request) -> Response:
    status, body = kind
    response = json_response(status, body, [("apigw-requestid", _request_id(request))],
                             compact=True)
    response.error_message = body["message"]
    return response


def _request_id(request: Request) -> str:
    return request.apigw_id or request.request_id


def select_stage(api: Any, request: Request) -> tuple[Any, str] | None:
    """The stage a request goes to and the path after it: a stage named by the first path
    segment, else the ``$default`` stage, served from the base of the URL."""
    if request.stage is not None:  # the /restapis/<id>/<stage>/_user_request_ form
        stage = api.stages.get(request.stage)
        return (stage, request.raw_path) if stage is not None else None
    first, _, rest_of_path = request.raw_path.lstrip("/").partition("/")
    named = api.stages.get(unquote(first))
    if named is not None and named.name != "$default":
        return named, "/" + rest_of_path
    default = api.stages.get("$default")
    return (default, request.raw_path) if default is not None else None


def _route_rank(route_key: str) -> tuple[int, ...]:
    """Lower ranks first; ``$default`` is not ranked (match_route takes it last)."""
    method, _, path = route_key.partition(" ")
    parts = [p for p in path.strip("/").split("/") if p]
    greedy = any(p.endswith("+}") for p in parts)
    literal = sum(1 for p in parts if not p.startswith("{"))
    return (1 if greedy else 0, -literal, 1 if method == "ANY" else 0)


def match_route(api: Any, method: str, path: str) -> tuple[Any, dict[str, str]] | None:
    """The route for a request, by AWS's priorities: a full match, then a greedy path
    variable, then ``$default``. Static path parts beat variables; a method beats ANY."""
    parts = path.strip("/").split("/") if path.strip("/") else []
    best: tuple[tuple[int, ...], Any, dict[str, str]] | None = None
    default = None
    for route in list(api.routes.values()):
        if route.route_key == "$default":
            default = route
            continue
        route_method, _, route_path = route.route_key.partition(" ")
        if route_method not in ("ANY", method):
            continue
        params = _match_path(route_path, parts)
        if params is None:
            continue
        rank = _route_rank(route.route_key)
        if best is None or rank < best[0]:
            best = (rank, route, params)
    if best is not None:
        return best[1], best[2]
    return (default, {}) if default is not None else None


def _match_path(route_path: str, parts: list[str]) -> dict[str, str] | None:
    template = [p for p in route_path.strip("/").split("/") if p]
    params: dict[str, str] = {}
    for index, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            rest = parts[index:]
            if not rest:
                return None
            params[part[1:-2]] = "/".join(rest)
            return params
        if index >= len(parts) or not parts[index]:
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = parts[index]
        elif part != parts[index]:
            return None
    return params if len(parts) == len(template) else None


# ---------------------------------------------------------------------------------- CORS
def _cors(api: Any) -> dict[str, Any] | None:
    config = api.cors_configuration
    return config if isinstance(config, dict) and config else None


def _allowed_origin(cors: dict[str, Any], origin: str | None) -> str | None:
    allowed = cors.get("allowOrigins") or []
    if origin is None:
        return None
    if "*" in allowed:
        return "*" if not cors.get("allowCredentials") else origin
    return origin if origin in allowed else None


def preflight(cors: dict[str, Any], request: Request) -> Response:
    """API Gateway answers a CORS preflight itself when the API has a CORS configuration."""
    headers = [("apigw-requestid", _request_id(request))]
    origin = _allowed_origin(cors, request.header("origin"))
    if origin is not None:
        headers.append(("access-control-allow-origin", origin))
        if cors.get("allowCredentials"):
            headers.append(("access-control-allow-credentials", "true"))
        wanted_method = request.header("access-control-request-method")
        methods = cors.get("allowMethods") or []
        if wanted_method and ("*" in methods or wanted_method.upper() in
                              [m.upper() for m in methods]):
            headers.append(("access-control-allow-methods",
                            wanted_method if "*" in methods else ",".join(methods)))
        wanted_headers = request.header("access-control-request-headers")
        allow_headers = cors.get("allowHeaders") or []
        if wanted_headers and allow_headers:
            headers.append(("access-control-allow-headers",
                            wanted_headers if "*" in allow_headers
                            else ",".join(allow_headers).lower()))
        if cors.get("maxAge") is not None:
            headers.append(("access-control-max-age", str(cors["maxAge"])))
    return Response(204, headers, b"")


def _with_cors(cors: dict[str, Any] | None, request: Request, response: Response) -> Response:
    if cors is None:
        return response
    # with a CORS configuration, API Gateway ignores CORS headers from the integration
    response.headers = [(k, v) for k, v in response.headers
                        if not k.lower().startswith("access-control-")]
    origin = _allowed_origin(cors, request.header("origin"))
    if origin is not None:
        response.headers.append(("access-control-allow-origin", origin))
        if cors.get("allowCredentials"):
            response.headers.append(("access-control-allow-credentials", "true"))
        if cors.get("exposeHeaders"):
            response.headers.append(("access-control-expose-headers",
                                     ",".join(cors["exposeHeaders"])))
    return response


# ---------------------------------------------------------------------------------- invoking
def invoke(service: ApiGatewayService, api: Any, request: Request) -> Response:
    """Serve one request to an HTTP API, and write its access log line."""
    from . import accesslogs
    from .rest import access_log_values

    context = Context(account_id=api.backend.account_id, api_id=api.api_id,
                      region=api.backend.region_name, stage="")
    request.apigw_id = context.extended_request_id
    selected = select_stage(api, request)
    if selected is None:
        return _error(NOT_FOUND, request)
    response = _invoke(service, api, request, context, *selected)
    settings = selected[0].access_log_settings
    if settings:
        values = access_log_values(request, context, response)
        values["requestId"] = context.extended_request_id
        values["path"] = request.raw_path
        values["integrationErrorMessage"] = response.integration_error
        accesslogs.write(settings, values, f"{api.api_id}-{context.stage}")
    return response


def _invoke(service: ApiGatewayService, api: Any, request: Request, context: Context, stage: Any,
            path: str) -> Response:
    context.stage = stage.name
    raw_path = path if stage.name == "$default" else f"/{stage.name}{path}"
    cors = _cors(api)
    if (cors is not None and request.method == "OPTIONS" and request.header("origin")
            and request.header("access-control-request-method")):
        return preflight(cors, request)
    routed = match_route(api, request.method, path)
    if routed is None:
        return _with_cors(cors, request, _error(NOT_FOUND, request))
    route, path_parameters = routed
    context.route_key = route.route_key
    authorization = (route.authorization_type or "NONE").upper()
    if authorization == "AWS_IAM":
        try:
            context.authorizer = authorizers.http_iam_authorize(
                request, context, f"arn:aws:execute-api:{context.region}:{context.account_id}:"
                                  f"{context.api_id}/{context.stage}/{request.method}{path}")
        except authorizers.JwtDenied as denied:
            response = _error(denied.kind, request)
            response.headers.append(("x-sandbox-reason", denied.reason))
            return _with_cors(cors, request, response)
    elif authorization in ("JWT", "CUSTOM"):
        authorizer = api.authorizers.get(route.authorizer_id or "")
        try:
            if authorizer is None:
                raise authorizers.JwtDenied(INTERNAL_SERVER_ERROR, "",
                                            "The route's authorizer does not exist")
            if authorization == "JWT":
                context.authorizer = authorizers.jwt_authorize(authorizer, request,
                                                               route.authorization_scopes)
            else:
                context.authorizer = authorizers.http_lambda_authorize(
                    service, authorizer, request, context,
                    f"arn:aws:execute-api:{context.region}:{context.account_id}:"
                    f"{context.api_id}/{context.stage}/{request.method}{path}", raw_path,
                    path_parameters, dict(stage.stage_variables or {}))
        except authorizers.JwtDenied as denied:
            response = _error(denied.kind, request)
            if denied.challenge:
                response.headers.append(("www-authenticate", denied.challenge))
            response.headers.append(("x-sandbox-reason", denied.reason))
            return _with_cors(cors, request, response)
    integration_id = (route.target or "").removeprefix("integrations/")
    integration = api.integrations.get(integration_id)
    if integration is None:
        return _with_cors(cors, request, _error(NOT_FOUND, request))
    stage_variables = dict(stage.stage_variables or {})
    try:
        response = _integrate(service, request, context, route, integration, raw_path,
                              path_parameters, stage_variables)
    except integrations.IntegrationFailure as failure:
        kind = SERVICE_UNAVAILABLE if failure.kind == "timeout" else INTERNAL_SERVER_ERROR
        response = _error(kind, request)
        response.integration_error = failure.detail
        reason = failure.detail[:900].replace("\n", " ").encode("ascii", "backslashreplace")
        response.headers.append(("x-sandbox-reason", reason.decode("ascii")))
    return _with_cors(cors, request, response)


def source_arn(context: Context, method: str, route_key: str) -> str:
    """arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<route path>, or
    .../<stage>/$default for the $default route."""
    prefix = f"arn:aws:execute-api:{context.region}:{context.account_id}:{context.api_id}"
    if route_key == "$default":
        return f"{prefix}/{context.stage}/$default"
    return f"{prefix}/{context.stage}/{method}{route_key.partition(' ')[2]}"


def _integrate(service: ApiGatewayService, request: Request, context: Context, route: Any,
               integration: Any, raw_path: str, path_parameters: dict[str, str],
               stage_variables: dict[str, str]) -> Response:
    kind = (integration.integration_type or "").upper()
    limit = integrations.timeout_for(integrations.HTTP_API_TIMEOUT_SECONDS,
                                     integration.timeout_in_millis)
    if kind == "AWS_PROXY" and integration.integration_subtype:
        return _service_integration(service, request, context, route, integration,
                                    path_parameters, stage_variables, limit)
    if kind == "AWS_PROXY":
        target = integrations.lambda_target(integration.integration_uri or "", stage_variables,
                                            context.account_id, context.region)
        integrations.check_permission(
            target, source_arn(context, request.method, route.route_key), context.account_id,
            integration.credentials_arn)
        version = str(integration.payload_format_version or "2.0")
        if version == "1.0":
            context.resource_path = route.route_key.partition(" ")[2] or route.route_key
            event = events.event_v1(request, context, path_parameters=path_parameters,
                                    stage_variables=stage_variables, binary_media_types=[],
                                    http_api=True)
            event["requestContext"]["requestId"] = context.extended_request_id
        else:
            event = events.event_v2(request, context, raw_path=raw_path,
                                    path_parameters=path_parameters,
                                    stage_variables=stage_variables)
        payload = integrations.invoke_function(service.lambda_runtime, target,
                                               service.encode(event), limit)
        try:
            if version == "1.0":
                answer = events.response_v1(payload, binary_media_types=["*/*"], accept=None)
            else:
                answer = events.response_v2(payload)
        except MalformedResponse as malformed:
            raise integrations.IntegrationFailure(
                "malformed", f"Malformed Lambda proxy response ({malformed})") from malformed
        return Response(answer.status,
                        [*answer.headers, ("apigw-requestid", context.extended_request_id)],
                        answer.body)
    if kind == "HTTP_PROXY":
        url = integrations.render_stage_variables(integration.integration_uri or "",
                                                  stage_variables)
        if route.route_key == "$default" or "{proxy+}" in route.route_key:
            url = url.rstrip("/") + ("/" + path_parameters.get("proxy", "")
                                     if "{proxy+}" in route.route_key else raw_path)
        for name, value in path_parameters.items():
            url = url.replace("{" + name + "}", value)
        if request.raw_query:
            url += ("&" if "?" in url else "?") + request.raw_query
        headers = [(k, v) for k, v in request.headers if k.lower() != "host"]
        method = integration.integration_method or "ANY"
        forwarded = integrations.call_http(request.method if method == "ANY" else method, url,
                                           headers, request.body, limit)
        return Response(forwarded.status,
                        [*forwarded.headers, ("apigw-requestid", context.extended_request_id)],
                        forwarded.body)
    raise integrations.IntegrationFailure(
        "configuration", f"The sandbox does not run {kind or 'this'} integrations for HTTP "
                         "APIs; use AWS_PROXY (Lambda) or HTTP_PROXY.")


def _service_integration(service: ApiGatewayService, request: Request, context: Context,
                         route: Any, integration: Any, path_parameters: dict[str, str],
                         stage_variables: dict[str, str], limit: float) -> Response:
    """A first-class integration (``IntegrationSubtype``): the service's action called as the
    integration's role with the mapped request parameters; the service's answer (status,
    Content-Type, body) comes back as it is."""
    from . import services
    from .rest import template_context

    values = services.http_parameters(
        integration.request_parameters, request.body,
        {"path": dict(path_parameters), "querystring": dict(request.query_pairs),
         "header": {name: value for name, value in request.headers}},
        {**template_context(request, context), "requestId": context.extended_request_id,
         "routeKey": route.route_key, "stage": context.stage},
        stage_variables)
    call = services.http_call(integration.integration_subtype, values, context.region)
    answer = services.deliver(
        service.sandbox.endpoint_url, call, role_arn=integration.credentials_arn,
        source_arn=source_arn(context, request.method, route.route_key),
        account_id=context.account_id, request_id=context.extended_request_id,
        limit_seconds=limit)
    headers = [(k, v) for k, v in answer.headers if k.lower() == "content-type"]
    headers.append(("apigw-requestid", context.extended_request_id))
    return Response(answer.status, headers, answer.body)
