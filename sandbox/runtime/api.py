"""Lambda's Runtime API (``/2018-06-01/runtime/...``), served to one execution environment.

The runtime asks for the next invocation and posts its response or error; Lambda's documented
paths, headers and error documents (runtimes-api.html).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .reports import MAX_RESPONSE_BYTES

if TYPE_CHECKING:
    from .environment import ExecutionEnvironment

_LOOPBACK = "127.0.0.1"  # the runtime and the sandbox share the machine, as on AWS


class _RuntimeAPIHandler(BaseHTTPRequestHandler):
    """Lambda's Runtime API (``/2018-06-01/runtime/...``) for one execution environment."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes on a kept-alive connection must not wait 40 ms
    server: RuntimeAPIServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _reply(self, status: int, body: dict[str, str] | bytes,
               headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}",
                f"Content-Length: {len(data)}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path != "/2018-06-01/runtime/invocation/next":
            self._reply(404, {"errorMessage": "Not found", "errorType": "InvalidRequest"})
            return
        invocation = self.server.environment.next_invocation()
        if invocation is None:  # the environment is being retired
            self._reply(500, {"errorMessage": "Container error. Non-recoverable state.",
                              "errorType": "Runtime.Unknown"})
            return
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.invoked_arn,
            "Lambda-Runtime-Trace-Id": _trace_id(),
            "Content-Type": "application/json",
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        self._reply(200, invocation.payload, headers)

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.split("/")
        env = self.server.environment
        if self.path == "/2018-06-01/runtime/init/error":
            env.init_error(_error_body(body, self.headers))
            self._reply(202, _ACCEPTED)
            return
        if len(parts) == 6 and parts[3] == "invocation" and parts[5] in ("response", "error"):
            invocation = env.current
            if invocation is None or invocation.request_id != parts[4] \
                    or invocation.responded.is_set():
                self._reply(400, {"errorMessage": "Invalid request ID",
                                  "errorType": "InvalidRequestID"})
                return
            if parts[5] == "error":
                env.respond(invocation, error=_error_body(body, self.headers))
            elif len(body) > MAX_RESPONSE_BYTES:
                env.respond(invocation, error=json.dumps({
                    "errorMessage": "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }).encode())
                self._reply(413, {"errorMessage": "Exceeded maximum allowed payload size "
                                  f"({MAX_RESPONSE_BYTES} bytes).",
                                  "errorType": "RequestEntityTooLarge"})
                return
            else:
                env.respond(invocation, response=body)
            self._reply(202, _ACCEPTED)
            return
        self._reply(404, {"errorMessage": "Not found", "errorType": "InvalidRequest"})


class RuntimeAPIServer(ThreadingHTTPServer):
    """One environment's Runtime API endpoint on a loopback port.

    Its accept loop blocks in accept() rather than polling, so stop() is immediate: shutting the
    listening socket down wakes accept() at once (socketserver's serve_forever would wait out
    its poll interval)."""

    daemon_threads = True
    block_on_close = False
    environment: ExecutionEnvironment

    def __init__(self, environment: ExecutionEnvironment):
        super().__init__((_LOOPBACK, 0), _RuntimeAPIHandler)
        self.environment = environment
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"runtime-api-{environment.spec.name}")

    @property
    def address(self) -> str:
        return f"{_LOOPBACK}:{self.server_port}"

    def start(self) -> None:
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                request, client_address = self.socket.accept()
            except OSError:
                break
            if self._stopping:
                request.close()
                break
            self.process_request(request, client_address)

    def stop(self) -> None:
        self._stopping = True
        try:
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        except OSError:
            pass
        if self._thread.is_alive():
            self._thread.join(1)
        self.server_close()

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket],
                     client_address: tuple[str, int]) -> None:
        pass  # a worker killed mid-request (timeout, retirement) is expected


_ACCEPTED = b'{"status":"OK"}\n'


def _error_body(body: bytes, headers: Message) -> bytes:
    """The runtime's error document, which Lambda hands to the caller verbatim."""
    try:
        if isinstance(json.loads(body), dict):
            return body
    except ValueError:
        pass
    error_type = headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
    return json.dumps({"errorMessage": body.decode("utf-8", "replace"),
                       "errorType": error_type}).encode()


def _trace_id() -> str:
    return (f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
            f"Parent={uuid.uuid4().hex[:16]};Sampled=0")
