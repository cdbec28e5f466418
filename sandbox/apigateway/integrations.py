"""Calling an integration's backend: a Lambda function, an HTTP endpoint, or nothing (MOCK)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.awslambda.models import lambda_backends
from moto.core.exceptions import ServiceException, _RESTError

if TYPE_CHECKING:
    from ..awslambda import LambdaRuntime

# Integration timeouts: REST APIs allow 50 ms to 29 s, HTTP APIs at most 30 s. Module constants,
# so that a test may lower them.
REST_TIMEOUT_SECONDS = 29.0
HTTP_API_TIMEOUT_SECONDS = 30.0
INIT_ALLOWANCE_SECONDS = 10.0  # Lambda caps the INIT phase at 10 s, on top of the timeout

APIGATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/"
                        r"(?P<function>.+)/invocations$")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


class IntegrationFailure(Exception):
    """The backend could not be reached or answered wrongly; ``kind`` says how."""

    def __init__(self, kind: str, detail: str, payload: bytes | None = None):
        super().__init__(detail)
        self.kind = kind  # "permissions", "configuration", "function", "timeout", "endpoint"
        self.detail = detail
        self.payload = payload  # a failed function's error payload


def render_stage_variables(text: str, stage_variables: dict[str, str] | None) -> str:
    """``${stageVariables.name}`` in an integration URI, replaced by the stage's value."""
    variables = stage_variables or {}
    return STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), text)


@dataclass
class LambdaTarget:
    fn: Any
    invoked_arn: str


def lambda_target(uri: str, stage_variables: dict[str, str] | None, account_id: str,
                  region: str) -> LambdaTarget:
    """The function an integration URI names (a Lambda invocation URI, or for HTTP APIs the
    function's ARN itself)."""

    uri = render_stage_variables(uri, stage_variables)
    matched = LAMBDA_URI.match(uri)
    arn = matched["function"] if matched else uri
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        region, account_id, name = parts[3], parts[4], parts[6]
        qualifier = parts[7] if len(parts) > 7 else None
    elif ":" not in arn:
        name, qualifier = arn, None
    else:
        raise IntegrationFailure("configuration", f"Invalid Lambda function ARN: {arn}")
    try:
        fn = lambda_backends[account_id][region].get_function(name, qualifier)
    except (ServiceException, _RESTError, KeyError) as error:
        raise IntegrationFailure("configuration",
                                 f"Function not found: {arn}") from error
    base = fn.function_arn.rsplit(":", 1)[0] if str(fn.version) != "$LATEST" else fn.function_arn
    invoked = f"{base}:{qualifier}" if qualifier else base
    return LambdaTarget(fn, invoked)


def check_permission(target: LambdaTarget, source_arn: str, account_id: str,
                     credentials: str | None) -> None:
    """API Gateway may invoke the function only if its function policy allows
    apigateway.amazonaws.com for this API's ARN (or the integration names a role to use).
    IAM decides and records it (``sb.iam.denials()``); with IAM not enforced, it may."""
    from .. import iam

    if credentials:  # API Gateway assumes this role instead; IAM decides what it may do
        return
    if not iam.service_may(APIGATEWAY_PRINCIPAL, "lambda:InvokeFunction", target.invoked_arn,
                           source_arn=source_arn, source_account=account_id,
                           source=f"API Gateway invoking {target.fn.function_name}"):
        raise IntegrationFailure(
            "permissions",
            "Invalid permissions on Lambda function: no statement in the function policy of "
            f"{target.invoked_arn} allows apigateway.amazonaws.com to call lambda:InvokeFunction "
            f"from {source_arn}. Add one with lambda add_permission(FunctionName=..., "
            "StatementId=..., Action='lambda:InvokeFunction', "
            f"Principal='apigateway.amazonaws.com', SourceArn='{_api_wildcard(source_arn)}').")


def _api_wildcard(source_arn: str) -> str:
    return source_arn.split("/", 1)[0] + "/*"


def invoke_function(runtime: LambdaRuntime, target: LambdaTarget, payload: bytes,
                    limit_seconds: float) -> bytes:
    """Run the function synchronously; its answer, or IntegrationFailure ("function" when it
    failed, "timeout" when it took longer than ``limit_seconds``: the function goes on running,
    as on AWS)."""
    from ..runtime.environments import Throttled

    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["result"] = runtime.run(target.fn, payload, invoked_arn=target.invoked_arn)
        except Throttled as throttled:
            box["error"] = IntegrationFailure("function", f"Lambda throttled: {throttled}")
        except Exception as error:  # reported as an integration failure, never raised at HTTP
            box["error"] = IntegrationFailure("function", f"{type(error).__name__}: {error}")

    if float(target.fn.timeout) + INIT_ALLOWANCE_SECONDS < limit_seconds:
        call()  # the function's own timeout ends it first: no need to watch the clock
    else:
        worker = threading.Thread(target=call, name="apigateway-integration", daemon=True)
        worker.start()
        worker.join(limit_seconds)
        if worker.is_alive():
            raise IntegrationFailure("timeout", "Execution failed due to a timeout error")
    if "error" in box:
        raise box["error"]
    result = box["result"]
    if result.function_error:
        raise IntegrationFailure(
            "function", "Lambda execution failed with status 200 due to customer function "
                        f"error: {result.payload.decode('utf-8', 'replace')}", result.payload)
    answer: bytes = result.payload
    return answer


def timeout_for(limit: float, timeout_in_millis: Any) -> float:
    """The integration's own timeout when it sets one lower than the service's limit."""
    try:
        own = int(timeout_in_millis) / 1000 if timeout_in_millis else limit
    except (TypeError, ValueError):
        own = limit
    return min(limit, own)


# ---------------------------------------------------------------------------------- HTTP
@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def call_http(method: str, url: str, headers: list[tuple[str, str]], body: bytes,
              limit_seconds: float) -> HttpAnswer:
    """Send the integration request to an HTTP endpoint, which must be on loopback: the
    sandbox has no network, and never calls real AWS."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") or parts.scheme not in ("http", "https"):
        raise IntegrationFailure(
            "endpoint", f"The sandbox has no network: HTTP integrations may only call "
                        f"endpoints on this machine (http://127.0.0.1:<port>/...), not {url}")
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(host, parts.port, timeout=limit_seconds)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        sent = {name.lower() for name, _ in headers}
        if "host" not in sent:
            connection.putheader("Host", parts.netloc)
        for name, value in headers:
            connection.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        answer = connection.getresponse()
        data = answer.read()
        return HttpAnswer(answer.status, list(answer.getheaders()), data)
    except TimeoutError as error:
        raise IntegrationFailure("timeout", "Execution failed due to a timeout error") from error
    except OSError as error:
        raise IntegrationFailure("endpoint", f"Execution failed: {error}") from error
    finally:
        connection.close()
