"""API settings moto drops: binary media types, and HTTP API quick create.

moto (``apigateway/responses.py`` ``create_rest_api``) ignores ``binaryMediaTypes`` on
CreateRestApi, and its patch operations (``RestAPI.apply_patch_operations``) add an empty string
for ``op=add,path=/binaryMediaTypes/image~1png``, where AWS adds ``image/png``.
moto (``apigatewayv2/responses.py`` ``create_api``) ignores ``Target``, ``RouteKey`` and
``CredentialsArn``: AWS's quick create, which makes the integration (AWS_PROXY for a function
ARN, HTTP_PROXY for a URL), a route (``$default`` unless RouteKey says otherwise) and a
``$default`` stage that deploys automatically. Rows of ``sandbox/seams.py`` wrap moto's methods
with these.
"""

from __future__ import annotations

import json
from typing import Any


class _RunningDeployments:
    """The running service's deployments, found at call time."""

    @staticmethod
    def record(api: Any, deployment_id: str) -> None:
        from . import running

        running().deployments.record(api, deployment_id)


def create_deployment(original: Any) -> Any:
    """Wrap ``RestAPI.create_deployment``: the stage's snapshot is taken (``rest.py``)."""
    from . import rest

    return rest.create_deployment(original, _RunningDeployments())


def create_rest_api(original: Any) -> Any:
    """Wrap ``APIGatewayResponse.create_rest_api``: binaryMediaTypes kept."""

    def create_rest_api(self: Any) -> Any:
        status, headers, body = original(self)
        types = self._get_param("binaryMediaTypes")
        if status == 200 and types:
            created = json.loads(body)
            api = self.backend.get_rest_api(created["id"])
            api.binaryMediaTypes = list(types)
            body = json.dumps(api.to_dict())
        return status, headers, body

    return create_rest_api


def apply_patch_operations(original: Any) -> Any:
    """Wrap ``RestAPI.apply_patch_operations``: binary media types patched as AWS does."""

    def apply_patch_operations(self: Any, patch_operations: list[dict[str, Any]]) -> None:
        others = []
        for op in patch_operations:
            path = op.get("path", "")
            if path.startswith("/binaryMediaTypes/"):
                _patch_binary_media_type(self, op, path)
            else:
                others.append(op)
        if others:
            original(self, others)

    return apply_patch_operations


def _patch_binary_media_type(api: Any, op: dict[str, Any], path: str) -> None:
    media_type = path.split("/", 2)[2].replace("~1", "/").replace("~0", "~")
    if op.get("op") in ("add", "replace") and media_type not in api.binaryMediaTypes:
        api.binaryMediaTypes.append(media_type)
    if op.get("op") == "replace" and op.get("value"):
        api.binaryMediaTypes = [t for t in api.binaryMediaTypes if t != media_type]
        api.binaryMediaTypes.append(op["value"])
    if op.get("op") == "remove" and media_type in api.binaryMediaTypes:
        api.binaryMediaTypes.remove(media_type)


def create_api(original: Any) -> Any:
    """Wrap ``ApiGatewayV2Response.create_api``: AWS's quick create."""

    def create_api(self: Any) -> Any:
        return _quick_create(self, *original(self))

    return create_api


def _quick_create(self: Any, status: int, headers: Any, body: Any) -> Any:
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


def get_authorizers(self: Any) -> Any:
    """``ApiGatewayV2Response.get_authorizers``: GetAuthorizers lists an HTTP API's authorizers
    (moto has GetAuthorizer only, so listing them answered 500)."""
    api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
    return 200, {}, json.dumps({"items": [a.to_json() for a in api.authorizers.values()]})
