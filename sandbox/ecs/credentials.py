"""The task role's credentials, served as ECS serves them: a container credentials endpoint.

On Fargate the SDK in a container finds ``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` and fetches
the task role's temporary credentials from ``169.254.170.2`` ("Amazon ECS task IAM role", ECS
Developer Guide). That address is not this machine's, so the sandbox serves the same answer on
loopback and gives the container ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (which the SDKs accept
for a loopback host) and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``, a secret of the task's that the
SDK sends in the ``Authorization`` header; a request without it is refused. The answer is the
endpoint's JSON: ``AccessKeyId``, ``SecretAccessKey``, ``Token``, ``Expiration``, ``RoleArn``.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/v2/credentials/"
EXPIRES_AFTER = timedelta(hours=1)  # the SDK asks again before then (the session lasts 12 h)


class CredentialsEndpoint:
    """One loopback HTTP server answering every task's credentials request."""

    def __init__(self) -> None:
        self._tasks: dict[str, tuple[str, str, str]] = {}  # task id -> (token, role, region)
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                endpoint.answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the server's log is for the sandbox's errors

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="ecs-credentials", daemon=True)
        self._thread.start()

    def register(self, task_id: str, role_arn: str, region: str) -> dict[str, str]:
        """The variables that lead the task's SDK here."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tasks[task_id] = (token, role_arn, region)
        return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{self.port}{PATH}"
                                                      f"{task_id}",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}

    def forget(self, task_id: str) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        from .. import sts

        task_id = request.path[len(PATH):] if request.path.startswith(PATH) else ""
        with self._lock:
            found = self._tasks.get(task_id)
        if found is None or not secrets.compare_digest(
                request.headers.get("Authorization", ""), found[0]):
            return self._send(request, 403, {
                "code": "AccessDenied",
                "message": "No credentials for this request: the task is not running, or the "
                           "Authorization header is not its AWS_CONTAINER_AUTHORIZATION_TOKEN."})
        _, role, region = found
        try:
            keys = sts.credentials(role, task_id, region=region)
        except Exception as error:  # noqa: BLE001  the role went away meanwhile
            return self._send(request, 500, {"code": "InternalError",
                                             "message": f"could not assume {role}: {error}"})
        expires = datetime.now(timezone.utc) + EXPIRES_AFTER
        self._send(request, 200, {
            "AccessKeyId": keys["AccessKeyId"], "SecretAccessKey": keys["SecretAccessKey"],
            "Token": keys["SessionToken"], "RoleArn": role,
            "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
