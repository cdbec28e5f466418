"""A GraphQL request executed as AppSync executes it.

graphql-core parses, validates and executes the operation against the API's schema; each field
that has a resolver runs it (unit or pipeline; VTL templates or APPSYNC_JS code; direct Lambda
resolvers), every other field reads its parent's value. The answer has AppSync's shape
("Error handling", AppSync Developer Guide; the AppSync team's account of its HTTP behaviour in
graphql/graphql-over-http#81): ``{"data": ..., "errors": [...]}`` with HTTP 200 for validation
and resolver errors, each error with ``path``, ``locations``, ``message`` and, for a resolver's
error, ``errorType``, ``data`` and ``errorInfo``; a field whose resolver failed is null and its
siblings keep their values (partial data). An empty body or one that is not a GraphQL request
is HTTP 400 ``MalformedHttpRequestException``.

Subscriptions are not served (AppSync delivers them over its real-time WebSocket endpoint,
which the sandbox does not model): a subscription operation is answered with an error that
says so.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationType, execute, parse, print_ast, validate
from graphql.execution import ExecutionResult
from graphql.language import DocumentNode, FieldNode, OperationDefinitionNode

from . import auth as authorization
from .datasources import invoke
from .management import ApiConfig
from .vtl import ResolverError, run_template

Answer = tuple[int, dict[str, Any]]


def malformed(message: str) -> Answer:
    return 400, {"errors": [{"message": message, "errorType": "MalformedHttpRequestException"}]}


def _location(error_nodes: Any, source: Any) -> list[dict[str, Any]] | None:
    locations = []
    for node in error_nodes or []:
        if node.loc is not None:
            from graphql.language import get_location

            found = get_location(node.loc.source, node.loc.start)
            locations.append({"line": found.line, "column": found.column,
                              "sourceName": None})
    return locations or None


# graphql-core's validation messages, in AppSync's wording (graphql-java's: "Validation error
# of type <Kind>: ... @ '<field path>'", as AppSync answers them)
_VALIDATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Cannot query field '(?P<field>[^']+)' on type '(?P<type>[^']+)'\."),
     "FieldUndefined: Field '{field}' in type '{type}' is undefined"),
    (re.compile(r"^Field '(?P<field>[^']+)' of type '(?P<type>[^']+)' must have a selection"),
     "SubSelectionRequired: Sub selection required for type {type} of field {field}"),
    (re.compile(r"^Field '(?P<field>[^']+)' must not have a selection since type "
                r"'(?P<type>[^']+)'"),
     "SubSelectionNotAllowed: Sub selection not allowed on leaf type {type} of field "
     "{field}"),
    (re.compile(r"^Argument '[^.']+\.[^(']+\((?P<argument>[^:']+):\)' of type '[^']+' is "
                r"required, but it was not provided\."),
     "MissingFieldArgument: Missing field argument {argument}"),
    (re.compile(r"^Unknown type '(?P<type>[^']+)'\."), "UnknownType: Unknown type {type}"),
]


def _field_paths(document: Any) -> dict[int, str]:
    """Each field node of the document (by id) with its path, ``parent/child``, as AppSync
    names a field in a validation error."""
    paths: dict[int, str] = {}

    def walk(selection_set: Any, prefix: str) -> None:
        for node in getattr(selection_set, "selections", None) or []:
            if isinstance(node, FieldNode):
                path = prefix + node.name.value
                paths[id(node)] = path
                if node.selection_set is not None:  # a leaf's selection names its field
                    paths[id(node.selection_set)] = path
                walk(node.selection_set, path + "/")
            else:  # fragments: their fields continue the path
                walk(getattr(node, "selection_set", None), prefix)

    for definition in document.definitions:
        walk(getattr(definition, "selection_set", None), "")
    return paths


def _validation_message(error: GraphQLError, paths: dict[int, str]) -> str:
    for pattern, wording in _VALIDATIONS:
        matched = pattern.match(error.message)
        if matched:
            text = "Validation error of type " + wording.format(**matched.groupdict())
            field = next((paths[id(n)] for n in error.nodes or [] if id(n) in paths), None)
            return f"{text} @ '{field}'" if field else text
    return f"Validation error: {error.message}"


class Execution:
    """One request: its API, authorization, headers, and the errors resolvers append."""

    def __init__(self, api: Any, config: ApiConfig, schema: GraphQLSchema,
                 auth: authorization.Auth, headers: dict[str, str], request_id: str,
                 variables: dict[str, Any], domain: str | None):
        self.api, self.config, self.schema, self.auth = api, config, schema, auth
        self.headers, self.request_id, self.variables = headers, request_id, variables
        self.domain = domain
        self.appended: list[dict[str, Any]] = []
        self.default_mode = str(api.authentication_type)
        self.several_modes = len(authorization.modes(api)) > 1

    # ------------------------------------------------------------------ the field resolver
    def resolve(self, source: Any, info: Any, **args: Any) -> Any:
        type_name, field_name = info.parent_type.name, info.field_name
        self._authorize(type_name, field_name, info)
        resolver = self.config.resolvers.get((type_name, field_name))
        if resolver is None:
            if isinstance(source, dict):
                return source.get(info.field_name)
            return getattr(source, info.field_name, None)
        errors: list[dict[str, Any]] = []
        try:
            return self._run(resolver, source, info, args, errors)
        finally:
            for error in errors:
                self.appended.append({**_with_path(error, info)})

    def _authorize(self, type_name: str, field_name: str, info: Any) -> None:
        denied = ResolverError(f"Not Authorized to access {field_name} on type {type_name}",
                               "Unauthorized")
        if self.several_modes and self.auth.mode not in authorization.field_modes(
                self.schema, type_name, field_name, self.default_mode):
            raise denied
        if f"{type_name}.{field_name}" in self.auth.denied_fields:
            raise denied
        if self.auth.mode == "AWS_IAM" and len(info.path.as_list()) == 1 and \
                not authorization.iam_allows(self.auth, self.api, type_name, field_name):
            raise denied

    # ------------------------------------------------------------------ running resolvers
    def _context(self, source: Any, info: Any, args: dict[str, Any]) -> dict[str, Any]:
        selection = _selection(info)
        return {"arguments": args, "args": args, "source": source,
                "identity": self.auth.identity, "stash": {}, "prev": None,
                "info": {"fieldName": info.field_name,
                         "parentTypeName": info.parent_type.name,
                         "variables": self.variables,
                         "selectionSetList": selection,
                         "selectionSetGraphQL": _selection_text(info)},
                "request": {"headers": self.headers, "domainName": self.domain},
                "result": None, "error": None}

    def _run(self, resolver: dict[str, Any], source: Any, info: Any, args: dict[str, Any],
             errors: list[dict[str, Any]]) -> Any:
        context = self._context(source, info, args)
        if resolver.get("kind") == "PIPELINE":
            return self._pipeline(resolver, context, errors)
        data_source = self.config.data_sources.get(str(resolver.get("dataSourceName")))
        if data_source is None:
            raise ResolverError(f"The data source {resolver.get('dataSourceName')} of "
                                f"{info.parent_type.name}.{info.field_name} no longer exists.",
                                "DataSourceNotFound")
        if "runtime" not in resolver and "requestMappingTemplate" not in resolver:
            return self._direct_lambda(data_source, context)
        return self._step(resolver, data_source, context, errors)

    def _direct_lambda(self, data_source: dict[str, Any], context: dict[str, Any]) -> Any:
        """A direct Lambda resolver: the function receives AppSync's context object and its
        answer is the field's value ("Direct Lambda resolvers")."""
        event = {key: context[key] for key in ("arguments", "identity", "source", "request",
                                                "prev", "info", "stash")}
        return invoke(data_source, {"operation": "Invoke", "payload": event},
                      api_arn=self.api.arn, region=self.api.region,
                      account=self.api.arn.split(":")[4], parent=self.request_id)

    def _step(self, code_holder: dict[str, Any], data_source: dict[str, Any],
              context: dict[str, Any], errors: list[dict[str, Any]]) -> Any:
        """One data source call between a request and a response handler (a unit resolver, or
        one pipeline function)."""
        from .js import EarlyReturn, run_handler

        is_js = "runtime" in code_holder
        try:
            if is_js:
                request = run_handler(code_holder["code"], "request", context, errors)
            else:
                request = run_template(code_holder.get("requestMappingTemplate", "{}"),
                                       context, errors, request=True)
        except EarlyReturn as early:
            return early.value
        try:
            context["result"] = invoke(data_source, request, api_arn=self.api.arn,
                                       region=self.api.region,
                                       account=self.api.arn.split(":")[4],
                                       parent=self.request_id)
        except ResolverError as error:  # the response handler decides what to do with it
            context["result"] = None
            context["error"] = {"message": error.message, "type": error.error_type}
        if is_js:
            return run_handler(code_holder["code"], "response", context, errors)
        template = code_holder.get("responseMappingTemplate")
        if template is None:
            if context["error"]:
                raise ResolverError(context["error"]["message"], context["error"]["type"])
            return context["result"]
        return run_template(template, context, errors)

    def _pipeline(self, resolver: dict[str, Any], context: dict[str, Any],
                  errors: list[dict[str, Any]]) -> Any:
        from .js import EarlyReturn, run_handler

        is_js = "runtime" in resolver
        try:
            if is_js:
                before = run_handler(resolver["code"], "request", context, errors)
            else:
                before = run_template(resolver.get("requestMappingTemplate", "{}"), context,
                                      errors, request=True)
        except EarlyReturn as early:
            return early.value
        context["prev"] = {"result": before}
        for function_id in (resolver.get("pipelineConfig") or {}).get("functions", []):
            function = self.config.functions.get(function_id)
            if function is None:
                raise ResolverError(f"The pipeline function {function_id} no longer exists.",
                                    "FunctionNotFound")
            data_source = self.config.data_sources.get(function["dataSourceName"])
            if data_source is None:
                raise ResolverError(f"The data source {function['dataSourceName']} no "
                                    "longer exists.", "DataSourceNotFound")
            context["result"], context["error"] = None, None
            result = self._step(function, data_source, context, errors)
            context["prev"] = {"result": result}
        context["result"], context["error"] = context["prev"]["result"], None
        if is_js:
            return run_handler(resolver["code"], "response", context, errors)
        return run_template(resolver.get("responseMappingTemplate",
                                         "$util.toJson($ctx.prev.result)"), context, errors)


def _with_path(error: dict[str, Any], info: Any) -> dict[str, Any]:
    return {"path": info.path.as_list(), "data": error.get("data"),
            "errorType": error.get("errorType"), "errorInfo": error.get("errorInfo"),
            "locations": _location(info.field_nodes, None), "message": error["message"]}


def _selection(info: Any) -> list[str]:
    """``selectionSetList``: the sub-fields selected below this one, nested as ``a/b``."""
    out: list[str] = []

    def walk(selection_set: Any, prefix: str) -> None:
        for node in getattr(selection_set, "selections", None) or []:
            if isinstance(node, FieldNode):
                name = prefix + node.name.value
                out.append(name)
                if node.selection_set:
                    walk(node.selection_set, name + "/")

    for node in info.field_nodes:
        walk(node.selection_set, "")
    return out


def _selection_text(info: Any) -> str:
    node = info.field_nodes[0]
    return print_ast(node.selection_set) if node.selection_set else ""


def _format(result: ExecutionResult, execution: Execution) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    for error in result.errors or []:
        original = error.original_error
        locations = _location(error.nodes, None)
        if isinstance(original, ResolverError):  # in AppSync's order (aws-appsync-community#209)
            errors.append({"path": error.path, "data": original.data,
                           "errorType": original.error_type, "errorInfo": original.info,
                           "locations": locations, "message": original.message})
        else:
            errors.append({"path": error.path, "locations": locations,
                           "message": error.message})
    errors.extend(execution.appended)
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = errors
    return body


_documents: dict[tuple[int, str],
                 tuple[GraphQLSchema, DocumentNode, list[GraphQLError]]] = {}
_documents_lock = threading.Lock()


def _parsed(schema: GraphQLSchema, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
    """The query parsed and validated against the schema, remembered (a client sends the same
    few queries again and again; a schema's identity changes when its definition does)."""
    key = (id(schema), query)
    with _documents_lock:
        found = _documents.get(key)
    if found is None or found[0] is not schema:  # (an id is reused once its schema is gone)
        document = parse(query)
        found = (schema, document, list(validate(schema, document)))
        with _documents_lock:
            if len(_documents) >= 512:
                _documents.pop(next(iter(_documents)))
            _documents[key] = found
    return found[1], found[2]


def run(api: Any, config: ApiConfig, schema: GraphQLSchema, auth: authorization.Auth,
        body: dict[str, Any], headers: dict[str, str], domain: str | None) -> Answer:
    """The HTTP status and body of one GraphQL request (already authenticated)."""
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        return malformed("Unable to parse GraphQL query.")
    variables = body.get("variables") or {}
    if isinstance(variables, str):
        try:
            variables = json.loads(variables)
        except ValueError:
            return malformed("Unable to parse the variables as JSON.")
    try:
        document, problems = _parsed(schema, query)
    except GraphQLError as error:
        return 200, {"data": None, "errors": [{
            "path": None, "locations": _location(error.nodes, None) or (
                [{"line": error.locations[0].line, "column": error.locations[0].column,
                  "sourceName": None}] if error.locations else None),
            "message": f"Invalid syntax: {error.message}", "errorType": "InvalidSyntax"}]}
    if problems:
        paths = _field_paths(document)
        return 200, {"data": None, "errors": [
            {"path": None, "locations": [{"line": loc.line, "column": loc.column,
                                          "sourceName": None} for loc in p.locations or []],
             "message": _validation_message(p, paths)} for p in problems]}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = body.get("operationName")
    chosen = next((o for o in operations if name is None or
                   (o.name is not None and o.name.value == name)), None)
    if chosen is not None and chosen.operation == OperationType.SUBSCRIPTION:
        return 200, {"data": None, "errors": [{
            "path": None, "locations": None, "errorType": "Sandbox.UnsupportedOperation",
            "message": "Subscriptions are not modelled by the sandbox: AppSync delivers them "
                       "over its real-time WebSocket endpoint, which the sandbox does not "
                       "serve. Run the mutation and query for its result instead."}]}
    execution = Execution(api, config, schema, auth, headers, str(uuid.uuid4()),
                          variables if isinstance(variables, dict) else {}, domain)
    result = execute(schema, document, variable_values=execution.variables,
                     operation_name=name, field_resolver=execution.resolve)
    if hasattr(result, "__await__"):  # never: every resolver is synchronous
        raise RuntimeError("graphql-core returned an awaitable")
    assert isinstance(result, ExecutionResult)
    return 200, _format(result, execution)
