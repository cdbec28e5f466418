"""A GraphQL API's schema, as AppSync reads it: the learner's SDL plus AppSync's scalars and
directives, built by graphql-core.

AppSync defines the scalars ``AWSDate``, ``AWSTime``, ``AWSDateTime``, ``AWSTimestamp``,
``AWSEmail``, ``AWSJSON``, ``AWSURL``, ``AWSPhone`` and ``AWSIPAddress`` ("Scalar types in
AWS AppSync", AppSync Developer Guide) and the authorization directives ``@aws_api_key``,
``@aws_iam``, ``@aws_oidc``, ``@aws_lambda``, ``@aws_cognito_user_pools`` and ``@aws_auth``,
plus ``@aws_subscribe`` ("Configuring authorization and authentication"; "Real-time data").
A schema that does not parse or does not build is ``FAILED`` in
``get_schema_creation_status``, with graphql-core's account of why in ``details``. moto only
parsed the document, so an undefined type was a ``SUCCESS``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from datetime import datetime
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema, build_schema
from graphql.language import ast

PRELUDE = """
scalar AWSDate
scalar AWSTime
scalar AWSDateTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSJSON
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
directive @aws_api_key on FIELD_DEFINITION | OBJECT
directive @aws_iam on FIELD_DEFINITION | OBJECT
directive @aws_oidc on FIELD_DEFINITION | OBJECT
directive @aws_lambda on FIELD_DEFINITION | OBJECT
directive @aws_cognito_user_pools(cognito_groups: [String]) on FIELD_DEFINITION | OBJECT
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
"""
AUTH_DIRECTIVES = {"aws_api_key": "API_KEY", "aws_iam": "AWS_IAM",
                   "aws_oidc": "OPENID_CONNECT", "aws_lambda": "AWS_LAMBDA",
                   "aws_cognito_user_pools": "AMAZON_COGNITO_USER_POOLS",
                   "aws_auth": "AMAZON_COGNITO_USER_POOLS"}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{3,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
                       r"(Z|[+-]\d{2}:\d{2}(:\d{2})?)$")


def _checked(name: str, test: Any) -> Any:
    def parse(value: Any) -> Any:
        if not isinstance(value, str) or not test(value):
            raise GraphQLError(f"Variable has an invalid value for {name}: {value!r}")
        return value

    return parse


def _url(value: str) -> bool:
    return re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$", value) is not None


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
        return True
    except ValueError:
        return False


def _datetime(value: str) -> bool:
    if not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _timestamp(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"Variable has an invalid value for AWSTimestamp: {value!r} "
                           "(seconds since the epoch, an integer)")
    return value


def _json_in(value: Any) -> Any:
    if not isinstance(value, str):
        raise GraphQLError("Variable has an invalid value for AWSJSON: a JSON string is "
                           "expected, such as \"{\\\"a\\\": 1}\"")
    try:
        return json.loads(value)
    except ValueError:
        raise GraphQLError(f"Unable to parse {value!r} as valid JSON.") from None


def _json_out(value: Any) -> Any:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _literal(parse: Any) -> Any:
    def parse_literal(node: Any, _variables: Any = None) -> Any:
        if isinstance(node, ast.IntValueNode):
            return parse(int(node.value))
        if isinstance(node, (ast.StringValueNode, ast.EnumValueNode)):
            return parse(node.value)
        raise GraphQLError(f"Unsupported literal {type(node).__name__}")

    return parse_literal


SCALAR_PARSERS: dict[str, Any] = {
    "AWSDate": _checked("AWSDate", _DATE.match),
    "AWSTime": _checked("AWSTime", _TIME.match),
    "AWSDateTime": _checked("AWSDateTime", _datetime),
    "AWSTimestamp": _timestamp,
    "AWSEmail": _checked("AWSEmail", _EMAIL.match),
    "AWSJSON": _json_in,
    "AWSURL": _checked("AWSURL", _url),
    "AWSPhone": _checked("AWSPhone", _PHONE.match),
    "AWSIPAddress": _checked("AWSIPAddress", _ip),
}


def build(definition: str) -> GraphQLSchema:
    """The executable schema; raises GraphQLError (a syntax error, an unknown type, ...)."""
    schema = build_schema(definition + PRELUDE)
    for name, parse in SCALAR_PARSERS.items():
        scalar = schema.get_type(name)
        if isinstance(scalar, GraphQLScalarType):
            # graphql-core 3.3 coerces with coerce_input_value/coerce_output_value; 3.2's
            # names are kept in step
            scalar.parse_value = parse  # type: ignore[method-assign]
            scalar.coerce_input_value = parse
            scalar.parse_literal = _literal(parse)  # type: ignore[method-assign]
            if name == "AWSJSON":
                scalar.serialize = _json_out  # type: ignore[method-assign]
                scalar.coerce_output_value = _json_out
    if schema.query_type is None:
        raise GraphQLError("There is no top level schema object defined: a schema needs a "
                           "Query type (type Query { ... }).")
    return schema


_cache: dict[str, GraphQLSchema] = {}
_lock = threading.Lock()


def schema_of(api_id: str) -> GraphQLSchema | None:
    """The API's built schema, or None when it has none that built."""
    from .management import find_api

    api = find_api(api_id)
    holder = None if api is None else api.graphql_schema
    if holder is None or holder.status != "SUCCESS":
        return None
    with _lock:
        found = _cache.get(holder.definition)
        if found is None:
            found = _cache[holder.definition] = build(holder.definition)
            if len(_cache) > 64:  # a learner iterating on a schema: keep the recent ones
                _cache.pop(next(iter(_cache)))
        return found


# ---------------------------------------------------------------------- the seam
def parse_graphql_definition(self: Any) -> None:
    """``GraphqlSchema._parse_graphql_definition``: the schema is built as AppSync builds it
    (with its scalars and directives); one that does not build is FAILED with the reason."""
    from graphql.language.ast import ObjectTypeDefinitionNode

    try:
        build(self.definition)
        from graphql import parse

        self.types = [d for d in parse(self.definition).definitions
                      if isinstance(d, ObjectTypeDefinitionNode)]
        self.status, self.parse_error = "SUCCESS", None
    except GraphQLError as error:
        self.status = "FAILED"
        self.parse_error = f"Failed to parse schema document - {error.message}"
    except TypeError as error:  # graphql-core's own: a type used before it is defined
        self.status = "FAILED"
        self.parse_error = f"Failed to parse schema document - {error}"
