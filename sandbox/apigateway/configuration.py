"""REST API settings moto drops: binary media types.

moto (``apigateway/responses.py`` ``create_rest_api``) ignores ``binaryMediaTypes`` on
CreateRestApi, and its patch operations (``RestAPI.apply_patch_operations``) add an empty string
for ``op=add,path=/binaryMediaTypes/image~1png``, where AWS adds ``image/png``.
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


def install() -> None:
    from moto.apigateway.models import RestAPI
    from moto.apigateway.responses import APIGatewayResponse

    if not _originals:
        _originals["create_rest_api"] = APIGatewayResponse.create_rest_api
        _originals["apply_patch_operations"] = RestAPI.apply_patch_operations
    APIGatewayResponse.create_rest_api = _create_rest_api
    RestAPI.apply_patch_operations = _apply_patch_operations


def uninstall() -> None:
    from moto.apigateway.models import RestAPI
    from moto.apigateway.responses import APIGatewayResponse

    if _originals:
        APIGatewayResponse.create_rest_api = _originals["create_rest_api"]
        RestAPI.apply_patch_operations = _originals["apply_patch_operations"]
