"""Aurora PostgreSQL clusters backed by real PostgreSQL servers (``postgres.py``).

moto stores a cluster's configuration; the sandbox adds a server to every ``aurora-postgresql``
cluster (other engines stay moto's records). What changes, as AWS documents it:

- ``CreateDBCluster`` answers at once with ``Status: creating``; the cluster is ``available``
  once its server answers and its master user exists (and at least :data:`CREATE_SECONDS` have
  passed on the sandbox clock: AWS takes minutes). Waiters (``db_cluster_available``) work.
- ``Endpoint``, ``ReaderEndpoint`` and each instance's ``Endpoint.Address`` are ``127.0.0.1``,
  and ``Port`` is the server's real loopback port. AWS gives a DNS name; a handler in the
  sandbox cannot resolve one (there is no DNS for it), so the address is the honest answer.
  The sandbox chooses the port (a free one): ``Port=`` in the request is not honoured.
- The master user is created with ``MasterUserPassword``, or, with
  ``ManageMasterUserPassword=True``, a password RDS generates and keeps in Secrets Manager: the
  secret ``rds!cluster-<uuid>`` holds ``{"username": <MasterUsername>, "password": ...}``
  ("Password management with Amazon Aurora and AWS Secrets Manager"); its ARN is
  ``MasterUserSecret.SecretArn``. moto wrote ``admin``/``P@55w0rd!`` whatever the request.
- ``EnableHttpEndpoint=True`` turns the Data API on for Aurora PostgreSQL (Serverless v2 and
  provisioned, "RDS Data API availability"); moto kept it for Serverless v1 only.
- ``max_connections``: the cluster parameter group's value when the learner set one
  (``modify_db_cluster_parameter_group``), else Aurora's formula
  ``LEAST({DBInstanceClassMemory/9531392}, 5000)`` with 2 GiB per ACU of ``MaxCapacity``
  ("Maximum connections to an Aurora PostgreSQL DB instance"), capped at
  :data:`DEFAULT_MAX_CONNECTIONS_CAP` in the sandbox (a laptop's memory).
- ``DeleteDBCluster`` ends the server and deletes its data.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .postgres import HOST, PostgresError, Server, quote_identifier, quote_literal

if TYPE_CHECKING:
    from . import Aurora

ENGINE = "aurora-postgresql"
CREATE_SECONDS = 60.0  # simulated seconds before a new cluster is available
BYTES_PER_ACU = 2 * 1024 ** 3  # "Each ACU is a combination of approximately 2 GiB of memory"
DEFAULT_MAX_CONNECTIONS_CAP = 500
PASSWORD_CHARACTERS = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"


@dataclass
class Cluster:
    """The sandbox's side of one Aurora PostgreSQL cluster."""

    arn: str
    identifier: str
    account: str
    region: str
    server: Server
    master_username: str
    master_password: str
    database_name: str | None
    secret_arn: str | None
    min_capacity: float
    max_capacity: float
    seconds_until_auto_pause: int
    created: float = field(default_factory=time.monotonic)  # real time
    prepared: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    deleted: bool = False
    stopped: bool = False  # StopDBCluster: the server is down, its data kept

    @property
    def port(self) -> int:
        return self.server.port


def max_connections_for(max_capacity: float) -> int:
    memory = max(0.5, max_capacity) * BYTES_PER_ACU
    return max(10, min(int(memory // 9531392), 5000, DEFAULT_MAX_CONNECTIONS_CAP))


def generated_password() -> str:
    """A password as RDS generates one for a managed master user (letters, digits and
    punctuation other than / " @ and space, which RDS refuses in a master password)."""
    return "".join(secrets.choice(PASSWORD_CHARACTERS) for _ in range(32))


def _running() -> Aurora | None:
    from . import _running as running

    return running


def state_of(cluster: Any) -> Cluster | None:
    aurora = _running()
    if aurora is None:
        return None
    return aurora.clusters.get(getattr(cluster, "arn", ""))


# ---------------------------------------------------------------------- the seams
def create_db_cluster(original: Any) -> Any:
    """``RDSBackend.create_db_cluster``: an Aurora PostgreSQL cluster gets its server."""
    def create(self: Any, kwargs: dict[str, Any]) -> Any:
        cluster = original(self, kwargs)
        aurora = _running()
        if aurora is not None and cluster.engine == ENGINE:
            try:
                aurora.attach(self, cluster, kwargs)
            except PostgresError as error:
                self.clusters.pop(cluster.db_cluster_identifier, None)
                from moto.rds.exceptions import InvalidParameterValue

                raise InvalidParameterValue(f"The sandbox could not start PostgreSQL for "
                                            f"this cluster: {error}") from None
        return cluster

    return create


def delete_db_cluster(original: Any) -> Any:
    def delete(self: Any, cluster_identifier: str, snapshot_name: str | None = None) -> Any:
        cluster = original(self, cluster_identifier, snapshot_name)
        aurora = _running()
        if aurora is not None:
            aurora.detach(cluster.arn)
        return cluster

    return delete


def modify_db_cluster(original: Any) -> Any:
    """``RDSBackend.modify_db_cluster``: a new ``MasterUserPassword`` is the master user's
    password in PostgreSQL too; a new ``ServerlessV2ScalingConfiguration`` is the capacity
    model's."""
    def modify(self: Any, kwargs: dict[str, Any]) -> Any:
        cluster = original(self, kwargs)
        state = state_of(cluster)
        aurora = _running()
        if state is None or aurora is None:
            return cluster
        scaling = kwargs.get("serverless_v2_scaling_configuration")
        if scaling:
            from . import _scaling

            found = _scaling(kwargs)
            state.min_capacity = float(found.get("MinCapacity", state.min_capacity))
            state.max_capacity = float(found.get("MaxCapacity", state.max_capacity))
            state.seconds_until_auto_pause = int(found.get("SecondsUntilAutoPause",
                                                           state.seconds_until_auto_pause))
        password = kwargs.get("master_user_password")
        if password and state.prepared.is_set() and not state.error:
            aurora.postgres.wait(state.server)
            with aurora.postgres.admin(state.server, "postgres") as connection:
                connection.run(f"ALTER ROLE {quote_identifier(state.master_username)} "
                               f"PASSWORD {quote_literal(str(password))}")
            state.master_password = str(password)
        return cluster

    return modify


def reboot_db_instance(original: Any) -> Any:
    """``RDSBackend.reboot_db_instance``: the cluster's server restarts, and a changed
    ``max_connections`` in the cluster parameter group takes effect (a static parameter:
    "pending-reboot", as on RDS)."""
    def reboot(self: Any, db_instance_identifier: str) -> Any:
        instance = original(self, db_instance_identifier)
        cluster = getattr(instance, "cluster", None)
        state = state_of(cluster)
        aurora = _running()
        if state is not None and aurora is not None and not state.stopped:
            aurora.postgres.wait(state.server)
            limit = aurora.max_connections(self, cluster, state.max_capacity)
            aurora.postgres.restart(state.server, limit)
        return instance

    return reboot


def stop_db_cluster(original: Any) -> Any:
    """``RDSBackend.stop_db_cluster``: the server stops; its data stays."""
    def stop(self: Any, cluster_identifier: str) -> Any:
        answer = original(self, cluster_identifier)
        state = state_of(self.clusters.get(cluster_identifier.lower()))
        aurora = _running()
        if state is not None and aurora is not None:
            aurora.postgres.wait(state.server)
            state.stopped = True
            aurora.postgres.halt(state.server)
        return answer

    return stop


def start_db_cluster(original: Any) -> Any:
    """``RDSBackend.start_db_cluster``: the server starts again on the same port and data."""
    def start(self: Any, cluster_identifier: str) -> Any:
        answer = original(self, cluster_identifier)
        state = state_of(self.clusters.get(cluster_identifier.lower()))
        aurora = _running()
        if state is not None and aurora is not None and state.stopped:
            aurora.postgres.restart(state.server)
            state.stopped = False
        return answer

    return start


def create_db_instance(original: Any) -> Any:
    """``RDSBackend.create_db_instance``: an instance of a backed cluster answers on the
    cluster's server (Aurora's instances share the cluster's storage; the sandbox's one server
    plays the writer)."""
    def create(self: Any, db_kwargs: dict[str, Any]) -> Any:
        instance = original(self, db_kwargs)
        state = state_of(getattr(instance, "cluster", None))
        if state is not None:
            instance.port = state.port
        return instance

    return create


def cluster_endpoint(original: Any) -> Any:
    def endpoint(self: Any) -> str:
        return HOST if state_of(self) is not None else str(original.fget(self))

    return property(endpoint)


def instance_address(original: Any) -> Any:
    def address(self: Any) -> str:
        if state_of(getattr(self, "cluster", None)) is not None:
            return HOST
        return str(original.fget(self))

    return property(address)


def cluster_status(original: Any) -> Any:
    """``DBCluster.status``: a backed cluster is ``creating`` until its server answers."""
    def status(self: Any) -> str:
        state = state_of(self)
        if state is None:
            return str(original.fget(self))
        aurora = _running()
        if aurora is not None and state.prepared.is_set() and not state.error:
            simulated = (time.monotonic() - state.created) * aurora.service.clock.speed
            if simulated >= CREATE_SECONDS:
                if self._status == "creating":
                    self._status = "available"
                return str(self._status)
        return "failed" if state.error else "creating"

    return property(status, original.fset)


def _instance_status_get(self: Any) -> str:
    stored = str(self.__dict__.get("_sandbox_status", self.__dict__.get("status", "available")))
    state = state_of(getattr(self, "cluster", None))
    if state is None:
        return stored
    if state.error:
        return "failed"
    if not state.prepared.is_set() or self.cluster.status == "creating":
        return "creating"
    return "stopped" if state.stopped else stored


def _instance_status_set(self: Any, value: str) -> None:
    self.__dict__["_sandbox_status"] = value


# ``DBInstanceClustered.status``: an instance of a backed cluster is "creating" until the
# cluster's server answers and "stopped" while the cluster is (moto: "available" at once), so
# that the db_instance_available waiter waits for a server that answers
INSTANCE_STATUS = property(_instance_status_get, _instance_status_set)


def enable_http_endpoint(original: Any) -> Any:
    """``DBCluster.enable_http_endpoint``'s setter: the Data API is available for Aurora
    PostgreSQL Serverless v2 and provisioned clusters; moto kept the flag for Serverless v1
    engine versions only."""
    def set_flag(self: Any, value: bool | None) -> None:
        original.fset(self, value)
        if self.engine == ENGINE and self.engine_mode == "provisioned" and value is not None:
            self._enable_http_endpoint = bool(value)

    return property(original.fget, set_flag)


def secret_string(original: Any) -> Any:
    """``MasterUserSecret._generate_secret_string``: RDS's managed secret holds the master
    username and a generated password; moto wrote admin/P@55w0rd! for everyone."""
    def generate(self: Any) -> str:
        username = getattr(self.resource, "master_username", None)
        if not username:
            return str(original(self))
        return json.dumps({"username": username, "password": generated_password()})

    return generate


# ---------------------------------------------------------------------- preparing a server
def prepare(aurora: Aurora, state: Cluster) -> None:
    """Once the server answers: the master user, its databases (RDS's ``rdsadmin`` and
    ``rds_superuser`` roles, simply)."""
    postgres = aurora.postgres
    try:
        postgres.wait(state.server)
        user = quote_identifier(state.master_username)
        with postgres.admin(state.server, "postgres") as connection:
            connection.run("CREATE ROLE rds_superuser NOLOGIN CREATEDB CREATEROLE")
            connection.run(f"CREATE ROLE {user} LOGIN CREATEDB CREATEROLE PASSWORD "
                           f"{quote_literal(state.master_password)} IN ROLE rds_superuser")
            connection.run(f"ALTER DATABASE postgres OWNER TO {user}")
            if state.database_name:
                connection.run(f"CREATE DATABASE {quote_identifier(state.database_name)} "
                               f"OWNER {user}")
    except Exception as error:  # a failed start, or PostgreSQL refusing a name
        state.error = str(error)
    finally:
        state.prepared.set()
