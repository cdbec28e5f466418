"""AppSync: GraphQL APIs that answer, over real HTTP.

moto stores GraphQL APIs, API keys and schemas (``moto/appsync``) and runs nothing: it has no
data sources, functions or resolvers, and no GraphQL endpoint. The sandbox adds them:

- ``management.py``: ``CreateDataSource``, ``CreateFunction``, ``CreateResolver`` and their
  ``Get``/``List``/``Update``/``Delete`` (served after IAM has decided the call);
- ``schema.py``: the schema built as AppSync builds it (its scalars and directives; a bad
  schema is ``FAILED`` with the reason);
- ``execution.py``: a GraphQL request parsed, validated and executed by graphql-core, each
  resolver run (unit and pipeline; VTL, ``vtl.py``; APPSYNC_JS, ``js.py``; direct Lambda)
  against its data source (``datasources.py``), answered in AppSync's shapes;
- ``auth.py``: API keys, ``AWS_IAM`` (the one evaluator) and Lambda authorizers.

The GraphQL endpoint of an API: ``sb.appsync_url(api_id)``, that is
``<endpoint>/_appsync/<api_id>/graphql``; and while the sandbox runs, ``requests`` reaches
``https://<api_id>.appsync-api.<region>.amazonaws.com/graphql`` too (``sandbox/aws_urls.py``).
Lambda invocations (resolvers, authorizers) are hops of kind ``appsync`` in the deliveries
record. Not modelled: subscriptions (the real-time WebSocket endpoint), caching, Cognito and
OIDC authorization, batching (``maxBatchSize``), conflict detection (``syncConfig``), and data
sources other than Lambda, DynamoDB, HTTP and NONE.
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import management
from .auth import UNAUTHORIZED, Authorizers, Refused, authenticate
from .endpoint import api_of

if TYPE_CHECKING:
    from ..server.router import WSGIApp
    from ..server.service import SandboxService


class AppSync:
    """The running AppSync extension: configuration moto lacks, and the GraphQL endpoint."""

    def __init__(self, sandbox: SandboxService):
        from ..server.router import APPSYNC

        self.sandbox = sandbox
        self.store = management.Store()
        self.authorizers = Authorizers()
        sandbox.router.serve(APPSYNC, self.route)
        sandbox.router.serve_aws(APPSYNC, lambda environ: management.route(self.store, environ))

    def route(self, environ: dict[str, Any]) -> WSGIApp | None:
        found = api_of(environ.get("PATH_INFO", ""), environ.get("HTTP_HOST", ""))
        if found is None:
            return None
        api_id, path = found

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            try:
                status, body, headers = self.graphql(api_id, path, environ)
            except Exception as error:  # a sandbox bug: say so in AppSync's shape
                traceback.print_exc()
                status, headers = 500, []
                body = {"errors": [{"errorType": "InternalFailure",
                                    "message": f"The sandbox failed to run this request: "
                                               f"{error!r}"}]}
            data = json.dumps(body).encode()
            from http import HTTPStatus

            start_response(f"{status} {HTTPStatus(status).phrase}",
                           [("Content-Type", "application/json; charset=UTF-8"),
                            ("Content-Length", str(len(data))), *headers])
            return [data]

        return app

    def graphql(self, api_id: str, path: str,
                environ: dict[str, Any]) -> tuple[int, Any, list[tuple[str, str]]]:
        from urllib.parse import parse_qs

        from . import execution
        from .schema import schema_of

        request_id = str(uuid.uuid4())
        headers_out = [("x-amzn-RequestId", request_id)]
        api = management.find_api(api_id)
        if api is None:
            return 404, {"errors": [{"errorType": "NotFoundException", "message": (
                f"No GraphQL API with id {api_id} in this sandbox: list them with "
                "boto3.client('appsync').list_graphql_apis().")}]}, headers_out
        if path.rstrip("/") != "/graphql":
            return 404, {"errors": [{"errorType": "NotFoundException",
                                     "message": f"{path} is not served: POST to /graphql"}]}, \
                headers_out
        method = environ.get("REQUEST_METHOD", "POST").upper()
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        if method == "GET":
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            body: Any = dict(query)
            if isinstance(body.get("variables"), str):
                try:
                    body["variables"] = json.loads(body["variables"])
                except ValueError:
                    pass
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            if not raw.strip():
                status, answer = execution.malformed("Request body is empty.")
                return status, answer, headers_out
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                status, answer = execution.malformed("Unable to parse GraphQL query.")
                return status, answer, headers_out
        try:
            auth = authenticate(api, headers, body, request_id, self.authorizers,
                                environ.get("REMOTE_ADDR", "127.0.0.1"))
        except Refused:
            return 401, UNAUTHORIZED, headers_out
        schema = schema_of(api_id)
        if schema is None:
            return 400, {"errors": [{"errorType": "BadRequestException", "message": (
                "This API has no schema that built: call start_schema_creation with your SDL "
                "and check get_schema_creation_status.")}]}, headers_out
        config = self.store.config(api_id)
        status, answer = execution.run(api, config, schema, auth, body, headers,
                                       headers.get("host"))
        return status, answer, headers_out

    def reset(self) -> None:
        self.store.clear()
        self.authorizers.clear()

    def close(self) -> None:
        from ..server.router import APPSYNC
        from .datasources import forget_clients

        self.reset()
        forget_clients()
        self.sandbox.router.withdraw(APPSYNC)


def install(sandbox: SandboxService) -> AppSync:
    return AppSync(sandbox)


def uninstall() -> None:
    pass
