"""API settings moto drops: binary media types, and HTTP API quick create.

moto (``apigateway/responses.py`` ``create_rest_api``) ignores ``binaryMediaTypes`` on
CreateRestApi, and its patch operations (``RestAPI.apply_patch_operations``) add an empty string
for ``op=add,path=/binaryMediaTypes/image~1png``, where AWS adds ``image/png``.
moto (``apigatewayv2/responses.py`` ``create_api``) ignores ``Target``, ``RouteKey`` and
``CredentialsArn``: AWS's quick create, which makes the integration (AWS_PROXY for a function
ARN, HTTP_PROXY for a URL), a route (``$default`` unless RouteKey says otherwise) and a
``$default`` stage that deploys automatically.
"""

from __future__ import annotations

import json
from typing import Any

_originals: dict[str, Any] = {}


def _create_rest_api(self: Any) -> Any:
    status, headers, body = _originals["create_rest_api"](self)
    types = self._get_param("binaryMediaTypes")
    if status == 200 and types:
        created = json.loads(body)
        api = self.backend.get_rest_api(created["id"])
        api.binaryMediaTypes = list(types)
        body = json.dumps(api.to_dict())
    return status, headers, body


def _apply_patch_operations(self: Any, patch_operations: list[dict[str, Any]]) -> None:
    others = []
    for op in patch_operations:
        path = op.get("path", "")
        if path.startswith("/binaryMediaTypes/"):
            media_type = path.split("/", 2)[2].replace("~1", "/").replace("~0", "~")
            if op.get("op") in ("add", "replace") and media_type not in self.binaryMediaTypes:
                self.binaryMediaTypes.append(media_type)
            if op.get("op") == "replace" and op.get("value"):
                self.binaryMediaTypes = [t for t in self.binaryMediaTypes if t != media_type]
                self.binaryMediaTypes.append(op["value"])
            if op.get("op") == "remove" and media_type in self.binaryMediaTypes:
                self.binaryMediaTypes.remove(media_type)
        else:
            others.append(op)
    if others:
        _originals["apply_patch_operations"](self, others)


def _create_api(self: Any) -> Any:
    status, headers, body = _originals["create_api"](self)
    params = json.loads(self.body or "{}")
    target = params.get("target")
    if status == 200 and target:
        created = json.loads(body)
        api = self.apigatewayv2_backend.get_api(created["apiId"])
        is_url = target.startswith(("http://", "https://"))
        integration = api.create_integration(
            connection_type="INTERNET", description="", integration_method="ANY" if is_url
            else "POST", integration_type="HTTP_PROXY" if is_url else "AWS_PROXY",
            integration_uri=target, credentials_arn=params.get("credentialsArn"),
            payload_format_version="1.0" if is_url else "2.0")
        api.create_route(api_key_required=False, authorization_scopes=[],
                         route_key=params.get("routeKey") or "$default",
                         target=f"integrations/{integration.id}")
        api.create_stage({"stageName": "$default", "autoDeploy": True})
    return status, headers, body


def install() -> None:
    from moto.apigateway.models import RestAPI
    from moto.apigateway.responses import APIGatewayResponse
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    if not _originals:
        _originals["create_rest_api"] = APIGatewayResponse.create_rest_api
        _originals["apply_patch_operations"] = RestAPI.apply_patch_operations
        _originals["create_api"] = ApiGatewayV2Response.create_api
    APIGatewayResponse.create_rest_api = _create_rest_api
    RestAPI.apply_patch_operations = _apply_patch_operations
    ApiGatewayV2Response.create_api = _create_api


def uninstall() -> None:
    from moto.apigateway.models import RestAPI
    from moto.apigateway.responses import APIGatewayResponse
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    if _originals:
        APIGatewayResponse.create_rest_api = _originals["create_rest_api"]
        RestAPI.apply_patch_operations = _originals["apply_patch_operations"]
        ApiGatewayV2Response.create_api = _originals["create_api"]
