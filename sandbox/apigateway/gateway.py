"""The invoke endpoint: requests to deployed APIs, parsed once, answered as API Gateway does.

Two URL forms reach an API on the sandbox's server:

- ``<endpoint>/restapis/<api_id>/<stage>/_user_request_/<path>``, the form local emulators use
  (``sb.api_url(api_id, stage)`` gives its base);
- any request whose ``Host`` is ``<api_id>.execute-api.<region>.amazonaws.com`` (or
  ``<api_id>.execute-api.localhost``), with ``/<stage>/<path>`` as on AWS. While the sandbox
  runs, ``requests`` sends ``https://<api_id>.execute-api...`` URLs here (see ``client.py``).

Request parsing lives here; REST and HTTP API behaviour live in ``rest.py`` and ``httpapi.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from ..server import RAW_HEADERS

# /restapis/<api_id>/<stage>/_user_request_/<path>: no moto route has a _user_request_ segment
USER_REQUEST = re.compile(
    r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
EXECUTE_API_HOST = re.compile(
    r"^(?P<api>[a-z0-9]+)\.execute-api\.(?:(?P<region>[a-z0-9-]+)\.amazonaws\.com|localhost)"
    r"(?::\d+)?$", re.IGNORECASE)

# Hop-by-hop headers: CloudFront, in front of every API, does not pass them on.
HOP_BY_HOP = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding",
                        "te", "trailer", "upgrade", "proxy-connection"})


@dataclass
class Request:
    """One request to a deployed API, as the client sent it."""

    api_id: str
    stage: str | None  # None for the host form: the stage is the first path segment
    method: str
    raw_path: str  # after the stage, percent-encoded as sent, starting with "/"
    raw_query: str
    headers: list[tuple[str, str]]  # names as sent, in order, duplicates kept
    body: bytes
    source_ip: str
    protocol: str
    aws_form: bool  # the client used https://<api_id>.execute-api.<region>.amazonaws.com
    server_port: int
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.time)
    apigw_id: str | None = None  # an HTTP API's own request id (apigw-requestid), once known

    def header(self, name: str) -> str | None:
        """The last value of a header, by case-insensitive name."""
        found = None
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                found = value
        return found

    def header_values(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded (name, value) pairs in order; ``+`` is a space, as API Gateway reads it."""
        pairs = []
        for part in self.raw_query.split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
        return pairs

    @property
    def content_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def request_time(self) -> str:
        return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.started))

    @property
    def request_time_epoch(self) -> int:
        return int(self.started * 1000)

    @property
    def trace_id(self) -> str:
        return f"Root=1-{int(self.started):08x}-{os.urandom(12).hex()}"

    @property
    def forwarded(self) -> list[tuple[str, str]]:
        """The X-Forwarded-* headers the API Gateway front end adds."""
        port, proto = ("443", "https") if self.aws_form else (str(self.server_port), "http")
        return [("X-Forwarded-For", self.source_ip), ("X-Forwarded-Port", port),
                ("X-Forwarded-Proto", proto)]


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error_message: str | None = None  # $context.error.message, for access logs
    integration_error: str | None = None  # $context.integrationErrorMessage
    response_type: str | None = None  # the gateway response type of an error API Gateway made

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from http import HTTPStatus

        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = [(k, v) for k, v in self.headers if k.lower() not in HOP_BY_HOP]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(f"{self.status} {reason}", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


def json_response(status: int, body: Any, headers: list[tuple[str, str]] | None = None,
                  *, compact: bool = False) -> Response:
    separators = (",", ":") if compact else (", ", ": ")
    return Response(status, [("Content-Type", "application/json"), *(headers or [])],
                    json.dumps(body, separators=separators).encode())


def parse(environ: dict[str, Any]) -> Request | None:
    """The request, if it is addressed to a deployed API; None leaves it to moto."""
    path = environ.get("PATH_INFO", "")
    host = environ.get("HTTP_HOST", "")
    matched = USER_REQUEST.match(path) if path.startswith("/restapis/") else None
    host_match = None if matched else EXECUTE_API_HOST.match(host)
    if matched is None and host_match is None:
        return None
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
    raw_path = raw_uri.split("?", 1)[0]
    if raw_path.startswith(("http://", "https://")):  # an absolute URI, from a proxy
        raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
    if matched:
        api_id, stage = matched["api"], unquote_plus(matched["stage"])
        raw_path = raw_path.partition("/_user_request_")[2] or "/"
    else:
        assert host_match is not None  # one of the two matched (above)
        api_id, stage = host_match["api"].lower(), None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = environ.get(RAW_HEADERS)
    if headers is None:  # not through the sandbox's own request handler
        headers = [(key[5:].replace("_", "-").title(), value) for key, value in environ.items()
                   if key.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    return Request(
        api_id=api_id, stage=stage, method=environ.get("REQUEST_METHOD", "GET").upper(),
        raw_path=raw_path, raw_query=environ.get("QUERY_STRING", ""), headers=list(headers),
        body=body, source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
        protocol=environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        aws_form=bool(host_match and host_match["region"]),
        server_port=int(environ.get("SERVER_PORT") or 0))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def media_type_matches(media_type: str, patterns: list[str]) -> bool:
    """Whether ``image/png`` is covered by a binary media type such as ``image/*`` or ``*/*``."""
    if not media_type:
        return False
    kind, _, sub = media_type.partition("/")
    for pattern in patterns:
        p_kind, _, p_sub = pattern.lower().split(";", 1)[0].strip().partition("/")
        if p_kind in ("*", kind) and p_sub in ("*", sub):
            return True
    return False
