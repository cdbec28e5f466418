"""Mapping templates: the part of Velocity (VTL) and of API Gateway's ``$input``, ``$context``,
``$stageVariables`` and ``$util`` that request and response templates use.

Supported: ``$ref``, ``${ref}``, ``$!ref``, property and method chains, ``#set``, ``#if`` /
``#elseif`` / ``#else`` / ``#end``, ``#foreach`` (with ``$foreach.hasNext``), ``##`` and
``#* *#`` comments, string, number, list and map literals, and the operators ``== != < <= > >=
&& || ! and or not + -``. A reference to nothing renders as nothing, as in API Gateway.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from ..errors import SandboxError

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class TemplateError(SandboxError):
    """The template cannot be parsed or run (API Gateway answers 500 for it)."""


class Namespace:
    """An object whose public attributes and methods a template may use (AppSync's ``$util``
    and ``$context`` build on it, sandbox/appsync/vtl.py)."""


# ---------------------------------------------------------------------------------- $input, $util
class Input:
    def __init__(self, body: bytes, params: dict[str, dict[str, str]]):
        self._raw = body.decode("utf-8", "replace")
        self._params = params
        self._parsed: Any = None
        self._parsed_ok: bool | None = None

    @property
    def body(self) -> str:
        return self._raw

    def _document(self) -> Any:
        if self._parsed_ok is None:
            try:
                self._parsed = json.loads(self._raw) if self._raw.strip() else {}
                self._parsed_ok = True
            except ValueError:
                self._parsed, self._parsed_ok = self._raw, False
        return self._parsed

    def json(self, path: str = "$") -> str:
        return json.dumps(json_path(self._document(), path))

    def path(self, path: str = "$") -> Any:
        return json_path(self._document(), path)

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for kind in ("path", "querystring", "header"):
            values = self._params.get(kind, {})
            if name in values:
                return values[name]
            if kind == "header":
                for key, value in values.items():
                    if key.lower() == name.lower():
                        return value
        return ""


class Util:
    @staticmethod
    def escapeJavaScript(value: Any) -> str:  # noqa: N802  (AWS's name)
        text = json.dumps(_text(value))[1:-1]
        return text.replace("'", "\\'")

    @staticmethod
    def parseJson(value: Any) -> Any:  # noqa: N802
        return json.loads(_text(value))

    @staticmethod
    def urlEncode(value: Any) -> str:  # noqa: N802
        return quote(_text(value), safe="")

    @staticmethod
    def urlDecode(value: Any) -> str:  # noqa: N802
        return unquote(_text(value))

    @staticmethod
    def base64Encode(value: Any) -> str:  # noqa: N802
        return base64.b64encode(_text(value).encode()).decode()

    @staticmethod
    def base64Decode(value: Any) -> str:  # noqa: N802
        return base64.b64decode(_text(value)).decode("utf-8", "replace")


def json_path(document: Any, path: str) -> Any:
    """The subset of JSONPath templates use: ``$``, ``$.a.b``, ``$['a']``, ``$.a[0]``,
    ``$.a[*].b``."""
    tokens = re.findall(r"\.([A-Za-z0-9_$-]+)|\[(\d+|\*|'[^']*'|\"[^\"]*\")\]|\.\*",
                        path.strip()[1:] if path.strip().startswith("$") else path)
    current = [document]
    many = False
    for name, bracket in tokens:
        key: Any = name or bracket.strip("'\"")
        if bracket == "*" or (not name and not bracket):
            many = True
            current = [v for c in current
                       for v in (c.values() if isinstance(c, dict) else c
                                 if isinstance(c, list) else [])]
            continue
        if bracket.isdigit():
            key = int(bracket)
        following = []
        for item in current:
            if isinstance(item, dict) and key in item:
                following.append(item[key])
            elif isinstance(item, list) and isinstance(key, int) and key < len(item):
                following.append(item[key])
        current = following
    if many:
        return current
    return current[0] if current else None


# ---------------------------------------------------------------------------------- the syntax tree
# What the template says: text, references and directives.
@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Reference:  # $name, $!name, ${name} in the text: its value rendered
    expression: Expression
    quiet: bool  # $!name (API Gateway renders a reference to nothing as nothing either way)
    source: str  # as written


@dataclass(frozen=True)
class Set:  # #set($target = value)
    target: Expression
    value: Expression


@dataclass(frozen=True)
class If:  # #if / #elseif / #else: the first branch whose condition holds (None: #else)
    branches: tuple[tuple[Expression | None, Block], ...]


@dataclass(frozen=True)
class Foreach:  # #foreach($variable in iterable) body #end
    variable: Expression
    iterable: Expression
    body: Block


@dataclass(frozen=True)
class Break:  # #break: leaves the innermost #foreach
    pass


# The expressions inside references and directives.
@dataclass(frozen=True)
class Literal:  # 'text', 12, 1.5, true, false, null
    value: Any


@dataclass(frozen=True)
class Variable:  # $name
    name: str


@dataclass(frozen=True)
class Interpolation:  # "text with $references": rendered as a template
    body: Block


@dataclass(frozen=True)
class ListLiteral:  # [a, b]
    items: tuple[Expression, ...]


@dataclass(frozen=True)
class MapLiteral:  # {key: value}
    pairs: tuple[tuple[Expression, Expression], ...]


@dataclass(frozen=True)
class Attribute:  # $owner.name
    owner: Expression
    name: str


@dataclass(frozen=True)
class Index:  # $owner[key]
    owner: Expression
    key: Expression


@dataclass(frozen=True)
class Call:  # $owner.name(arguments)
    owner: Expression
    name: str
    arguments: tuple[Expression, ...]


@dataclass(frozen=True)
class Not:  # !operand, not operand
    operand: Expression


@dataclass(frozen=True)
class Operation:  # left op right; "and" and "or" are kept as && and ||
    op: str
    left: Expression
    right: Expression


Node = Text | Reference | Set | If | Foreach | Break
Expression = (Literal | Variable | Interpolation | ListLiteral | MapLiteral | Attribute | Index
              | Call | Not | Operation)
Block = tuple[Node, ...]


# ---------------------------------------------------------------------------------- parsing
class _Parser:
    # the directives this parser knows (AppSync's adds #return, sandbox/appsync/vtl.py)
    DIRECTIVES: tuple[str, ...] = ("set", "if", "elseif", "else", "end", "foreach", "break")

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str) -> TemplateError:
        line = self.text.count("\n", 0, self.pos) + 1
        return TemplateError(f"Invalid mapping template, line {line}: {message}")

    # ------------------------------------------------------------------ template structure
    def parse_block(self, stops: tuple[str, ...] = ()) -> tuple[Block, str | None]:
        nodes: list[Node] = []
        text: list[str] = []

        def flush() -> None:
            if text:
                nodes.append(Text("".join(text)))
                text.clear()

        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                if self.text.startswith("##", self.pos):
                    end = self.text.find("\n", self.pos)
                    self.pos = len(self.text) if end < 0 else end + 1
                    continue
                if self.text.startswith("#*", self.pos):
                    end = self.text.find("*#", self.pos)
                    self.pos = len(self.text) if end < 0 else end + 2
                    continue
                directive = re.match(r"#\{?(" + "|".join(self.DIRECTIVES) + r")\}?",
                                     self.text[self.pos:])
                if directive:
                    word = directive.group(1)
                    if word in stops:
                        flush()
                        self.pos += directive.end()
                        return tuple(nodes), word
                    flush()
                    self.pos += directive.end()
                    nodes.append(self.parse_directive(word))
                    continue
            if c == "$" and self._reference_starts():
                flush()
                nodes.append(self.parse_reference_in_text())
                continue
            if c == "\\" and self.text.startswith(("\\$", "\\#"), self.pos):
                text.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            text.append(c)
            self.pos += 1
        flush()
        if stops:
            raise self.error("#end missing")
        return tuple(nodes), None

    def _reference_starts(self) -> bool:
        rest = self.text[self.pos + 1:self.pos + 3]
        return bool(rest) and (rest[0] == "{" or rest[0].isalpha() or rest[0] == "_"
                               or (rest[0] == "!" and len(rest) > 1
                                   and (rest[1] == "{" or rest[1].isalpha())))

    def parse_directive(self, word: str) -> Node:
        if word in ("else", "end", "elseif"):
            raise self.error(f"#{word} without #if")
        if word == "break":
            return Break()
        self.skip_space()
        self.expect("(")
        if word == "set":
            self.skip_space()
            target = self.parse_reference_expression()
            self.skip_space()
            self.expect("=")
            value = self.parse_expression()
            self.skip_space()
            self.expect(")")
            self._eat_line_end()
            return Set(target, value)
        if word == "if":
            branches: list[tuple[Expression | None, Block]] = []
            condition = self.parse_expression()
            self.skip_space()
            self.expect(")")
            while True:
                body, stop = self.parse_block(("elseif", "else", "end"))
                branches.append((condition, body))
                if stop == "elseif":
                    self.skip_space()
                    self.expect("(")
                    condition = self.parse_expression()
                    self.skip_space()
                    self.expect(")")
                elif stop == "else":
                    body, _ = self.parse_block(("end",))
                    branches.append((None, body))
                    break
                else:
                    break
            return If(tuple(branches))
        # foreach
        self.skip_space()
        variable = self.parse_reference_expression()
        self.skip_space()
        if not self.text.startswith("in", self.pos):
            raise self.error("#foreach($item in $list) expected")
        self.pos += 2
        iterable = self.parse_expression()
        self.skip_space()
        self.expect(")")
        body, _ = self.parse_block(("end",))
        return Foreach(variable, iterable, body)

    def _eat_line_end(self) -> None:
        match = re.match(r"[ \t]*\r?\n", self.text[self.pos:])
        if match:
            self.pos += match.end()

    def parse_reference_in_text(self) -> Reference:
        start = self.pos
        self.pos += 1
        quiet = self.text.startswith("!", self.pos)
        if quiet:
            self.pos += 1
        formal = self.text.startswith("{", self.pos)
        if formal:
            self.pos += 1
        expression = self.parse_chain()
        if formal:
            self.expect("}")
        return Reference(expression, quiet, self.text[start:self.pos])

    # ------------------------------------------------------------------ expressions
    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.pos):
            raise self.error(f"expected {token!r}")
        self.pos += len(token)

    def parse_reference_expression(self) -> Expression:
        self.expect("$")
        if self.text.startswith("!", self.pos):
            self.pos += 1
        formal = self.text.startswith("{", self.pos)
        if formal:
            self.pos += 1
        chain = self.parse_chain()
        if formal:
            self.expect("}")
        return chain

    def parse_chain(self) -> Expression:
        name = IDENT.match(self.text, self.pos)
        if not name:
            raise self.error("a reference name expected")
        self.pos = name.end()
        node: Expression = Variable(name.group())
        while self.pos < len(self.text):
            if self.text[self.pos] == "." and IDENT.match(self.text, self.pos + 1):
                member = IDENT.match(self.text, self.pos + 1)
                assert member is not None
                self.pos = member.end()
                if self.text.startswith("(", self.pos):
                    self.pos += 1
                    node = Call(node, member.group(), self.parse_arguments(")"))
                else:
                    node = Attribute(node, member.group())
            elif self.text[self.pos] == "[":
                self.pos += 1
                index = self.parse_expression()
                self.skip_space()
                self.expect("]")
                node = Index(node, index)
            else:
                break
        return node

    def parse_arguments(self, closing: str) -> tuple[Expression, ...]:
        arguments: list[Expression] = []
        self.skip_space()
        if self.text.startswith(closing, self.pos):
            self.pos += 1
            return ()
        while True:
            arguments.append(self.parse_expression())
            self.skip_space()
            if self.text.startswith(closing, self.pos):
                self.pos += 1
                return tuple(arguments)
            self.expect(",")

    def parse_expression(self) -> Expression:
        return self._binary(0)

    _LEVELS = [("||", "or"), ("&&", "and"), ("==", "!=", "<=", ">=", "<", ">"), ("+", "-"),
               ("*", "/", "%")]

    def _binary(self, level: int) -> Expression:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            self.skip_space()
            for op in self._LEVELS[level]:
                if self.text.startswith(op, self.pos) and not (
                        op.isalpha() and IDENT.match(self.text, self.pos + len(op))):
                    self.pos += len(op)
                    right = self._binary(level + 1)
                    left = Operation({"or": "||", "and": "&&"}.get(op, op), left, right)
                    break
            else:
                return left

    def _unary(self) -> Expression:
        self.skip_space()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return Not(self._unary())
        if self.text.startswith("not ", self.pos):
            self.pos += 4
            return Not(self._unary())
        if self.text.startswith("-", self.pos):
            self.pos += 1
            return Operation("-", Literal(0), self._unary())
        return self._primary()

    def _primary(self) -> Expression:
        self.skip_space()
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise self.error("an expression expected")
        c = text[pos]
        if c == "(":
            self.pos += 1
            inner = self.parse_expression()
            self.skip_space()
            self.expect(")")
            return inner
        if c == "$":
            return self.parse_reference_expression()
        if c in "'\"":
            end = text.find(c, pos + 1)
            if end < 0:
                raise self.error("unterminated string")
            self.pos = end + 1
            value = text[pos + 1:end]
            if c == '"' and "$" in value:
                return Interpolation(_Parser(value).parse_block()[0])
            return Literal(value)
        if c == "[":
            self.pos += 1
            return ListLiteral(self.parse_arguments("]"))
        if c == "{":
            self.pos += 1
            pairs: list[tuple[Expression, Expression]] = []
            self.skip_space()
            while not text.startswith("}", self.pos):
                key = self.parse_expression()
                self.skip_space()
                self.expect(":")
                pairs.append((key, self.parse_expression()))
                self.skip_space()
                if text.startswith(",", self.pos):
                    self.pos += 1
                    self.skip_space()
            self.pos += 1
            return MapLiteral(tuple(pairs))
        number = re.match(r"\d+(\.\d+)?", text[pos:])
        if number:
            self.pos += number.end()
            return Literal(float(number.group()) if number.group(1) else int(number.group()))
        for word, constant in _CONSTANTS:
            if text.startswith(word, pos) and not IDENT.match(text, pos + len(word)):
                self.pos += len(word)
                return Literal(constant)
        raise self.error(f"unexpected {text[pos:pos + 10]!r}")


_CONSTANTS: tuple[tuple[str, bool | None], ...] = (("true", True), ("false", False),
                                                   ("null", None))


# ---------------------------------------------------------------------------------- rendering
class _Break(Exception):
    """Raised by #break, caught by the #foreach it is in."""


def render(template: str, variables: dict[str, Any]) -> str:
    """``template`` parsed into its syntax tree, run with ``variables`` in scope."""
    nodes, _ = _Parser(template).parse_block()
    scope = dict(variables)
    out: list[str] = []
    _run(nodes, scope, out)
    return "".join(out)


def _run(nodes: Block, scope: dict[str, Any], out: list[str]) -> None:
    for node in nodes:
        match node:
            case Text(text):
                out.append(text)
            case Reference(expression):
                value = _eval(expression, scope)
                out.append("" if value is None else _text(value))
            case Set(target, value):
                _assign(target, _eval(value, scope), scope)
            case If(branches):
                for condition, body in branches:
                    if condition is None or _truthy(_eval(condition, scope)):
                        _run(body, scope, out)
                        break
            case Foreach():
                _foreach(node, scope, out)
            case Break():
                raise _Break()


def _foreach(node: Foreach, scope: dict[str, Any], out: list[str]) -> None:
    items = _eval(node.iterable, scope)
    # Velocity's UberspectImpl.getIterator: a map is iterated over its values (keySet() for keys)
    items = list(items.values() if isinstance(items, dict) else items or [])
    saved = scope.get("foreach")
    try:
        for index, item in enumerate(items):
            _assign(node.variable, item, scope)
            scope["foreach"] = {"hasNext": index < len(items) - 1, "index": index,
                                "count": index + 1}
            _run(node.body, scope, out)
    except _Break:
        pass
    scope["foreach"] = saved


def _assign(target: Expression, value: Any, scope: dict[str, Any]) -> None:
    match target:
        case Variable(name):
            scope[name] = value
        case Attribute(owner, name):
            container = _eval(owner, scope)
            if isinstance(container, dict):
                container[name] = value


def _eval(node: Expression, scope: dict[str, Any]) -> Any:
    match node:
        case Literal(value):
            return value
        case Variable(name):
            return scope.get(name)
        case Interpolation(body):
            out: list[str] = []
            _run(body, scope, out)
            return "".join(out)
        case ListLiteral(items):
            return [_eval(item, scope) for item in items]
        case MapLiteral(pairs):
            return {_eval(k, scope): _eval(v, scope) for k, v in pairs}
        case Attribute(owner, name):
            return _member(_eval(owner, scope), name)
        case Index(owner, key):
            container, found = _eval(owner, scope), _eval(key, scope)
            try:
                return container[found]
            except (KeyError, IndexError, TypeError):
                return None
        case Call(owner, name, arguments):
            return _call(_eval(owner, scope), name, [_eval(a, scope) for a in arguments])
        case Not(operand):
            return not _truthy(_eval(operand, scope))
        case Operation(op, left, right):
            return _operate(op, left, right, scope)
    raise TemplateError(f"cannot evaluate {type(node).__name__}")


def _operate(op: str, left_node: Expression, right_node: Expression,
             scope: dict[str, Any]) -> Any:
    left = _eval(left_node, scope)
    if op == "&&":
        return _truthy(left) and _truthy(_eval(right_node, scope))
    if op == "||":
        return _truthy(left) or _truthy(_eval(right_node, scope))
    right = _eval(right_node, scope)
    if op == "==":
        return left == right or (_text(left) == _text(right) if None not in (left, right)
                                 else False)
    if op == "!=":
        return not _operate("==", Literal(left), Literal(right), scope)
    try:
        if op == "+":
            if isinstance(left, str) or isinstance(right, str):
                return _text(left) + _text(right)
            return left + right
        arithmetic: dict[str, Callable[[], Any]] = {
            "-": lambda: left - right, "*": lambda: left * right,
            "/": lambda: left // right if isinstance(left, int) and isinstance(right, int)
            else left / right, "%": lambda: left % right,
            "<": lambda: left < right, "<=": lambda: left <= right,
            ">": lambda: left > right, ">=": lambda: left >= right}
        return arithmetic[op]()
    except ZeroDivisionError:  # Velocity: "Right side of division operation is zero": null
        return None
    except TypeError:
        return None


def _member(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    if isinstance(obj, (Input, Util, Namespace)):
        value = getattr(obj, name, None) if not name.startswith("_") else None
        return None if callable(value) else value
    return None


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "length": lambda s: len(s), "toLowerCase": str.lower, "toUpperCase": str.upper,
    "trim": str.strip, "isEmpty": lambda s: not s, "contains": lambda s, x: _text(x) in s,
    "startsWith": lambda s, x: s.startswith(_text(x)),
    "endsWith": lambda s, x: s.endswith(_text(x)),
    "replace": lambda s, a, b: s.replace(_text(a), _text(b)),
    "replaceAll": lambda s, a, b: re.sub(_text(a), _text(b), s),
    "substring": lambda s, a, b=None: s[a:b], "indexOf": lambda s, x: s.find(_text(x)),
    "split": lambda s, x: re.split(_text(x), s), "equals": lambda s, x: s == _text(x),
    "toString": lambda s: s,
}


def _call(obj: Any, name: str, args: list[Any]) -> Any:
    method = _method(obj, name)
    if method is None:
        return None
    try:
        return method(*args)
    except Exception as error:  # Velocity wraps it (MethodInvocationException): no transform
        raise TemplateError(f"Unable to transform: {name}() failed: "
                            f"{type(error).__name__}: {error}") from error


def _add(items: list[Any], item: Any) -> bool:
    """Java's List.add: appends, and answers true."""
    items.append(item)
    return True


def _method(obj: Any, name: str) -> Any:
    """What ``obj.name(...)`` calls; None for a method the object does not have."""
    if isinstance(obj, (Input, Util, Namespace)):
        method = getattr(obj, name, None)
        return method if callable(method) and not name.startswith("_") else None
    if isinstance(obj, dict):
        methods = {"get": lambda k: obj.get(k), "keySet": lambda: list(obj.keys()),
                   "values": lambda: list(obj.values()), "size": lambda: len(obj),
                   "containsKey": lambda k: k in obj, "isEmpty": lambda: not obj,
                   "put": lambda k, v: obj.__setitem__(k, v),
                   "entrySet": lambda: [{"key": k, "value": v} for k, v in obj.items()]}
    elif isinstance(obj, list):
        methods = {"get": lambda i: obj[i], "size": lambda: len(obj), "isEmpty": lambda: not obj,
                   "contains": lambda x: x in obj, "add": lambda x: _add(obj, x)}
    elif isinstance(obj, str):
        string_method = _STRING_METHODS.get(name)
        return (lambda *args: string_method(obj, *args)) if string_method else None
    else:
        return None
    return methods.get(name)


def _truthy(value: Any) -> bool:
    return value is not None and value is not False and value != ""


def _text(value: Any) -> str:
    """Values as Velocity renders them (Java's toString)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_text(k)}={_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)
