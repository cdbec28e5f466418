"""AppSync's VTL resolver mapping templates on the sandbox's one Velocity engine
(``sandbox/apigateway/templates.py``, shared with API Gateway), with AppSync's ``$context``
(``$ctx``) and ``$util`` ("Resolver mapping template context reference" and "utility
reference", AppSync Developer Guide).

``$util``: ``toJson``, ``parseJson``, ``autoId``, ``error``, ``appendError``, ``unauthorized``,
``isNull``, ``isNullOrEmpty``, ``isNullOrBlank``, ``defaultIfNull``, ``defaultIfNullOrEmpty``,
``isString``, ``isNumber``, ``isBoolean``, ``isList``, ``isMap``, ``qr``, ``quiet``,
``escapeJavaScript``, ``urlEncode``, ``urlDecode``, ``base64Encode``, ``base64Decode``,
``$util.time`` (``nowISO8601``, ``nowEpochSeconds``, ``nowEpochMilliSeconds``,
``nowFormatted``) and ``$util.dynamodb`` (``toDynamoDB``, ``toDynamoDBJson``, ``toString``,
``toStringJson``, ``toNumber``, ``toNumberJson``, ``toMapValues``, ``toMapValuesJson``,
``toList``, ``toListJson``), and the ``#return`` directive. Not modelled:
``$util.transform``/``$util.rds``.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from decimal import Decimal
from typing import Any

from ..apigateway.templates import (
    Call,
    Literal,
    Namespace,
    Node,
    Reference,
    TemplateError,
    Util,
    _Parser,
    _run,
)


class EarlyReturn(Exception):  # noqa: N818  (AppSync's names: runtime.earlyReturn, #return)
    """``runtime.earlyReturn(value)`` or ``#return(value)`` in a request: the data source (and
    the response handler) are skipped, ``value`` is the result."""

    def __init__(self, value: Any):
        super().__init__("early return")
        self.value = value


class _Returned(Exception):
    def __init__(self, value: Any):
        super().__init__("#return")
        self.value = value


class _Returner(Namespace):
    def fire(self, value: Any = None) -> None:
        raise _Returned(value)


_RETURNER = _Returner()


class _AppSyncParser(_Parser):
    """The Velocity parser with AppSync's ``#return`` and ``#return(data)`` ("Resolver
    mapping template programming guide": it returns from the template at once)."""

    DIRECTIVES = (*_Parser.DIRECTIVES, "return")

    def parse_directive(self, word: str) -> Node:
        if word != "return":
            return super().parse_directive(word)
        arguments: tuple[Any, ...] = ()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            arguments = (self.parse_expression(),)
            self.skip_space()
            self.expect(")")
        return Reference(Call(Literal(_RETURNER), "fire", arguments), True, "#return")


class ResolverError(Exception):
    """``$util.error`` / ``util.error``: the field resolves to null with this error."""

    def __init__(self, message: str, error_type: str | None = None, data: Any = None,
                 info: Any = None):
        super().__init__(message)
        self.message, self.error_type, self.data, self.info = message, error_type, data, info

    def as_error(self) -> dict[str, Any]:
        return {"message": self.message, "errorType": self.error_type, "data": self.data,
                "errorInfo": self.info}


def typed(value: Any) -> dict[str, Any]:
    """A value as a DynamoDB attribute value (``$util.dynamodb.toDynamoDB``)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": {k: typed(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [typed(v) for v in value]}
    return {"S": str(value)}


def untyped(value: Any) -> Any:
    """A DynamoDB attribute value as plain JSON, as AppSync gives ``$ctx.result``."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    (kind, inner), = value.items()
    if kind == "S" or kind == "B":
        return inner
    if kind == "N":
        number = Decimal(inner)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return bool(inner)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: untyped(v) for k, v in inner.items()}
    if kind == "L":
        return [untyped(v) for v in inner]
    if kind in ("SS", "BS"):
        return list(inner)
    if kind == "NS":
        return [untyped({"N": n}) for n in inner]
    return value


def item(values: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {k: untyped(v) for k, v in values.items()}


class TimeUtil(Namespace):
    def nowISO8601(self) -> str:  # noqa: N802  (AppSync's names)
        now = time.time()
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"

    def nowEpochSeconds(self) -> int:  # noqa: N802
        return int(time.time())

    def nowEpochMilliSeconds(self) -> int:  # noqa: N802
        return int(time.time() * 1000)

    def nowFormatted(self, pattern: str) -> str:  # noqa: N802
        java = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
        out = str(pattern)
        for key, value in java.items():
            out = out.replace(key, value)
        return time.strftime(out, time.gmtime())


class DynamoDBUtil(Namespace):
    def toDynamoDB(self, value: Any) -> Any:  # noqa: N802
        return typed(value)

    def toDynamoDBJson(self, value: Any) -> str:  # noqa: N802
        return json.dumps(typed(value))

    def toString(self, value: Any) -> Any:  # noqa: N802
        return {"S": str(value)}

    def toStringJson(self, value: Any) -> str:  # noqa: N802
        return json.dumps({"S": str(value)})

    def toNumber(self, value: Any) -> Any:  # noqa: N802
        return {"N": str(value)}

    def toNumberJson(self, value: Any) -> str:  # noqa: N802
        return json.dumps({"N": str(value)})

    def toMapValues(self, value: Any) -> Any:  # noqa: N802
        return {k: typed(v) for k, v in (value or {}).items()}

    def toMapValuesJson(self, value: Any) -> str:  # noqa: N802
        return json.dumps(self.toMapValues(value))

    def toList(self, value: Any) -> Any:  # noqa: N802
        return {"L": [typed(v) for v in value or []]}

    def toListJson(self, value: Any) -> str:  # noqa: N802
        return json.dumps(self.toList(value))


class AppSyncUtil(Namespace):
    """``$util`` in an AppSync template."""

    def __init__(self, errors: list[dict[str, Any]]):
        self._errors = errors
        self.time = TimeUtil()
        self.dynamodb = DynamoDBUtil()

    def toJson(self, value: Any) -> str:  # noqa: N802
        return json.dumps(value)

    def parseJson(self, value: Any) -> Any:  # noqa: N802
        return json.loads(str(value))

    def autoId(self) -> str:  # noqa: N802
        return str(uuid.uuid4())

    def error(self, message: Any, error_type: Any = None, data: Any = None,
              info: Any = None) -> None:
        raise ResolverError(str(message), None if error_type is None else str(error_type),
                            data, info)

    def appendError(self, message: Any, error_type: Any = None, data: Any = None,  # noqa: N802
                    info: Any = None) -> None:
        self._errors.append({"message": str(message), "errorType": error_type, "data": data,
                             "errorInfo": info})

    def unauthorized(self) -> None:
        raise ResolverError("Unauthorized", "Unauthorized")

    def isNull(self, value: Any) -> bool:  # noqa: N802
        return value is None

    def isNullOrEmpty(self, value: Any) -> bool:  # noqa: N802
        return value is None or value == ""

    def isNullOrBlank(self, value: Any) -> bool:  # noqa: N802
        return value is None or (isinstance(value, str) and not value.strip())

    def defaultIfNull(self, value: Any, default: Any) -> Any:  # noqa: N802
        return default if value is None else value

    def defaultIfNullOrEmpty(self, value: Any, default: Any) -> Any:  # noqa: N802
        return default if value is None or value == "" else value

    def isString(self, value: Any) -> bool:  # noqa: N802
        return isinstance(value, str)

    def isNumber(self, value: Any) -> bool:  # noqa: N802
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def isBoolean(self, value: Any) -> bool:  # noqa: N802
        return isinstance(value, bool)

    def isList(self, value: Any) -> bool:  # noqa: N802
        return isinstance(value, list)

    def isMap(self, value: Any) -> bool:  # noqa: N802
        return isinstance(value, dict)

    def qr(self, *values: Any) -> str:
        return ""

    def quiet(self, *values: Any) -> str:
        return ""

    escapeJavaScript = staticmethod(Util.escapeJavaScript)  # noqa: N815
    urlEncode = staticmethod(Util.urlEncode)  # noqa: N815
    urlDecode = staticmethod(Util.urlDecode)  # noqa: N815
    base64Encode = staticmethod(Util.base64Encode)  # noqa: N815
    base64Decode = staticmethod(Util.base64Decode)  # noqa: N815


@functools.lru_cache(maxsize=256)
def _parse(template: str) -> Any:
    """A template's syntax tree (the engine's, sandbox/apigateway/templates.py), parsed once:
    the tree is immutable, each run has its own scope."""
    nodes, _ = _AppSyncParser(template).parse_block()
    return nodes


def run_template(template: str, context: dict[str, Any], errors: list[dict[str, Any]], *,
                 request: bool = False) -> Any:
    """Render ``template`` with ``$context``/``$ctx`` and ``$util``; the JSON it writes, parsed.
    A template whose text is not JSON fails the field, as AppSync's does. ``#return(data)``
    ends it with ``data``: from a request template, as an EarlyReturn."""
    util = AppSyncUtil(errors)
    try:
        out: list[str] = []
        _run(_parse(template), {"context": context, "ctx": context, "util": util,
                                "utils": util}, out)
        text = "".join(out)
    except TemplateError as error:
        cause = error.__cause__
        if isinstance(cause, _Returned):
            if request:
                raise EarlyReturn(cause.value) from None
            return cause.value
        if isinstance(cause, ResolverError):
            raise cause from None
        raise ResolverError(str(error), "MappingTemplate") from None
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        raise ResolverError(f"Unable to parse the JSON document: the template rendered "
                            f"{text.strip()[:200]!r}, which is not JSON.",
                            "MappingTemplate") from None
