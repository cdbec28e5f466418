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


class _Patcher:
    """Patches moto's API Gateway modules when moto imports them, not before: importing
    ``moto.apigateway.models`` takes more than a second (openapi_spec_validator and jsonschema
    come with it), which ``sandbox.start()`` should not pay for a service nobody uses."""

    def __init__(self, patches: dict[tuple[str, str, str], Any]):
        self.patches = patches
        self.modules = {module for module, _, _ in patches}
        self.applied: set[tuple[str, str, str]] = set()

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.modules:
            return None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, self)
                return spec
        return None

    def apply(self) -> None:
        for key, replacement in self.patches.items():
            module_name, class_name, attribute = key
            module = sys.modules.get(module_name)
            if key in self.applied or module is None or not hasattr(module, class_name):
                continue
            owner = getattr(module, class_name)
            _originals.setdefault(key, owner.__dict__[attribute])
            setattr(owner, attribute, replacement)
            self.applied.add(key)

    def restore(self) -> None:
        for key in self.applied:
            module_name, class_name, attribute = key
            setattr(getattr(sys.modules[module_name], class_name), attribute, _originals[key])
        self.applied.clear()


class _PatchingLoader:
    def __init__(self, loader: Any, patcher: _Patcher):
        self.loader = loader
        self.patcher = patcher

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        self.patcher.apply()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


_patcher: _Patcher | None = None


def original(module: str, cls: str, attribute: str) -> Any:
    """moto's own version of a patched method."""
    return _originals[(module, cls, attribute)]


def install(create_deployment: Any) -> None:
    global _patcher
    _patcher = _Patcher(_patches(create_deployment))
    sys.meta_path.insert(0, _patcher)
    _patcher.apply()  # what moto has imported already


def uninstall() -> None:
    global _patcher
    if _patcher is not None:
        if _patcher in sys.meta_path:
            sys.meta_path.remove(_patcher)
        _patcher.restore()
        _patcher = None
