"""Which IAM actions on which resources a request needs, as AWS authorizes it.

AWS authorizes a call with the action names and resource ARNs of the Service Authorization
Reference ("Actions, resources, and condition keys for <service>"), which are not the API's:
``Invoke`` is ``lambda:InvokeFunction`` on the (qualified) function ARN, ``HeadObject`` is
``s3:GetObject`` on ``arn:aws:s3:::bucket/key``, ``CopyObject`` needs ``s3:GetObject`` on the
source and ``s3:PutObject`` on the destination, ``TransactWriteItems`` needs each item's own
action on each table. moto's own check (``moto/iam/access_control.py``) uses the operation name
as the action and ``*`` as the resource for almost every call; this module replaces it.

``identify`` reads a raw HTTP request: the SigV4 credential scope (Authorization header or
presigned query) gives the access key, region and signing name; the operation comes from
``X-Amz-Target`` (JSON protocol), ``Action=`` (query protocol) or, for REST services, from
matching method, path, query and headers against botocore's ``http.requestUri`` of every
operation. ``accesses`` turns the call into the ``Access`` list AWS would check, in order.
An operation this module does not know is ``<service>:<Operation>`` on ``*``: checked, never
waved through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import reference

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]*)/([^/]*)/")


@dataclass(frozen=True)
class Access:
    """One authorization: ``action`` on ``resource`` with the service's condition keys."""

    action: str  # "dynamodb:PutItem", spelled as the Service Authorization Reference spells it
    resource: str  # a full ARN, or "*" for an action with no resource type
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """A signed AWS API call: who signed it for which service, and what it asks."""

    service: str  # the signing name of the credential scope: "lambda", "dynamodb", ...
    operation: str  # the botocore operation name: "PutItem", "Invoke", "ListObjectsV2"
    region: str
    access_key: str
    params: Mapping[str, Any]  # uri labels, query and header members, JSON or form body
    path: str = ""  # a REST call's requestUri template, labels as {member} ("" otherwise)


# ---------------------------------------------------------------------- identify
def identify(method: str, path: str, query: str, headers: Mapping[str, str],
             body: bytes) -> Call | None:
    """The API call a raw request makes, or None when it is not a SigV4-signed API call (an
    API Gateway invoke, an S3 website page, moto's ``/moto-api/``, an unsigned request).

    ``path`` is the WSGI ``PATH_INFO``: already percent-decoded, its bytes as latin-1."""
    lowered = {name.lower(): value for name, value in headers.items()}
    signed = credential(lowered.get("authorization", ""), query)
    if signed is None or "/_user_request_/" in path or path.startswith("/moto-api"):
        return None
    key, region, service = signed
    if service == "execute-api":
        return None  # a call through API Gateway: the API's own authorizer decides
    target = lowered.get("x-amz-target")
    if target:
        return Call(service, target.rsplit(".", 1)[-1], region, key, _json(body))
    form = None if service in _REST_MODELS else _form(lowered, body, query)
    if form is not None and "Action" in form:
        operation = form.pop("Action")
        if service == "sqs" and "QueueUrl" not in form and path.count("/") >= 2:
            form["QueueUrl"] = path  # SQS's query protocol may post to the queue's URL
        return Call(service, operation, region, key, form)
    operation, params, template = _rest(service, method, _utf8(path), query, lowered, body)
    return Call(service, operation, region, key, params, template)


SIGV2_REGION = "us-east-1"  # Signature Version 2 names no region; S3 presigns with it there


def credential(authorization: str, query: str) -> tuple[str, str, str] | None:
    """(access key, region, service) of a signed request: a SigV4 Authorization header or
    presigned query, or S3's Signature Version 2 (``AWS key:signature``, or the presigned
    ``AWSAccessKeyId=``, which botocore makes for us-east-1); None for an unsigned one."""
    if authorization.startswith("AWS4-HMAC-SHA256"):
        found = _CREDENTIAL.search(authorization)
        return (found[1], found[2], found[3]) if found else None
    if authorization.startswith("AWS ") and ":" in authorization:
        return authorization[4:].split(":", 1)[0].strip(), SIGV2_REGION, "s3"
    if "X-Amz-Credential" in query:
        scope = dict(parse_qsl(query)).get("X-Amz-Credential", "").split("/")
        return (scope[0], scope[2], scope[3]) if len(scope) > 3 else None
    if "AWSAccessKeyId=" in query:
        key = dict(parse_qsl(query)).get("AWSAccessKeyId")
        return (key, SIGV2_REGION, "s3") if key else None
    return None


def _json(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body) if body else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _form(headers: Mapping[str, str], body: bytes, query: str) -> dict[str, Any] | None:
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if "Action=" in query:
        return dict(parse_qsl(query, keep_blank_values=True))
    return None


def _utf8(path: str) -> str:
    """WSGI hands the path's UTF-8 bytes over as latin-1 characters (PEP 3333)."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return path


# ---------------------------------------------------------------------- REST matching
@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    template: str  # the requestUri's path, labels as {member}
    literal_query: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    query_members: tuple[tuple[str, str], ...]  # (query key, member name)
    header_members: tuple[tuple[str, str], ...]  # (lower-case header, member name)
    json_body: bool
    score: int
    deprecated: bool  # loses to the current operation at the same URI (PutBucketNotification)


# the botocore models a REST signing name may speak (API Gateway v1 and v2 both sign "apigateway")
_REST_MODELS = {"lambda": ("lambda",), "s3": ("s3",), "apigateway": ("apigatewayv2", "apigateway")}


@cache
def _routes(service: str) -> dict[str, tuple[_Route, ...]]:
    """Every REST operation of ``service``'s models, by HTTP method, most specific first."""
    import botocore.session

    session = botocore.session.get_session()
    found: list[_Route] = []
    for name in _REST_MODELS.get(service, (service,)):
        try:
            model = session.get_service_model(name)
        except Exception:  # no such botocore model: nothing to match
            continue
        if not model.protocol.startswith("rest"):
            continue
        found += [_route(model.operation_model(op)) for op in model.operation_names]
    by_method: dict[str, list[_Route]] = {}
    for route in found:
        by_method.setdefault(route.method, []).append(route)
    return {method: tuple(sorted(routes, key=lambda r: (-r.score, r.deprecated)))
            for method, routes in by_method.items()}


@cache
def _route_of(service: str, operation: str) -> _Route | None:
    for routes in _routes(service).values():
        for route in routes:
            if route.operation == operation:
                return route
    return None


def _route(operation: Any) -> _Route:
    uri = operation.http["requestUri"]
    path, _, literal = uri.partition("?")
    shape = operation.input_shape
    members = shape.members if shape is not None else {}
    required = set(shape.required_members) if shape is not None else set()
    by_location: dict[str, list[tuple[str, str]]] = {"uri": [], "querystring": [],
                                                     "header": []}
    for member, member_shape in members.items():
        location = member_shape.serialization.get("location")
        if location in by_location:
            by_location[location].append(
                (member_shape.serialization.get("name", member), member))
    label_member = dict(by_location["uri"])
    pattern, template, fixed = "", "", 0
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            label = piece[1:-1]
            greedy = label.endswith("+")
            member = label_member.get(label.rstrip("+"), label.rstrip("+"))
            pattern += f"(?P<{_group(member)}>{'.+' if greedy else '[^/]+'})"
            template += "{" + member + "}"
        else:
            pattern += re.escape(piece)
            template += piece
            fixed += len(piece)
    query = tuple((k, v if v != "" else None)
                  for k, v in parse_qsl(literal, keep_blank_values=True))
    query_members = tuple(by_location["querystring"])
    header_members = tuple((h.lower(), m) for h, m in by_location["header"])
    required_query = tuple(q for q, m in query_members if m in required)
    required_headers = tuple(h for h, m in header_members if m in required)
    return _Route(
        operation=operation.name, method=operation.http["method"],
        pattern=re.compile(pattern.rstrip("/") + "/?$"), template=template,
        literal_query=query, required_query=required_query,
        required_headers=required_headers, query_members=query_members,
        header_members=header_members,
        json_body=shape is not None and "payload" not in shape.serialization,
        score=1000 * (len(query) + len(required_query) + len(required_headers)) + fixed,
        deprecated=bool(operation.deprecated))


def _group(member: str) -> str:
    return re.sub(r"\W", "_", member)


def _rest(service: str, method: str, path: str, query: str, headers: Mapping[str, str],
          body: bytes) -> tuple[str, dict[str, Any], str]:
    if service == "s3":
        path = _path_style(path, headers.get("host", ""))
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    for route in _routes(service).get(method.upper(), ()):
        if not all(k in pairs and (v is None or pairs[k] == v) for k, v in route.literal_query):
            continue
        if not all(q in pairs for q in route.required_query):
            continue
        if not all(h in headers for h in route.required_headers):
            continue
        found = route.pattern.match(path)
        if found is None:
            continue
        params: dict[str, Any] = {}
        if route.json_body and body[:1] == b"{":
            params.update(_json(body))
        params.update({member: pairs[q] for q, member in route.query_members if q in pairs})
        params.update({member: headers[h] for h, member in route.header_members
                       if h in headers})
        labels = {_group(m): m for m in re.findall(r"\{([^}]+)\}", route.template)}
        params.update({labels[g]: v for g, v in found.groupdict().items()})
        if route.operation == "DeleteObjects":
            params["Delete"] = {"Objects": [{"Key": k} for k in _xml_keys(body)]}
        return route.operation, params, route.template
    return "Unknown", {"method": method, "path": path}, ""


def _path_style(path: str, host: str) -> str:
    """A virtual-hosted request (``bucket.s3.amazonaws.com``) as its path-style twin."""
    found = re.match(r"^(.+?)\.s3[.-]", host)
    return f"/{found[1]}{path}" if found else path


def _xml_keys(body: bytes) -> list[str]:
    from html import unescape

    return [unescape(k) for k in re.findall(r"<Key>(.*?)</Key>", body.decode("utf-8",
                                                                            "replace"), re.S)]


# ---------------------------------------------------------------------- accesses
def accesses(call: Call, account: str) -> list[Access]:
    """What AWS authorizes for ``call`` in ``account``, the account that owns the resource
    unless the call names another's ARN (then the ARN's account is used)."""
    build = _SERVICES.get(call.service)
    found = build(call, account) if build is not None else None
    if found is None:
        prefix = _PREFIXES.get(call.service, call.service)
        action = f"{prefix}:{call.operation}"
        if build is None:  # no rule of ours: the Service Authorization Reference's resources
            arns = reference.resources(prefix, call.operation, call.params, call.region, account)
            if arns is not None:
                return [Access(action, arn, {}) for arn in arns]
        return [Access(action, "*", {})]
    return found


_PREFIXES = {"monitoring": "cloudwatch"}  # signing names that are not the IAM prefix


def _p(call: Call, name: str) -> Any:
    return call.params.get(name)


def _passrole(role: Any, service: str) -> list[Access]:
    """Handing a role to a service is an ``iam:PassRole`` the caller must be allowed."""
    if not isinstance(role, str) or not role.startswith("arn:"):
        return []
    return [Access("iam:PassRole", role, {"iam:PassedToService": service})]


# -------------------------------------------------------------- Lambda
_LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction",
                   "GetLayerVersionByArn": "GetLayerVersion"}
_LAMBDA_NO_RESOURCE = {"ListFunctions", "ListEventSourceMappings", "GetAccountSettings",
                       "ListLayers", "ListLayerVersions", "ListCodeSigningConfigs",
                       "CreateCodeSigningConfig", "CreateEventSourceMapping"}
_LAMBDA_ESM = {"GetEventSourceMapping", "UpdateEventSourceMapping", "DeleteEventSourceMapping"}
_LAMBDA_LAYER_VERSION = {"GetLayerVersion", "DeleteLayerVersion", "GetLayerVersionPolicy",
                         "AddLayerVersionPermission", "RemoveLayerVersionPermission"}
_FUNCTION_NAME = re.compile(
    r"^(?:arn:[^:]+:lambda:(?P<region>[^:]*):)?(?:(?P<account>\d{12}):)?(?:function:)?"
    r"(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")


def function_arn(name: str, region: str, account: str, qualifier: str | None = None) -> str:
    """The function ARN a FunctionName means (a name, ``name:alias``, a partial or a full
    ARN), qualified by the version or alias if it names one, as Lambda authorizes it."""
    found = _FUNCTION_NAME.match(name)
    if found is None:
        return name
    qualifier = qualifier or found["qualifier"]
    arn = (f"arn:aws:lambda:{found['region'] or region}:{found['account'] or account}:"
           f"function:{found['name']}")
    return f"{arn}:{qualifier}" if qualifier else arn


def _layer_arn(call: Call, account: str, version: bool) -> str:
    name = str(_p(call, "LayerName") or _p(call, "Arn") or "")
    if not name.startswith("arn:"):
        name = f"arn:aws:lambda:{call.region}:{account}:layer:{name}"
    parts = name.split(":")
    base = ":".join(parts[:7])
    number = _p(call, "VersionNumber") or (parts[7] if len(parts) > 7 else None)
    return f"{base}:{number}" if version and number is not None else base


def _lambda(call: Call, account: str) -> list[Access] | None:
    op = call.operation
    action = "lambda:" + _LAMBDA_ACTIONS.get(op, op)
    context: dict[str, Any] = {}
    function = _p(call, "FunctionName")
    if function:
        arn = function_arn(str(function), call.region, account, _p(call, "Qualifier"))
        if op in ("CreateEventSourceMapping", "UpdateEventSourceMapping"):
            context["lambda:FunctionArn"] = arn
    if op in _LAMBDA_NO_RESOURCE:
        return [Access(action, "*", context)]
    if op in _LAMBDA_ESM:
        return [Access(action, f"arn:aws:lambda:{call.region}:{account}:event-source-mapping:"
                               f"{_p(call, 'UUID')}", context)]
    if op == "PublishLayerVersion":
        return [Access(action, _layer_arn(call, account, version=False), context)]
    if op in _LAMBDA_LAYER_VERSION or op == "GetLayerVersionByArn":
        return [Access(action, _layer_arn(call, account, version=True), context)]
    if _p(call, "Resource"):  # TagResource, ListTags: the function's or mapping's ARN
        return [Access(action, str(_p(call, "Resource")), context)]
    if not function:
        return None
    if op in ("AddPermission", "RemovePermission") and _p(call, "Principal"):
        context["lambda:Principal"] = _p(call, "Principal")
    if _p(call, "FunctionUrlAuthType"):
        context["lambda:FunctionUrlAuthType"] = _p(call, "FunctionUrlAuthType")
    if isinstance(_p(call, "Layers"), list):
        context["lambda:Layer"] = list(_p(call, "Layers"))
    found = [Access(action, arn, context)]
    if op in ("CreateFunction", "UpdateFunctionConfiguration"):
        found += _passrole(_p(call, "Role"), "lambda.amazonaws.com")
    return found


# -------------------------------------------------------------- DynamoDB
_DYNAMODB_NO_RESOURCE = {"ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups",
                         "ListGlobalTables", "ListStreams", "ListExports", "ListImports"}
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
             "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_PARTIQL = re.compile(r'^\s*(?:(UPDATE)|(SELECT|INSERT|DELETE|EXISTS)\b.*?(?:\bFROM|\bINTO))'
                      r'\s+"?([\w.-]+)"?(?:\."?([\w.-]+)"?)?', re.I | re.S)


def _table_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else (
        f"arn:aws:dynamodb:{region}:{account}:table/{name}")


def _hash_key(table_arn: str) -> str | None:
    """The table's partition key attribute, from moto's backend; None if the table is not
    there (the call then fails on its own)."""
    from moto.dynamodb.models import dynamodb_backends

    _, _, _, region, account, rest = table_arn.split(":", 5)
    try:
        return dynamodb_backends[account][region].tables[rest.split("/")[1]].hash_key_attr
    except (KeyError, IndexError):
        return None


def _scalar(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        kind, found = next(iter(value.items()))
        if kind in ("S", "N", "B"):
            return str(found)
    return None


def _leading_keys(table_arn: str, items: list[Any]) -> list[str] | None:
    """``dynamodb:LeadingKeys``: the partition key values of the items or keys named."""
    key = _hash_key(table_arn)
    if not key:
        return None
    values = [_scalar(item.get(key)) for item in items if isinstance(item, dict)]
    return sorted({v for v in values if v is not None}) or None


def _query_leading_keys(table_arn: str, params: Mapping[str, Any]) -> list[str] | None:
    key = _hash_key(table_arn)
    if not key:
        return None
    legacy = params.get("KeyConditions") or {}
    if isinstance(legacy.get(key), dict) and legacy[key].get("ComparisonOperator") == "EQ":
        value = _scalar((legacy[key].get("AttributeValueList") or [None])[0])
        return [value] if value is not None else None
    expression = params.get("KeyConditionExpression") or ""
    names = {alias: name for alias, name in (params.get("ExpressionAttributeNames") or {}).items()}
    values = params.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#:]?[\w.-]+)\s*=\s*([#:]?[\w.-]+)", expression):
        for name, value in ((left, right), (right, left)):
            if names.get(name, name) == key and value.startswith(":"):
                found = _scalar(values.get(value))
                return [found] if found is not None else None
    return None


def _dynamodb_context(params: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for member, key in (("Select", "dynamodb:Select"), ("ReturnValues", "dynamodb:ReturnValues"),
                        ("ReturnConsumedCapacity", "dynamodb:ReturnConsumedCapacity")):
        if params.get(member):
            context[key] = params[member]
    names = params.get("ExpressionAttributeNames") or {}
    if isinstance(params.get("Item"), dict):
        context["dynamodb:Attributes"] = sorted(params["Item"])
    elif params.get("AttributesToGet"):
        context["dynamodb:Attributes"] = list(params["AttributesToGet"])
    elif params.get("ProjectionExpression"):
        context["dynamodb:Attributes"] = sorted({
            names.get(p, p) for p in re.findall(r"(#?[\w-]+)(?:\[\d+\])?(?:\.[^,\s]*)?",
                                                params["ProjectionExpression"])})
    return context


def _with_keys(context: dict[str, Any], keys: list[str] | None) -> dict[str, Any]:
    if keys:
        context["dynamodb:LeadingKeys"] = keys
    return context


def _dynamodb(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = f"dynamodb:{op}"
    if op in _DYNAMODB_NO_RESOURCE:
        return [Access(action, "*", {})]
    if op in ("BatchGetItem", "BatchWriteItem"):
        found = []
        for table, request in (params.get("RequestItems") or {}).items():
            arn = _table_arn(table, call.region, account)
            items = (request.get("Keys") or [] if isinstance(request, dict) else
                     [(w.get("PutRequest") or {}).get("Item") or
                      (w.get("DeleteRequest") or {}).get("Key") for w in request])
            found.append(Access(action, arn, _with_keys({}, _leading_keys(arn, items))))
        return found
    if op in ("TransactWriteItems", "TransactGetItems"):
        return list(_transact(call, account))
    if op in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        return list(_partiql(call, account))
    if params.get("StreamArn") or op in ("GetRecords",):
        stream = params.get("StreamArn") or str(params.get("ShardIterator", "")).split("|")[0]
        return [Access(action, stream if stream.startswith("arn:") else "*", {})]
    if params.get("ResourceArn"):
        return [Access(action, str(params["ResourceArn"]), {})]
    table = params.get("TableName") or params.get("GlobalTableName")
    if not table:
        return None
    arn = _table_arn(str(table), call.region, account)
    context = _dynamodb_context(params)
    if op in ("GetItem", "DeleteItem", "UpdateItem"):
        _with_keys(context, _leading_keys(arn, [params.get("Key")]))
    elif op == "PutItem":
        _with_keys(context, _leading_keys(arn, [params.get("Item")]))
    elif op == "Query" and not params.get("IndexName"):
        _with_keys(context, _query_leading_keys(arn, params))
    if op in ("Query", "Scan") and params.get("IndexName"):
        arn = f"{arn}/index/{params['IndexName']}"
    return [Access(action, arn, context)]


def _transact(call: Call, account: str) -> Iterator[Access]:
    """Each item of a transaction needs its own action (``dynamodb:EnclosingOperation`` says
    which transaction it belongs to)."""
    for item in call.params.get("TransactItems") or []:
        for kind, request in item.items():
            if kind not in _TRANSACT or not isinstance(request, dict):
                continue
            arn = _table_arn(str(request.get("TableName", "")), call.region, account)
            context = {"dynamodb:EnclosingOperation": call.operation}
            keys = _leading_keys(arn, [request.get("Item") or request.get("Key")])
            yield Access(f"dynamodb:{_TRANSACT[kind]}", arn, _with_keys(context, keys))


def _partiql(call: Call, account: str) -> Iterator[Access]:
    """PartiQL statements need ``dynamodb:PartiQL<Verb>`` on the table (or index) they name."""
    params = call.params
    statements = ([params.get("Statement")] if "Statement" in params else
                  [s.get("Statement") for s in params.get("Statements")
                   or params.get("TransactStatements") or []])
    for statement in statements:
        found = _PARTIQL.match(str(statement or ""))
        if found is None:
            yield Access(f"dynamodb:{call.operation}", "*", {})
            continue
        word = found[1] or found[2]
        verb = "Select" if word.upper() in ("SELECT", "EXISTS") else word.capitalize()
        arn = _table_arn(found[3], call.region, account)
        yield Access(f"dynamodb:PartiQL{verb}", f"{arn}/index/{found[4]}" if found[4] else arn,
                     {})


# -------------------------------------------------------------- S3
_S3_ACTIONS = {
    "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "HeadBucket": "ListBucket",
    "HeadObject": "GetObject", "SelectObjectContent": "GetObject",
    "ListBuckets": "ListAllMyBuckets", "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject", "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListObjectVersions": "ListBucketVersions",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketCors": "PutBucketCORS", "DeleteBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
}
# a VersionId turns these into their ...Version... actions (s3:versionid in the context)
_S3_VERSIONED = {"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion",
                 "GetObjectTagging": "GetObjectVersionTagging",
                 "PutObjectTagging": "PutObjectVersionTagging",
                 "DeleteObjectTagging": "DeleteObjectVersionTagging",
                 "GetObjectAcl": "GetObjectVersionAcl", "PutObjectAcl": "PutObjectVersionAcl",
                 "GetObjectAttributes": "GetObjectVersionAttributes"}
_S3_HEADER_KEYS = (("ACL", "s3:x-amz-acl"), ("ServerSideEncryption",
                                             "s3:x-amz-server-side-encryption"),
                   ("StorageClass", "s3:x-amz-storage-class"),
                   ("MetadataDirective", "s3:x-amz-metadata-directive"),
                   ("CopySource", "s3:x-amz-copy-source"))
_S3_LIST_KEYS = (("Prefix", "s3:prefix"), ("Delimiter", "s3:delimiter"),
                 ("MaxKeys", "s3:max-keys"))


def _s3_action(operation: str, version: Any) -> str:
    action = _S3_ACTIONS.get(operation, operation)
    return "s3:" + (_S3_VERSIONED.get(action, action) if version else action)


def _s3(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    if op == "ListBuckets":
        # no resource type; S3's own policy examples grant it on "arn:aws:s3:::*"
        # (docs.aws.amazon.com/AmazonS3/latest/userguide/example-policies-s3.html), which "*"
        # would not match: the request names that resource, which "*" matches too
        return [Access("s3:ListAllMyBuckets", "arn:aws:s3:::*", {})]
    bucket = params.get("Bucket")
    if not bucket:
        return None
    key, version = params.get("Key"), params.get("VersionId")
    if op == "DeleteObjects":
        keys = [o.get("Key") for o in (params.get("Delete") or {}).get("Objects", [])]
        # without the body (not read for S3), the keys are unknown: every key of the bucket
        return [Access("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}", {})
                for k in keys or ["*"]]
    context: dict[str, Any] = {}
    if version:
        context["s3:versionid"] = version
    if key is None:
        condition_keys = _S3_LIST_KEYS \
            if op in ("ListObjects", "ListObjectsV2", "ListObjectVersions") \
            else (("ACL", "s3:x-amz-acl"),)
        context.update({k: str(params[m]) for m, k in condition_keys
                        if params.get(m) is not None})
        return [Access(_s3_action(op, version), f"arn:aws:s3:::{bucket}", context)]
    target = f"arn:aws:s3:::{bucket}/{key}"
    if op in ("CopyObject", "UploadPartCopy"):
        source, _, source_version = unquote(str(params.get("CopySource", ""))).lstrip(
            "/").partition("?versionId=")
        context.update({k: str(params[m]) for m, k in _S3_HEADER_KEYS if params.get(m)})
        read = Access("s3:GetObjectVersion" if source_version else "s3:GetObject",
                      f"arn:aws:s3:::{source}",
                      {"s3:versionid": source_version} if source_version else {})
        return [read, Access("s3:PutObject", target, context)]
    if op == "PutObject":
        context.update({k: str(params[m]) for m, k in _S3_HEADER_KEYS if params.get(m)})
    return [Access(_s3_action(op, version), target, context)]


# -------------------------------------------------------------- SQS
_SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def queue_arn(url: str, region: str, account: str) -> str:
    """The ARN of the queue at ``url``: ``http://127.0.0.1:port/<account>/<name>``, the
    ``https://sqs.<region>.amazonaws.com/<account>/<name>`` form, or a bare path."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    host = re.match(r"^(?:sqs\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:queue\.)?amazonaws",
                    parts.hostname or "")
    owner = segments[-2] if len(segments) >= 2 and segments[-2].isdigit() else account
    return f"arn:aws:sqs:{host[1] if host else region}:{owner}:{segments[-1] if segments else ''}"


def _sqs(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = "sqs:" + _SQS_ACTIONS.get(op, op)
    if op == "ListQueues":
        return [Access(action, "*", {})]
    if op in ("CreateQueue", "GetQueueUrl"):
        owner = params.get("QueueOwnerAWSAccountId") or account
        return [Access(action, f"arn:aws:sqs:{call.region}:{owner}:{params.get('QueueName')}",
                       {})]
    if params.get("QueueUrl"):
        return [Access(action, queue_arn(str(params["QueueUrl"]), call.region, account), {})]
    if params.get("SourceArn"):
        return [Access(action, str(params["SourceArn"]), {})]
    return None


# -------------------------------------------------------------- SNS
def _sns(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = "sns:" + ("Publish" if op == "PublishBatch" else op)
    if op == "CreateTopic":
        return [Access(action, f"arn:aws:sns:{call.region}:{account}:{params.get('Name')}", {})]
    if op == "Subscribe":
        context = {f"sns:{m}": params[m] for m in ("Protocol", "Endpoint") if params.get(m)}
        return [Access(action, str(params.get("TopicArn")), context)]
    if op == "Publish" and params.get("PhoneNumber"):
        return [Access(action, "*", {})]  # an SMS to a number has no resource to name
    arn = params.get("TopicArn") or params.get("TargetArn") or params.get("ResourceArn")
    if not arn and params.get("SubscriptionArn"):
        # a subscription is authorized on its topic (could not confirm in the Service
        # Authorization Reference, which lists only the topic resource type for SNS)
        arn = str(params["SubscriptionArn"]).rsplit(":", 1)[0]
    return [Access(action, str(arn) if arn else "*", {})]


# -------------------------------------------------------------- CloudWatch Logs
# AWS names a log group's actions "log-group:<name>:log-stream:" and a stream's
# "log-group:<name>:log-stream:<stream>" in its AccessDenied messages, so a policy on
# "log-group:<name>:*" covers both and one on "log-group:<name>" alone covers neither
_LOGS_STREAM = {"CreateLogStream", "DeleteLogStream", "PutLogEvents", "GetLogEvents"}


def _logs(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = f"logs:{op}"
    groups = params.get("logGroupNames") or params.get("logGroupIdentifiers") or [
        params.get("logGroupName") or params.get("logGroupIdentifier") or ""]
    if params.get("resourceArn"):
        return [Access(action, str(params["resourceArn"]), {})]
    if op == "DescribeLogGroups":
        groups = [""]
    stream = params.get("logStreamName", "") if op in _LOGS_STREAM else ""
    found = []
    for group in groups:
        if str(group).startswith("arn:"):
            base = str(group).removesuffix(":*")
        else:
            base = f"arn:aws:logs:{call.region}:{account}:log-group:{group}"
        found.append(Access(action, f"{base}:log-stream:{stream}", {}))
    return found


# -------------------------------------------------------------- Step Functions
_STATES_NO_RESOURCE = {"ListStateMachines", "ListActivities", "TestState",
                       "ValidateStateMachineDefinition",
                       # the token hides its state machine; granted on "*" in AWS's examples
                       # (could not confirm a resource type in the Service Authorization
                       # Reference)
                       "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"}


def _states(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = f"states:{op}"
    if op in _STATES_NO_RESOURCE:
        return [Access(action, "*", {})]
    if op == "CreateStateMachine":
        arn = f"arn:aws:states:{call.region}:{account}:stateMachine:{params.get('name')}"
        return [Access(action, arn, {})] + _passrole(params.get("roleArn"),
                                                     "states.amazonaws.com")
    if op == "CreateActivity":
        return [Access(action, f"arn:aws:states:{call.region}:{account}:activity:"
                               f"{params.get('name')}", {})]
    for member in ("executionArn", "stateMachineArn", "activityArn", "resourceArn",
                   "mapRunArn", "stateMachineAliasArn", "stateMachineVersionArn"):
        if params.get(member):
            found = [Access(action, str(params[member]), {})]
            if op == "UpdateStateMachine":
                found += _passrole(params.get("roleArn"), "states.amazonaws.com")
            return found
    return None


# -------------------------------------------------------------- EventBridge
def _bus(name: Any, region: str, account: str) -> tuple[str, str, str]:
    """(bus ARN, bus name, owning account) of an EventBusName: a name or an ARN."""
    text = str(name or "default")
    if text.startswith("arn:"):
        return text, text.rsplit("/", 1)[-1], text.split(":")[4]
    return f"arn:aws:events:{region}:{account}:event-bus/{text}", text, account


def _events(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = f"events:{op}"
    if op == "PutEvents":
        buses: dict[str, list[dict[str, Any]]] = {}
        for entry in params.get("Entries") or []:
            buses.setdefault(_bus(entry.get("EventBusName"), call.region, account)[0],
                             []).append(entry)
        return [Access(action, arn, {
            "events:source": sorted({str(e.get("Source")) for e in entries}),
            "events:detail-type": sorted({str(e.get("DetailType")) for e in entries})})
            for arn, entries in buses.items()]
    if op in ("PutRule", "DeleteRule", "DescribeRule", "EnableRule", "DisableRule",
              "PutTargets", "RemoveTargets", "ListTargetsByRule"):
        _, bus, owner = _bus(params.get("EventBusName"), call.region, account)
        rule = params.get("Name") or params.get("Rule")
        path = f"rule/{rule}" if bus == "default" else f"rule/{bus}/{rule}"
        found = [Access(action, f"arn:aws:events:{call.region}:{owner}:{path}", {})]
        for target in params.get("Targets") or []:
            found += _passrole(target.get("RoleArn"), "events.amazonaws.com")
        return found + _passrole(params.get("RoleArn"), "events.amazonaws.com")
    if op in ("CreateEventBus", "DescribeEventBus", "DeleteEventBus", "PutPermission",
              "RemovePermission"):
        return [Access(action, _bus(params.get("Name") or params.get("EventBusName"),
                                    call.region, account)[0], {})]
    if params.get("ResourceARN"):
        return [Access(action, str(params["ResourceARN"]), {})]
    return [Access(action, "*", {})]


# -------------------------------------------------------------- API Gateway
def _apigateway(call: Call, account: str) -> list[Access] | None:
    """API Gateway's management API is authorized by HTTP method on the resource's path:
    ``apigateway:POST`` on ``arn:aws:apigateway:<region>::/restapis``; HTTP APIs (v2) name
    their paths without the ``/v2`` prefix (``::/apis/<id>``)."""
    route = _route_of("apigateway", call.operation)
    if route is None:
        return None
    # v1 and v2 share operation names (CreateStage, GetTags...): the matched URI says which
    template = call.path or route.template
    path = re.sub(r"\{([^}]+)\}", lambda m: str(call.params.get(m[1], "")), template)
    path = path.removeprefix("/v2")
    return [Access(f"apigateway:{route.method}", f"arn:aws:apigateway:{call.region}::{path}",
                   {})]


# -------------------------------------------------------------- STS
def _sts(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    if op == "GetCallerIdentity":
        return []  # AWS answers it whatever the caller's policies say
    if op == "AssumeRole":
        role = str(params.get("RoleArn"))
        context = {k: params[m] for m, k in (("RoleSessionName", "sts:RoleSessionName"),
                                              ("ExternalId", "sts:ExternalId"),
                                              ("SourceIdentity", "sts:SourceIdentity"))
                   if params.get(m)}
        found = [Access("sts:AssumeRole", role, context)]
        if any(k.startswith("Tags.") for k in params):
            found.append(Access("sts:TagSession", role, {}))
        if params.get("SourceIdentity"):
            found.append(Access("sts:SetSourceIdentity", role, {}))
        return found
    if op == "GetFederationToken":
        return [Access("sts:GetFederationToken",
                       f"arn:aws:sts::{account}:federated-user/{params.get('Name')}", {})]
    return [Access(f"sts:{op}", "*", {})]


# -------------------------------------------------------------- IAM
_IAM_COLLECTIONS = {"role": "roles", "user": "users", "group": "groups",
                    "instance-profile": "instance_profiles"}


def _iam_arn(kind: str, name: str, account: str, path: Any) -> str:
    """``arn:aws:iam::<account>:<kind><path><name>``, the path from the request or moto's."""
    if not path:
        path = "/"
        from moto.iam.models import iam_backends

        try:
            backend = iam_backends[account]["aws"]
            for entity in getattr(backend, _IAM_COLLECTIONS[kind]).values():
                if getattr(entity, "name", None) == name:
                    path = entity.path
                    break
        except KeyError:
            pass
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def _iam(call: Call, account: str) -> list[Access] | None:
    op, params = call.operation, call.params
    action = f"iam:{op}"
    context: dict[str, Any] = {}
    if op.startswith(("Attach", "Detach")) and params.get("PolicyArn"):
        context["iam:PolicyARN"] = params["PolicyArn"]
    if params.get("PermissionsBoundary"):
        context["iam:PermissionsBoundary"] = params["PermissionsBoundary"]
    path = params.get("Path") if op.startswith("Create") else None
    if op == "CreatePolicy":
        return [Access(action, f"arn:aws:iam::{account}:policy{path or '/'}"
                               f"{params.get('PolicyName')}", context)]
    if "InstanceProfile" in op and params.get("InstanceProfileName"):
        kind, name = "instance-profile", params["InstanceProfileName"]
    elif op in ("AddUserToGroup", "RemoveUserFromGroup") or (
            params.get("GroupName") and not params.get("UserName")):
        kind, name = "group", params.get("GroupName")
    elif params.get("RoleName"):
        kind, name = "role", params["RoleName"]
    elif params.get("UserName"):
        kind, name = "user", params["UserName"]
    elif params.get("PolicyArn"):
        return [Access(action, str(params["PolicyArn"]), context)]
    else:
        # no name: a list, or a user acting on itself (that user's ARN is the lead's to know)
        return [Access(action, "*", context)]
    return [Access(action, _iam_arn(kind, str(name), account, path), context)]


_SERVICES: dict[str, Callable[[Call, str], list[Access] | None]] = {
    "lambda": _lambda, "dynamodb": _dynamodb, "s3": _s3, "sqs": _sqs, "sns": _sns,
    "logs": _logs, "states": _states, "events": _events, "apigateway": _apigateway,
    "sts": _sts, "iam": _iam,
}
