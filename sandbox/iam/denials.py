"""Refusals in each service's own protocol, as AWS sends them.

The same decision reaches botocore in five shapes. Each is recorded from AWS or its documentation:

- JSON services (DynamoDB, Step Functions, EventBridge, CloudWatch Logs): HTTP 400,
  ``{"__type": "...#AccessDeniedException", "message": ...}``.
- SQS (JSON protocol, query-compatible): HTTP 403, code ``AccessDenied`` carried by the
  ``x-amzn-query-error`` header; SQS writes the action in lower case (``sqs:sendmessage``).
- REST-JSON services (Lambda, API Gateway): HTTP 403, ``x-amzn-ErrorType: AccessDeniedException``.
- S3 (REST-XML): HTTP 403, ``<Error><Code>AccessDenied</Code>``; S3 quotes the resource ARN.
- Query services (SNS, STS, IAM, SQS's query protocol): HTTP 403, ``<ErrorResponse>``;
  SNS calls it ``AuthorizationError`` and writes its prefix as ``SNS:``; STS's AssumeRole
  refusal stops after the resource, with no "because".

An access key the sandbox never issued is refused the way each protocol refuses a bad token.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

JSON_SERVICES = {"dynamodb", "states", "events", "logs"}
REST_JSON_SERVICES = {"lambda", "apigateway", "execute-api"}
QUERY_SERVICES = {"sts", "iam", "sns"}

Application = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def spell(service: str, action: str, resource: str, message: str, *,
          cross_account: bool = False) -> str:
    """The message as ``service`` writes it: SQS lowers the action, SNS raises its prefix,
    S3 quotes the resource (and tells a caller from another account, outside any shared
    organization, only "Access Denied"), STS gives no reason."""
    if service == "s3" and cross_account:
        return "Access Denied"
    if service == "sts":
        return re.split(r" because | with an explicit deny", message, maxsplit=1)[0]
    if service == "s3":
        return message.replace(f"on resource: {resource}", f'on resource: "{resource}"')
    if service == "sqs":
        return message.replace(action, action.lower())
    if service == "sns":
        return message.replace(action, "SNS:" + action.split(":", 1)[1])
    return message


def access_denied(service: str, query_protocol: bool, message: str) -> Application:
    """The refusal of a request to ``service``; ``message`` is already spelled for it."""
    if service == "s3":
        return _xml(403, "AccessDenied", message, s3=True)
    if service == "sns":
        return _xml(403, "AuthorizationError", message)
    if query_protocol or service in ("sts", "iam"):
        return _xml(403, "AccessDenied", message)
    if service == "sqs":
        return _json(403, "com.amazon.coral.service#AccessDeniedException", message,
                     {"x-amzn-query-error": "AccessDenied;Sender"})
    if service in REST_JSON_SERVICES:
        key = "Message" if service == "lambda" else "message"
        body = {"Type": "User", key: message} if service == "lambda" else {key: message}
        return _respond(403, {"x-amzn-ErrorType": "AccessDeniedException",
                              "Content-Type": "application/json"}, json.dumps(body))
    prefix = "com.amazon.coral.service#" if service == "dynamodb" else ""
    return _json(400, prefix + "AccessDeniedException", message)


def unknown_key(service: str, query_protocol: bool) -> Application:
    """The refusal of an access key that no user or session in any account has."""
    if service == "s3":
        return _xml(403, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.", s3=True)
    text = "The security token included in the request is invalid."
    if query_protocol or service in ("sts", "iam", "sns"):
        return _xml(403, "InvalidClientTokenId", text)
    if service == "sqs":
        return _json(403, "com.amazon.coral.service#InvalidClientTokenId", text,
                     {"x-amzn-query-error": "InvalidClientTokenId;Sender"})
    if service in REST_JSON_SERVICES:
        return _respond(403, {"x-amzn-ErrorType": "UnrecognizedClientException",
                              "Content-Type": "application/json"},
                        json.dumps({"message": text}))
    return _json(400, "UnrecognizedClientException", text)


MISSING_TOKEN = "Request is missing Authentication Token"


def missing_authentication(service: str) -> Application:
    """The refusal of an unsigned request to a service that takes none. Recorded from AWS: STS
    (and the other query services) 403 ``MissingAuthenticationToken`` in an ``ErrorResponse``;
    DynamoDB (and the other JSON services) 400
    ``com.amazon.coral.service#MissingAuthenticationTokenException``; Lambda and API Gateway
    403 ``x-amzn-ErrorType: MissingAuthenticationTokenException`` with
    ``{"message": "Missing Authentication Token"}``."""
    if service in REST_JSON_SERVICES:
        return _respond(403, {"x-amzn-ErrorType": "MissingAuthenticationTokenException",
                              "Content-Type": "application/json"},
                        json.dumps({"message": "Missing Authentication Token"}))
    if service in QUERY_SERVICES:
        return _xml(403, "MissingAuthenticationToken", MISSING_TOKEN)
    return _json(400, "com.amazon.coral.service#MissingAuthenticationTokenException",
                 MISSING_TOKEN)


def not_found() -> Application:
    """A path the sandbox does not serve to anyone (moto's own ``/moto-api/``)."""
    return _respond(404, {"Content-Type": "text/plain"}, "Not Found")


def _json(status: int, kind: str, message: str,
          headers: dict[str, str] | None = None) -> Application:
    return _respond(status, {"Content-Type": "application/x-amz-json-1.0", **(headers or {})},
                    json.dumps({"__type": kind, "message": message}))


def _xml(status: int, code: str, message: str, *, s3: bool = False) -> Application:
    request_id = str(uuid.uuid4())
    if s3:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId>"
                "<HostId>sandbox</HostId></Error>")
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return _respond(status, {"Content-Type": "text/xml"}, body, request_id)


def _respond(status: int, headers: dict[str, str], body: str,
             request_id: str | None = None) -> Application:
    data = body.encode()
    reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(f"{status} {reasons[status]}", [
            *headers.items(), ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", request_id or str(uuid.uuid4()))])
        return [data]

    return application
