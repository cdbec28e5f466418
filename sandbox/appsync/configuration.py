"""Where moto's AppSync answers differ from AppSync's in what a learner reads: the seams.

- ``uris``: moto answers ``{"GRAPHQL": "http://graphql.uri"}``; AppSync gives the API's
  endpoints, ``https://<id>.appsync-api.<region>.amazonaws.com/graphql`` and
  ``wss://<id>.appsync-realtime-api.<region>.amazonaws.com/graphql`` (GraphqlApi, AppSync API
  Reference). The sandbox serves the first (``sandbox/aws_urls.py``), not the second;
- ids: AppSync's API ids are 26 lowercase letters and digits (they name a host) and its API
  keys ``da2-`` and 26 more; moto makes a UUID and six characters.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from typing import Any

_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def uris(api_id: str, region: str) -> dict[str, str]:
    return {"GRAPHQL": f"https://{api_id}.appsync-api.{region}.amazonaws.com/graphql",
            "REALTIME": f"wss://{api_id}.appsync-realtime-api.{region}.amazonaws.com/graphql"}


def _fix(api: Any) -> None:
    if isinstance(api, dict) and "apiId" in api and "arn" in api:
        api["uris"] = uris(api["apiId"], str(api["arn"]).split(":")[3])


def answering_uris(original: Callable[..., Any]) -> Callable[..., Any]:
    """``AppSyncResponse.create/get/update/list_graphql_api(s)``: the API's real ``uris``."""
    def answer(self: Any) -> Any:
        result = original(self)
        body = getattr(result, "result", None)
        if isinstance(body, dict):
            _fix(body.get("graphqlApi"))
            for api in body.get("graphqlApis") or []:
                _fix(api)
        return result

    return answer


def graphql_api_init(original: Callable[..., None]) -> Callable[..., None]:
    """``GraphqlAPI.__init__``: an AppSync-shaped id (and the ARN that names it)."""
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        old = self.api_id
        self.api_id = new_id()
        self.arn = self.arn.replace(f"apis/{old}", f"apis/{self.api_id}")

    return init


def api_key_init(original: Callable[..., None]) -> Callable[..., None]:
    """``GraphqlAPIKey.__init__``: an AppSync-shaped key, ``da2-`` and 26 characters."""
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.key_id = "da2-" + new_id()

    return init
