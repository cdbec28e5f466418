"""What checks use to look at the sandbox: plain boto3, with failures phrased for a learner."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

from .checks import CheckFailed, NotAttempted

PLACEHOLDER_ERRORS = ("NotImplementedError",)  # what a blank exercise cell raises


@dataclass
class Invocation:
    payload: Any
    error: dict[str, Any] | None  # the error payload when the function failed
    log: str
    request_id: str

    @property
    def error_type(self) -> str | None:
        return (self.error or {}).get("errorType")


def _placeholder_hashes() -> set[str]:
    """CodeSha256 of what a ``%%lambda`` cell deploys while it still holds the exercise's
    placeholder handler (IPython may hand the magic the body with or without a last newline)."""
    import base64
    import hashlib

    from ..course.magic import _zip
    from .authoring import LAMBDA_PLACEHOLDER

    body = "\n".join(LAMBDA_PLACEHOLDER)
    return {base64.b64encode(hashlib.sha256(_zip(text)).digest()).decode()
            for text in (body, body + "\n")}


def require_function(name: str, how: str = "") -> dict[str, Any]:
    """The function's configuration, or NotAttempted when there is no such function, or when
    it is still the exercise's placeholder handler."""
    import boto3

    lam = boto3.client("lambda")
    try:
        configuration = cast("dict[str, Any]", lam.get_function_configuration(FunctionName=name))
        if configuration.get("CodeSha256") in _placeholder_hashes():
            raise NotAttempted(f"function {name!r} is still the exercise's placeholder: write "
                               "your handler where it says # YOUR CODE HERE, then run the cell "
                               "again.")
        return configuration
    except lam.exceptions.ResourceNotFoundException:
        names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        near = ""
        if names:
            import difflib

            close = difflib.get_close_matches(name, names, n=1)
            near = f" (did you name it {close[0]!r}?)" if close else \
                f" (the sandbox has {', '.join(sorted(names))})"
        raise NotAttempted(f"there is no function named {name!r} yet{near}. {how}".strip()) \
            from None


def require_table(name: str, how: str = "run the exercise's first cell, which creates it.") -> Any:
    """The DynamoDB table (a boto3 resource), or NotAttempted when there is no such table."""
    import boto3

    client = boto3.client("dynamodb")
    try:
        client.describe_table(TableName=name)
    except client.exceptions.ResourceNotFoundException:
        raise NotAttempted(f"there is no table {name!r}: {how}") from None
    return boto3.resource("dynamodb").Table(name)


def invoke(name: str, event: Any) -> Invocation:
    """Invoke synchronously; never raises for a function error, reports it."""
    import boto3

    response = boto3.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event),
                                             LogType="Tail")
    raw = response["Payload"].read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode("utf-8", "replace")
    log = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    error = payload if response.get("FunctionError") and isinstance(payload, dict) else None
    return Invocation(None if error else payload, error, log,
                      response["ResponseMetadata"]["RequestId"])


def answered(name: str, event: Any, hints: dict[str, str] | None = None,
             expected: Any = None) -> Invocation:
    """Invoke, and fail the check with the function's own error when it raised one (with the
    hint given for that error type, if any)."""
    result = invoke(name, event)
    if result.error is not None:
        if hints and result.error_type in hints:
            raise CheckFailed(hints[result.error_type], expected=expected,
                              found=f"{result.error_type}: {result.error.get('errorMessage')}")
        if result.error_type in PLACEHOLDER_ERRORS:
            raise NotAttempted(f"function {name!r} still raises {result.error_type}: replace "
                               "'# YOUR CODE HERE' and the raise with your code, then run the "
                               "cell again.")
        trace = "".join(result.error.get("stackTrace") or [])
        message = str(result.error.get("errorMessage", ""))
        where = _where(result.error.get("stackTrace") or [])
        mistake = _python_mistake(result.error_type or "", message)
        if mistake:
            # a plain Python mistake: point at it, as behavioural hints do; the traceback
            # stays below for whoever wants it
            raise CheckFailed(
                f"function {name!r} stopped with {result.error_type}{where}: {message}. "
                f"{mistake}",
                details=f"Traceback from the function:\n{trace}" if trace else "")
        raise CheckFailed(
            f"function {name!r} raised {result.error_type} when invoked with "
            f"{json.dumps(event)}: {message}",
            details=f"Traceback from the function:\n{trace}" if trace else "")
    return result


def _where(stack: list[str]) -> str:
    """' at line N of file.py (`code`)': the last frame of the learner's own code."""
    import re

    matches = [re.match(r'\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in [^\n]*\n?(?P<code>.*)',
                        str(frame), re.S) for frame in stack]
    frames = [f for f in matches if f is not None and "/sandbox/" not in f["file"]]
    if not frames:
        return ""
    last = frames[-1]
    code = last["code"].strip()
    return f" at line {last['line']} of {last['file'].rpartition('/')[2]}" + (
        f" (`{code}`)" if code else "")


def _python_mistake(error_type: str, message: str) -> str:
    """What a Python error usually means in a handler, and what to try; "" for others."""
    import re

    if error_type == "UnboundLocalError":
        variable = re.search(r"'([^']+)'", message)
        name = variable[1] if variable else "the variable"
        return (f"The function assigns to {name} (with = or +=), which makes {name} a local "
                f"variable of the function, so the module-level {name} is not used there. To "
                f"update the module-level variable, declare it first in the function: "
                f"`global {name}`.")
    if error_type == "NameError":
        return ("A name is used that is not defined where the code runs: check its spelling, "
                "and that it is defined (or imported) in the same cell as the function, since "
                "the deployed function holds only that cell's code.")
    if error_type == "KeyError":
        return (f"The code looked up the key {message} in a dict (the event?) that does not "
                "have it. Print the event to see its keys, or use .get() where a key may be "
                "missing.")
    if error_type in ("TypeError", "AttributeError"):
        return ("A value is not of the type the code expects at that line (a string for a "
                "number, None for a dict...): print it, or check what the call before it "
                "returns.")
    if error_type in ("Runtime.UserCodeSyntaxError", "SyntaxError", "IndentationError"):
        return "The function's code does not compile: fix the line named and deploy it again."
    if error_type == "Runtime.ImportModuleError":
        return ("Lambda could not load the function's module: a module it imports is missing, "
                "or the handler's file name does not match the handler setting.")
    if error_type == "Runtime.HandlerNotFound":
        return ("Lambda found the module but not the handler function in it: check the name "
                "of the function against the handler setting (lambda_handler by default).")
    return ""


def expect_equal(found: Any, expected: Any, hint: str) -> None:
    if found != expected:
        raise CheckFailed(hint, expected=expected, found=found)


def unique(prefix: str) -> str:
    """A value no learner hard-codes: it tells a computed answer from a fixed one."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def log_messages(name: str) -> list[str]:
    """Every log event of the function, oldest first."""
    import boto3

    logs = boto3.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [event["message"] for event in sorted(events, key=lambda e: e["timestamp"])]


def retire_environments(name: str) -> None:
    """Retire the function's idle execution environments, as Lambda may at any moment (after an
    idle while, or to replace a host): its next invocation is a cold start. Checks use it to see
    what a function keeps, and loses, across environments."""
    from ..client import current

    running = current()
    if running is not None:
        running.admin.retire_environments(name)


def wait_for_async_invocations(timeout: float = 30.0) -> bool:
    """Wait until every queued asynchronous invocation has run, retries included (on the
    sandbox's clock), and its record has been delivered."""
    from ..client import current

    running = current()
    return running is None or running.admin.wait_for_async_invocations(timeout)
