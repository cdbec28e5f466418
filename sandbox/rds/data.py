"""The RDS Data API (``rds-data``) against the clusters' real PostgreSQL servers.

As the Aurora User Guide ("Using the Amazon RDS Data API") and the API reference describe it:

- ``ExecuteStatement``: ``sql`` with named parameters (``:name``, each a typed ``Field``:
  ``longValue``, ``stringValue``, ``doubleValue``, ``booleanValue``, ``blobValue``,
  ``isNull``; ``typeHint`` DATE, TIME, TIMESTAMP, DECIMAL, JSON or UUID casts the value), in
  ``database`` (the cluster's ``DatabaseName``, else ``postgres``), optionally inside a
  transaction (``transactionId``). Rows come back as ``records`` (a list of ``Field`` lists),
  or with ``formatRecordsAs="JSON"`` as ``formattedRecords``, a JSON array of objects keyed by
  column label ("Processing Amazon RDS Data API query results in JSON format");
  ``includeResultMetadata`` adds ``columnMetadata``; ``numberOfRecordsUpdated`` counts the rows
  an INSERT, UPDATE or DELETE changed (0 for a query). ``schema`` is ignored, as the API
  reference says it is not supported.
- ``BatchExecuteStatement``: one statement per ``parameterSets`` entry, all or none (an
  implicit transaction unless ``transactionId`` is given); ``updateResults`` per set.
- ``BeginTransaction``/``CommitTransaction``/``RollbackTransaction``: a transaction is one
  database connection held between calls; ``transactionStatus`` is "Transaction Committed" or
  "Rollback Complete". A transaction idle for 3 minutes is rolled back ("A transaction times
  out if there are no calls that use its transaction ID in three minutes"); the sandbox counts
  those minutes in real time, as the caller spends them, not on the sandbox clock.
- Credentials: the Data API reads ``secretArn`` from Secrets Manager AS THE CALLER, so the
  caller needs ``secretsmanager:GetSecretValue`` on the secret besides the ``rds-data:`` action
  on the cluster ("Authorizing access to the Amazon RDS Data API"); the sandbox's router
  decides the latter, this module asks the one evaluator for the former. The secret's
  ``username`` and ``password`` then log in to PostgreSQL, which checks them.
- Errors: a statement PostgreSQL refuses is ``DatabaseErrorException`` (400) with PostgreSQL's
  message and SQLSTATE (botocore's model marks ``BadRequestException`` "deprecated" for this);
  an unknown cluster ``BadRequestException``; a cluster without ``EnableHttpEndpoint``
  ``HttpEndpointNotEnabledException``; a cluster without an instance
  ``DatabaseNotFoundException``; a missing or malformed secret ``SecretsErrorException``; an
  unknown transaction ``TransactionNotFoundException``; a paused cluster
  ``DatabaseResumingException`` (the call starts the resume: try again in a few seconds).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import JsonRESTError

from .postgres import connect

if TYPE_CHECKING:
    from . import Aurora
    from .clusters import Cluster

TRANSACTION_IDLE_SECONDS = 180.0  # real seconds
TYPE_HINTS = {"DATE": "date", "TIME": "time", "TIMESTAMP": "timestamp", "DECIMAL": "numeric",
              "JSON": "json", "UUID": "uuid"}
# PostgreSQL type OIDs -> (type name, java.sql.Types), as the Data API's JDBC driver reports
TYPES: dict[int, tuple[str, int]] = {
    16: ("bool", -7), 17: ("bytea", -2), 18: ("char", 1), 19: ("name", 12), 20: ("int8", -5),
    21: ("int2", 5), 23: ("int4", 4), 25: ("text", 12), 26: ("oid", -5), 114: ("json", 1111),
    700: ("float4", 7), 701: ("float8", 8), 1042: ("bpchar", 1), 1043: ("varchar", 12),
    1082: ("date", 91), 1083: ("time", 92), 1114: ("timestamp", 93), 1184: ("timestamptz", 93),
    1266: ("timetz", 92), 1700: ("numeric", 2), 2950: ("uuid", 1111), 3802: ("jsonb", 1111),
    1000: ("_bool", 2003), 1005: ("_int2", 2003), 1007: ("_int4", 2003),
    1016: ("_int8", 2003), 1009: ("_text", 2003), 1015: ("_varchar", 2003),
    1021: ("_float4", 2003), 1022: ("_float8", 2003), 1231: ("_numeric", 2003)}
JSON_TYPES = {114, 3802}


class DataApiError(JsonRESTError):
    def __init__(self, error_type: str, message: str, status: int = 400):
        super().__init__(error_type, message)
        self.code = status


def _error(error_type: str, message: str, status: int = 400) -> DataApiError:
    return DataApiError(error_type, message, status)


@dataclass
class Transaction:
    cluster_arn: str
    secret_arn: str
    connection: Any
    used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


class DataApi:
    """The Data API's state: open transactions."""

    def __init__(self, aurora: Aurora):
        self.aurora = aurora
        self.transactions: dict[str, Transaction] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the operations
    def execute_statement(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        sql = _required(params, "sql")
        with self._connection(params, caller) as (cluster, connection):
            cluster_busy = self.aurora.capacity.busy(cluster)
            with cluster_busy:
                rows, columns, count = _run(connection, sql, params.get("parameters") or [])
        result: dict[str, Any] = {}
        if columns is not None:
            options = params.get("resultSetOptions") or {}
            if params.get("formatRecordsAs") == "JSON":
                result["formattedRecords"] = json.dumps(
                    [{column["name"]: _json_value(value, column, options)
                      for value, column in zip(row, columns, strict=True)} for row in rows])
            else:
                result["records"] = [
                    [_field(value, column, options)
                     for value, column in zip(row, columns, strict=True)] for row in rows]
            if params.get("includeResultMetadata"):
                result["columnMetadata"] = [_metadata(column) for column in columns]
            result["numberOfRecordsUpdated"] = 0
        else:
            result["numberOfRecordsUpdated"] = max(count, 0)
            result["generatedFields"] = []
        return result

    def batch_execute_statement(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        sql = _required(params, "sql")
        sets = params.get("parameterSets") or []
        with self._connection(params, caller) as (cluster, connection):
            with self.aurora.capacity.busy(cluster):
                own = not params.get("transactionId")
                if own:
                    connection.run("BEGIN")
                try:
                    for parameters in sets or [[]]:
                        _run(connection, sql, parameters)
                except BaseException:
                    if own:
                        _quietly(connection, "ROLLBACK")
                    raise
                if own:
                    connection.run("COMMIT")
        return {"updateResults": [{"generatedFields": []} for _ in sets]}

    def begin_transaction(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        cluster = self._cluster(params)
        username, password = self._secret(params, caller, cluster)
        connection = self._open(cluster, username, password, params.get("database"))
        try:
            connection.run("BEGIN")
        except Exception as error:
            _quietly_close(connection)
            raise _database_error(error) from None
        transaction_id = secrets.token_urlsafe(96)
        with self._lock:
            self.transactions[transaction_id] = Transaction(
                cluster.arn, str(params.get("secretArn")), connection)
        return {"transactionId": transaction_id}

    def end_transaction(self, params: dict[str, Any], caller: Caller,
                        commit: bool) -> dict[str, Any]:
        cluster = self._cluster(params)
        self._secret(params, caller, cluster)
        transaction_id = _required(params, "transactionId")
        with self._lock:
            transaction = self.transactions.pop(transaction_id, None)
        if transaction is None or transaction.cluster_arn != cluster.arn:
            raise _error("TransactionNotFoundException",
                         f"Transaction {transaction_id} is not found", 404)
        with transaction.lock:
            try:
                transaction.connection.run("COMMIT" if commit else "ROLLBACK")
            except Exception as error:
                raise _database_error(error) from None
            finally:
                _quietly_close(transaction.connection)
        return {"transactionStatus": "Transaction Committed" if commit
                else "Rollback Complete"}

    # ------------------------------------------------------------------ helpers
    def _cluster(self, params: dict[str, Any]) -> Cluster:
        arn = _required(params, "resourceArn")
        self.expire()
        cluster = self.aurora.clusters.get(arn)
        moto_cluster = _moto_cluster(arn)
        if cluster is None or moto_cluster is None:
            raise _error("BadRequestException", f"Invalid cluster arn: {arn}")
        if not moto_cluster.enable_http_endpoint:
            raise _error("HttpEndpointNotEnabledException",
                         f"HttpEndpoint is not enabled for resource {arn}. Turn it on with "
                         "EnableHttpEndpoint=True (create_db_cluster or modify_db_cluster).")
        if not moto_cluster.members:
            raise _error("DatabaseNotFoundException",
                         f"The DB cluster {cluster.identifier} doesn't have a DB instance: "
                         "create one with create_db_instance(DBInstanceClass='db.serverless', "
                         f"DBClusterIdentifier='{cluster.identifier}', ...).", 404)
        if cluster.stopped:
            raise _error("InvalidResourceStateException",
                         f"The DB cluster {cluster.identifier} is stopped: start it with "
                         "start_db_cluster.")
        if not cluster.prepared.is_set() or cluster.error:
            raise _error("InvalidResourceStateException",
                         f"The DB cluster {cluster.identifier} is not available yet "
                         "(status creating): wait for it, e.g. with the "
                         "db_cluster_available waiter.")
        self.aurora.capacity.resume_or_raise(cluster)
        return cluster

    def _secret(self, params: dict[str, Any], caller: Caller, cluster: Cluster
                ) -> tuple[str, str]:
        """The secret's username and password, read as the caller."""
        arn = _required(params, "secretArn")
        caller.may_read_secret(arn)
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[cluster.account][cluster.region]
        try:
            value = backend.get_secret_value(arn, None, None)  # type: ignore[arg-type]
            document = json.loads(value.get("SecretString") or "")
            return str(document["username"]), str(document["password"])
        except Exception:
            raise _error("SecretsErrorException",
                         f"The secret {arn} was not found, or it is not a JSON object with "
                         "\"username\" and \"password\" (as RDS's managed secret is).") from None

    @staticmethod
    def _open(cluster: Cluster, username: str, password: str, database: Any) -> Any:
        name = str(database or cluster.database_name or "postgres")
        try:
            return connect(cluster.port, username, password, name)
        except Exception as error:
            raise _database_error(error) from None

    @contextmanager
    def _connection(self, params: dict[str, Any], caller: Caller
                    ) -> Iterator[tuple[Cluster, Any]]:
        """The call's connection: its transaction's, or a new one closed afterwards."""
        cluster = self._cluster(params)
        username, password = self._secret(params, caller, cluster)
        transaction_id = params.get("transactionId")
        if transaction_id:
            with self._lock:
                transaction = self.transactions.get(str(transaction_id))
            if transaction is None or transaction.cluster_arn != cluster.arn:
                raise _error("TransactionNotFoundException",
                             f"Transaction {transaction_id} is not found", 404)
            with transaction.lock:
                transaction.used = time.monotonic()
                try:
                    yield cluster, transaction.connection
                except DataApiError:
                    raise
                except Exception as error:
                    raise _database_error(error) from None
                finally:
                    transaction.used = time.monotonic()
            return
        connection = self._open(cluster, username, password, params.get("database"))
        try:
            yield cluster, connection
        except DataApiError:
            raise
        except Exception as error:
            raise _database_error(error) from None
        finally:
            _quietly_close(connection)

    def expire(self) -> None:
        """Roll back the transactions idle for three minutes."""
        now = time.monotonic()
        with self._lock:
            idle = [key for key, found in self.transactions.items()
                    if now - found.used > TRANSACTION_IDLE_SECONDS and not found.lock.locked()]
            ended = [self.transactions.pop(key) for key in idle]
        for transaction in ended:
            _quietly(transaction.connection, "ROLLBACK")
            _quietly_close(transaction.connection)

    def connections(self, cluster_arn: str) -> int:
        with self._lock:
            return sum(1 for found in self.transactions.values()
                       if found.cluster_arn == cluster_arn)

    def reset(self) -> None:
        with self._lock:
            ended = list(self.transactions.values())
            self.transactions.clear()
        for transaction in ended:
            _quietly_close(transaction.connection)


# ---------------------------------------------------------------------- the caller
class Caller:
    """Who signed the call, to read the secret as them."""

    def __init__(self, authorization: str, query: str):
        self.authorization = authorization
        self.query = query

    def may_read_secret(self, secret_arn: str) -> None:
        from ..iam import actions, enforcer
        from ..iam.policy import Request, message

        iam = enforcer()
        if iam is None or not iam.enforcing:
            return
        signed = actions.credential(self.authorization, self.query)
        if signed is None:
            return
        key, region, _ = signed
        principal = iam.principal_of_key(key)
        if principal is None:
            return  # the router refused an unknown key already
        access = actions.Access("secretsmanager:GetSecretValue", secret_arn, {})
        decision = iam.authorize(principal, access, region=region, source="rds-data",
                                 operation="GetSecretValue")
        if not decision.allowed:
            text = message(Request(principal=principal.arn, action=access.action,
                                   resource=secret_arn), decision)
            raise _error("AccessDeniedException",
                         f"{text} (the Data API reads secretArn with the caller's own "
                         "permissions: allow secretsmanager:GetSecretValue on the secret)",
                         403)


# ---------------------------------------------------------------------- running SQL
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


def _run(connection: Any, sql: str, parameters: list[dict[str, Any]]
         ) -> tuple[list[list[Any]], list[dict[str, Any]] | None, int]:
    values: dict[str, Any] = {}
    hints: dict[str, str] = {}
    for parameter in parameters:
        name = str(parameter.get("name") or "")
        if not name:
            raise _error("BadRequestException", "Each parameter needs a name: "
                         "{'name': 'id', 'value': {'longValue': 1}}")
        values[name] = _value(parameter.get("value") or {})
        hint = parameter.get("typeHint")
        if hint:
            if hint not in TYPE_HINTS:
                raise _error("BadRequestException",
                             f"typeHint must be one of {sorted(TYPE_HINTS)}, not {hint!r}")
            hints[name] = TYPE_HINTS[hint]
    if hints:
        sql = _NAMED.sub(lambda m: f"CAST(:{m.group(1)} AS {hints[m.group(1)]})"
                         if m.group(1) in hints else m.group(0), sql)
    missing = [name for name in dict.fromkeys(_NAMED.findall(sql)) if name not in values]
    if missing:
        raise _error("BadRequestException",
                     f"The SQL names parameter(s) {', '.join(':' + n for n in missing)} but "
                     "the call's parameters do not give them.")
    used = {name: value for name, value in values.items() if f":{name}" in sql}
    rows = connection.run(sql, **used)
    columns = connection.columns
    return (rows or []) if columns else [], columns or None, int(connection.row_count or 0)


def _value(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("longValue", "doubleValue", "stringValue", "booleanValue"):
        if key in field:
            return field[key]
    if "blobValue" in field:
        return base64.b64decode(field["blobValue"])
    if "arrayValue" in field:
        array = field["arrayValue"]
        for values in array.values():
            return list(values)
        return []
    raise _error("BadRequestException",
                 f"A parameter's value must be a Field (longValue, stringValue, doubleValue, "
                 f"booleanValue, blobValue, isNull or arrayValue), not {field!r}")


def _type(column: dict[str, Any]) -> tuple[str, int]:
    return TYPES.get(int(column.get("type_oid") or 0), ("unknown", 1111))


def _text(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return str(value.isoformat(sep=" "))
    if isinstance(value, (datetime.date, datetime.time)):
        return str(value.isoformat())
    return str(value)


def _field(value: Any, column: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    oid = int(column.get("type_oid") or 0)
    if value is None:
        return {"isNull": True}
    if oid in JSON_TYPES:
        return {"stringValue": json.dumps(value)}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        if options.get("longReturnType") == "STRING":
            return {"stringValue": str(value)}
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, decimal.Decimal):
        if options.get("decimalReturnType") == "DOUBLE_OR_LONG":
            return ({"longValue": int(value)} if value == value.to_integral_value()
                    else {"doubleValue": float(value)})
        return {"stringValue": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list):
        return {"arrayValue": _array(value)}
    if isinstance(value, uuid.UUID):
        return {"stringValue": str(value)}
    return {"stringValue": _text(value)}


def _array(values: list[Any]) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, list) for v in present):
        return {"arrayValues": [_array(v) for v in values]}
    if present and all(isinstance(v, bool) for v in present):
        return {"booleanValues": values}
    if present and all(isinstance(v, int) for v in present):
        return {"longValues": values}
    if present and all(isinstance(v, float) for v in present):
        return {"doubleValues": values}
    return {"stringValues": [None if v is None else _text(v) for v in values]}


def _json_value(value: Any, column: dict[str, Any], options: dict[str, Any]) -> Any:
    """A value in ``formattedRecords``: numbers and booleans as JSON's, NULL as null, the rest
    (decimals, dates, JSON columns) as strings, bytes in base64."""
    oid = int(column.get("type_oid") or 0)
    if value is None:
        return None
    if oid in JSON_TYPES:
        return json.dumps(value)
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, decimal.Decimal):
        if options.get("decimalReturnType") == "DOUBLE_OR_LONG":
            return int(value) if value == value.to_integral_value() else float(value)
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list):
        return [_json_value(v, {}, options) for v in value]
    return _text(value)


def _metadata(column: dict[str, Any]) -> dict[str, Any]:
    name, jdbc = _type(column)
    numeric = jdbc in (-7, -6, 5, 4, -5, 6, 7, 8, 2, 3)
    return {"name": column.get("name", ""), "label": column.get("name", ""),
            "typeName": name, "type": jdbc, "nullable": 2, "precision": 0, "scale": 0,
            "schemaName": "", "tableName": "", "isAutoIncrement": False,
            "isSigned": numeric and jdbc != -7, "isCurrency": False,
            "isCaseSensitive": jdbc in (1, 12, -1), "arrayBaseColumnType": 0}


def _database_error(error: Exception) -> DataApiError:
    """PostgreSQL's refusal as the Data API passes it on: its message and SQLSTATE."""
    details = error.args[0] if error.args and isinstance(error.args[0], dict) else None
    if details is None:
        return _error("DatabaseErrorException", f"The database could not run the statement: "
                      f"{error}")
    text = f"{details.get('S', 'ERROR')}: {details.get('M', '')}"
    if details.get("P"):
        text += f"\n  Position: {details['P']}"
    return _error("DatabaseErrorException", f"{text}; SQLState: {details.get('C', '')}")


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not value:
        raise _error("BadRequestException", f"The parameter {name} is required.")
    return str(value)


def _moto_cluster(arn: str) -> Any:
    from moto.rds.models import rds_backends

    parts = arn.split(":")
    if len(parts) < 7:
        return None
    try:
        backend = rds_backends[parts[4]][parts[3]]
    except KeyError:
        return None
    return backend.clusters.get(parts[6].lower())


def _quietly(connection: Any, sql: str) -> None:
    try:
        connection.run(sql)
    except Exception:  # the connection is gone already
        pass


def _quietly_close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # the connection is gone already
        pass


# ---------------------------------------------------------------------- the seams
def _params(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _handle(response: Any, operation: str, **extra: Any) -> str:
    from . import _running

    if _running is None:
        raise _error("ServiceUnavailableError", "The sandbox has stopped.", 503)
    caller = Caller(response.headers.get("Authorization", ""), "")
    method = getattr(_running.data, operation)
    answer: dict[str, Any] = method(_params(response), caller, **extra)
    return json.dumps(answer)


def execute_statement(self: Any) -> str:
    return _handle(self, "execute_statement")


def batch_execute_statement(self: Any) -> str:
    return _handle(self, "batch_execute_statement")


def begin_transaction(self: Any) -> str:
    return _handle(self, "begin_transaction")


def commit_transaction(self: Any) -> str:
    return _handle(self, "end_transaction", commit=True)


def rollback_transaction(self: Any) -> str:
    return _handle(self, "end_transaction", commit=False)


def url_paths(original: dict[str, Any]) -> dict[str, Any]:
    """moto routes ``/Execute`` only; every Data API operation's path goes to the same
    dispatcher, which finds the operation from botocore's model."""
    dispatch = next(iter(original.values()))
    return {"{0}/Execute$": dispatch, "{0}/BatchExecute$": dispatch,
            "{0}/BeginTransaction$": dispatch, "{0}/CommitTransaction$": dispatch,
            "{0}/RollbackTransaction$": dispatch}
