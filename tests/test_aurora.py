"""Aurora Serverless v2 (PostgreSQL) on real PostgreSQL servers, and the RDS Data API.

AWS documents what is pinned here:
- CreateDBCluster / DescribeDBClusters / ServerlessV2ScalingConfiguration:
  docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html
- the managed master secret: "Password management with Amazon Aurora and AWS Secrets Manager",
  docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html
- connecting from Lambda with a driver in the deployment package:
  docs.aws.amazon.com/lambda/latest/dg/services-rds.html
"""

from __future__ import annotations

import json
import os
import signal
import time

import boto3
import psutil
import pytest

from sandbox.rds.packaging import driver_files
from sandbox.testing import deploy, execution_role, invoke

pytestmark = pytest.mark.slow  # each test starts a PostgreSQL server


def _postgres_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "pginstall/bin/postgres" in command and " -D " in command:
            found.append(process)
    return found


def make_cluster(name: str = "shop", *, managed: bool = True, wait: bool = True,
                 **options: object) -> dict:
    rds = boto3.client("rds")
    credentials: dict[str, object] = (
        {"ManageMasterUserPassword": True} if managed
        else {"MasterUserPassword": "correct-horse-battery"})
    options.setdefault("ServerlessV2ScalingConfiguration", {"MinCapacity": 0.5, "MaxCapacity": 2})
    created = rds.create_db_cluster(
        DBClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.4",
        MasterUsername="shopadmin", EnableHttpEndpoint=True, **credentials,
        **options)["DBCluster"]
    rds.create_db_instance(DBInstanceIdentifier=f"{name}-1", DBInstanceClass="db.serverless",
                           Engine="aurora-postgresql", DBClusterIdentifier=name)
    if wait:
        rds.get_waiter("db_cluster_available").wait(
            DBClusterIdentifier=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    return created


def describe(name: str = "shop") -> dict:
    cluster: dict = boto3.client("rds").describe_db_clusters(
        DBClusterIdentifier=name)["DBClusters"][0]
    return cluster


def master_secret(cluster: dict) -> dict:
    value = boto3.client("secretsmanager").get_secret_value(
        SecretId=cluster["MasterUserSecret"]["SecretArn"])["SecretString"]
    secret: dict = json.loads(value)
    return secret


def connect(cluster: dict, user: str, password: str, database: str = "postgres"):
    import pg8000.native

    return pg8000.native.Connection(user, host=cluster["Endpoint"], port=cluster["Port"],
                                    password=password, database=database, timeout=10)


# ---------------------------------------------------------------------- the cluster
def test_a_cluster_is_creating_then_available_with_a_real_endpoint(sb):
    # a cluster is creating for 60 s of the sandbox clock at least: 0.6 s at this speed,
    # time enough to see it creating, whatever the machine's load
    default, sb.clock.speed = sb.clock.speed, 100
    try:
        _creating_then_available()
    finally:
        sb.clock.speed = default


def _creating_then_available() -> None:
    created = make_cluster(wait=False)
    # CreateDBCluster answers before the cluster can be used (AWS: minutes of "creating"), and
    # its instance is creating with it
    assert created["Status"] == "creating"
    assert boto3.client("rds").describe_db_instances(
        DBInstanceIdentifier="shop-1")["DBInstances"][0]["DBInstanceStatus"] == "creating"
    boto3.client("rds").get_waiter("db_cluster_available").wait(
        DBClusterIdentifier="shop", WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    boto3.client("rds").get_waiter("db_instance_available").wait(
        DBInstanceIdentifier="shop-1", WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    cluster = describe()
    assert cluster["Status"] == "available"
    # the address a handler can reach on this machine, and the server's real port
    assert cluster["Endpoint"] == "127.0.0.1"
    assert cluster["Port"] == created["Port"]
    assert cluster["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 2
    assert cluster["HttpEndpointEnabled"] is True
    instance = boto3.client("rds").describe_db_instances(
        DBInstanceIdentifier="shop-1")["DBInstances"][0]
    assert instance["Endpoint"] == {"Address": "127.0.0.1", "Port": cluster["Port"]}
    secret = master_secret(cluster)
    with connect(cluster, secret["username"], secret["password"]) as connection:
        assert connection.run("SELECT current_user, 40 + 2") == [["shopadmin", 42]]


def test_the_managed_secret_holds_the_master_username_and_a_generated_password(sb):
    make_cluster()
    cluster = describe()
    secret = master_secret(cluster)
    # RDS stores {"username", "password"} in a secret named rds!cluster-<id>
    assert secret["username"] == "shopadmin"
    assert len(secret["password"]) >= 20 and secret["password"] != "P@55w0rd!"
    name = boto3.client("secretsmanager").describe_secret(
        SecretId=cluster["MasterUserSecret"]["SecretArn"])["Name"]
    assert name.startswith("rds!cluster-")


def test_the_master_password_given_is_the_one_postgres_checks(sb):
    import pg8000.exceptions

    make_cluster(managed=False, DatabaseName="orders")
    cluster = describe()
    with connect(cluster, "shopadmin", "correct-horse-battery", "orders") as connection:
        # the master user owns DatabaseName's database: it may create tables there
        connection.run("CREATE TABLE items (id int)")
        assert connection.run("SELECT current_database()") == [["orders"]]
    with pytest.raises(pg8000.exceptions.DatabaseError) as refused:
        connect(cluster, "shopadmin", "wrong-password-here")
    assert refused.value.args[0]["C"] == "28P01"  # invalid_password, as PostgreSQL says it


def test_each_cluster_is_its_own_server(sb):
    make_cluster("one")
    make_cluster("two")
    one, two = describe("one"), describe("two")
    assert one["Port"] != two["Port"]
    secret = master_secret(one)
    with connect(one, secret["username"], secret["password"]) as connection:
        connection.run("CREATE TABLE only_in_one (id int)")
    secret = master_secret(two)
    with connect(two, secret["username"], secret["password"]) as connection:
        assert connection.run("SELECT to_regclass('only_in_one')") == [[None]]


def test_max_connections_comes_from_the_cluster_parameter_group(sb):
    rds = boto3.client("rds")
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="few", DBParameterGroupFamily="aurora-postgresql16",
        Description="few connections")
    rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName="few", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "20",
         "ApplyMethod": "pending-reboot"}])
    make_cluster(DBClusterParameterGroupName="few")
    cluster = describe()
    secret = master_secret(cluster)
    with connect(cluster, secret["username"], secret["password"]) as connection:
        assert connection.run("SHOW max_connections") == [["20"]]


def test_a_new_max_connections_takes_effect_at_reboot(sb):
    """max_connections is a static parameter: "pending-reboot" until the instance reboots
    ("Working with parameter groups", Aurora User Guide)."""
    rds = boto3.client("rds")
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="later", DBParameterGroupFamily="aurora-postgresql16",
        Description="changed after creation")
    make_cluster(DBClusterParameterGroupName="later")
    cluster = describe()
    secret = master_secret(cluster)
    rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName="later", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "25",
         "ApplyMethod": "pending-reboot"}])
    with connect(cluster, secret["username"], secret["password"]) as connection:
        before = connection.run("SHOW max_connections")
    rds.reboot_db_instance(DBInstanceIdentifier="shop-1")
    with connect(cluster, secret["username"], secret["password"]) as connection:
        assert connection.run("SHOW max_connections") == [["25"]]
    assert before != [["25"]]


def test_stop_and_start_keep_the_data_and_modify_changes_the_password(sb):
    import pg8000.exceptions

    make_cluster(managed=False)
    cluster = describe()
    with connect(cluster, "shopadmin", "correct-horse-battery") as connection:
        connection.run("CREATE TABLE kept (n int)")
        connection.run("INSERT INTO kept VALUES (7)")
    rds = boto3.client("rds")
    rds.stop_db_cluster(DBClusterIdentifier="shop")
    assert describe()["Status"] == "stopped"
    with pytest.raises((OSError, pg8000.exceptions.InterfaceError)):  # nobody listens
        connect(cluster, "shopadmin", "correct-horse-battery")
    rds.start_db_cluster(DBClusterIdentifier="shop")
    rds.modify_db_cluster(DBClusterIdentifier="shop", MasterUserPassword="a-new-long-password")
    with connect(cluster, "shopadmin", "a-new-long-password") as connection:
        assert connection.run("SELECT n FROM kept") == [[7]]


def test_a_handler_connects_with_pg8000_packaged_with_it(sb):
    make_cluster()
    cluster = describe()
    source = (
        "import json, os, boto3, pg8000.native\n"
        "def handler(event, context):\n"
        "    secret = json.loads(boto3.client('secretsmanager').get_secret_value(\n"
        "        SecretId=os.environ['SECRET'])['SecretString'])\n"
        "    connection = pg8000.native.Connection(\n"
        "        secret['username'], password=secret['password'], host=os.environ['HOST'],\n"
        "        port=int(os.environ['PORT']), database='postgres')\n"
        "    connection.run('CREATE TABLE IF NOT EXISTS visits (n int)')\n"
        "    connection.run('INSERT INTO visits VALUES (1)')\n"
        "    [[count]] = connection.run('SELECT count(*) FROM visits')\n"
        "    connection.close()\n"
        "    return count\n")
    deploy("visits", {"app.py": source, **driver_files("pg8000")}, Timeout=30,
           Role=execution_role("db-role", "secretsmanager:GetSecretValue"),
           Environment={"Variables": {"SECRET": cluster["MasterUserSecret"]["SecretArn"],
                                      "HOST": cluster["Endpoint"],
                                      "PORT": str(cluster["Port"])}})
    first, second = invoke("visits"), invoke("visits")
    assert first.get("FunctionError") is None, first["Payload"]
    assert (first["Payload"], second["Payload"]) == (1, 2)


def test_deleting_a_cluster_ends_its_server_and_reset_ends_them_all(sb):
    make_cluster("gone")
    make_cluster("kept")
    gone, kept = describe("gone"), describe("kept")
    rds = boto3.client("rds")
    rds.delete_db_instance(DBInstanceIdentifier="gone-1")
    rds.delete_db_cluster(DBClusterIdentifier="gone", SkipFinalSnapshot=True)
    ports = {p.cmdline()[p.cmdline().index("-p") + 1] for p in _postgres_processes()}
    assert str(gone["Port"]) not in ports
    assert str(kept["Port"]) in ports
    sb.reset()
    ports = {p.cmdline()[p.cmdline().index("-p") + 1] for p in _postgres_processes()}
    assert str(kept["Port"]) not in ports


ORPHAN_SCRIPT = """
import sys, time, boto3, sandbox
sb = sandbox.start()
boto3.client("rds").create_db_cluster(
    DBClusterIdentifier="orphan", Engine="aurora-postgresql", MasterUsername="shopadmin",
    MasterUserPassword="correct-horse-battery")
boto3.client("rds").get_waiter("db_cluster_available").wait(
    DBClusterIdentifier="orphan", WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
port = boto3.client("rds").describe_db_clusters()["DBClusters"][0]["Port"]
print(sb.pid, port, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


def test_no_postgres_outlives_a_killed_sandbox_server():
    """A cluster's server is a child of the sandbox's server, tied to it by the kernel
    (PR_SET_PDEATHSIG): a sandbox server killed with SIGKILL leaves no PostgreSQL behind."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_"))}
    script = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        server_pid, port = script.stdout.readline().split()
        servers = [p.pid for p in _postgres_processes() if port in p.cmdline()]
        assert servers and all(_alive(pid) for pid in servers)
        os.kill(int(server_pid), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in servers):
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in servers)
    finally:
        script.kill()
        script.wait(30)
        script.stdout.close()


# ---------------------------------------------------------------------- the Data API
# "Using the Amazon RDS Data API" and the RDS Data API Reference (ExecuteStatement,
# BatchExecuteStatement, BeginTransaction, CommitTransaction, RollbackTransaction):
# docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html
def _data_api(cluster: dict) -> tuple:
    arns = {"resourceArn": cluster["DBClusterArn"],
            "secretArn": cluster["MasterUserSecret"]["SecretArn"]}
    return boto3.client("rds-data"), arns


def test_execute_statement_runs_sql_with_typed_parameters_and_metadata(sb):
    make_cluster()
    data, arns = _data_api(describe())
    data.execute_statement(sql="CREATE TABLE items (id serial PRIMARY KEY, name text, "
                               "price numeric(8,2), made date, ok boolean)", **arns)
    inserted = data.execute_statement(
        sql="INSERT INTO items (name, price, made, ok) VALUES (:name, :price, :made, :ok)",
        parameters=[{"name": "name", "value": {"stringValue": "pen"}},
                    {"name": "price", "value": {"stringValue": "1.50"}, "typeHint": "DECIMAL"},
                    {"name": "made", "value": {"stringValue": "2024-05-01"}, "typeHint": "DATE"},
                    {"name": "ok", "value": {"booleanValue": True}}], **arns)
    assert inserted["numberOfRecordsUpdated"] == 1
    found = data.execute_statement(
        sql="SELECT id, name, price, made, ok, NULL AS nothing FROM items WHERE id = :id",
        parameters=[{"name": "id", "value": {"longValue": 1}}],
        includeResultMetadata=True, **arns)
    # each column a Field; DECIMAL as a string, as the Data API returns it by default
    assert found["records"] == [[{"longValue": 1}, {"stringValue": "pen"},
                                 {"stringValue": "1.50"}, {"stringValue": "2024-05-01"},
                                 {"booleanValue": True}, {"isNull": True}]]
    assert found["numberOfRecordsUpdated"] == 0
    assert [c["name"] for c in found["columnMetadata"]] == ["id", "name", "price", "made",
                                                              "ok", "nothing"]
    assert found["columnMetadata"][0]["typeName"] == "int4"


def test_format_records_as_json_gives_objects_keyed_by_column_label(sb):
    """"Processing Amazon RDS Data API query results in JSON format": formattedRecords, a JSON
    array of objects whose keys are the columns' labels (AS aliases)."""
    make_cluster()
    data, arns = _data_api(describe())
    answer = data.execute_statement(sql="SELECT 1 AS one, 'x' AS letter, 2.5::float8 AS half",
                                    formatRecordsAs="JSON", **arns)
    assert "records" not in answer
    assert json.loads(answer["formattedRecords"]) == [{"one": 1, "letter": "x", "half": 2.5}]


def test_bad_sql_is_a_database_error_with_postgresql_s_message(sb):
    make_cluster()
    data, arns = _data_api(describe())
    with pytest.raises(data.exceptions.DatabaseErrorException) as refused:
        data.execute_statement(sql="SELECT * FROM nowhere", **arns)
    message = refused.value.response["Error"]["Message"]
    assert 'relation "nowhere" does not exist' in message
    assert "42P01" in message  # PostgreSQL's SQLSTATE for an undefined table


def test_transactions_commit_and_roll_back(sb):
    make_cluster()
    data, arns = _data_api(describe())
    data.execute_statement(sql="CREATE TABLE t (n int)", **arns)
    kept = data.begin_transaction(**arns)["transactionId"]
    data.execute_statement(sql="INSERT INTO t VALUES (1)", transactionId=kept, **arns)
    # not visible outside the transaction until it commits
    outside = data.execute_statement(sql="SELECT count(*) FROM t", **arns)["records"]
    assert outside == [[{"longValue": 0}]]
    assert data.commit_transaction(transactionId=kept, **arns)["transactionStatus"] == \
        "Transaction Committed"
    dropped = data.begin_transaction(**arns)["transactionId"]
    data.execute_statement(sql="INSERT INTO t VALUES (2)", transactionId=dropped, **arns)
    assert data.rollback_transaction(transactionId=dropped, **arns)["transactionStatus"] == \
        "Rollback Complete"
    assert data.execute_statement(sql="SELECT array_agg(n) FROM t", **arns)["records"] == \
        [[{"arrayValue": {"longValues": [1]}}]]
    with pytest.raises(data.exceptions.TransactionNotFoundException):
        data.commit_transaction(transactionId=dropped, **arns)


def test_an_idle_transaction_is_rolled_back(monkeypatch):
    """"A transaction times out if there are no calls that use its transaction ID in three
    minutes ... rolled back" (Data API, "Running SQL statements"). Three real minutes, made
    half a second here, in a sandbox whose server side runs in this process."""
    from sandbox.rds import data as data_api
    from sandbox.testing import in_process_service

    monkeypatch.setattr(data_api, "TRANSACTION_IDLE_SECONDS", 0.5)
    with in_process_service():
        make_cluster()
        data, arns = _data_api(describe())
        data.execute_statement(sql="CREATE TABLE t (n int)", **arns)
        idle = data.begin_transaction(**arns)["transactionId"]
        data.execute_statement(sql="INSERT INTO t VALUES (1)", transactionId=idle, **arns)
        time.sleep(1)
        with pytest.raises(data.exceptions.TransactionNotFoundException):
            data.execute_statement(sql="SELECT 1", transactionId=idle, **arns)
        assert data.execute_statement(sql="SELECT count(*) FROM t", **arns)["records"] == \
            [[{"longValue": 0}]]


def test_batch_execute_statement_runs_once_per_parameter_set_all_or_nothing(sb):
    make_cluster()
    data, arns = _data_api(describe())
    data.execute_statement(sql="CREATE TABLE t (n int PRIMARY KEY)", **arns)
    answer = data.batch_execute_statement(
        sql="INSERT INTO t VALUES (:n)",
        parameterSets=[[{"name": "n", "value": {"longValue": n}}] for n in (1, 2, 3)], **arns)
    assert len(answer["updateResults"]) == 3
    with pytest.raises(data.exceptions.DatabaseErrorException):  # 3 is there already
        data.batch_execute_statement(
            sql="INSERT INTO t VALUES (:n)",
            parameterSets=[[{"name": "n", "value": {"longValue": n}}] for n in (4, 3)], **arns)
    assert data.execute_statement(sql="SELECT count(*) FROM t", **arns)["records"] == \
        [[{"longValue": 3}]]  # 4 was rolled back with the failed batch


def test_the_data_api_needs_the_http_endpoint_and_an_instance(sb):
    rds = boto3.client("rds")
    rds.create_db_cluster(DBClusterIdentifier="closed", Engine="aurora-postgresql",
                          MasterUsername="shopadmin", ManageMasterUserPassword=True)
    rds.get_waiter("db_cluster_available").wait(
        DBClusterIdentifier="closed", WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    data, arns = _data_api(describe("closed"))
    with pytest.raises(data.exceptions.HttpEndpointNotEnabledException):
        data.execute_statement(sql="SELECT 1", **arns)
    rds.modify_db_cluster(DBClusterIdentifier="closed", EnableHttpEndpoint=True)
    with pytest.raises(data.exceptions.DatabaseNotFoundException):  # no DB instance yet
        data.execute_statement(sql="SELECT 1", **arns)


def test_a_function_needs_rds_data_and_get_secret_value(sb):
    """"Authorizing access to the Amazon RDS Data API": rds-data:ExecuteStatement on the
    cluster, and secretsmanager:GetSecretValue on the secret, which the Data API reads with the
    caller's own permissions."""
    make_cluster()
    cluster = describe()
    source = (
        "import os, boto3\n"
        "def handler(event, context):\n"
        "    try:\n"
        "        answer = boto3.client('rds-data').execute_statement(\n"
        "            resourceArn=os.environ['CLUSTER'], secretArn=os.environ['SECRET'],\n"
        "            sql='SELECT 42')\n"
        "        return answer['records'][0][0]['longValue']\n"
        "    except Exception as error:\n"
        "        return error.response['Error']['Code']\n")
    environment = {"Variables": {"CLUSTER": cluster["DBClusterArn"],
                                 "SECRET": cluster["MasterUserSecret"]["SecretArn"]}}
    deploy("no-secret", source, Environment=environment,
           Role=execution_role("data-only", "rds-data:ExecuteStatement"))
    deploy("no-data", source, Environment=environment,
           Role=execution_role("secret-only", "secretsmanager:GetSecretValue"))
    deploy("both", source, Environment=environment,
           Role=execution_role("both", "rds-data:ExecuteStatement",
                               "secretsmanager:GetSecretValue"))
    assert invoke("no-secret")["Payload"] == "AccessDeniedException"
    assert invoke("no-data")["Payload"] == "AccessDeniedException"
    assert invoke("both")["Payload"] == 42


def test_rds_data_is_authorized_on_the_cluster_s_arn(sb):
    """A policy naming one cluster's ARN allows the Data API on that cluster only (the
    Service Authorization Reference: rds-data:ExecuteStatement, resource type "cluster")."""
    from sandbox.testing import role

    make_cluster("one")
    make_cluster("two")
    one, two = describe("one"), describe("two")
    arn = role("one-only", {"Effect": "Allow", "Action": "rds-data:ExecuteStatement",
                            "Resource": one["DBClusterArn"]},
               {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                "Resource": "*"})
    source = (
        "import boto3\n"
        "def handler(event, context):\n"
        "    try:\n"
        "        boto3.client('rds-data').execute_statement(\n"
        "            resourceArn=event['cluster'], secretArn=event['secret'], sql='SELECT 1')\n"
        "        return 'allowed'\n"
        "    except Exception as error:\n"
        "        return error.response['Error']['Code']\n")
    deploy("one-only", source, Role=arn)
    assert invoke("one-only", {"cluster": one["DBClusterArn"],
                               "secret": one["MasterUserSecret"]["SecretArn"]})["Payload"] \
        == "allowed"
    assert invoke("one-only", {"cluster": two["DBClusterArn"],
                               "secret": two["MasterUserSecret"]["SecretArn"]})["Payload"] \
        == "AccessDeniedException"


def test_a_secret_that_is_missing_or_not_credentials_is_a_secrets_error(sb):
    make_cluster()
    data, arns = _data_api(describe())
    other = boto3.client("secretsmanager").create_secret(Name="not-credentials",
                                                         SecretString="just text")["ARN"]
    with pytest.raises(data.exceptions.SecretsErrorException):
        data.execute_statement(sql="SELECT 1", resourceArn=arns["resourceArn"],
                               secretArn=other)


# ---------------------------------------------------------------------- capacity
# "Scaling to Zero ACUs with automatic pause and resume for Aurora Serverless v2" and
# "Monitoring Aurora Serverless v2" (ServerlessDatabaseCapacity), Aurora User Guide.
def _capacity_points(name: str) -> list[dict]:
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    points: list[dict] = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/RDS", MetricName="ServerlessDatabaseCapacity",
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": name}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=5), Period=60,
        Statistics=["Minimum", "Maximum"])["Datapoints"]
    return points


def test_capacity_follows_connections_between_min_and_max(sb):
    make_cluster(ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2})
    cluster = describe()
    secret = master_secret(cluster)
    connections = [connect(cluster, secret["username"], secret["password"]) for _ in range(6)]
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if max((p["Maximum"] for p in _capacity_points("shop")), default=0) == 2:
                break
            time.sleep(0.1)
    finally:
        for connection in connections:
            connection.close()
    points = _capacity_points("shop")
    # six connections ask for 0.5 + 3 ACUs: capped at MaxCapacity 2; never under MinCapacity
    assert max(p["Maximum"] for p in points) == 2
    assert min(p["Minimum"] for p in points) >= 0.5


def test_min_capacity_zero_pauses_and_the_data_api_resumes_it(sb):
    default, sb.clock.speed = sb.clock.speed, 100000  # 300 s of idleness pass in 3 ms
    try:
        make_cluster(ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 1,
                                                       "SecondsUntilAutoPause": 300})
        data, arns = _data_api(describe())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and \
                min((p["Minimum"] for p in _capacity_points("shop")), default=1) > 0:
            time.sleep(0.1)
        assert min(p["Minimum"] for p in _capacity_points("shop")) == 0  # paused: 0 ACUs
        # the first call after a pause is refused while the instance resumes
        with pytest.raises(data.exceptions.DatabaseResumingException):
            data.execute_statement(sql="SELECT 1", **arns)
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = data.execute_statement(sql="SELECT 1", **arns)
                break
            except data.exceptions.DatabaseResumingException:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert answer["records"] == [[{"longValue": 1}]]
    finally:
        sb.clock.speed = default
