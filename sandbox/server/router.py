"""One router: every request that reaches the sandbox's server is classified once, by host and
path, and handed to the one part of the sandbox that serves it.

- ``/_sandbox/...``: the sandbox's own admin API (``admin.py``), for the notebook's views;
- ``/moto-api/...``: refused. moto's own API resets every backend and seeds its random numbers;
  no client of the sandbox may reach it (the admin API's reset is the sandbox's, and owned);
- a deployed API (``/restapis/<id>/<stage>/_user_request_/...`` or an ``execute-api`` host):
  API Gateway's invoke endpoint (``sandbox/apigateway``);
- an S3 website (``/_website/<bucket>/...`` or an ``s3-website`` host): ``sandbox/s3/website.py``;
- a GraphQL API (``/_appsync/<api_id>/graphql`` or an ``appsync-api`` host): ``sandbox/appsync``;
- everything else is an AWS API call: IAM decides it (``sandbox/iam``), then moto serves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ..apigateway.gateway import EXECUTE_API_HOST, USER_REQUEST
from ..appsync.endpoint import is_graphql_request
from ..s3.website import WEBSITE_HOST

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]
Route = Callable[[Environ], WSGIApp | None]  # the app that serves this request, or None

ADMIN = "admin"
MOTO_API = "moto-api"
API_GATEWAY = "api-gateway"
WEBSITE = "website"  # sandbox/s3/__init__.py serves them
APPSYNC = "appsync"  # GraphQL endpoints, sandbox/appsync
AWS = "aws"


def classify(environ: Environ) -> str:
    """Which part of the sandbox serves this request."""
    path: str = environ.get("PATH_INFO", "")
    host: str = environ.get("HTTP_HOST", "")
    if path.startswith("/_sandbox/"):
        return ADMIN
    if path.startswith("/moto-api"):
        return MOTO_API
    if (path.startswith("/restapis/") and USER_REQUEST.match(path)) or (
            ".execute-api." in host and EXECUTE_API_HOST.match(host)):
        return API_GATEWAY
    if path.startswith("/_website/") or (".s3-website" in host and WEBSITE_HOST.match(host)):
        return WEBSITE
    if is_graphql_request(path, host):
        return APPSYNC
    return AWS


def not_found(message: str) -> WSGIApp:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = json.dumps({"message": message}).encode()
        start_response("404 Not Found", [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(body)))])
        return [body]
    return app


MOTO_API_REFUSED = not_found(
    "moto's own API is not served by the sandbox: it would reset every resource behind the "
    "sandbox's back. Use sb.reset() from the notebook.")


class Router:
    """The server's WSGI application. Services take their place with :meth:`serve`."""

    def __init__(self, aws: WSGIApp):
        self._aws = aws
        self._routes: dict[str, Route] = {}
        # AWS API calls an extension answers itself (after IAM), where moto has no operation
        self._aws_overrides: dict[str, Route] = {}
        self._authorize: Route = lambda environ: None

    def serve(self, kind: str, route: Route) -> None:
        """Let ``route`` serve the requests of ``kind`` (ADMIN, API_GATEWAY, WEBSITE)."""
        self._routes[kind] = route

    def authorize_with(self, decide: Route) -> None:
        """``decide(environ)`` answers each AWS API call before moto: None lets it through,
        an application refuses it."""
        self._authorize = decide

    @property
    def authorizer(self) -> Route:
        return self._authorize

    def serve_aws(self, name: str, route: Route) -> None:
        """Let ``route`` answer AWS API calls moto lacks (None passes the call on to moto);
        IAM decides each call first, as it does moto's."""
        self._aws_overrides[name] = route

    def withdraw(self, kind: str) -> None:
        self._routes.pop(kind, None)
        self._aws_overrides.pop(kind, None)

    def _override(self, environ: Environ) -> WSGIApp | None:
        for route in list(self._aws_overrides.values()):
            app = route(environ)
            if app is not None:
                return app
        return None

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        kind = classify(environ)
        app: WSGIApp | None
        if kind == AWS:
            app = self._authorize(environ) or self._override(environ) or self._aws
        elif kind == MOTO_API:
            app = MOTO_API_REFUSED
        else:
            route = self._routes.get(kind)
            app = route(environ) if route is not None else None
            if app is None:
                app = not_found(f"nothing in the sandbox serves {environ.get('PATH_INFO')}")
        return app(environ, start_response)
