"""``requests`` to ``https://<api_id>.execute-api.<region>.amazonaws.com/...`` (and to S3
website endpoints, ``http://<bucket>.s3-website-<region>.amazonaws.com/``, and to GraphQL
endpoints, ``https://<api_id>.appsync-api.<region>.amazonaws.com/graphql``) reach the sandbox.

While the sandbox runs, every ``requests`` session hands URLs on those hosts to an adapter that
sends them to the sandbox's loopback server, keeping the ``Host`` header, which is how the
server knows the API or bucket; no such request leaves the machine. Other URLs are untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

EXECUTE_API_URL = re.compile(
    r"^https?://(?:[a-z0-9]+\.execute-api\.[a-z0-9-]+|[a-z0-9.-]+\.s3-website[-.][a-z0-9-]+"
    r"|[a-z0-9-]+\.appsync-api\.[a-z0-9-]+)"
    r"\.amazonaws\.com(:\d+)?(/|$|\?)", re.IGNORECASE)


def install(endpoint: str) -> Callable[[], None]:
    """Send ``requests`` for those hosts to ``endpoint``; the function that stops it."""
    try:
        import requests  # noqa: F401  (only when the notebook has it)
    except ImportError:
        return lambda: None
    from requests.adapters import BaseAdapter, HTTPAdapter
    from requests.sessions import Session

    class ExecuteApiAdapter(HTTPAdapter):
        """Sends a request for an execute-api host to the sandbox instead."""

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            parts = urlsplit(request.url)
            local = urlsplit(endpoint)
            request.headers["Host"] = parts.netloc.split(":")[0]
            request.url = urlunsplit((local.scheme, local.netloc, parts.path or "/",
                                      parts.query, ""))
            kwargs["verify"] = False
            return super().send(request, *args, **kwargs)

    adapter = ExecuteApiAdapter()
    original = Session.get_adapter

    def get_adapter(session: Session, url: str) -> BaseAdapter:
        if EXECUTE_API_URL.match(url):
            return adapter
        return original(session, url)

    # on purpose, on the class: every session of this process
    Session.get_adapter = get_adapter  # type: ignore[method-assign,assignment]

    def uninstall() -> None:
        if Session.get_adapter is get_adapter:
            Session.get_adapter = original  # type: ignore[method-assign]  # put back
        adapter.close()

    return uninstall
