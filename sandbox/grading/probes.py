"""What checks use to look at the sandbox: plain boto3, with failures phrased for a learner."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from .checks import CheckFailed, NotAttempted

PLACEHOLDER_ERRORS = ("NotImplementedError",)  # what a blank exercise cell raises


@dataclass
class Invocation:
    payload: Any
    error: dict | None  # the error payload when the function failed
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


def require_function(name: str, how: str = "") -> dict:
    """The function's configuration, or NotAttempted when there is no such function, or when
    it is still the exercise's placeholder handler."""
    import boto3

    lam = boto3.client("lambda")
    try:
        configuration = lam.get_function_configuration(FunctionName=name)
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
        raise CheckFailed(
            f"function {name!r} raised {result.error_type} when invoked with "
            f"{json.dumps(event)}: {result.error.get('errorMessage')}",
            details=f"Traceback from the function:\n{trace}" if trace else "")
    return result


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
