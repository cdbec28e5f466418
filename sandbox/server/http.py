"""The sandbox's HTTP server: one WSGI application on a free loopback port, bodies bounded.

werkzeug's server, not its development defaults: a request body is read whole before the
application sees it, refused with 413 above ``MAX_BODY_BYTES``, and a malformed chunked body
(a chunk size that is not hexadecimal, or longer than the bound, or a body that ends early) gets
400 and a closed connection. werkzeug's own ``DechunkedInput`` counts a short read at the end of
the stream as a full one, so a 60-byte request announcing a huge chunk and hanging up grew the
server without bound. It binds 127.0.0.1 only.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import ThreadedWSGIServer, make_server

from ..errors import UnsafeEnvironmentError

RAW_HEADERS = "sandbox.raw_headers"  # environ key: the request's (name, value) pairs, as sent
BAD_REQUEST = "sandbox.bad_request"  # environ key: why the request's framing was refused
MAX_BODY_BYTES = 128 * 1024 * 1024  # larger objects go to S3 by multipart upload
_MAX_CHUNK_LINE = 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def read_chunked(stream: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    """A chunked body (RFC 9112 section 7.1), read whole and checked as it is read."""
    body = bytearray()
    while True:
        line = stream.readline(_MAX_CHUNK_LINE)
        if not line.endswith(b"\n"):
            raise BodyRefused(400, "the chunked body ended early or has an overlong chunk line")
        size_text = line.split(b";", 1)[0].strip()
        try:
            if not size_text or len(size_text) > 16:
                raise ValueError
            size = int(size_text, 16)
        except ValueError:
            raise BodyRefused(400, f"invalid chunk size {size_text[:40]!r}") from None
        if size == 0:
            while True:  # trailers, up to the empty line
                trailer = stream.readline(_MAX_CHUNK_LINE)
                if not trailer.endswith(b"\n"):
                    raise BodyRefused(400, "the chunked body ended before its last line")
                if trailer in (b"\r\n", b"\n"):
                    return bytes(body)
        if len(body) + size > limit:
            raise BodyRefused(413, f"the request body is larger than {limit} bytes")
        data = stream.read(size)
        if len(data) != size:
            raise BodyRefused(400, "the chunked body ended in the middle of a chunk")
        body += data
        if stream.readline(_MAX_CHUNK_LINE) not in (b"\r\n", b"\n"):
            raise BodyRefused(400, "a chunk is not followed by CRLF")


class _RequestHandler(MotoRequestHandler):  # moto's keeps S3 metadata's underscores
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # an access log per request is noise, even in the server's own log

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        # WSGI folds header names to HTTP_X_Y; API Gateway passes them as sent
        environ[RAW_HEADERS] = list(self.headers.items())
        try:
            self._bound_body(environ)
        except BodyRefused as refused:
            environ[BAD_REQUEST] = refused
            environ["wsgi.input"] = io.BytesIO()
            environ["CONTENT_LENGTH"] = "0"
            self.close_connection = True
        return environ

    def _bound_body(self, environ: dict[str, Any]) -> None:
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = read_chunked(self.rfile)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
            return
        length_text = environ.get("CONTENT_LENGTH") or "0"
        try:
            length = int(length_text)
        except ValueError:
            raise BodyRefused(400, f"invalid Content-Length {length_text[:40]!r}") from None
        if length < 0:
            raise BodyRefused(400, f"invalid Content-Length {length_text[:40]!r}")
        if length > MAX_BODY_BYTES:
            raise BodyRefused(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")


def _refuse(refused: BodyRefused, start_response: Callable[..., Any]) -> list[bytes]:
    body = json.dumps({"message": f"Bad request: {refused.reason}."}).encode()
    reason = "Bad Request" if refused.status == 400 else "Request Entity Too Large"
    start_response(f"{refused.status} {reason}", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
        ("Connection", "close")])
    return [body]


class HttpServer:
    """``app`` served on 127.0.0.1 (``port`` 0: a free one), in a thread."""

    def __init__(self, app: WSGIApp, port: int = 0):
        self._app = app
        # bound here, so that a taken port is an OSError (werkzeug would exit the process)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
            listening.bind(("127.0.0.1", port))
            listening.listen(128)
            # threaded=True: werkzeug's make_server gives a ThreadedWSGIServer
            self._server = cast(ThreadedWSGIServer, make_server(
                "127.0.0.1", port, self._serve, threaded=True, request_handler=_RequestHandler,
                fd=listening.fileno()))
        self._server.daemon_threads = True
        host, self.port = self._server.server_address[:2]
        if host != "127.0.0.1":
            self._server.server_close()
            raise UnsafeEnvironmentError(f"the sandbox's server bound {host!r}, not loopback")
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, name="sandbox-http",
                                        daemon=True)
        self._thread.start()

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        refused = environ.get(BAD_REQUEST)
        if refused is not None:
            return _refuse(refused, start_response)
        return self._app(environ, start_response)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
