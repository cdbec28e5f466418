"""The embedded server: moto's WSGI application on a free loopback port, in a thread.

Handler processes reach the sandbox through it, so they see the same state as the notebook.
It binds 127.0.0.1 only, never another interface. Extensions may put routes in front of moto
(``add_route``): API Gateway serves deployed APIs there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .errors import UnsafeEnvironmentError

RAW_HEADERS = "sandbox.raw_headers"  # environ key: the request's (name, value) pairs, as sent


class Server:
    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietRequestHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass  # a learner's notebook is no place for an access log

            def make_environ(self) -> dict[str, Any]:
                environ = super().make_environ()
                # WSGI folds header names to HTTP_X_Y; API Gateway passes them as sent
                environ[RAW_HEADERS] = list(self.headers.items())
                return environ

        self._moto = DomainDispatcherApplication(create_backend_app)
        self._routes: list[Callable[[dict[str, Any]], Any]] = []
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True,
                                   request_handler=QuietRequestHandler)
        self._server.daemon_threads = True
        host, self.port = self._server.server_address[:2]
        if host != "127.0.0.1":
            self._server.server_close()
            raise UnsafeEnvironmentError(f"the sandbox's server bound {host}, not loopback")
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, name="sandbox-server",
                                        daemon=True)
        self._thread.start()

    def add_route(self, route: Callable[[dict[str, Any]], Any]) -> None:
        """Put ``route`` in front of moto: called with each request's WSGI environ, it returns
        the WSGI application that serves the request, or None to leave it to moto."""
        self._routes.append(route)

    def remove_route(self, route: Callable[[dict[str, Any]], Any]) -> None:
        if route in self._routes:
            self._routes.remove(route)

    def _dispatch(self, environ: dict[str, Any], start_response: Any) -> Any:
        for route in self._routes:
            app = route(environ)
            if app is not None:
                return app(environ, start_response)
        return self._moto(environ, start_response)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
