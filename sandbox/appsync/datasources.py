"""Data sources: what a resolver's request calls, as AppSync calls it.

- ``NONE``: the request's ``payload`` is the result ("Resolver mapping template reference for
  None data source");
- ``AWS_LAMBDA``: ``Invoke`` runs the function synchronously with the request's ``payload``
  (``BatchInvoke`` with a list of them) as the data source's ``serviceRoleArn``, which IAM must
  allow ``lambda:InvokeFunction``; a function error fails the field with the function's
  ``errorType`` and ``errorMessage`` ("Resolver mapping template reference for Lambda"). Each
  invocation is a hop of kind ``appsync`` in the deliveries record;
- ``AMAZON_DYNAMODB``: ``GetItem``, ``PutItem``, ``UpdateItem``, ``DeleteItem``, ``Query``,
  ``Scan``, ``BatchGetItem``, ``BatchPutItem``, ``BatchDeleteItem``, ``TransactGetItems`` and
  ``TransactWriteItems``, each allowed by IAM for the service role, with results in plain JSON
  as the reference gives them ("Resolver mapping template reference for DynamoDB");
- ``HTTP``: the request (``method``, ``resourcePath``, ``params.query/headers/body``) to the
  data source's endpoint, which must be on loopback ("... for HTTP"); the result is
  ``{statusCode, headers, body}``.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any
from urllib.parse import urlencode

from .vtl import ResolverError, item

APPSYNC_PRINCIPAL = "appsync.amazonaws.com"


def invoke(source: dict[str, Any], request: Any, *, api_arn: str, region: str,
           account: str, parent: str = "") -> Any:
    """The result of ``request`` (a resolver's or function's rendered request) on ``source``."""
    kind = source["type"]
    if not isinstance(request, dict):
        request = {}
    if kind == "NONE":
        return request.get("payload")
    if kind == "AWS_LAMBDA":
        return _lambda(source, request, api_arn, region, account, parent)
    if kind == "AMAZON_DYNAMODB":
        return _dynamodb(source, request, region)
    if kind == "HTTP":
        return _http(source, request)
    raise ResolverError(f"Data sources of type {kind} are not modelled by the sandbox: it runs "
                        "AWS_LAMBDA, AMAZON_DYNAMODB, HTTP and NONE data sources.",
                        "Sandbox.UnsupportedDataSource")


def _role_check(source: dict[str, Any], action: str, resource: str, region: str) -> None:
    from .. import iam

    role = source.get("serviceRoleArn")
    # AppSync assumes the role first: its trust policy must admit appsync.amazonaws.com
    if role and iam.role_exists(str(role)) and not iam.service_may(
            APPSYNC_PRINCIPAL, "sts:AssumeRole", str(role),
            source_arn=str(source["dataSourceArn"]).split("/datasources/")[0],
            source=f"AppSync assuming the role of data source {source['name']}"):
        raise ResolverError(
            f"AppSync could not assume {role} for the data source {source['name']}: its trust "
            "policy must allow the service principal appsync.amazonaws.com to call "
            "sts:AssumeRole.", "AccessDeniedException")
    if role and not iam.role_may(str(role), action, resource, region=region,
                                 source=f"AppSync data source {source['name']}"):
        raise ResolverError(
            f"{role} is not authorized to perform: {action} on resource: {resource} "
            f"(the data source {source['name']}'s service role: add {action} to its policy)",
            "AccessDeniedException")


# ---------------------------------------------------------------------- Lambda
def _lambda(source: dict[str, Any], request: dict[str, Any], api_arn: str, region: str,
            account: str, parent: str) -> Any:
    from ..apigateway.integrations import IntegrationFailure, lambda_target
    from ..server.deliveries import DELIVERED, DENIED, FAILED
    from ..server.service import current

    arn = source["lambdaConfig"]["lambdaFunctionArn"]
    service = current()
    if service is None:
        raise ResolverError("The sandbox has stopped.", "Sandbox.Stopped")
    try:
        target = lambda_target(arn, None, account, region)
    except IntegrationFailure as failure:
        raise ResolverError(failure.detail, "Lambda:ResourceNotFoundException") from None
    event_id = str(uuid.uuid4())
    try:
        _role_check(source, "lambda:InvokeFunction", target.invoked_arn, region)
    except ResolverError as denied:
        service.deliveries.record(api_arn, target.invoked_arn, event_id, DENIED,
                                  detail=denied.message, parent=parent, kind="appsync")
        raise
    payload = request.get("payload")
    operation = request.get("operation")
    if operation not in ("Invoke", "BatchInvoke"):
        raise ResolverError("Value for field '$[operation]' not found." if operation is None
                            else f"Unsupported operation {operation!r}: Invoke or BatchInvoke.",
                            "MappingTemplate")
    data = json.dumps(payload).encode()
    if request.get("invocationType") == "Event":
        # "invocationType": "Event": Lambda's asynchronous queue; the field's result is null
        service.lambda_runtime.async_invoker.submit(target.fn, data, event_id,
                                                    target.invoked_arn, source=api_arn,
                                                    parent=parent)
        service.deliveries.record(api_arn, target.invoked_arn, event_id, DELIVERED,
                                  detail="queued (invocationType Event)", parent=parent,
                                  kind="appsync")
        return None
    try:
        result = service.lambda_runtime.run(target.fn, data, invoked_arn=target.invoked_arn,
                                            request_id=event_id)
    except Exception as error:  # throttled, or the sandbox reset meanwhile
        service.deliveries.record(api_arn, target.invoked_arn, event_id, FAILED,
                                  detail=f"{type(error).__name__}: {error}",
                                  parent=parent, kind="appsync")
        raise ResolverError(f"{type(error).__name__}: {error}", "Lambda:Unhandled") from None
    answer = json.loads(result.payload) if result.payload else None
    if result.function_error:
        service.deliveries.record(api_arn, target.invoked_arn, event_id, FAILED,
                                  detail=result.payload.decode("utf-8", "replace")[:500],
                                  parent=parent, kind="appsync")
        # AppSync names the failure by Lambda's X-Amz-Function-Error ("Lambda:Unhandled")
        # and passes the function's errorMessage on
        reported = answer if isinstance(answer, dict) else {}
        raise ResolverError(str(reported.get("errorMessage", "Lambda function failed")),
                            f"Lambda:{result.function_error}")
    service.deliveries.record(api_arn, target.invoked_arn, event_id, DELIVERED,
                              parent=parent, kind="appsync")
    return answer


# ---------------------------------------------------------------------- DynamoDB
_clients: dict[tuple[str, str], Any] = {}  # boto3 clients are thread-safe: one per region
_clients_lock = threading.Lock()


def _client(region: str) -> Any:
    """A DynamoDB client of the sandbox's administrator (the service role's permissions were
    decided by IAM before the call): AppSync itself calls DynamoDB."""
    import boto3
    from botocore.config import Config

    from ..server.service import current

    service = current()
    if service is None:
        raise ResolverError("The sandbox has stopped.", "Sandbox.Stopped")
    key = (f"{id(service)}:{service.endpoint_url}", region)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            admin = service.admin_keys[service.account_id]
            client = _clients[key] = boto3.session.Session().client(
                "dynamodb", region_name=region, endpoint_url=service.endpoint_url,
                aws_access_key_id=admin.access_key_id,
                aws_secret_access_key=admin.secret_access_key,
                config=Config(retries={"max_attempts": 1}))
            # AppSync's calls are the server's own: handed to its router in this process
            # (IAM decides them there as it decides any call), not over a loopback socket
            client._endpoint.http_session = _InProcess(service.router)
        return client


def forget_clients() -> None:
    """The sandbox stopped: its clients go (each holds the stopped server's router)."""
    with _clients_lock:
        _clients.clear()


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        return iter([self._body])


class _InProcess:
    """botocore's HTTP session, replaced: a request goes straight to the sandbox's router
    (a WSGI application) in this process."""

    def __init__(self, app: Any):
        self.app = app

    def send(self, request: Any) -> Any:
        import io
        from urllib.parse import urlsplit

        from botocore.awsrequest import AWSResponse

        parts = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method, "PATH_INFO": parts.path or "/",
            "QUERY_STRING": parts.query, "SERVER_NAME": parts.hostname or "127.0.0.1",
            "SERVER_PORT": str(parts.port or 80), "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": parts.scheme or "http",
            "wsgi.errors": io.StringIO(), "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0),
            "HTTP_HOST": parts.netloc}
        for name, value in request.headers.items():
            text = value.decode() if isinstance(value, bytes) else str(value)
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = text
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = text
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), headers

        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        from botocore.awsrequest import HeadersDict

        return AWSResponse(request.url, answer["status"], HeadersDict(answer["headers"]),
                           _Raw(data))

    def close(self) -> None:
        pass


def _table_arn(region: str, table: str) -> str:
    from ..accounts import ACCOUNT_ID

    return f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"


def _expression(request: dict[str, Any], name: str, into: dict[str, Any], prefix: str) -> None:
    """A mapping template's ``{expression, expressionNames, expressionValues}`` as boto3's
    ``<prefix>Expression``, ``ExpressionAttributeNames`` and ``...Values``."""
    found = request.get(name)
    if not found:
        return
    if isinstance(found, str):
        found = {"expression": found}
    into[f"{prefix}Expression"] = found["expression"]
    if found.get("expressionNames"):
        into.setdefault("ExpressionAttributeNames", {}).update(found["expressionNames"])
    if found.get("expressionValues"):
        into.setdefault("ExpressionAttributeValues", {}).update(found["expressionValues"])


def _call(client: Any, operation: str, **params: Any) -> Any:
    from botocore.exceptions import ClientError

    try:
        return getattr(client, operation)(**params)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "DynamoDB")
        message = error.response.get("Error", {}).get("Message", str(error))
        raise ResolverError(message, f"DynamoDB:{code}") from None


def _dynamodb(source: dict[str, Any], request: dict[str, Any], region: str) -> Any:
    config = source["dynamodbConfig"]
    table = config["tableName"]
    region = config.get("awsRegion") or region
    operation = request.get("operation")
    actions = {"GetItem": "GetItem", "PutItem": "PutItem", "UpdateItem": "UpdateItem",
               "DeleteItem": "DeleteItem", "Query": "Query", "Scan": "Scan",
               "BatchGetItem": "BatchGetItem", "BatchPutItem": "BatchWriteItem",
               "BatchDeleteItem": "BatchWriteItem", "TransactGetItems": "GetItem",
               "TransactWriteItems": "PutItem", "Sync": "Scan"}
    if operation is None:  # "Troubleshooting and common mistakes", AppSync Developer Guide
        raise ResolverError("Value for field '$[operation]' not found.", "MappingTemplate")
    if operation not in actions:
        raise ResolverError(f"Unsupported operation {operation!r}: one of "
                            f"{', '.join(actions)}.", "MappingTemplate")
    if operation not in ("BatchGetItem", "BatchPutItem", "BatchDeleteItem", "TransactGetItems",
                         "TransactWriteItems"):
        _role_check(source, f"dynamodb:{actions[operation]}", _table_arn(region, table), region)
    client = _client(region)
    params: dict[str, Any] = {}
    if operation == "GetItem":
        answer = _call(client, "get_item", TableName=table, Key=request["key"],
                       ConsistentRead=bool(request.get("consistentRead", False)))
        return item(answer.get("Item"))
    if operation == "PutItem":
        values = {**(request.get("attributeValues") or {}), **request["key"]}
        _expression(request, "condition", params, "Condition")
        _call(client, "put_item", TableName=table, Item=values, **params)
        return item(values)
    if operation == "UpdateItem":
        _expression(request, "update", params, "Update")
        _expression(request, "condition", params, "Condition")
        answer = _call(client, "update_item", TableName=table, Key=request["key"],
                       ReturnValues="ALL_NEW", **params)
        return item(answer.get("Attributes"))
    if operation == "DeleteItem":
        _expression(request, "condition", params, "Condition")
        answer = _call(client, "delete_item", TableName=table, Key=request["key"],
                       ReturnValues="ALL_OLD", **params)
        return item(answer.get("Attributes"))
    if operation in ("Query", "Scan", "Sync"):
        if operation == "Query":
            _expression(request, "query", params, "KeyCondition")
        _expression(request, "filter", params, "Filter")
        for key, name in (("index", "IndexName"), ("limit", "Limit"),
                          ("consistentRead", "ConsistentRead"), ("select", "Select")):
            if request.get(key) is not None:
                params[name] = request[key]
        if operation == "Query" and request.get("scanIndexForward") is not None:
            params["ScanIndexForward"] = bool(request["scanIndexForward"])
        if request.get("nextToken"):
            params["ExclusiveStartKey"] = json.loads(request["nextToken"])
        answer = _call(client, "query" if operation == "Query" else "scan", TableName=table,
                       **params)
        last = answer.get("LastEvaluatedKey")
        return {"items": [item(i) for i in answer.get("Items", [])],
                "nextToken": json.dumps(last) if last else None,
                "scannedCount": answer.get("ScannedCount", 0)}
    return _batch(source, client, operation, request, region)


def _batch(source: dict[str, Any], client: Any, operation: str, request: dict[str, Any],
           region: str) -> Any:
    if operation == "BatchGetItem":
        tables = request.get("tables") or {}
        for name in tables:
            _role_check(source, "dynamodb:BatchGetItem", _table_arn(region, name), region)
        answer = _call(client, "batch_get_item", RequestItems={
            name: {"Keys": spec.get("keys", []),
                   "ConsistentRead": bool(spec.get("consistentRead", False))}
            for name, spec in tables.items()})
        found = answer.get("Responses", {})
        # the reference: results keep the order of the keys, null for a key not found
        data: dict[str, Any] = {}
        for name, spec in tables.items():
            rows = [item(r) for r in found.get(name, [])]
            ordered = []
            for key in spec.get("keys", []):
                plain = item(key) or {}
                match = next((r for r in rows if r and all(r.get(k) == v
                                                          for k, v in plain.items())), None)
                ordered.append(match)
            data[name] = ordered
        return {"data": data, "unprocessedKeys": {n: [] for n in tables}}
    if operation in ("BatchPutItem", "BatchDeleteItem"):
        tables = request.get("tables") or {}
        writes: dict[str, Any] = {}
        for name, rows in tables.items():
            _role_check(source, "dynamodb:BatchWriteItem", _table_arn(region, name), region)
            writes[name] = [{"PutRequest": {"Item": r}} if operation == "BatchPutItem"
                            else {"DeleteRequest": {"Key": r}} for r in rows]
        _call(client, "batch_write_item", RequestItems=writes)
        key = "unprocessedItems" if operation == "BatchPutItem" else "unprocessedKeys"
        return {"data": {n: [item(r) for r in rows] for n, rows in tables.items()},
                key: {n: [] for n in tables}}
    if operation == "TransactGetItems":
        gets = []
        for entry in request.get("transactItems", []):
            _role_check(source, "dynamodb:GetItem", _table_arn(region, entry["table"]), region)
            gets.append({"Get": {"TableName": entry["table"], "Key": entry["key"]}})
        answer = _call(client, "transact_get_items", TransactItems=gets)
        return {"items": [item(r.get("Item")) for r in answer.get("Responses", [])],
                "cancellationReasons": None}
    # TransactWriteItems
    writes_list = []
    keys = []
    for entry in request.get("transactItems", []):
        table, kind = entry["table"], entry.get("operation")
        action = {"PutItem": "PutItem", "UpdateItem": "UpdateItem", "DeleteItem": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem"}.get(str(kind))
        if action is None:
            raise ResolverError(f"Unsupported transact operation {kind!r}.", "MappingTemplate")
        _role_check(source, f"dynamodb:{action}", _table_arn(region, table), region)
        params: dict[str, Any] = {"TableName": table}
        _expression(entry, "condition", params, "Condition")
        if kind == "PutItem":
            params["Item"] = {**(entry.get("attributeValues") or {}), **entry["key"]}
            writes_list.append({"Put": params})
        elif kind == "UpdateItem":
            params["Key"] = entry["key"]
            _expression(entry, "update", params, "Update")
            writes_list.append({"Update": params})
        elif kind == "DeleteItem":
            params["Key"] = entry["key"]
            writes_list.append({"Delete": params})
        else:
            params["Key"] = entry["key"]
            writes_list.append({"ConditionCheck": params})
        keys.append(item(entry["key"]))
    _call(client, "transact_write_items", TransactItems=writes_list)
    return {"keys": keys, "cancellationReasons": None}


# ---------------------------------------------------------------------- HTTP
def _http(source: dict[str, Any], request: dict[str, Any]) -> Any:
    from ..apigateway.integrations import IntegrationFailure, call_http

    endpoint = str(source["httpConfig"]["endpoint"]).rstrip("/")
    params = request.get("params") or {}
    url = endpoint + str(request.get("resourcePath") or "")
    if params.get("query"):
        url += "?" + urlencode(params["query"], doseq=True)
    body = params.get("body")
    data = b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
    headers = [(str(k), str(v)) for k, v in (params.get("headers") or {}).items()]
    try:
        answer = call_http(str(request.get("method", "GET")).upper(), url, headers, data, 10.0)
    except IntegrationFailure as failure:
        raise ResolverError(failure.detail, "HTTP:ConnectionError") from None
    return {"statusCode": answer.status,
            "headers": {k: v for k, v in answer.headers},
            "body": answer.body.decode("utf-8", "replace")}
