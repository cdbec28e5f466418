"""API Gateway: deployed REST and HTTP APIs answer over real HTTP, as on AWS.

moto stores APIs but cannot run them: it has no invoke route in server mode, and its
integrations (``apigateway/models.py`` ``Resource.get_response``) cannot call a Lambda proxy,
break on path parameters and query strings, and HTTP APIs answer 404 for every route. The
sandbox serves deployed APIs from its own server instead: ``gateway.py`` parses the request,
``rest.py`` and ``httpapi.py`` run it, with ``events.py`` (proxy payloads 1.0 and 2.0),
``integrations.py`` (Lambda, HTTP, timeouts, invoke permission), ``templates.py`` (mapping
templates), ``authorizers.py``, ``usage.py`` (API keys and usage plans) and ``accesslogs.py``.
It hooks moto (rows of ``sandbox/seams.py``) at ``RestAPI.create_deployment``, to snapshot what
a stage serves, and where moto drops settings (``configuration.py``: binary media types, HTTP
API quick create). The sandbox's router (``sandbox/server/router.py``) hands this extension
every request addressed to a deployed API.

Base URL of a deployed stage: ``sb.api_url(api_id, stage)``, that is
``<endpoint>/restapis/<api_id>/<stage>/_user_request_``; and while the sandbox runs, a request
made with ``requests`` to ``https://<api_id>.execute-api.<region>.amazonaws.com/<stage>/...``
reaches the same API (``sandbox/aws_urls.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import authorizers, gateway, httpapi, rest, usage
from .gateway import Request, Response

if TYPE_CHECKING:
    from ..awslambda import LambdaRuntime
    from ..server.router import WSGIApp
    from ..server.service import SandboxService



class ApiGatewayService:
    """The sandbox's API Gateway: the invoke endpoint in front of moto."""

    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self.deployments = rest.Deployments()
        self.usage_plans = usage.UsagePlans()
        self.authorizer_cache = authorizers.AuthorizerCache()
        from ..server.router import API_GATEWAY

        sandbox.router.serve(API_GATEWAY, self.route)

    @property
    def lambda_runtime(self) -> LambdaRuntime:
        return self.sandbox.lambda_runtime

    @staticmethod
    def encode(event: dict[str, Any]) -> bytes:
        return json.dumps(event, separators=(",", ":")).encode("utf-8")

    # ------------------------------------------------------------------ the invoke endpoint
    def route(self, environ: dict[str, Any]) -> WSGIApp | None:
        request = gateway.parse(environ)
        if request is None:
            return None
        try:
            return self.invoke(request)
        except Exception as error:  # a sandbox bug: say so in the answer, not in HTML
            import traceback

            traceback.print_exc()
            return gateway.json_response(500, {
                "message": "Internal server error",
                "sandbox": f"The sandbox failed to run this request: {error!r}"})

    def invoke(self, request: Request) -> Response:
        api = rest.find_rest_api(request.api_id)
        if api is not None:
            stage = request.stage
            if stage is None:  # host form: /<stage>/<path>
                stage, request.raw_path = _split_stage(request.raw_path)
            return rest.invoke(self, api, stage, request)
        http = httpapi.find_http_api(request.api_id)
        if http is not None:
            return httpapi.invoke(self, http, request)
        return gateway.json_response(404, {"message": (
            f"No REST API or HTTP API with id '{request.api_id}' exists in this sandbox. "
            "List them with boto3.client('apigateway').get_rest_apis() or "
            "boto3.client('apigatewayv2').get_apis().")})

    # ------------------------------------------------------------------ life cycle
    def reset(self) -> None:
        self.deployments.clear()
        self.usage_plans.reset()
        self.authorizer_cache.clear()
        authorizers.forget_keys()

    def close(self) -> None:
        self.deployments.clear()
        from ..server.router import API_GATEWAY

        self.sandbox.router.withdraw(API_GATEWAY)


def _split_stage(raw_path: str) -> tuple[str, str]:
    from urllib.parse import unquote

    stage, _, rest_of_path = raw_path.lstrip("/").partition("/")
    return unquote(stage), "/" + rest_of_path


def install(sandbox: SandboxService) -> ApiGatewayService:
    """The running API Gateway service; moto's modules are hooked by the rows of
    ``sandbox.seams`` when moto first imports them (``moto.apigateway.models`` takes more than
    a second to import, which ``sandbox.start()`` should not pay for a service nobody uses)."""
    return ApiGatewayService(sandbox)


def running() -> ApiGatewayService:
    """The running service, for the seams: moto calls them only while a sandbox runs."""
    from ..server.service import running_extension

    service: ApiGatewayService = running_extension("apigateway")
    return service


def uninstall() -> None:
    pass
