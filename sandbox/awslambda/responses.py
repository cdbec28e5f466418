"""The Invoke API and moto's invoke seam, answering as Lambda does."""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from moto.core.responses import BaseResponse

from ..runtime.environments import EnvironmentAborted, Throttled

if TYPE_CHECKING:
    from . import LambdaRuntime

_Body = TypeVar("_Body", str, bytes)  # a reply's body is as the caller gave it

MAX_SYNC_REQUEST_BYTES = 6291456  # 6 MB, RequestResponse
MAX_ASYNC_REQUEST_BYTES = 1048576  # 1 MB, Event (256 KB before October 2025)


INVOCATION_ID = "x-sandbox-invocation-id"  # becomes x-amzn-RequestId, see keep_request_id
ABORTED = ("The sandbox was {reason} while this invocation ran, so it has no result: its execution "
           "environment and every process in it were ended. Invoke the function again.")


def keep_request_id(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """Lambda's Invoke answers with the invocation's own request ID; moto's
    ``BaseResponse._enrich_response`` (core/responses.py) would put a random one there.

    There is no plainer way: ``call_action`` passes whatever an action returns through
    ``_enrich_response``, which always sets ``x-amzn-requestid`` anew (another spelling of the
    header reaches the client as a second header, which botocore reads as "<moto's>, <ours>").
    So the action hands the ID over in a private header, and this, LambdaResponse's own
    ``_enrich_response`` (a row of ``sandbox.seams``), moves it into place."""
    request_id = headers.pop(INVOCATION_ID, None)
    headers, body = BaseResponse._enrich_response(headers, body)
    if request_id:
        headers["x-amzn-requestid"] = request_id
    return headers, body


def _runtime() -> LambdaRuntime:
    from . import running

    return running()


def _error(status: int, code: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return _reply(status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"},
                  json.dumps(body))


def _reply(status: int, headers: dict[str, str], body: _Body) -> tuple[int, dict[str, str], _Body]:
    # moto takes the status from the "status" header (core/responses.py _transform_response)
    headers["status"] = str(status)
    return status, headers, body


def _throttled(reason: str) -> tuple[int, dict[str, str], str]:
    # Lambda answers 429 TooManyRequestsException, message "Rate Exceeded."
    return _error(429, "TooManyRequestsException",
                  {"Reason": reason, "Type": "User", "message": "Rate Exceeded."})


def _aborted(aborted: EnvironmentAborted) -> tuple[int, dict[str, str], str]:
    # Lambda's answer when the service itself fails: 500 ServiceException
    return _error(500, "ServiceException",
                  {"Type": "Service", "Message": ABORTED.format(reason=_reason(aborted))})


def _reason(aborted: EnvironmentAborted) -> str:
    return {"reset": "reset", "stopped": "stopped"}.get(aborted.reason, "reset")


def invoke(self: Any) -> tuple[int, dict[str, str], str | bytes]:
    """``POST /2015-03-31/functions/{FunctionName}/invocations``, as Lambda answers it."""
    runtime = _runtime()
    function_name = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = self.querystring.get("Qualifier", [None])[0]
    invocation_type = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    body = self.raw_body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    fn = self.backend.get_function(function_name, qualifier)  # ResourceNotFoundException
    fn = _weighted_version(self.backend, fn, function_name, qualifier)
    if invocation_type == "Event" and len(body) > MAX_ASYNC_REQUEST_BYTES:
        return _error(413, "RequestEntityTooLargeException", {
            "Message": f"{len(body)} byte payload is too large for the Event invocation type "
                       f"(limit {MAX_ASYNC_REQUEST_BYTES} bytes)"})
    if len(body) > MAX_SYNC_REQUEST_BYTES:
        return _error(413, "RequestEntityTooLargeException", {
            "Message": f"Request must be smaller than {MAX_SYNC_REQUEST_BYTES} bytes for the "
                       "InvokeFunction operation"})
    if body:
        try:
            json.loads(body)
        except ValueError as e:
            return _error(400, "InvalidRequestContentException", {
                "Type": "User",
                "message": f"Could not parse request body into json: Could not parse payload "
                           f"into json: {e}",
            })
    if invocation_type == "DryRun":
        return _reply(204, {}, "")
    client_context = self.headers.get("X-Amz-Client-Context")
    if client_context:
        try:  # base64 on the wire; the runtime gets the JSON itself
            client_context = base64.b64decode(client_context, validate=True).decode()
            json.loads(client_context)
        except ValueError:
            return _error(400, "InvalidRequestContentException", {
                "Type": "User",
                "message": "Client context must be a valid Base64-encoded JSON object."})
    request_id = str(uuid.uuid4())
    invoked_arn = _invoked_arn(fn, function_name, qualifier)
    if invocation_type == "Event":
        runtime.async_invoker.submit(fn, body or b"{}", request_id, invoked_arn)
        return _reply(202, {INVOCATION_ID: request_id}, "")
    try:
        result = runtime.run(fn, body, invoked_arn=invoked_arn, request_id=request_id,
                             client_context=client_context)
    except Throttled as throttled:
        return _throttled(throttled.reason)
    except EnvironmentAborted as aborted:
        return _aborted(aborted)
    headers = {INVOCATION_ID: request_id, "X-Amz-Executed-Version": result.executed_version,
               "Content-Type": "application/json"}
    if result.function_error:
        headers["X-Amz-Function-Error"] = result.function_error
    if self.headers.get("X-Amz-Log-Type") == "Tail":
        headers["X-Amz-Log-Result"] = result.log_tail
    return _reply(200, headers, result.payload)


def _weighted_version(backend: Any, fn: Any, name_or_arn: str, qualifier: str | None) -> Any:
    """An alias with a RoutingConfig sends that share of invocations to its other version (moto
    ignores the weights)."""
    import random

    name = name_or_arn.split(":function:")[-1]
    if ":" in name:
        name, qualifier = name.split(":", 1)
    alias = backend._lambdas._get_function_aliases(name).get(qualifier) if qualifier else None
    weights = ((alias.routing_config or {}) if alias else {}).get("AdditionalVersionWeights")
    if not weights:
        return fn
    draw, total = random.random(), 0.0
    for version, weight in weights.items():
        total += float(weight)
        if draw < total:
            return backend.get_function(name, version)
    return fn


def _invoked_arn(fn: Any, name_or_arn: str, qualifier: str | None) -> str:
    """The ARN the caller used: unqualified, or qualified by the version or alias it named."""
    unqualified = fn.function_arn.rsplit(":", 1)[0] if str(fn.version) != "$LATEST" \
        else fn.function_arn
    named = name_or_arn.split(":function:")[-1]
    if qualifier is None and ":" in named:
        qualifier = named.split(":", 1)[1]
    return f"{unqualified}:{qualifier}" if qualifier else unqualified


def invoke_async(self: Any) -> tuple[int, dict[str, str], str]:
    """The deprecated InvokeAsync API: an Event invocation, 202 ``{"Status": 202}``."""
    function_index = -3 if self.path.endswith("/") else -2
    function_name = unquote(self.path.rsplit("/", 3)[function_index])
    fn = self.backend.get_function(function_name, None)
    body = self.raw_body or b"{}"
    if isinstance(body, str):
        body = body.encode("utf-8")
    request_id = str(uuid.uuid4())
    _runtime().async_invoker.submit(fn, body, request_id, fn.function_arn)
    return _reply(202, {INVOCATION_ID: request_id}, json.dumps({"Status": 202}))


def invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """moto's seam for every service that invokes a function: run it for real."""
    payload = json.dumps(event if event is not None else {}).encode()
    try:
        result = _runtime().run(self, payload)
    except Throttled as throttled:
        error = {"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded.",
                 "Reason": throttled.reason}
        return json.dumps(error), True, ""
    except EnvironmentAborted as aborted:
        error = {"errorType": "ServiceException",
                 "errorMessage": ABORTED.format(reason=_reason(aborted))}
        return json.dumps(error), True, ""
    return result.payload.decode("utf-8", "replace"), result.function_error is not None, result.log


