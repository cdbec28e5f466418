"""The AppSync management operations moto lacks: data sources, functions and resolvers.

moto's AppSync stores APIs, API keys and schemas (``moto/appsync/models.py``) but has no
``CreateDataSource``, ``CreateFunction`` or ``CreateResolver``; its URL table even sends
``/v1/apis/<id>/types/<type>/resolvers`` to ``GetType``. The router hands these calls here after
IAM has decided them (``Router.serve_aws``), and this module answers them in the shapes of the
AppSync API Reference (``CreateDataSource``, ``CreateFunction``, ``CreateResolver`` and their
``Get``/``List``/``Update``/``Delete``), with its errors (``NotFoundException`` 404,
``BadRequestException`` 400, ``ConcurrentModificationException`` for a duplicate).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]

ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/datasources/?$"), "datasources"),
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/datasources/(?P<name>[^/]+)$"), "datasource"),
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/functions/?$"), "functions"),
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/functions/(?P<id>[^/]+)/resolvers$"),
     "function_resolvers"),
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/functions/(?P<id>[^/]+)$"), "function"),
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/types/(?P<type>[^/]+)/resolvers/?$"), "resolvers"),
    (re.compile(r"^/v1/apis/(?P<api>[^/]+)/types/(?P<type>[^/]+)/resolvers/(?P<field>[^/]+)$"),
     "resolver"),
]

DATA_SOURCE_TYPES = ("AWS_LAMBDA", "AMAZON_DYNAMODB", "AMAZON_ELASTICSEARCH", "NONE", "HTTP",
                     "RELATIONAL_DATABASE", "AMAZON_OPENSEARCH_SERVICE", "AMAZON_EVENTBRIDGE",
                     "AMAZON_BEDROCK_RUNTIME")
RUNNABLE_TYPES = ("AWS_LAMBDA", "AMAZON_DYNAMODB", "NONE", "HTTP")
NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")
VTL_VERSION = "2018-05-29"


class ManagementError(Exception):
    """An AppSync API error: its code (``x-amzn-ErrorType``), HTTP status and message."""

    def __init__(self, code: str, status: int, message: str):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def not_found(message: str) -> ManagementError:
    return ManagementError("NotFoundException", 404, message)


def bad_request(message: str) -> ManagementError:
    return ManagementError("BadRequestException", 400, message)


@dataclass
class ApiConfig:
    """What one GraphQL API runs: its data sources, functions and resolvers."""

    api_id: str
    arn: str
    data_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    resolvers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


class Store:
    """Every API's configuration (keyed by API id: moto's ids are UUIDs, unique across
    accounts); an API deleted in moto is forgotten at its next look-up."""

    def __init__(self) -> None:
        self._apis: dict[str, ApiConfig] = {}
        self.lock = threading.RLock()

    def config(self, api_id: str) -> ApiConfig:
        api = find_api(api_id)
        if api is None:
            self._apis.pop(api_id, None)
            raise not_found(f"GraphQL API {api_id} not found.")
        with self.lock:
            found = self._apis.get(api_id)
            if found is None or found.arn != api.arn:
                found = self._apis[api_id] = ApiConfig(api_id, api.arn)
            return found

    def clear(self) -> None:
        with self.lock:
            self._apis.clear()


def find_api(api_id: str) -> Any:
    """moto's GraphqlAPI with this id, in whichever account and region holds it."""
    from moto.appsync.models import appsync_backends

    for regions in list(appsync_backends.values()):
        for backend in list(regions.values()):
            api = backend.graphql_apis.get(api_id)
            if api is not None:
                return api
    return None


# ---------------------------------------------------------------------- the HTTP side
def route(store: Store, environ: Environ) -> WSGIApp | None:
    """The answer to a management call moto lacks; None for every other request."""
    from ..iam.actions import credential

    path = environ.get("PATH_INFO", "")
    if not path.startswith(("/v1/apis/", "/v1/dataplane-")):
        return None
    signed = credential(environ.get("HTTP_AUTHORIZATION", ""), environ.get("QUERY_STRING", ""))
    if signed is None or signed[2] != "appsync":
        return None
    if path in ("/v1/dataplane-evaluatetemplate", "/v1/dataplane-evaluatecode"):
        return _evaluator(path.endswith("code"))
    for pattern, kind in ROUTES:
        matched = pattern.match(path)
        if matched:
            params = {k: unquote(v) for k, v in matched.groupdict().items()}
            return _app(store, kind, params)
    return None


def _app(store: Store, kind: str, params: dict[str, str]) -> WSGIApp:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers: list[tuple[str, str]] = []
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise bad_request("The request body must be a JSON object.")
            with store.lock:
                answer = _HANDLERS[(kind, method)](store.config(params["api"]), params, body)
            status, payload = "200 OK", answer
        except KeyError:
            status = "405 Method Not Allowed"
            payload = {"message": f"{method} is not an AppSync operation on this path"}
        except ValueError:
            status, headers = "400 Bad Request", [("x-amzn-ErrorType", "BadRequestException")]
            payload = {"__type": "BadRequestException",
                       "message": "The request body is not valid JSON."}
        except ManagementError as error:
            status = f"{error.status} {HTTPStatus(error.status).phrase}"
            headers = [("x-amzn-ErrorType", error.code)]
            payload = {"__type": error.code, "message": error.message}
        data = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data))), *headers])
        return [data]

    return app


# ---------------------------------------------------------------------- evaluation
def _evaluator(code: bool) -> WSGIApp:
    """EvaluateMappingTemplate and EvaluateCode: a template or a handler run against a given
    context, without an API (AppSync API Reference), by the engines resolvers use."""
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
            payload = evaluate(body, code)
            status = "200 OK"
            headers: list[tuple[str, str]] = []
        except (ValueError, ManagementError) as problem:
            error = problem if isinstance(problem, ManagementError) else bad_request(
                "The request body, or its context, is not valid JSON.")
            status = f"{error.status} {HTTPStatus(error.status).phrase}"
            headers = [("x-amzn-ErrorType", error.code)]
            payload = {"__type": error.code, "message": error.message}
        data = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data))), *headers])
        return [data]

    return app


def evaluate(body: dict[str, Any], code: bool) -> dict[str, Any]:
    from .js import EarlyReturn, check_code, run_handler
    from .vtl import ResolverError, run_template

    context = json.loads(str(body.get("context") or "{}"))
    if not isinstance(context, dict):
        raise bad_request("The context must be a JSON object.")
    context.setdefault("arguments", context.get("args") or {})
    context.setdefault("args", context["arguments"])
    context.setdefault("stash", {})
    errors: list[dict[str, Any]] = []
    answer: dict[str, Any] = {"logs": []}
    try:
        if code:
            problem = check_code(str(body.get("code") or ""))
            if problem:
                answer["error"] = {"message": problem, "codeErrors": []}
                return answer
            try:
                value = run_handler(str(body["code"]), str(body.get("function") or "request"),
                                    context, errors, answer["logs"])
            except EarlyReturn as early:
                value = early.value
            answer["evaluationResult"] = json.dumps(value)
        else:
            result = run_template(str(body.get("template") or ""), context, errors)
            answer["evaluationResult"] = json.dumps(result)
    except ResolverError as error:
        answer["error"] = {"message": error.message}
    answer["stash"] = json.dumps(context.get("stash") or {})
    answer["outErrors"] = json.dumps(errors)
    return answer


# ---------------------------------------------------------------------- data sources
def _check_data_source(api: ApiConfig, body: dict[str, Any], name: str) -> dict[str, Any]:
    from .. import iam

    kind = body.get("type")
    if kind not in DATA_SOURCE_TYPES:
        raise bad_request(f"Invalid data source type {kind!r}: one of "
                          f"{', '.join(DATA_SOURCE_TYPES)}.")
    if not NAME.match(name):
        raise bad_request(f"Data source name {name!r} is invalid: letters, digits and "
                          "underscores, not starting with a digit ([_A-Za-z][_0-9A-Za-z]*).")
    source: dict[str, Any] = {
        "dataSourceArn": f"{api.arn}/datasources/{name}", "name": name, "type": kind}
    for key in ("description", "serviceRoleArn", "dynamodbConfig", "lambdaConfig",
                "httpConfig", "eventBridgeConfig", "metricsConfig"):
        if body.get(key) is not None:
            source[key] = body[key]
    needs = {"AWS_LAMBDA": ("lambdaConfig", "lambdaFunctionArn"),
             "AMAZON_DYNAMODB": ("dynamodbConfig", "tableName"),
             "HTTP": ("httpConfig", "endpoint")}.get(str(kind))
    if needs and not (source.get(needs[0]) or {}).get(needs[1]):
        raise bad_request(f"A data source of type {kind} needs {needs[0]}.{needs[1]}.")
    if kind in ("AWS_LAMBDA", "AMAZON_DYNAMODB") and not source.get("serviceRoleArn"):
        raise bad_request(f"A data source of type {kind} needs a serviceRoleArn: the role "
                          "AppSync assumes to call it (it must trust appsync.amazonaws.com).")
    role = source.get("serviceRoleArn")
    if role and not iam.role_exists(str(role)):
        raise bad_request(f"Role {role} does not exist: create it first (with a trust policy "
                          "for appsync.amazonaws.com).")
    if kind == "AMAZON_DYNAMODB":
        config = source["dynamodbConfig"]
        config.setdefault("awsRegion", api.arn.split(":")[3])
        config.setdefault("useCallerCredentials", False)
        config.setdefault("versioned", False)
    return source


def create_data_source(api: ApiConfig, params: dict[str, str],
                       body: dict[str, Any]) -> dict[str, Any]:
    name = str(body.get("name", ""))
    if name in api.data_sources:
        raise bad_request(f"Data source with name {name} already exists.")
    api.data_sources[name] = _check_data_source(api, body, name)
    return {"dataSource": api.data_sources[name]}


def _data_source(api: ApiConfig, name: str) -> dict[str, Any]:
    found = api.data_sources.get(name)
    if found is None:
        raise not_found(f"No data source found named {name}.")
    return found


def get_data_source(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    return {"dataSource": _data_source(api, params["name"])}


def update_data_source(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    _data_source(api, params["name"])
    api.data_sources[params["name"]] = _check_data_source(api, body, params["name"])
    return {"dataSource": api.data_sources[params["name"]]}


def delete_data_source(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    _data_source(api, params["name"])
    del api.data_sources[params["name"]]
    return {}


def list_data_sources(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    return {"dataSources": list(api.data_sources.values())}


# ---------------------------------------------------------------------- code and templates
def _runtime_fields(body: dict[str, Any], target: dict[str, Any]) -> None:
    """A resolver's or function's code: APPSYNC_JS ``runtime`` + ``code``, or VTL templates."""
    runtime = body.get("runtime")
    if runtime:
        if runtime.get("name") != "APPSYNC_JS":
            raise bad_request(f"Invalid runtime name {runtime.get('name')!r}: APPSYNC_JS.")
        if not body.get("code"):
            raise bad_request("The code is required for the APPSYNC_JS runtime.")
        from .js import check_code

        problem = check_code(str(body["code"]))
        if problem:
            raise bad_request(f"The code contains one or more errors. {problem}")
        target["runtime"] = {"name": "APPSYNC_JS",
                             "runtimeVersion": runtime.get("runtimeVersion", "1.0.0")}
        target["code"] = body["code"]
    elif body.get("code"):
        raise bad_request("code needs runtime={'name': 'APPSYNC_JS', 'runtimeVersion': "
                          "'1.0.0'}.")
    for key in ("requestMappingTemplate", "responseMappingTemplate"):
        if body.get(key) is not None:
            if runtime:
                raise bad_request("A resolver with an APPSYNC_JS runtime has code, not "
                                  "mapping templates.")
            target[key] = body[key]


# ---------------------------------------------------------------------- functions
def _check_function(api: ApiConfig, body: dict[str, Any], function_id: str) -> dict[str, Any]:
    name = str(body.get("name", ""))
    if not NAME.match(name):
        raise bad_request(f"Function name {name!r} is invalid ([_A-Za-z][_0-9A-Za-z]*).")
    source = str(body.get("dataSourceName", ""))
    _data_source(api, source)
    function: dict[str, Any] = {
        "functionId": function_id, "functionArn": f"{api.arn}/functions/{function_id}",
        "name": name, "dataSourceName": source}
    if body.get("description") is not None:
        function["description"] = body["description"]
    _runtime_fields(body, function)
    if "runtime" not in function:
        function["functionVersion"] = body.get("functionVersion") or VTL_VERSION
    if body.get("maxBatchSize") is not None:
        function["maxBatchSize"] = int(body["maxBatchSize"])
    return function


def create_function(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    from .configuration import new_id

    function_id = new_id()
    api.functions[function_id] = _check_function(api, body, function_id)
    return {"functionConfiguration": api.functions[function_id]}


def _function(api: ApiConfig, function_id: str) -> dict[str, Any]:
    found = api.functions.get(function_id)
    if found is None:
        raise not_found(f"No function found with id {function_id}.")
    return found


def get_function(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    return {"functionConfiguration": _function(api, params["id"])}


def update_function(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    _function(api, params["id"])
    api.functions[params["id"]] = _check_function(api, body, params["id"])
    return {"functionConfiguration": api.functions[params["id"]]}


def delete_function(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    _function(api, params["id"])
    users = [f"{t}.{f}" for (t, f), r in api.resolvers.items()
             if params["id"] in (r.get("pipelineConfig") or {}).get("functions", [])]
    if users:
        raise ManagementError("ConcurrentModificationException", 409,
                              f"Function {params['id']} is used by the resolvers "
                              f"{', '.join(users)}: take it out of their pipelines first.")
    del api.functions[params["id"]]
    return {}


def list_functions(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    return {"functions": list(api.functions.values())}


def list_resolvers_by_function(api: ApiConfig, params: dict[str, str],
                               body: dict[str, Any]) -> Any:
    _function(api, params["id"])
    return {"resolvers": [r for r in api.resolvers.values()
                          if params["id"] in (r.get("pipelineConfig") or {}).get("functions",
                                                                                  [])]}


# ---------------------------------------------------------------------- resolvers
def _schema_field(api: ApiConfig, type_name: str, field_name: str) -> None:
    """The type and field must be in the API's schema."""
    from .schema import schema_of

    schema = schema_of(api.api_id)
    if schema is None:
        raise not_found(f"No schema for API {api.api_id}: start_schema_creation first.")
    graphql_type = schema.get_type(type_name)
    if graphql_type is None:
        raise not_found(f"No type {type_name} found in the schema.")
    fields = getattr(graphql_type, "fields", None) or {}
    if field_name not in fields:
        raise not_found(f"No field named {field_name} found on type {type_name}.")


def _check_resolver(api: ApiConfig, type_name: str, field_name: str,
                    body: dict[str, Any]) -> dict[str, Any]:
    _schema_field(api, type_name, field_name)
    kind = body.get("kind") or "UNIT"
    resolver: dict[str, Any] = {
        "typeName": type_name, "fieldName": field_name,
        "resolverArn": f"{api.arn}/types/{type_name}/resolvers/{field_name}", "kind": kind}
    if kind == "UNIT":
        source_name = body.get("dataSourceName")
        if not source_name:
            raise bad_request("A UNIT resolver needs a dataSourceName.")
        source = _data_source(api, str(source_name))
        resolver["dataSourceName"] = source_name
    elif kind == "PIPELINE":
        functions = list((body.get("pipelineConfig") or {}).get("functions") or [])
        for function_id in functions:
            _function(api, function_id)
        resolver["pipelineConfig"] = {"functions": functions}
        source = None
    else:
        raise bad_request(f"Invalid resolver kind {kind!r}: UNIT or PIPELINE.")
    _runtime_fields(body, resolver)
    if kind == "UNIT" and "runtime" not in resolver and source is not None \
            and source["type"] != "AWS_LAMBDA" and "requestMappingTemplate" not in resolver:
        raise bad_request("A resolver without a request mapping template or code is a direct "
                          "Lambda resolver: its data source must be of type AWS_LAMBDA.")
    if kind == "PIPELINE" and "runtime" not in resolver and (
            "requestMappingTemplate" in resolver or "responseMappingTemplate" in resolver):
        resolver.setdefault("requestMappingTemplate", "{}")
        resolver.setdefault("responseMappingTemplate", "$util.toJson($ctx.prev.result)")
    for key in ("cachingConfig", "syncConfig", "metricsConfig"):
        if body.get(key) is not None:
            resolver[key] = body[key]
    if body.get("maxBatchSize") is not None:
        resolver["maxBatchSize"] = int(body["maxBatchSize"])
    return resolver


def create_resolver(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    type_name, field_name = params["type"], str(body.get("fieldName", ""))
    if (type_name, field_name) in api.resolvers:
        raise bad_request(f"Only one resolver is allowed per field: {type_name}.{field_name} "
                          "has one (update_resolver changes it).")
    api.resolvers[(type_name, field_name)] = _check_resolver(api, type_name, field_name, body)
    return {"resolver": api.resolvers[(type_name, field_name)]}


def _resolver(api: ApiConfig, type_name: str, field_name: str) -> dict[str, Any]:
    found = api.resolvers.get((type_name, field_name))
    if found is None:
        raise not_found(f"No resolver found for {type_name}.{field_name}.")
    return found


def get_resolver(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    return {"resolver": _resolver(api, params["type"], params["field"])}


def update_resolver(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    key = (params["type"], params["field"])
    _resolver(api, *key)
    api.resolvers[key] = _check_resolver(api, *key, body)
    return {"resolver": api.resolvers[key]}


def delete_resolver(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    _resolver(api, params["type"], params["field"])
    del api.resolvers[(params["type"], params["field"])]
    return {}


def list_resolvers(api: ApiConfig, params: dict[str, str], body: dict[str, Any]) -> Any:
    return {"resolvers": [r for (t, _), r in api.resolvers.items() if t == params["type"]]}


Handler = Callable[[ApiConfig, dict[str, str], dict[str, Any]], Any]
_HANDLERS: dict[tuple[str, str], Handler] = {
    ("datasources", "POST"): create_data_source, ("datasources", "GET"): list_data_sources,
    ("datasource", "GET"): get_data_source, ("datasource", "POST"): update_data_source,
    ("datasource", "DELETE"): delete_data_source,
    ("functions", "POST"): create_function, ("functions", "GET"): list_functions,
    ("function", "GET"): get_function, ("function", "POST"): update_function,
    ("function", "DELETE"): delete_function,
    ("function_resolvers", "GET"): list_resolvers_by_function,
    ("resolvers", "POST"): create_resolver, ("resolvers", "GET"): list_resolvers,
    ("resolver", "GET"): get_resolver, ("resolver", "POST"): update_resolver,
    ("resolver", "DELETE"): delete_resolver,
}
