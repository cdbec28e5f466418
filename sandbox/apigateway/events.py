"""Lambda proxy integration payloads, built and read as API Gateway does.

Format 1.0 (REST APIs, and HTTP APIs that ask for it) and format 2.0 (HTTP APIs), from the API
Gateway developer guide ("Lambda proxy integrations", "Working with AWS Lambda proxy integrations
for HTTP APIs") and from events recorded on AWS (the REST event keys, header casing, raw paths and
decoded query strings below follow those recordings).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from typing import Any

from .gateway import HOP_BY_HOP, Request, b64, media_type_matches

# CloudFront, in front of REST APIs, rewrites these two header names to their usual casing.
CANONICAL_NAMES = {"authorization": "Authorization", "user-agent": "User-Agent"}
V1_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body",
                              "isBase64Encoded"})
# HTTP APIs deliver these request bodies as text; every other body (no Content-Type too) is
# base64-encoded.
TEXT_MEDIA_TYPES = ("application/json", "application/xml", "application/javascript")


class MalformedResponse(Exception):
    """The function's answer does not follow the proxy response format."""


@dataclass
class Context:
    """What API Gateway knows about a request beyond the request itself ($context)."""

    account_id: str
    api_id: str
    region: str
    stage: str
    deployment_id: str | None = None
    resource_id: str | None = None
    resource_path: str | None = None
    route_key: str | None = None
    extended_request_id: str = field(
        default_factory=lambda: base64.b64encode(os.urandom(11)).decode().replace("/", "A"))
    authorizer: dict[str, Any] | None = None
    identity: dict[str, Any] = field(default_factory=dict)
    usage_identifier_key: str | None = None  # a Lambda authorizer's API key, for usage plans

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


# ---------------------------------------------------------------------------------- format 1.0
def event_v1(request: Request, context: Context, *, path_parameters: dict[str, str] | None,
             stage_variables: dict[str, str] | None, binary_media_types: list[str],
             http_api: bool = False) -> dict[str, Any]:
    """The event a REST API (or an HTTP API with payload format 1.0) sends to a function."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, value in _incoming_headers(request):
        if name.lower() in HOP_BY_HOP:
            continue
        # HTTP APIs lower-case header names in both formats; REST APIs keep them as sent
        name = names.setdefault(name.lower(), name.lower() if http_api
                                else CANONICAL_NAMES.get(name.lower(), name))
        headers[name] = value  # the single-value map keeps the last value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query_pairs:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    body, encoded = _body(request.body, media_type_matches(request.content_type,
                                                           binary_media_types))
    path = "/" + request.raw_path.lstrip("/")
    identity = {
        "cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None,
        "caller": None, "sourceIp": request.source_ip, "principalOrgId": None,
        "accessKey": None, "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None, "userArn": None,
        "userAgent": request.header("user-agent"), "user": None, **context.identity,
    }
    request_context: dict[str, Any] = {
        "resourceId": context.resource_id,
        "resourcePath": context.resource_path,
        "httpMethod": request.method,
        "extendedRequestId": context.extended_request_id,
        "requestTime": request.request_time,
        "path": f"/{context.stage}{request.raw_path}" if not http_api else path,
        "accountId": context.account_id,
        "protocol": request.protocol,
        "stage": context.stage,
        "domainPrefix": context.api_id,
        "requestTimeEpoch": request.request_time_epoch,
        "requestId": request.request_id,
        "identity": identity,
        "domainName": context.domain_name,
        "apiId": context.api_id,
    }
    if context.deployment_id:
        request_context["deploymentId"] = context.deployment_id
    if context.authorizer is not None:
        request_context["authorizer"] = context.authorizer
    event: dict[str, Any] = {"version": "1.0"} if http_api else {}
    event.update({
        "resource": context.resource_path,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": stage_variables or None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": encoded,
    })
    return event


def _incoming_headers(request: Request) -> list[tuple[str, str]]:
    """The request's headers as the integration sees them: API Gateway sets the trace and
    forwarding headers, appending the client's address to any X-Forwarded-For it was sent."""
    added = dict([("x-amzn-trace-id", ("X-Amzn-Trace-Id", request.trace_id))]
                 + [(name.lower(), (name, value)) for name, value in request.forwarded])
    headers = []
    for name, value in request.headers:
        lowered = name.lower()
        if lowered == "x-forwarded-for":
            headers.append((name, f"{value}, {request.source_ip}"))
            added.pop(lowered, None)
        elif lowered in added:
            headers.append((name, added.pop(lowered)[1]))
        else:
            headers.append((name, value))
    return headers + list(added.values())


def _body(data: bytes, binary: bool) -> tuple[str | None, bool]:
    if not data:
        return None, False
    if binary:
        return b64(data), True
    return data.decode("utf-8", "replace"), False


@dataclass
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def response_v1(payload: bytes, *, binary_media_types: list[str], accept: str | None,
                default_content_type: str = "application/json") -> ProxyResponse:
    """Read a function's answer in the 1.0 format; MalformedResponse if API Gateway would not.

    As recorded on AWS: unknown keys, an empty object, a non-numeric statusCode or a
    multiValueHeaders entry that is not a list are malformed; headers and multiValueHeaders
    with the same name are both sent, the multi-value ones first; a base64 body is decoded
    only when the client's first Accept type (or the response's Content-Type) is a binary
    media type of the API."""
    try:
        answer = json.loads(payload)
    except ValueError as error:
        raise MalformedResponse("the function's answer is not JSON") from error
    if not isinstance(answer, dict) or not answer:
        raise MalformedResponse("the function's answer is not a JSON object with statusCode")
    unknown = set(answer) - V1_RESPONSE_KEYS
    if unknown:
        raise MalformedResponse(f"unexpected keys {sorted(unknown)}")
    status = _status(answer.get("statusCode", 200))
    headers: list[tuple[str, str]] = []
    multi = answer.get("multiValueHeaders") or {}
    single = answer.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise MalformedResponse("headers must be objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] is not a list")
        headers += [(name, _header_value(value)) for value in values]
    for name, value in single.items():
        headers.append((name, _header_value(value)))
    body = answer.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    data = (body or "").encode("utf-8")
    if answer.get("isBase64Encoded") is True and body:
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        first_accept = (accept or "").split(",", 1)[0].split(";", 1)[0].strip().lower()
        if (media_type_matches(first_accept, binary_media_types)
                or media_type_matches(content_type.split(";")[0].strip().lower(),
                                      binary_media_types)):
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as error:
                raise MalformedResponse("body is not valid base64") from error
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.insert(0, ("Content-Type", default_content_type))
    return ProxyResponse(status, headers, data)


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedResponse("statusCode must be a number")
    try:
        status = int(value)
    except (TypeError, ValueError) as error:
        raise MalformedResponse("statusCode must be a number") from error
    if not 100 <= status <= 599:
        raise MalformedResponse("statusCode out of range")
    return status


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise MalformedResponse("header values must be strings")


# ---------------------------------------------------------------------------------- format 2.0
def event_v2(request: Request, context: Context, *, raw_path: str,
             path_parameters: dict[str, str] | None,
             stage_variables: dict[str, str] | None) -> dict[str, Any]:
    """The event an HTTP API sends with payload format 2.0: header names lower-cased and
    duplicates comma-joined, cookies apart, duplicate query parameters comma-joined, and
    absent parts left out."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _incoming_headers(request):
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        if name in HOP_BY_HOP - {"content-length"}:
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    if request.body and "content-length" not in headers:
        headers["content-length"] = str(len(request.body))
    query: dict[str, str] = {}
    for name, value in request.query_pairs:
        query[name] = f"{query[name]},{value}" if name in query else value
    content_type = request.content_type
    text = content_type.startswith("text/") or content_type in TEXT_MEDIA_TYPES
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": context.route_key,
        "rawPath": raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    request_context: dict[str, Any] = {
        "accountId": context.account_id,
        "apiId": context.api_id,
    }
    if context.authorizer is not None:
        request_context["authorizer"] = context.authorizer
    request_context.update({
        "domainName": context.domain_name,
        "domainPrefix": context.api_id,
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": context.extended_request_id,
        "routeKey": context.route_key,
        "stage": context.stage,
        "time": request.request_time,
        "timeEpoch": request.request_time_epoch,
    })
    event["requestContext"] = request_context
    if request.body:
        event["body"] = request.body.decode("utf-8", "replace") if text else b64(request.body)
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["isBase64Encoded"] = bool(request.body) and not text
    if stage_variables:
        event["stageVariables"] = stage_variables
    return event


def response_v2(payload: bytes) -> ProxyResponse:
    """Read a function's answer in the 2.0 format. Without a statusCode, API Gateway infers
    the response: 200, content-type application/json, the answer itself as the body."""
    try:
        answer = json.loads(payload)
    except ValueError as error:
        raise MalformedResponse("the function's answer is not JSON") from error
    if not isinstance(answer, dict) or "statusCode" not in answer:
        body = answer if isinstance(answer, str) else payload.decode("utf-8")
        return ProxyResponse(200, [("Content-Type", "application/json")], body.encode("utf-8"))
    status = _status(answer["statusCode"])
    headers: list[tuple[str, str]] = []
    single = answer.get("headers") or {}
    if not isinstance(single, dict):
        raise MalformedResponse("headers must be an object")
    for name, value in single.items():
        headers.append((name, _header_value(value)))
    for cookie in answer.get("cookies") or []:
        headers.append(("Set-Cookie", str(cookie)))
    answered = answer.get("body")
    if answered is not None and not isinstance(answered, str):
        raise MalformedResponse("body must be a string")
    data = (answered or "").encode("utf-8")
    if answer.get("isBase64Encoded") is True and answered:
        try:
            data = base64.b64decode(answered, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MalformedResponse("body is not valid base64") from error
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.insert(0, ("Content-Type", "application/json"))
    return ProxyResponse(status, headers, data)
