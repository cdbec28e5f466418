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
import sys
from typing import Any

_originals: dict[tuple[str, str, str], Any] = {}


def _create_rest_api(self: Any) -> Any:
    status, headers, body = original("moto.apigateway.responses", "APIGatewayResponse",
                                     "create_rest_api")(self)
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
        original("moto.apigateway.models", "RestAPI", "apply_patch_operations")(self, others)


def _create_api(self: Any) -> Any:
    status, headers, body = original("moto.apigatewayv2.responses", "ApiGatewayV2Response",
                                     "create_api")(self)
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


# (module, class, attribute) -> replacement; applied when moto imports the module
def _patches(create_deployment: Any) -> dict[tuple[str, str, str], Any]:
    return {
        ("moto.apigateway.models", "RestAPI", "create_deployment"): create_deployment,
        ("moto.apigateway.models", "RestAPI", "apply_patch_operations"): _apply_patch_operations,
        ("moto.apigateway.responses", "APIGatewayResponse", "create_rest_api"): _create_rest_api,
        ("moto.apigatewayv2.responses", "ApiGatewayV2Response", "create_api"): _create_api,
    }


_applied: set[tuple[str, str, str]] = set()
_callbacks: dict[str, Any] = {}


def original(module: str, cls: str, attribute: str) -> Any:
    """moto's own version of a patched method."""
    return _originals[(module, cls, attribute)]


def install(create_deployment: Any) -> None:
    """Patch moto's API Gateway modules when moto imports them (``sandbox.lazy``): importing
    ``moto.apigateway.models`` takes more than a second (openapi_spec_validator and jsonschema
    come with it), which ``sandbox.start()`` should not pay for a service nobody uses."""
    from .. import lazy

    patches = _patches(create_deployment)
    for module_name in {module for module, _, _ in patches}:
        def apply(module: Any, module_name: str = module_name) -> None:
            for key, replacement in patches.items():
                if key[0] != module_name or key in _applied:
                    continue
                owner = getattr(module, key[1])
                _originals.setdefault(key, owner.__dict__[key[2]])
                setattr(owner, key[2], replacement)
                _applied.add(key)

        _callbacks[module_name] = apply
        lazy.when_imported(module_name, apply)


def uninstall() -> None:
    from .. import lazy

    for module_name, callback in _callbacks.items():
        lazy.forget(module_name, callback)
    _callbacks.clear()
    for module_name, class_name, attribute in _applied:
        setattr(getattr(sys.modules[module_name], class_name), attribute,
                _originals[(module_name, class_name, attribute)])
    _applied.clear()
