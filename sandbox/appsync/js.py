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
  toMapValues, toString, toNumber, toList, toStringSet, toNumberSet``; ``runtime.earlyReturn``;
  ``console.log`` and its kin (kept for EvaluateCode's ``logs``; there is no API log group).

Each handler call evaluates the code afresh, in a function scope of its own, so no module state
survives between calls; the runtime's objects are frozen. QuickJS contexts holding the runtime
are pooled (loading the runtime takes longer than a handler), each with a memory and a time
limit; a context whose code failed in the engine is dropped, not reused.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from .vtl import EarlyReturn, ResolverError

__all__ = ["EarlyReturn", "check_code", "run_handler"]


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


_pool: list[Any] = []
_pool_lock = threading.Lock()
POOL_SIZE = 8


def _scoped(script: str, name: str) -> str:
    """The module's code evaluated in a function scope of its own; the handler ``name``."""
    return (f"(function () {{ 'use strict';\n{script}\n;"
            f"return typeof {name} === 'function' ? {name} : null; }})()")


def run_handler(code: str, name: str, context: dict[str, Any],
                errors: list[dict[str, Any]], logs: list[str] | None = None) -> Any:
    """Call the code's ``request`` or ``response`` with ``ctx``; its value. Raises
    EarlyReturn, or ResolverError for ``util.error`` and for a failing handler."""
    import quickjs

    with _pool_lock:
        js = _pool.pop() if _pool else None
    if js is None:
        js = _context()
    try:
        text = js.eval(f"__run({_scoped(_module(code), name)}, "
                       f"{json.dumps(json.dumps(context, default=str))})")
    except quickjs.JSException as error:  # the engine's own failure: the context goes
        raise ResolverError(f"The {name} handler failed: {error}", "Code") from None
    with _pool_lock:
        if len(_pool) < POOL_SIZE:
            _pool.append(js)
    outcome = json.loads(text)
    errors.extend(outcome.get("errors") or [])
    if logs is not None:
        logs.extend(str(line) for line in outcome.get("logs") or [])
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
