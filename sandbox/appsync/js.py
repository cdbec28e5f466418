"""APPSYNC_JS: AppSync's JavaScript resolvers and functions, run on QuickJS (the ``quickjs``
package from PyPI, an embedded ES2020 engine; pinned in pyproject.toml and environment.yml).

A resolver's code is an ES module exporting ``request(ctx)`` and ``response(ctx)``. The
sandbox runs it as AppSync does ("Supported runtime features", "JavaScript resolver function
reference", AppSync Developer Guide), within this subset:

- imports from ``@aws-appsync/utils`` (``util``, ``runtime``, ``extensions``: globals here)
  and from ``@aws-appsync/utils/dynamodb`` (``get``, ``put``, ``remove``, ``update``,
  ``query``, ``scan``, ``operations``), in ``import { a, b } from`` or ``import * as x from``
  form; no other module;
- the statements AppSync refuses at creation are refused here too, with its message "The code
  contains one or more errors": ``try``, ``catch``, ``finally``, ``throw``, ``while``,
  ``do``-``while``, ``continue``, C-style ``for(;;)``, and the ``++``, ``--`` and ``~``
  operators (``for-in`` and ``for-of`` are allowed). Other limits of AppSync's runtime (no
  ``in`` operator, no labeled statements, a subset of the built-in objects) are not checked:
  QuickJS runs the whole language;
- ``ctx``: ``arguments``/``args``, ``source``, ``identity``, ``stash`` (shared along a
  pipeline), ``prev.result``, ``result``, ``error``, ``info``, ``request.headers``;
- ``util``: ``autoId``, ``error``, ``appendError``, ``unauthorized``, ``isNull``,
  ``isNullOrEmpty``, ``isNullOrBlank``, ``defaultIfNull``, ``defaultIfNullOrEmpty``,
  ``isString``, ``isNumber``, ``isBoolean``, ``isList``, ``isMap``, ``urlEncode``,
  ``urlDecode``, ``base64Encode``, ``base64Decode``, ``escapeJavaScript``,
  ``util.time.nowISO8601/nowEpochSeconds/nowEpochMilliSeconds``, ``util.dynamodb.toDynamoDB,
  toMapValues, toString, toNumber, toList, toStringSet, toNumberSet``; ``runtime.earlyReturn``.

Each handler call gets a fresh QuickJS context (no state survives between requests, as on
AppSync), with a memory limit and a time limit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .vtl import ResolverError


class EarlyReturn(Exception):  # noqa: N818  (runtime.earlyReturn's name)
    """``runtime.earlyReturn(value)``: skip the data source and the response handler."""

    def __init__(self, value: Any):
        super().__init__("early return")
        self.value = value


# util, runtime, the dynamodb helpers and the runner, in JavaScript (a file of this package)
PRELUDE = (Path(__file__).parent / "prelude.js").read_text(encoding="utf-8")

_IMPORT = re.compile(
    r"""^\s*import\s+(?P<what>.+?)\s+from\s+['"](?P<module>[^'"]+)['"]\s*;?\s*$""",
    re.MULTILINE)
_FORBIDDEN = [
    (re.compile(r"\btry\s*\{"), "try"), (re.compile(r"\bcatch\s*[({]"), "catch"),
    (re.compile(r"\bfinally\s*\{"), "finally"), (re.compile(r"\bthrow\b"), "throw"),
    (re.compile(r"\bwhile\s*\("), "while"), (re.compile(r"\bdo\s*\{"), "do-while"),
    (re.compile(r"\bcontinue\b"), "continue"),
    (re.compile(r"\bfor\s*\([^)]*;"), "for(initialization; condition; afterthought)"),
    (re.compile(r"\+\+|--"), "the ++ and -- operators"), (re.compile(r"~"), "the ~ operator"),
]
_STRINGS = re.compile(r"""//[^\n]*|/\*.*?\*/"""  # comments, then strings and templates
                      r"""|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`""",
                      re.DOTALL)


def _module(code: str) -> str:
    """The module's code as a script: its imports bound to the runtime's objects."""
    def bind(matched: re.Match[str]) -> str:
        what, module = matched["what"].strip(), matched["module"]
        if module == "@aws-appsync/utils":
            star = re.match(r"^\*\s+as\s+(\w+)$", what)
            if star:
                return f"const {star[1]} = {{ util, runtime, extensions }};"
            return ""  # util, runtime, extensions are globals
        if module == "@aws-appsync/utils/dynamodb":
            star = re.match(r"^\*\s+as\s+(\w+)$", what)
            if star:
                return f"const {star[1]} = __ddb;"
            names = what.strip("{} ").replace(" as ", ": ")
            return f"const {{ {names} }} = __ddb;"
        raise ResolverError(f"The module {module!r} is not available: APPSYNC_JS code may "
                            "import only @aws-appsync/utils and @aws-appsync/utils/dynamodb.",
                            "Code")

    script = _IMPORT.sub(bind, code)
    script = re.sub(r"^(\s*)export\s+default\s+", r"\1", script, flags=re.MULTILINE)
    return re.sub(r"^(\s*)export\s+(?=(async\s+)?function|const|let|var)", r"\1", script,
                  flags=re.MULTILINE)


def _context() -> Any:
    import quickjs

    context = quickjs.Context()
    context.set_memory_limit(32 * 1024 * 1024)
    context.set_time_limit(5)  # seconds of CPU: AppSync stops code after its own limits
    context.eval(PRELUDE)
    return context


def check_code(code: str) -> str | None:
    """Why AppSync would refuse this code at creation, or None."""
    import quickjs

    bare = _STRINGS.sub(lambda m: " " if m.group(0).startswith("/") else "''", code)
    found = [name for pattern, name in _FORBIDDEN if pattern.search(bare)]
    if found:
        return (f"The APPSYNC_JS runtime does not support {', '.join(found)} (\"Supported "
                "runtime features\", AppSync Developer Guide): use util.error() to fail, "
                "for-of loops, and x = x + 1.")
    try:
        script = _module(code)
    except ResolverError as error:
        return error.message
    try:
        _context().eval(script)
    except quickjs.JSException as error:
        return f"{error}"
    if not re.search(r"\bfunction\s+request\b|\brequest\s*=", script) or \
            not re.search(r"\bfunction\s+response\b|\bresponse\s*=", script):
        return "The code must export a request and a response function."
    return None


def run_handler(code: str, name: str, context: dict[str, Any],
                errors: list[dict[str, Any]]) -> Any:
    """Call the code's ``request`` or ``response`` with ``ctx``; its value. Raises
    EarlyReturn, or ResolverError for ``util.error`` and for a failing handler."""
    import quickjs

    js = _context()
    try:
        js.eval(_module(code))
        text = js.eval(f"__run(typeof {name} === 'function' ? {name} : null, "
                       f"{json.dumps(json.dumps(context, default=str))})")
    except quickjs.JSException as error:
        raise ResolverError(f"The {name} handler failed: {error}", "Code") from None
    outcome = json.loads(text)
    errors.extend(outcome.get("errors") or [])
    if isinstance(outcome.get("stash"), dict):
        context["stash"] = outcome["stash"]
    if outcome.get("missing"):
        raise ResolverError(f"The code exports no {name} function.", "Code")
    if "early" in outcome:
        raise EarlyReturn(outcome["early"])
    if "error" in outcome:
        failure = outcome["error"]
        raise ResolverError(failure["message"], failure.get("errorType"), failure.get("data"),
                            failure.get("errorInfo"))
    return outcome.get("value")
