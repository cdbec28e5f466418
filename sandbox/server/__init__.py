"""The sandbox's server process: moto, the sandbox's extensions and the Lambda runtime.

Started by ``sandbox.start()`` as a child of the notebook, or by ``course serve`` in a terminal;
``python -m sandbox.server --help`` tells its options. Its parts:

- ``service.py``: the service, its extensions and their life cycle;
- ``router.py``: each request classified once, by host and path;
- ``admin.py``: the private admin API the notebook's views use;
- ``http.py``: the HTTP server on loopback, with bounded bodies;
- ``__main__.py``: the process: its owner, its readiness line, its end.

Nothing here is imported by the notebook's side (``sandbox.client``).
"""

from __future__ import annotations

from .http import RAW_HEADERS

__all__ = ["RAW_HEADERS"]
