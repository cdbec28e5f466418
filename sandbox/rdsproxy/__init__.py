"""RDS Proxy: moto stores proxies; the sandbox answers their endpoints with a real pooling proxy.

- ``create_db_proxy`` (``EngineFamily`` ``POSTGRESQL``) starts the proxy's listener on loopback:
  ``describe_db_proxies`` gives its ``Endpoint``, a loopback address of its own
  (``127.x.y.z``) on PostgreSQL's port 5432, as a proxy endpoint answers on the engine's port
  (where the system routes only ``127.0.0.1``, that address, while its 5432 is free).
  ``delete_db_proxy``, ``reset()`` and ``stop()`` close it.
- ``register_db_proxy_targets(DBClusterIdentifiers=[...])``: the proxy forwards to the cluster's
  real endpoint and port; ``describe_db_proxy_targets`` reports each target's health by
  reaching it (``AVAILABLE``, or ``UNAVAILABLE`` with ``UNREACHABLE``).
- Clients authenticate to the proxy with a user and password that match one of the proxy's
  ``Auth`` secrets (``{"username": ..., "password": ...}``), which the proxy reads as its
  ``RoleArn``: the role must trust ``rds.amazonaws.com`` and be allowed
  ``secretsmanager:GetSecretValue`` on the secret (IAM decides, "Setting up AWS Identity and
  Access Management (IAM) policies", RDS Proxy).
- ``modify_db_proxy_target_group(ConnectionPoolConfig=...)``: ``MaxConnectionsPercent``,
  ``MaxIdleConnectionsPercent``, ``ConnectionBorrowTimeout`` and ``InitQuery`` take effect on the
  running pool at once.

The pool itself is ``pool.py``, the listener and its sessions ``proxy.py``, the protocol
``wire.py``, the moto wrappers ``proxies.py``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .proxy import ProxyEndpoint

if TYPE_CHECKING:
    from ..server.service import SandboxService

# The running extension, found by the moto wrappers at call time (sandbox/seams.py rows).
_running: RdsProxy | None = None


class RdsProxy:
    """The running proxies, by (account, region, proxy name)."""

    def __init__(self, service: SandboxService):
        self.service = service
        self.endpoints: dict[tuple[str, str, str], ProxyEndpoint] = {}
        self.lock = threading.Lock()

    def add(self, key: tuple[str, str, str], endpoint: ProxyEndpoint) -> None:
        with self.lock:
            old = self.endpoints.pop(key, None)
            self.endpoints[key] = endpoint
        if old is not None:
            old.stop()

    def remove(self, key: tuple[str, str, str]) -> None:
        with self.lock:
            endpoint = self.endpoints.pop(key, None)
        if endpoint is not None:
            endpoint.stop()

    def find(self, key: tuple[str, str, str]) -> ProxyEndpoint | None:
        with self.lock:
            return self.endpoints.get(key)

    def reset(self) -> None:
        with self.lock:
            endpoints = list(self.endpoints.values())
            self.endpoints.clear()
        for endpoint in endpoints:
            endpoint.stop()

    def close(self) -> None:
        self.reset()


def install(service: SandboxService) -> RdsProxy:
    global _running
    _running = RdsProxy(service)
    return _running


def uninstall() -> None:
    global _running
    if _running is not None:
        _running.close()
    _running = None


def running() -> RdsProxy | None:
    return _running
