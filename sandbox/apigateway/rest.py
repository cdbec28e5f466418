"""REST APIs: deployments, routing, and the integration types, as API Gateway runs them.

A stage serves the deployment it points to: a snapshot of the API taken by CreateDeployment,
so that changes made after it wait for the next deployment, as on AWS (moto keeps no snapshot,
so the sandbox takes one at ``RestAPI.create_deployment``).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import accesslogs, authorizers, events, integrations, templates
from .events import Context, MalformedResponse
from .gateway import Request, Response, json_response

if TYPE_CHECKING:
    from . import ApiGatewayService

# Gateway responses: AWS's default status, body and error type for each failure, and the
# gateway response type (PutGatewayResponse) that customizes it.
MISSING_AUTHENTICATION_TOKEN = (403, {"message": "Missing Authentication Token"},
                                "MissingAuthenticationTokenException", True,
                                "MISSING_AUTHENTICATION_TOKEN")
FORBIDDEN = (403, {"message": "Forbidden"}, "ForbiddenException", True, "DEFAULT_4XX")
INTERNAL_SERVER_ERROR = (500, {"message": "Internal server error"},
                         "InternalServerErrorException", False, "API_CONFIGURATION_ERROR")
BAD_GATEWAY = (502, {"message": "Internal server error"}, "InternalServerErrorException", False,
               "DEFAULT_5XX")
INTEGRATION_TIMEOUT = (504, {"message": "Endpoint request timed out"}, None, False,
                       "INTEGRATION_TIMEOUT")
UNSUPPORTED_MEDIA_TYPE = (415, {"message": "Unsupported Media Type"},
                          "UnsupportedMediaTypeException", True, "UNSUPPORTED_MEDIA_TYPE")

ANY_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})

# Why the sandbox answered so, for the learner (in the x-sandbox-reason header; AWS writes
# such reasons to the stage's execution log).
NO_STAGE = ("API {api} has no deployed stage '{stage}' (stages: {stages}). Create it with "
            "create_deployment(restApiId=..., stageName=...).")
NO_ROUTE = ("No method answers {method} {path} in what stage '{stage}' serves ({methods}). "
            "Changed the API since? Deploy it again: create_deployment(restApiId=..., "
            "stageName='{stage}').")


# ---------------------------------------------------------------------------------- deployments
@dataclass
class Resource:
    id: str
    path: str
    methods: dict[str, dict[str, Any]]  # GetMethod's shape, with methodIntegration
    segments: list[tuple[str, str]] = field(default_factory=list)  # (kind, name) per part

    def __post_init__(self) -> None:
        for part in self.path.strip("/").split("/") if self.path != "/" else []:
            if part.startswith("{") and part.endswith("+}"):
                self.segments.append(("greedy", part[1:-2]))
            elif part.startswith("{") and part.endswith("}"):
                self.segments.append(("param", part[1:-1]))
            else:
                self.segments.append(("literal", part))

    def method_for(self, http_method: str) -> dict[str, Any] | None:
        if http_method in self.methods:
            return self.methods[http_method]
        if "ANY" in self.methods and http_method in ANY_METHODS:
            return self.methods["ANY"]
        return None


@dataclass
class Deployment:
    """What a stage serves: the API as it was when the deployment was created."""

    id: str
    api_id: str
    account_id: str
    region: str
    resources: list[Resource]
    binary_media_types: list[str]
    api_key_source: str
    authorizers: dict[str, dict[str, Any]]
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, api: Any, deployment_id: str) -> Deployment:
        resources = []
        for resource in list(api.resources.values()):
            methods = {name: copy.deepcopy(method.to_json())
                       for name, method in resource.resource_methods.items()}
            resources.append(Resource(resource.id, resource.get_path(), methods))
        # literal paths first: the most specific resource wins when several match
        resources.sort(key=lambda r: [(0 if k == "literal" else 1 if k == "param" else 2)
                                      for k, _ in r.segments])
        return cls(deployment_id, api.id, api.account_id, api.region_name, resources,
                   list(api.binaryMediaTypes or []), api.api_key_source or "HEADER",
                   {key: copy.deepcopy(a.to_json()) for key, a in api.authorizers.items()},
                   {key: copy.deepcopy(r.to_json())
                    for key, r in getattr(api, "gateway_responses", {}).items()})

    def route(self, raw_path: str, http_method: str
              ) -> tuple[Resource, dict[str, Any], dict[str, str]] | None:
        """The resource, method and path parameters for a request, preferring literal path
        parts to {param} and {param} to {greedy+}, as API Gateway matches."""
        path = "/" + raw_path.lstrip("/")
        parts = path.strip("/").split("/") if path.strip("/") else []
        best: tuple[list[int], Resource, dict[str, Any], dict[str, str]] | None = None
        for resource in self.resources:
            params = _match(resource.segments, parts)
            if params is None:
                continue
            method = resource.method_for(http_method)
            if method is None:
                continue
            rank = [0 if k == "literal" else 1 if k == "param" else 2
                    for k, _ in resource.segments]
            if best is None or rank < best[0]:
                best = (rank, resource, method, params)
        return None if best is None else best[1:]


def _match(segments: list[tuple[str, str]], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, (kind, name) in enumerate(segments):
        if kind == "greedy":
            rest = parts[index:]
            if not rest or not rest[0]:
                return None
            params[name] = "/".join(rest)  # raw, slashes (even doubled ones) kept
            return params
        if index >= len(parts) or not parts[index]:
            return None
        if kind == "literal" and parts[index] != name:
            return None
        if kind == "param":
            params[name] = parts[index]  # percent-encoding kept, as API Gateway passes it
    return params if len(parts) == len(segments) else None


class DeploymentRecorder(Protocol):
    """Where ``create_deployment`` records each new deployment: :class:`Deployments`, or the
    running service's, found at call time (``configuration.py``)."""

    def record(self, api: Any, deployment_id: str) -> None: ...


class Deployments:
    """The snapshots, by (api id, deployment id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[tuple[str, str], Deployment] = {}

    def record(self, api: Any, deployment_id: str) -> None:
        with self._lock:
            self._by_id[(api.id, deployment_id)] = Deployment.of(api, deployment_id)

    def get(self, api: Any, deployment_id: str) -> Deployment:
        with self._lock:
            found = self._by_id.get((api.id, deployment_id))
        if found is None:  # made before the sandbox hooked moto: serve the API as it is now
            found = Deployment.of(api, deployment_id)
            with self._lock:
                self._by_id[(api.id, deployment_id)] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._by_id.clear()


def create_deployment(original: Any, deployments: DeploymentRecorder) -> Any:
    """``RestAPI.create_deployment``, taking the snapshot a stage will serve."""

    def create(self: Any, name: str, description: str, stage_variables: Any = None) -> Any:
        existing = self.stages.get(name) if name else None
        deployment = original(self, name, description, stage_variables)
        if existing is not None:
            # moto/apigateway/models.py RestAPI.create_deployment replaces an existing stage,
            # dropping its variables and settings; AWS points the stage at the new deployment
            existing.deployment_id = deployment.id
            existing.variables.update(stage_variables or {})
            self.stages[name] = existing
        deployments.record(self, deployment.id)
        return deployment

    return create


def find_rest_api(api_id: str) -> Any | None:
    from moto.apigateway.models import apigateway_backends

    for account in list(dict.values(apigateway_backends)):
        for backend in list(dict.values(account)):
            api = backend.apis.get(api_id)
            if api is not None:
                return api
    return None


# ---------------------------------------------------------------------------------- invoking
def gateway_error(kind: tuple[Any, ...], request: Request,
                  context: Context | None = None) -> Response:
    status, body, error_type, compact, response_type = kind
    headers = _standard_headers(request, context)
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    response = json_response(status, body, headers, compact=compact)
    response.error_message = body.get("message", body.get("Message"))
    response.response_type = response_type
    return response


def customize(response: Response, deployment: Deployment, request: Request,
              context: Context) -> Response:
    """Apply the API's gateway response for this error (PutGatewayResponse): its status,
    header values and body template; DEFAULT_4XX and DEFAULT_5XX cover the types not set."""
    if response.response_type is None or not deployment.gateway_responses:
        return response
    default = "DEFAULT_4XX" if response.status < 500 else "DEFAULT_5XX"
    custom = (deployment.gateway_responses.get(response.response_type)
              or deployment.gateway_responses.get(default))
    if custom is None:
        return response
    if custom.get("statusCode"):
        response.status = int(custom["statusCode"])
    for target, source in (custom.get("responseParameters") or {}).items():
        if not target.startswith("gatewayresponse.header."):
            continue
        if len(source) >= 2 and source[0] == source[-1] == "'":
            value: str | None = source[1:-1]
        elif source.startswith("method.request.header."):
            value = request.header(source.rsplit(".", 1)[1])
        else:
            value = None
        if value is not None:
            name = target[len("gatewayresponse.header."):]
            response.headers = [(k, v) for k, v in response.headers if k.lower() != name.lower()]
            response.headers.append((name, value))
    template = (custom.get("responseTemplates") or {}).get("application/json")
    if template:
        values = template_context(request, context)
        message = response.error_message
        values["error"] = {"message": message, "responseType": response.response_type,
                           "messageString": json.dumps(message)}
        response.body = templates.render(template, {"context": values}).encode("utf-8")
    return response


def _standard_headers(request: Request, context: Context | None) -> list[tuple[str, str]]:
    headers = [("x-amzn-RequestId", request.request_id)]
    if context is not None:
        headers.append(("x-amz-apigw-id", context.extended_request_id))
    return headers


def invoke(service: ApiGatewayService, api: Any, stage_name: str, request: Request) -> Response:
    """Serve one request to a REST API stage, and write its access log line."""
    seen: dict[str, Any] = {}
    response = _invoke(service, api, stage_name, request, seen)
    if "deployment" in seen:
        context = seen.get("context") or Context(
            account_id=api.account_id, api_id=api.id, region=api.region_name, stage=stage_name)
        response = customize(response, seen["deployment"], request, context)
    stage = api.stages.get(stage_name)
    settings = getattr(stage, "access_log_settings", None)
    if settings:
        context = seen.get("context") or Context(
            account_id=api.account_id, api_id=api.id, region=api.region_name, stage=stage_name)
        values = access_log_values(request, context, response)
        accesslogs.write(settings, values, f"{api.id}-{stage_name}")
    return response


def access_log_values(request: Request, context: Context, response: Response
                      ) -> dict[str, Any]:
    values = template_context(request, context)
    values.update({
        "status": response.status, "responseLength": len(response.body),
        "responseLatency": int((time.time() - request.started) * 1000),
        "error": {"message": response.error_message,
                  "messageString": None if response.error_message is None
                  else json.dumps(response.error_message)},
        "routeKey": context.route_key,
    })
    values["identity"].update({"caller": None, "user": None})
    return values


def _invoke(service: ApiGatewayService, api: Any, stage_name: str, request: Request,
            seen: dict[str, Any]) -> Response:
    stage = api.stages.get(stage_name)
    if stage is None or not stage.deployment_id:
        response = gateway_error(FORBIDDEN, request)  # AWS: no such stage
        _explain(response, NO_STAGE.format(stage=stage_name, api=api.id,
                                           stages=", ".join(sorted(api.stages)) or "none")
                 + _did_you_mean(stage_name, list(api.stages)))
        return response
    deployment = service.deployments.get(api, stage.deployment_id)
    seen["deployment"] = deployment
    routed = deployment.route(request.raw_path, request.method)
    if routed is None:
        response = gateway_error(MISSING_AUTHENTICATION_TOKEN, request)
        methods = [f"{m} {r.path}" for r in deployment.resources for m in sorted(r.methods)]
        _explain(response, NO_ROUTE.format(
            method=request.method, path="/" + request.raw_path.lstrip("/"), stage=stage_name,
            methods=", ".join(methods) or "none")
            + _did_you_mean("/" + request.raw_path.strip("/"),
                            [r.path for r in deployment.resources]))
        return response
    resource, method, path_parameters = routed
    context = Context(account_id=deployment.account_id, api_id=api.id,
                      region=deployment.region, stage=stage_name, deployment_id=deployment.id,
                      resource_id=resource.id, resource_path=resource.path)
    seen["context"] = context
    stage_variables = dict(stage.variables or {})
    try:
        authorizers.authorize(service, request, context, method, deployment.authorizers,
                              path_parameters, stage_variables)
    except authorizers.Denied as denied:
        response = gateway_error(denied.kind, request, context)
        response.headers.append(("x-sandbox-reason", denied.reason))
        return response
    if method.get("apiKeyRequired"):
        key_value = (request.header("x-api-key")
                     if deployment.api_key_source.upper() == "HEADER"
                     else context.usage_identifier_key)
        refusal, key = service.usage_plans.check(api, stage_name, key_value)
        if key is not None:
            context.identity.update({"apiKey": key.value, "apiKeyId": key.id})
        if refusal is not None:
            return gateway_error(refusal, request, context)
    integration = method.get("methodIntegration")
    if not integration:
        return gateway_error(INTERNAL_SERVER_ERROR, request, context)
    kind = (integration.get("type") or "").upper()
    try:
        if kind == "AWS_PROXY":
            return _lambda_proxy(service, request, context, deployment, integration,
                                 path_parameters, stage_variables)
        if kind == "HTTP_PROXY":
            return _http_proxy(request, context, integration, path_parameters,
                               stage_variables)
        if kind in ("AWS", "HTTP", "MOCK"):
            return _mapped(service, request, context, kind, integration, path_parameters,
                           stage_variables)
    except integrations.IntegrationFailure as failure:
        return _failure(failure, request, context)
    except templates.TemplateError as error:
        return _failure(integrations.IntegrationFailure("configuration", str(error)), request,
                        context)
    return gateway_error(INTERNAL_SERVER_ERROR, request, context)


def source_arn(context: Context, http_method: str, resource_path: str) -> str:
    """The ARN API Gateway invokes a function on behalf of:
    arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<resource path>."""
    return (f"arn:aws:execute-api:{context.region}:{context.account_id}:{context.api_id}/"
            f"{context.stage}/{http_method}{resource_path}")


def _lambda_proxy(service: ApiGatewayService, request: Request, context: Context,
                  deployment: Deployment,
                  integration: dict[str, Any], path_parameters: dict[str, str],
                  stage_variables: dict[str, str]) -> Response:
    _require_post(integration)
    target = integrations.lambda_target(integration.get("uri") or "", stage_variables,
                                        context.account_id, context.region)
    integrations.check_permission(
        target, source_arn(context, request.method, context.resource_path or "/"),
        context.account_id, integration.get("credentials"))
    event = events.event_v1(request, context, path_parameters=path_parameters,
                            stage_variables=stage_variables,
                            binary_media_types=deployment.binary_media_types)
    limit = integrations.timeout_for(integrations.REST_TIMEOUT_SECONDS,
                                     integration.get("timeoutInMillis"))
    payload = integrations.invoke_function(service.lambda_runtime, target,
                                           service.encode(event), limit)
    try:
        answer = events.response_v1(payload, binary_media_types=deployment.binary_media_types,
                                    accept=request.header("accept"))
    except MalformedResponse as malformed:
        raise integrations.IntegrationFailure(
            "malformed", f"Execution failed due to configuration error: Malformed Lambda "
                         f"proxy response ({malformed})") from malformed
    headers = [*answer.headers, *_standard_headers(request, context),
               ("X-Amzn-Trace-Id", request.trace_id)]
    return Response(answer.status, headers, answer.body)


def _explain(response: Response, reason: str) -> None:
    text = reason[:900].replace("\n", " ").encode("ascii", "backslashreplace").decode("ascii")
    response.headers.append(("x-sandbox-reason", text))


def _did_you_mean(name: str, candidates: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1)
    return f" Did you mean {close[0]!r}?" if close and close[0] != name else ""


def _require_post(integration: dict[str, Any]) -> None:
    """Lambda's Invoke API is a POST: API Gateway fails any other integration method (500)."""
    method = (integration.get("httpMethod") or "POST").upper()
    if method != "POST":
        raise integrations.IntegrationFailure(
            "configuration", f"Execution failed due to configuration error: a Lambda "
                             f"integration must use integrationHttpMethod POST, not {method}")


def _failure(failure: integrations.IntegrationFailure, request: Request,
             context: Context) -> Response:
    kind = {"permissions": INTERNAL_SERVER_ERROR, "configuration": INTERNAL_SERVER_ERROR,
            "timeout": INTEGRATION_TIMEOUT}.get(failure.kind, BAD_GATEWAY)
    response = gateway_error(kind, request, context)
    # not an AWS header: the sandbox says why, where a learner's browser tools show it
    _explain(response, failure.detail)
    return response


# ---------------------------------------------------------------------------------- proxies
def _http_proxy(request: Request, context: Context, integration: dict[str, Any],
                path_parameters: dict[str, str], stage_variables: dict[str, str]) -> Response:
    """HTTP_PROXY: the request goes on as it came (method, path parameters in the URI, query,
    headers, body) and the endpoint's answer comes back as it is."""
    url = _endpoint_url(integration, path_parameters, stage_variables)
    if request.raw_query:
        url += ("&" if "?" in url else "?") + request.raw_query
    method = (integration.get("httpMethod") or "ANY").upper()
    headers = [(k, v) for k, v in events._incoming_headers(request) if k.lower() != "host"]
    limit = integrations.timeout_for(integrations.REST_TIMEOUT_SECONDS,
                                     integration.get("timeoutInMillis"))
    answer = integrations.call_http(request.method if method == "ANY" else method, url,
                                    headers, request.body, limit)
    return Response(answer.status, [*answer.headers, *_standard_headers(request, context)],
                    answer.body)


def _endpoint_url(integration: dict[str, Any], path_parameters: dict[str, str],
                  stage_variables: dict[str, str]) -> str:
    url = integrations.render_stage_variables(integration.get("uri") or "", stage_variables)
    mapped = dict(path_parameters)
    for target, source in (integration.get("requestParameters") or {}).items():
        if target.startswith("integration.request.path.") and source.startswith(
                "method.request.path."):
            mapped[target.rsplit(".", 1)[1]] = path_parameters.get(source.rsplit(".", 1)[1], "")
    for name, value in mapped.items():
        url = url.replace("{" + name + "+}", value).replace("{" + name + "}", value)
    return url


# ---------------------------------------------------------------------------------- mapped
def template_context(request: Request, context: Context) -> dict[str, Any]:
    """``$context`` in mapping templates."""
    return {
        "accountId": context.account_id, "apiId": context.api_id,
        "domainName": context.domain_name, "domainPrefix": context.api_id,
        "extendedRequestId": context.extended_request_id, "httpMethod": request.method,
        "path": f"/{context.stage}{request.raw_path}", "protocol": request.protocol,
        "requestId": request.request_id, "requestTime": request.request_time,
        "requestTimeEpoch": request.request_time_epoch, "resourceId": context.resource_id,
        "resourcePath": context.resource_path, "stage": context.stage,
        "deploymentId": context.deployment_id,
        "identity": {"sourceIp": request.source_ip, "userAgent": request.header("user-agent"),
                     "accountId": None, "caller": None, "user": None, "userArn": None,
                     "apiKey": context.identity.get("apiKey"),
                     "apiKeyId": context.identity.get("apiKeyId")},
        "authorizer": context.authorizer or {},
    }


def _variables(request: Request, context: Context, body: bytes,
               path_parameters: dict[str, str], stage_variables: dict[str, str]
               ) -> dict[str, Any]:
    params = {"path": dict(path_parameters), "querystring": dict(request.query_pairs),
              "header": {name: value for name, value in request.headers}}
    return {"input": templates.Input(body, params), "context": template_context(request, context),
            "stageVariables": dict(stage_variables), "util": templates.Util()}


def _request_body(request: Request, context: Context, integration: dict[str, Any],
                  path_parameters: dict[str, str], stage_variables: dict[str, str]
                  ) -> bytes | None:
    """The integration request body: the request template for the request's Content-Type,
    or the body passed through, by the integration's passthrough behavior; None for 415."""
    request_templates = integration.get("requestTemplates") or {}
    content_type = request.content_type or "application/json"
    template = request_templates.get(content_type)
    if content_type not in request_templates:
        behavior = (integration.get("passthroughBehavior") or "WHEN_NO_MATCH").upper()
        if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and request_templates):
            return None
        return request.body
    if not template:
        return request.body
    variables = _variables(request, context, request.body, path_parameters, stage_variables)
    return templates.render(template, variables).encode("utf-8")


def _mapped(service: ApiGatewayService, request: Request, context: Context, kind: str,
            integration: dict[str, Any], path_parameters: dict[str, str],
            stage_variables: dict[str, str]) -> Response:
    """AWS (Lambda), HTTP and MOCK integrations: request template, backend, then the
    integration response chosen by its selection pattern, with its template and header
    mappings."""
    body = _request_body(request, context, integration, path_parameters, stage_variables)
    if body is None:
        return gateway_error(UNSUPPORTED_MEDIA_TYPE, request, context)
    limit = integrations.timeout_for(integrations.REST_TIMEOUT_SECONDS,
                                     integration.get("timeoutInMillis"))
    backend_headers: dict[str, str] = {}
    if kind == "MOCK":
        # the request template's statusCode picks the integration response
        try:
            selector = str(json.loads(body or b"{}").get("statusCode", 200))
        except (ValueError, AttributeError):
            selector = "200"
        backend_body = b""
    elif kind == "HTTP":
        url = _endpoint_url(integration, path_parameters, stage_variables)
        method = (integration.get("httpMethod") or request.method).upper()
        content_type = request.header("content-type")
        headers = [("Content-Type", content_type)] if content_type else []
        answer = integrations.call_http(method, url, headers, body, limit)
        selector, backend_body = str(answer.status), answer.body
        backend_headers = {k.lower(): v for k, v in answer.headers}
    elif not integrations.LAMBDA_URI.match(
            integrations.render_stage_variables(integration.get("uri") or "", stage_variables)):
        # AWS: another service, called as the integration's role (services.py)
        answer = _service_call(service, request, context, integration, body, path_parameters,
                               stage_variables, limit)
        selector, backend_body = str(answer.status), answer.body
        backend_headers = {k.lower(): v for k, v in answer.headers}
    else:  # AWS: a Lambda function, invoked with the mapped payload
        uri = integration.get("uri") or ""
        _require_post(integration)
        target = integrations.lambda_target(uri, stage_variables, context.account_id,
                                            context.region)
        integrations.check_permission(
            target, source_arn(context, request.method, context.resource_path or "/"),
            context.account_id, integration.get("credentials"))
        try:
            backend_body = integrations.invoke_function(service.lambda_runtime, target,
                                                        body or b"{}", limit)
            selector = ""
        except integrations.IntegrationFailure as failure:
            if failure.payload is None:
                raise
            backend_body = failure.payload
            try:
                selector = str(json.loads(backend_body).get("errorMessage", ""))
            except (ValueError, AttributeError):
                selector = ""
    chosen = _integration_response(integration, selector, kind)
    if chosen is None:
        raise integrations.IntegrationFailure(
            "configuration", "Execution failed due to configuration error: No match for output "
                             "mapping and no default output mapping specified")
    return _method_response(request, context, chosen, backend_body, backend_headers,
                            path_parameters, stage_variables)


def _service_call(service: ApiGatewayService, request: Request, context: Context,
                  integration: dict[str, Any], body: bytes, path_parameters: dict[str, str],
                  stage_variables: dict[str, str], limit: float) -> integrations.HttpAnswer:
    """An AWS integration with a service other than Lambda: the request the URI, template and
    request parameters make, sent as the integration's role."""
    from . import services

    uri = integrations.render_stage_variables(integration.get("uri") or "", stage_variables)
    method_request = {"path": dict(path_parameters), "querystring": dict(request.query_pairs),
                      "header": {name: value for name, value in request.headers}}
    parameters = services.mapped_parameters(integration, method_request, stage_variables,
                                            template_context(request, context))
    call = services.rest_call(uri, context.region, integration.get("httpMethod") or "POST",
                              body, parameters, request.content_type or "application/json")
    return services.deliver(
        service.sandbox.endpoint_url, call, role_arn=integration.get("credentials"),
        source_arn=source_arn(context, request.method, context.resource_path or "/"),
        account_id=context.account_id, request_id=request.request_id, limit_seconds=limit)


def _integration_response(integration: dict[str, Any], selector: str,
                          kind: str) -> dict[str, Any] | None:
    import re

    responses: list[dict[str, Any]] = list(
        (integration.get("integrationResponses") or {}).values())
    default = None
    for response in responses:
        pattern = response.get("selectionPattern")
        if not pattern:
            default = default or response
            continue
        if kind == "AWS" and not selector:
            continue  # a successful invocation takes the default response
        try:
            if re.fullmatch(pattern, selector, re.DOTALL):
                return response
        except re.error:
            continue
    if kind == "MOCK" and default is None:
        return next((r for r in responses if str(r.get("statusCode")) == selector), None)
    return default


def _method_response(request: Request, context: Context, chosen: dict[str, Any],
                     backend_body: bytes, backend_headers: dict[str, str],
                     path_parameters: dict[str, str], stage_variables: dict[str, str]
                     ) -> Response:
    response_templates = chosen.get("responseTemplates") or {}
    accept = (request.header("accept") or "").split(",", 1)[0].split(";", 1)[0].strip()
    content_type = (accept if accept in response_templates
                    else "application/json" if "application/json" in response_templates
                    or not response_templates else next(iter(response_templates)))
    template = response_templates.get(content_type)
    if template:
        variables = _variables(request, context, backend_body, path_parameters,
                               stage_variables)
        body = templates.render(template, variables).encode("utf-8")
    else:
        body = backend_body
    headers = [("Content-Type", content_type)]
    for target, source in (chosen.get("responseParameters") or {}).items():
        if not target.startswith("method.response.header."):
            continue
        name = target[len("method.response.header."):]
        value = _parameter_value(source, backend_headers, backend_body)
        if value is not None:
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
            headers.append((name, value))
    headers += _standard_headers(request, context)
    return Response(int(chosen.get("statusCode") or 200), headers, body)


def _parameter_value(source: str, backend_headers: dict[str, str],
                     backend_body: bytes) -> str | None:
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]  # a static value
    if source.startswith("integration.response.header."):
        return backend_headers.get(source.rsplit(".", 1)[1].lower())
    if source.startswith("integration.response.body"):
        try:
            document = json.loads(backend_body)
        except ValueError:
            return None
        found = templates.json_path(document, "$" + source[len("integration.response.body"):])
        return None if found is None else templates._text(found)
    return None
