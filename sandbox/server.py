"""The embedded server: moto's WSGI application on a free loopback port, in a thread.

Handler processes reach the sandbox through it, so they see the same state as the notebook.
It binds 127.0.0.1 only, never another interface.
"""

from __future__ import annotations

import threading
from typing import Any

from .errors import UnsafeEnvironmentError


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

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, app, threaded=True,
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
