"""Service integrations: API Gateway calling another AWS service as the integration's role.

REST APIs: ``Type: AWS`` integrations whose URI names a service action
(``arn:aws:apigateway:<region>:sqs:action/SendMessage``) or a path
(``arn:aws:apigateway:<region>:sqs:path/<account>/<queue>``), the request built from the mapping
template and the integration request parameters. HTTP APIs: ``AWS_PROXY`` integrations with an
``IntegrationSubtype`` (``SQS-SendMessage`` ...), the request built from ``RequestParameters``.

As on AWS, API Gateway first assumes the integration's role (``Credentials`` /
``CredentialsArn``), which must trust apigateway.amazonaws.com; the call is then signed with the
role session's keys and sent to the sandbox's own endpoint, where IAM decides it as it decides
any other caller's. A query-protocol service (SQS, SNS) answers API Gateway in JSON
(``{"SendMessageResponse": {"SendMessageResult": {...}, "ResponseMetadata": {...}}}``) because
API Gateway asks with ``Accept: application/json``; moto answers XML, so the sandbox converts.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any

from .integrations import APIGATEWAY_PRINCIPAL, HttpAnswer, IntegrationFailure

AWS_URI = re.compile(r"^arn:[^:]+:apigateway:(?P<region>[^:]*):(?P<service>[^:]+):"
                     r"(?P<kind>action|path)/(?P<rest>.*)$")

# The URI's service name, as API Gateway spells it -> botocore's name, protocol, JSON target
# prefix and content type (botocore's service models: metadata targetPrefix, jsonVersion).
SERVICES: dict[str, tuple[str, str, str, str]] = {
    "sqs": ("sqs", "query", "", ""),
    "sns": ("sns", "query", "", ""),
    "dynamodb": ("dynamodb", "json", "DynamoDB_20120810", "application/x-amz-json-1.0"),
    "states": ("stepfunctions", "json", "AWSStepFunctions", "application/x-amz-json-1.0"),
    "events": ("events", "json", "AWSEvents", "application/x-amz-json-1.1"),
    "kinesis": ("kinesis", "json", "Kinesis_20131202", "application/x-amz-json-1.1"),
    "s3": ("s3", "rest-xml", "", ""),
}
QUERY_VERSIONS = {"sqs": "2012-11-05", "sns": "2010-03-31"}
SESSION_NAME = "APIGateway"  # not documented; it says who acts


@dataclass
class ServiceCall:
    """One request API Gateway sends to a service."""

    service: str  # as in the URI: sqs, sns, dynamodb, states, events, kinesis, s3
    region: str
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def role_credentials(role_arn: str | None, source_arn: str, account_id: str,
                     region: str) -> dict[str, str]:
    """The keys of a session of the integration's role, as API Gateway assumes it; an
    IntegrationFailure ("permissions": AWS answers 500) when there is no role or API Gateway
    may not assume it."""
    from .. import iam, sts

    if not role_arn:
        raise IntegrationFailure(
            "permissions", "Execution failed due to configuration error: an AWS service "
                           "integration needs credentials: put_integration(..., credentials="
                           "'<role ARN>') naming a role that trusts apigateway.amazonaws.com "
                           "and may call the action.")
    if not iam.role_exists(role_arn) or not iam.service_may(
            APIGATEWAY_PRINCIPAL, "sts:AssumeRole", role_arn, source_arn=source_arn,
            source_account=account_id, source=f"API Gateway assuming {role_arn}"):
        raise IntegrationFailure(
            "permissions", "Execution failed due to configuration error: API Gateway does not "
                           f"have permission to assume the provided role {role_arn}. Its trust "
                           "policy must allow the service principal apigateway.amazonaws.com "
                           "to call sts:AssumeRole.")
    return sts.credentials(role_arn, SESSION_NAME, region=region)


def send(endpoint_url: str, call: ServiceCall, keys: dict[str, str],
         limit_seconds: float) -> HttpAnswer:
    """Sign the call with the role session's keys (SigV4, as API Gateway signs it) and send
    it to the sandbox's own endpoint; a query-protocol XML answer comes back as AWS's JSON."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from .integrations import call_http

    headers_lower = {k.lower(): v for k, v in call.headers.items()}
    if (SERVICES[call.service][1] == "query" and call.body and "x-amz-target" not in headers_lower
            and not headers_lower.get("content-type", "").startswith(
                "application/x-www-form-urlencoded")):
        # a query-protocol body the service cannot read as a form: the sandbox's IAM could not
        # even tell the action (AWS's own answer here is not recorded)
        raise _unreadable(call)
    url = endpoint_url.rstrip("/") + urllib.parse.quote(call.path, safe="/~")
    if call.query:
        url += "?" + urllib.parse.urlencode(call.query, quote_via=urllib.parse.quote)
    signing_name = "states" if call.service == "states" else SERVICES[call.service][0]
    request = AWSRequest(method=call.method, url=url, data=call.body, headers=dict(call.headers))
    credentials = Credentials(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])
    signer = S3SigV4Auth if call.service == "s3" else SigV4Auth
    signer(credentials, signing_name, call.region).add_auth(request)
    headers = [(name, str(value)) for name, value in request.headers.items()]
    answer = call_http(call.method, url, headers, call.body, limit_seconds)
    if answer.status >= 500 and answer.body.lstrip().lower().startswith(b"<!doctype html"):
        # moto could not read the request at all (AWS's own answer here is not recorded)
        raise _unreadable(call)
    if SERVICES[call.service][1] == "query":
        answer = _query_json(call.service, answer)
    return answer


def _unreadable(call: ServiceCall) -> IntegrationFailure:
    if SERVICES[call.service][1] != "query":
        return IntegrationFailure(
            "configuration", f"{call.service} could not read the integration request "
                             f"({call.method} {call.path}): the sandbox's {call.service} "
                             "failed on it. Check the request template's JSON.")
    return IntegrationFailure(
        "configuration", f"{call.service} could not read the integration request "
                         f"({call.method} {call.path}, Content-Type "
                         f"{call.headers.get('Content-Type')}). A form-encoded body "
                         "(Action=SendMessage&...) needs the request parameter "
                         "integration.request.header.Content-Type = "
                         "\"'application/x-www-form-urlencoded'\"; a JSON body the headers "
                         "X-Amz-Target and Content-Type application/x-amz-json-1.0.")


# ---------------------------------------------------------------------------------- answers
def _query_json(service: str, answer: HttpAnswer) -> HttpAnswer:
    """A query-protocol service answers ``Accept: application/json`` with the XML document's
    JSON form: ``{"<Op>Response": {"<Op>Result": {...}, "ResponseMetadata": {...}}}``, an error
    as ``{"Error": {"Code", "Message", "Type"}, "RequestId"}``."""
    try:
        root = ElementTree.fromstring(answer.body)
    except ElementTree.ParseError:
        return answer
    name, content = _local(root.tag), _element(root)
    document: Any = {name: content}
    if name == "ErrorResponse" and isinstance(content, dict):
        document = content
    elif name.endswith("Response") and isinstance(content, dict):
        document = {name: _with_every_member(service, name[:-len("Response")], content)}
    headers = [(k, v) for k, v in answer.headers
               if k.lower() not in ("content-type", "content-length")]
    headers.append(("Content-Type", "application/json"))
    return HttpAnswer(answer.status, headers,
                      json.dumps(document, separators=(",", ":")).encode("utf-8"))


def _with_every_member(service: str, operation: str, content: dict[str, Any]
                       ) -> dict[str, Any]:
    """AWS's JSON form names every member of the result, absent ones as null. Recorded:
    ``{"SendMessageResponse": {"ResponseMetadata": {"RequestId": ...}, "SendMessageResult":
    {"MD5OfMessageAttributes": null, "MD5OfMessageBody": ..., "MD5OfMessageSystemAttributes":
    null, "MessageId": ..., "SequenceNumber": null}}}``, and ``{"ReceiveMessageResponse":
    {"ReceiveMessageResult": {"messages": [{"Attributes": null, "Body": ..., ...}] or null},
    "ResponseMetadata": {...}}}`` (its list named ``messages``, the result first)."""
    import botocore.session

    result_name = f"{operation}Result"
    try:
        model = _models(botocore.session).get_service_model(SERVICES[service][0])
        shape = model.operation_model(operation).output_shape
    except Exception:  # an operation botocore does not know: the document as it is
        return content
    ordered: dict[str, Any] = {}
    if shape is not None:
        found = content.get(result_name)
        filled = _fill(shape, found if isinstance(found, dict) else {})
        if (service, operation) == ("sqs", "ReceiveMessage"):
            ordered[result_name] = {"messages": filled.get("Messages")}
        else:
            ordered["ResponseMetadata"] = content.get("ResponseMetadata")
            ordered[result_name] = filled
    for key, value in content.items():
        ordered.setdefault(key, value)
    return ordered


def _fill(shape: Any, found: Any) -> Any:
    """The XML's values in the output shape's members, every member named."""
    if shape.type_name == "structure":
        values = found if isinstance(found, dict) else {}
        result: dict[str, Any] = {}
        for member in sorted(shape.members):
            member_shape = shape.members[member]
            name = member_shape.serialization.get("name", member)
            value = values.get(name, values.get(member))
            if value is None and member_shape.type_name == "list" and \
                    member_shape.serialization.get("flattened"):
                value = values.get(member.rstrip("s"))  # <Message> elements of Messages
            result[member] = None if value is None else _fill(member_shape, value)
        return result
    if shape.type_name == "list":
        items = found if isinstance(found, list) else [found]
        return [_fill(shape.member, item) for item in items]
    return found


_SESSION: list[Any] = []


def _models(module: Any) -> Any:
    if not _SESSION:
        _SESSION.append(module.get_session())
    return _SESSION[0]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children:
        return element.text if element.text is not None else None
    result: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in children:
        name, value = _local(child.tag), _element(child)
        if name in result:  # a repeated element (a list member): its values, in order
            if name not in repeated:
                result[name] = [result[name]]
                repeated.add(name)
            result[name].append(value)
        else:
            result[name] = value
    return result


# ---------------------------------------------------------------------------------- REST
def rest_call(uri: str, region: str, http_method: str, body: bytes,
              parameters: dict[str, dict[str, str]], content_type: str) -> ServiceCall:
    """The request a REST ``AWS`` integration sends: ``parameters`` are the mapped integration
    request parameters (``path``, ``querystring``, ``header``)."""
    matched = AWS_URI.match(uri)
    if matched is None or matched["service"] not in SERVICES:
        raise IntegrationFailure(
            "configuration", f"The sandbox runs AWS integrations with Lambda and "
                             f"{', '.join(sorted(SERVICES))}, not {uri}.")
    service, kind, rest = matched["service"], matched["kind"], matched["rest"]
    region = matched["region"] or region
    protocol, target, json_type = SERVICES[service][1:]
    rest, _, static_query = rest.partition("?")
    query = urllib.parse.parse_qsl(static_query, keep_blank_values=True)
    query += list(parameters.get("querystring", {}).items())
    headers = {"Accept": "application/json"}
    headers.update(parameters.get("header", {}))
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    if kind == "action":
        path = "/"
        if protocol == "query":
            if not body:  # the action is in the query string: nothing for a body type to say
                _drop(headers, "content-type")
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            query = [("Action", rest), *([("Version", QUERY_VERSIONS[service])]
                                         if not any(k == "Version" for k, _ in query) else []),
                     *query]
        elif protocol == "json":
            _drop(headers, "content-type")
            headers["Content-Type"] = json_type
            headers["X-Amz-Target"] = f"{target}.{rest}"
        else:
            raise IntegrationFailure(
                "configuration", f"Execution failed due to configuration error: {service} "
                                 "has no actions to name; use a path override "
                                 f"(arn:aws:apigateway:{region}:{service}:path/...).")
    else:
        path = "/" + rest
        for name, value in parameters.get("path", {}).items():
            path = path.replace("{" + name + "}", value)
    method = (http_method or "POST").upper()
    if protocol == "query" and method == "POST" and not body and query:
        # the same request with its parameters in a form body (the sandbox's IAM reads a
        # POST's action from its body only)
        body = urllib.parse.urlencode(query).encode("ascii")
        query = []
        _drop(headers, "content-type")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return ServiceCall(service, region, method, path, query, headers,
                       body if method not in ("GET", "HEAD", "DELETE") else b"")


def _drop(headers: dict[str, str], name: str) -> None:
    for key in [k for k in headers if k.lower() == name]:
        del headers[key]


def mapped_parameters(integration: dict[str, Any], method_request: dict[str, dict[str, str]],
                      stage_variables: dict[str, str], context: dict[str, Any]
                      ) -> dict[str, dict[str, str]]:
    """An integration's ``requestParameters`` (``integration.request.<where>.<name>`` from
    ``method.request.<where>.<name>``, ``'static'``, ``stageVariables.x`` or ``context.x``)."""
    result: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
    for target, source in (integration.get("requestParameters") or {}).items():
        parts = target.split(".", 3)
        if len(parts) != 4 or parts[:2] != ["integration", "request"] or \
                parts[2] not in result:
            continue
        value = _source_value(source, method_request, stage_variables, context)
        if value is not None:
            result[parts[2]][parts[3]] = value
    return result


def _source_value(source: str, method_request: dict[str, dict[str, str]],
                  stage_variables: dict[str, str], context: dict[str, Any]) -> str | None:
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    if source.startswith("method.request."):
        _, _, where, name = source.split(".", 3)
        values = method_request.get(where, {})
        if where == "header":
            return next((v for k, v in values.items() if k.lower() == name.lower()), None)
        return values.get(name)
    if source.startswith("stageVariables."):
        return stage_variables.get(source.split(".", 1)[1])
    if source.startswith("context."):
        value: Any = context
        for part in source.split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    return None


# ---------------------------------------------------------------------------------- HTTP APIs
# IntegrationSubtype -> (service, action, the request's parameter names in the service's API)
# (http-api-develop-integrations-aws-services-reference.html; Step Functions' JSON API spells
# its members in lowerCamelCase)
SUBTYPES: dict[str, tuple[str, str, dict[str, str]]] = {
    "SQS-SendMessage": ("sqs", "SendMessage", {
        "QueueUrl": "QueueUrl", "MessageBody": "MessageBody", "DelaySeconds": "DelaySeconds",
        "MessageDeduplicationId": "MessageDeduplicationId", "MessageGroupId": "MessageGroupId",
        "MessageAttributes": "MessageAttributes",
        "MessageSystemAttributes": "MessageSystemAttributes"}),
    "SQS-ReceiveMessage": ("sqs", "ReceiveMessage", {
        "QueueUrl": "QueueUrl", "AttributeNames": "AttributeNames",
        "MaxNumberOfMessages": "MaxNumberOfMessages",
        "MessageAttributeNames": "MessageAttributeNames",
        "ReceiveRequestAttemptId": "ReceiveRequestAttemptId",
        "VisibilityTimeout": "VisibilityTimeout", "WaitTimeSeconds": "WaitTimeSeconds"}),
    "SQS-DeleteMessage": ("sqs", "DeleteMessage", {"QueueUrl": "QueueUrl",
                                                   "ReceiptHandle": "ReceiptHandle"}),
    "SQS-PurgeQueue": ("sqs", "PurgeQueue", {"QueueUrl": "QueueUrl"}),
    "EventBridge-PutEvents": ("events", "PutEvents", {
        "Detail": "Detail", "DetailType": "DetailType", "Source": "Source", "Time": "Time",
        "EventBusName": "EventBusName", "Resources": "Resources",
        "TraceHeader": "TraceHeader"}),
    "StepFunctions-StartExecution": ("states", "StartExecution", {
        "StateMachineArn": "stateMachineArn", "Name": "name", "Input": "input",
        "TraceHeader": "traceHeader"}),
    "StepFunctions-StartSyncExecution": ("states", "StartSyncExecution", {
        "StateMachineArn": "stateMachineArn", "Name": "name", "Input": "input",
        "TraceHeader": "traceHeader"}),
    "StepFunctions-StopExecution": ("states", "StopExecution", {
        "ExecutionArn": "executionArn", "Cause": "cause", "Error": "error"}),
    "Kinesis-PutRecord": ("kinesis", "PutRecord", {
        "StreamName": "StreamName", "Data": "Data", "PartitionKey": "PartitionKey",
        "SequenceNumberForOrdering": "SequenceNumberForOrdering",
        "ExplicitHashKey": "ExplicitHashKey"}),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "SQS-SendMessage": ("QueueUrl", "MessageBody"), "SQS-ReceiveMessage": ("QueueUrl",),
    "SQS-DeleteMessage": ("ReceiptHandle", "QueueUrl"), "SQS-PurgeQueue": ("QueueUrl",),
    "EventBridge-PutEvents": ("Detail", "DetailType", "Source"),
    "StepFunctions-StartExecution": ("StateMachineArn",),
    "StepFunctions-StartSyncExecution": ("StateMachineArn",),
    "StepFunctions-StopExecution": ("ExecutionArn",),
    "Kinesis-PutRecord": ("StreamName", "Data", "PartitionKey"),
}
MAPPING = re.compile(r"\$\{(?P<braced>[^}]+)\}|\$(?P<bare>(?:request|context|stageVariables)"
                     r"\.[A-Za-z0-9_.\-]+)")


def http_parameters(request_parameters: dict[str, str] | None, body: bytes,
                    request: dict[str, dict[str, str]], context: dict[str, Any],
                    stage_variables: dict[str, str]) -> dict[str, str]:
    """An HTTP API integration's ``RequestParameters``, each value a static text in which
    ``$request.body.x`` (``$request.body`` the whole body), ``$request.header.h``,
    ``$request.querystring.q``, ``$request.path.p``, ``$context.x`` and ``$stageVariables.x``
    (or ``${...}``) are replaced by the request's values."""
    document: Any = None
    try:
        document = json.loads(body) if body.strip() else None
    except ValueError:
        document = None

    def lookup(expression: str) -> str:
        where, _, rest = expression.partition(".")
        if where == "request":
            kind, _, name = rest.partition(".")
            if kind == "body":
                if not name:
                    return body.decode("utf-8", "replace")
                from .templates import json_path

                found = json_path(document, "$." + name) if document is not None else None
                if found is None:
                    return ""
                return found if isinstance(found, str) else json.dumps(found)
            values = request.get(kind, {})
            if kind == "header":
                return next((v for k, v in values.items() if k.lower() == name.lower()), "")
            return values.get(name, "")
        if where == "context":
            value: Any = context
            for part in rest.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return "" if value is None else str(value)
        if where == "stageVariables":
            return stage_variables.get(rest, "")
        return "$" + expression

    result = {}
    for name, value in (request_parameters or {}).items():
        result[name] = MAPPING.sub(lambda m: lookup(m["braced"] or m["bare"]), value)
    return result


def http_call(subtype: str, parameters: dict[str, str], region: str) -> ServiceCall:
    """The request an HTTP API first-class integration sends for its subtype."""
    known = SUBTYPES.get(subtype)
    if known is None:
        raise IntegrationFailure(
            "configuration", f"The sandbox does not run the integration subtype {subtype!r}; "
                             f"it runs {', '.join(sorted(SUBTYPES))}.")
    service, action, names = known
    missing = [p for p in REQUIRED[subtype] if not parameters.get(p)]
    if missing:
        raise IntegrationFailure(
            "configuration", f"{subtype} needs the request parameter(s) {', '.join(missing)} "
                             "(a static value or a mapping such as $request.body.name).")
    region = parameters.get("Region") or region
    values = {names[k]: v for k, v in parameters.items() if k in names}
    if service == "sqs":
        form: list[tuple[str, str]] = [("Action", action), ("Version", QUERY_VERSIONS["sqs"])]
        for name, value in values.items():
            if name in ("MessageAttributes", "MessageSystemAttributes"):
                form += _attributes(name, value)
            elif name in ("AttributeNames", "MessageAttributeNames"):
                form += [(f"{name[:-1]}.{i}", item)
                         for i, item in enumerate(_names(value), start=1)]
            else:
                form.append((name, value))
        return ServiceCall("sqs", region, "POST", "/", [], {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded"},
            urllib.parse.urlencode(form).encode("ascii"))
    document: dict[str, Any] = dict(values)
    if service == "events":
        entry: dict[str, Any] = dict(values)
        if "Resources" in entry:
            entry["Resources"] = _names(entry["Resources"])
        document = {"Entries": [entry]}
    _, _, target, json_type = SERVICES[service]
    return ServiceCall(service, region, "POST", "/", [], {
        "Content-Type": json_type, "X-Amz-Target": f"{target}.{action}"},
        json.dumps(document).encode("utf-8"))


def _names(value: str) -> list[str]:
    """A list parameter: a JSON array, or names separated by commas."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, list):
        return [str(item) for item in parsed]
    return [part.strip() for part in value.split(",") if part.strip()]


def _attributes(name: str, value: str) -> list[tuple[str, str]]:
    """SQS message attributes given as JSON (``{"n": {"DataType": "String", "StringValue":
    "v"}}``), in the query protocol's numbered form."""
    try:
        attributes = json.loads(value)
    except ValueError as error:
        raise IntegrationFailure("configuration", f"{name} must be a JSON object of "
                                                  f"attributes, not {value[:80]!r}") from error
    prefix = name[:-1]  # MessageAttribute, MessageSystemAttribute
    form: list[tuple[str, str]] = []
    for index, (key, spec) in enumerate(dict(attributes).items(), start=1):
        form.append((f"{prefix}.{index}.Name", key))
        for field_name, field_value in dict(spec).items():
            form.append((f"{prefix}.{index}.Value.{field_name}", str(field_value)))
    return form


# ---------------------------------------------------------------------------------- calling
def deliver(endpoint_url: str, call: ServiceCall, *, role_arn: str | None, source_arn: str,
            account_id: str, request_id: str, limit_seconds: float) -> HttpAnswer:
    """Assume the integration's role, send the call, and record the hop in the sandbox's
    deliveries record (``sb.admin.trace(<API request id>)``): DENIED when API Gateway may not
    assume the role or the service refused the role (403), FAILED for another error."""
    try:
        keys = role_credentials(role_arn, source_arn, account_id, call.region)
    except IntegrationFailure as failure:
        _record(source_arn, call, account_id, request_id, "denied", failure.detail)
        raise
    try:
        answer = send(endpoint_url, call, keys, limit_seconds)
    except IntegrationFailure as failure:
        _record(source_arn, call, account_id, request_id, "failed", failure.detail)
        raise
    if answer.status < 300:
        _record(source_arn, call, account_id, request_id, "delivered", "")
    else:
        _record(source_arn, call, account_id, request_id,
                "denied" if answer.status == 403 else "failed",
                f"{call.service} answered {answer.status}: "
                f"{answer.body[:300].decode('utf-8', 'replace')}")
    return answer


TARGET_KEYS = ("QueueUrl", "TopicArn", "TableName", "stateMachineArn", "executionArn",
               "StreamName", "StreamARN", "EventBusName")


def target_arn(call: ServiceCall, account_id: str) -> str:
    """The resource a call is for, as far as its request names it."""
    values: dict[str, Any] = dict(call.query)
    if call.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        values.update(urllib.parse.parse_qsl(call.body.decode("utf-8", "replace")))
    else:
        try:
            document = json.loads(call.body) if call.body else {}
        except ValueError:
            document = {}
        if isinstance(document, dict):
            values.update(document)
            entries = document.get("Entries")
            if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                values.setdefault("EventBusName", entries[0].get("EventBusName") or "default")
    name = next((str(values[k]) for k in TARGET_KEYS if values.get(k)), "")
    region = call.region
    if name.startswith("arn:"):
        return name
    if call.service == "sqs":
        parts = (name or call.path).rstrip("/").split("/")
        return f"arn:aws:sqs:{region}:{parts[-2] if len(parts) > 1 else account_id}:{parts[-1]}"
    if call.service == "dynamodb" and name:
        return f"arn:aws:dynamodb:{region}:{account_id}:table/{name}"
    if call.service == "kinesis" and name:
        return f"arn:aws:kinesis:{region}:{account_id}:stream/{name}"
    if call.service == "events":
        return f"arn:aws:events:{region}:{account_id}:event-bus/{name or 'default'}"
    if call.service == "s3":
        return "arn:aws:s3:::" + call.path.lstrip("/")
    return f"arn:aws:{call.service}:{region}:{account_id}:{name}"


def _record(source_arn: str, call: ServiceCall, account_id: str, request_id: str,
            outcome: str, detail: str) -> None:
    from ..server.service import current

    service = current()
    if service is not None:
        service.deliveries.record(source_arn, target_arn(call, account_id), request_id,
                                  outcome, detail=detail, kind="apigateway-integration")
