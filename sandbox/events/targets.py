"""EventBridge (and EventBridge Scheduler) delivering to a target, as AWS delivers.

One function per kind of target, each taking a :class:`Delivery` and answering the id the
target knows the event by (a request id, a message id, an execution ARN), or raising
:class:`TargetFailure` with EventBridge's error code and whether the failure is retried.
"Event retry policy and using dead-letter queues" (EventBridge User Guide): a missing target
or missing permissions are not retried (the event goes to the dead-letter queue at once);
throttling, a server error or a failed connection are.

Who may deliver is decided by IAM (``sandbox.iam``), as AWS decides it:

- EventBridge is a service principal (``events.amazonaws.com``) for Lambda, SQS and SNS
  targets: their resource policy must admit the rule (``aws:SourceArn``);
- Step Functions, Kinesis, API destinations, a bus in another account and every EventBridge
  Scheduler target use the target's ``RoleArn`` (PutTargets requires one; a bus in this account
  uses one when the target names it): the role must trust the service and allow the action; a
  bus in another account must also admit this account in its policy.

moto (``moto/events/models.py`` ``Rule.send_to_targets``) delivers inside ``PutEvents``, to
SQS, log groups and buses only, and raises ``NotImplementedError`` for every other target,
which failed ``PutEvents`` with HTTP 500 and lost the other rules' events: the sandbox
delivers in the background (``delivery.py``) and never calls moto's.
"""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .. import iam
from ..safety import is_loopback_host
from . import transform

EVENTS = "events.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"
HTTP_TIMEOUT_SECONDS = 5  # API destinations: EventBridge waits 5 s for an answer

# EventBridge's error codes in a dead-letter message's ERROR_CODE attribute
NO_PERMISSIONS = "NO_PERMISSIONS"
RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
THROTTLING = "THROTTLING"
SDK_CLIENT_ERROR = "SDK_CLIENT_ERROR"


class TargetFailure(Exception):
    def __init__(self, code: str, message: str, *, retriable: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retriable = retriable


@dataclass
class Delivery:
    """One event (or one schedule's invocation) on its way to one target."""

    source_arn: str  # the rule's or the schedule's ARN
    account: str
    region: str
    target: dict[str, Any]  # the target as PutTargets / CreateSchedule gave it
    event: dict[str, Any]  # the event (for a schedule, its context)
    event_id: str
    payload: str  # what the target receives: the event, or its Input/InputPath/transformer
    kind: str = "eventbridge"  # or "scheduler"
    parent: str = ""
    attempts: int = 0  # made so far
    age: float = 0.0  # simulated seconds since the event arrived
    hops: tuple[str, ...] = field(default_factory=tuple)  # buses this event went through

    @property
    def arn(self) -> str:
        return str(self.target["Arn"])

    @property
    def principal(self) -> str:
        return SCHEDULER if self.kind == "scheduler" else EVENTS

    @property
    def source(self) -> str:
        what = "EventBridge Scheduler schedule" if self.kind == "scheduler" else "EventBridge rule"
        return f"{what} {self.source_arn.rsplit('/', 1)[-1]}"


# ---------------------------------------------------------------------- permissions
def _resource_policy_admits(delivery: Delivery, action: str, resource: str) -> None:
    """Lambda, SQS and SNS targets of a rule: the resource's policy must admit the rule."""
    if delivery.kind == "scheduler":
        _role_may(delivery, action, resource)
        return
    if not iam.service_may(EVENTS, action, resource, source_arn=delivery.source_arn,
                           source_account=delivery.account, source=delivery.source):
        raise TargetFailure(NO_PERMISSIONS, f"the policy of {resource} does not allow "
                            f"{EVENTS} to {action} for {delivery.source_arn} (add a "
                            "permission naming the rule as aws:SourceArn)")


def _role_may(delivery: Delivery, action: str, resource: str) -> None:
    """A role-based target: the target's RoleArn must trust the service and allow ``action``."""
    role = delivery.target.get("RoleArn")
    if not role:
        raise TargetFailure(NO_PERMISSIONS, f"the target {resource} needs a RoleArn: "
                            f"{delivery.principal} acts as that role to {action}")
    if not iam.role_exists(role):
        raise TargetFailure(NO_PERMISSIONS, f"the role {role} does not exist")
    if not iam.service_may(delivery.principal, "sts:AssumeRole", role,
                           source_arn=delivery.source_arn, source_account=delivery.account,
                           source=delivery.source):
        raise TargetFailure(NO_PERMISSIONS, f"the role {role} does not trust "
                            f"{delivery.principal} (its trust policy must allow it "
                            "sts:AssumeRole)")
    if not iam.role_may(role, action, resource, region=delivery.region, source=delivery.source):
        raise TargetFailure(NO_PERMISSIONS, f"the role {role} may not {action} on {resource}")


# ---------------------------------------------------------------------- the targets
def send(delivery: Delivery) -> str:
    """Deliver once; the id the target gave the event. Raises TargetFailure."""
    parts = delivery.arn.split(":", 5)
    if len(parts) < 6:
        raise TargetFailure(RESOURCE_NOT_FOUND, f"{delivery.arn!r} is not an ARN")
    service, rest = parts[2], parts[5]
    if service == "events" and rest.startswith("api-destination/"):
        return _to_api_destination(delivery)
    if service == "events" and rest.startswith("event-bus/"):
        return _to_event_bus(delivery)
    if service == "scheduler" and rest.startswith("aws-sdk:"):
        return _universal(delivery, rest)
    sender = _SENDERS.get(service)
    if sender is None:
        raise TargetFailure(SDK_CLIENT_ERROR, f"the sandbox cannot deliver to {service} "
                            f"targets ({delivery.arn}); it delivers to Lambda, SQS, SNS, "
                            "Step Functions, event buses, log groups, API destinations and "
                            "API Gateway stages")
    return sender(delivery)


def _to_lambda(delivery: Delivery) -> str:
    from moto.awslambda.models import lambda_backends

    from ..server import service

    parts = delivery.arn.split(":")
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(
            parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:  # moto's own not-found errors
        raise TargetFailure(RESOURCE_NOT_FOUND, f"Function not found: {delivery.arn}") from None
    _resource_policy_admits(delivery, "lambda:InvokeFunction", delivery.arn)
    sandbox = service.current()
    if sandbox is None:
        raise TargetFailure(SDK_CLIENT_ERROR, "the sandbox has stopped", retriable=True)
    request_id = str(uuid.uuid4())
    # EventBridge invokes asynchronously: Lambda's own queue then retries a failing function
    sandbox.lambda_runtime.async_invoker.submit(fn, delivery.payload.encode(), request_id,
                                                delivery.arn)
    return request_id


def _to_sqs(delivery: Delivery) -> str:
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = delivery.arn.split(":", 5)
    backend = sqs_backends[account][region]
    queue = backend.queues.get(name)
    if queue is None:
        raise TargetFailure(RESOURCE_NOT_FOUND, f"Queue does not exist: {delivery.arn}")
    _resource_policy_admits(delivery, "sqs:SendMessage", delivery.arn)
    group = (delivery.target.get("SqsParameters") or {}).get("MessageGroupId")
    dedup = None
    if name.endswith(".fifo"):
        if not group:
            raise TargetFailure(SDK_CLIENT_ERROR, f"the FIFO queue {name} needs "
                                "SqsParameters.MessageGroupId on the target")
        # a FIFO queue without content-based deduplication gets the event's id as the
        # deduplication id, so that a retried delivery is not queued twice
        if str(getattr(queue, "content_based_deduplication", "false")).lower() != "true":
            dedup = delivery.event_id
    message = backend.send_message(name, delivery.payload, group_id=group,
                                   deduplication_id=dedup)
    return str(message.id)


def _to_sns(delivery: Delivery) -> str:
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = delivery.arn.split(":", 5)
    backend = sns_backends[account][region]
    if delivery.arn not in backend.topics:
        raise TargetFailure(RESOURCE_NOT_FOUND, f"Topic does not exist: {delivery.arn}")
    _resource_policy_admits(delivery, "sns:Publish", delivery.arn)
    group = (delivery.target.get("SqsParameters") or {}).get("MessageGroupId")
    dedup = delivery.event_id if delivery.arn.endswith(".fifo") else None
    return str(backend.publish(delivery.payload, arn=delivery.arn, group_id=group,
                               deduplication_id=dedup))


def _to_state_machine(delivery: Delivery) -> str:
    from moto.stepfunctions.responses import get_backend

    _role_may(delivery, "states:StartExecution", delivery.arn)
    _, _, _, region, account, _ = delivery.arn.split(":", 5)
    try:
        backend: Any = get_backend(account, region)
        execution = backend.start_execution(delivery.arn, None, delivery.payload)
    except Exception as error:  # moto's StateMachineDoesNotExist and the like
        code = type(error).__name__
        if "DoesNotExist" in code or "NotFound" in code:
            raise TargetFailure(RESOURCE_NOT_FOUND, f"State machine does not exist: "
                                f"{delivery.arn}") from None
        raise TargetFailure(SDK_CLIENT_ERROR, f"StartExecution failed: {error}",
                            retriable=True) from None
    return str(execution.execution_arn)


def _to_kinesis(delivery: Delivery) -> str:
    """A Kinesis stream, as the target's role; the partition key is the event's value at
    KinesisParameters.PartitionKeyPath, or the event's id."""
    from moto.kinesis.models import kinesis_backends

    _role_may(delivery, "kinesis:PutRecord", delivery.arn)
    _, _, _, region, account, rest = delivery.arn.split(":", 5)
    path = (delivery.target.get("KinesisParameters") or {}).get("PartitionKeyPath")
    key = transform.json_path(delivery.event, path) if path else delivery.event_id
    if not isinstance(key, (str, int, float)) or isinstance(key, bool):
        key = delivery.event_id
    try:
        backend: Any = kinesis_backends[account][region]
        sequence, _ = backend.put_record(
            delivery.arn, rest.split("/", 1)[1], str(key), None,
            base64.b64encode(delivery.payload.encode()).decode())
    except Exception as error:  # moto's ResourceNotFoundError
        if "NotFound" in type(error).__name__:
            raise TargetFailure(RESOURCE_NOT_FOUND, f"Stream does not exist: "
                                f"{delivery.arn}") from None
        raise TargetFailure(SDK_CLIENT_ERROR, str(error), retriable=True) from None
    return str(sequence)


def _to_log_group(delivery: Delivery) -> str:
    from moto.logs.models import logs_backends

    _, _, _, region, account, rest = delivery.arn.split(":", 5)
    name = rest.split(":", 1)[1].removesuffix(":*")
    backend = logs_backends[account][region]
    if name not in backend.groups:
        raise TargetFailure(RESOURCE_NOT_FOUND, f"Log group does not exist: {name}")
    stream = delivery.event_id  # one stream per event, named after it
    if stream not in backend.groups[name].streams:
        backend.create_log_stream(name, stream)
    event_time = transform.epoch_millis(delivery.event.get("time"))
    backend.put_log_events(name, stream, [{"timestamp": event_time,
                                           "message": delivery.payload}])
    return stream


def _to_event_bus(delivery: Delivery) -> str:
    """Another bus, in this account or another: the event as it is, routed there."""
    from moto.events.models import events_backends

    from .bus import route

    _, _, _, region, account, rest = delivery.arn.split(":", 5)
    name = rest.split("/", 1)[1]
    bus = events_backends[account][region].event_buses.get(name)
    if bus is None:
        raise TargetFailure(RESOURCE_NOT_FOUND, f"Event bus does not exist: {delivery.arn}")
    if delivery.arn in delivery.hops:
        raise TargetFailure(SDK_CLIENT_ERROR, f"the event went through {delivery.arn} "
                            "already: the sandbox stops an event that loops between buses")
    if delivery.target.get("RoleArn"):
        # the role's policies and, for a bus in another account, that bus's policy (IAM's
        # cross-account evaluation: both must allow)
        _role_may(delivery, "events:PutEvents", delivery.arn)
    elif account != delivery.account:
        raise TargetFailure(NO_PERMISSIONS, f"a bus in another account ({delivery.arn}) is "
                            "reached as the target's RoleArn, and this target has none")
    # a rule forwards the event itself (a bus target takes no input transformation); a
    # schedule's EventBridge target has built its event as its payload
    event = json.loads(delivery.payload) if delivery.kind == "scheduler" else delivery.event
    route(account, region, bus, event, hops=(*delivery.hops, delivery.arn))
    return str(event.get("id", delivery.event_id))


def _to_api_gateway(delivery: Delivery) -> str:
    """arn:aws:execute-api:region:account:api-id/stage/METHOD/path: an HTTP request to the
    stage, as a client would make it, with the target's HttpParameters."""
    from ..server import service

    _, _, _, _, _, rest = delivery.arn.split(":", 5)
    api_id, stage, method, *path = rest.split("/")
    sandbox = service.current()
    if sandbox is None:
        raise TargetFailure(SDK_CLIENT_ERROR, "the sandbox has stopped", retriable=True)
    parameters = delivery.target.get("HttpParameters") or {}
    resource = "/".join(path)
    for value in parameters.get("PathParameterValues") or []:
        resource = resource.replace("*", quote(str(value), safe=""), 1)
    url = f"{sandbox.endpoint_url}/restapis/{api_id}/{stage}/_user_request_/{resource}"
    return _http(delivery, method if method not in ("", "*") else "POST", url,
                 dict(parameters.get("HeaderParameters") or {}),
                 dict(parameters.get("QueryStringParameters") or {}))


def _to_api_destination(delivery: Delivery) -> str:
    """An API destination: an HTTP call to its endpoint with the connection's authorization
    (an API key header, basic auth, or an OAuth client-credentials token), loopback only."""
    from moto.events.models import events_backends

    _role_may(delivery, "events:InvokeApiDestination", delivery.arn)
    _, _, _, region, account, rest = delivery.arn.split(":", 5)
    backend = events_backends[account][region]
    destination = backend.destinations.get(rest.split("/")[1])
    if destination is None:
        raise TargetFailure(RESOURCE_NOT_FOUND, f"API destination does not exist: "
                            f"{delivery.arn}")
    connection = next((c for c in backend.connections.values()
                       if c.arn == destination.connection_arn), None)
    parameters = delivery.target.get("HttpParameters") or {}
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    if connection is not None:
        headers, query = _authorization(connection)
    headers.update(parameters.get("HeaderParameters") or {})
    query.update(parameters.get("QueryStringParameters") or {})
    url = destination.invocation_endpoint
    for value in parameters.get("PathParameterValues") or []:
        url = url.replace("*", quote(str(value), safe=""), 1)
    return _http(delivery, destination.http_method, url, headers, query)


def _authorization(connection: Any) -> tuple[dict[str, str], dict[str, str]]:
    kind = connection.authorization_type
    auth = connection.auth_parameters or {}
    headers: dict[str, str] = {}
    if kind == "API_KEY":
        key = auth.get("ApiKeyAuthParameters") or {}
        headers[key.get("ApiKeyName", "x-api-key")] = key.get("ApiKeyValue", "")
    elif kind == "BASIC":
        basic = auth.get("BasicAuthParameters") or {}
        token = base64.b64encode(
            f"{basic.get('Username', '')}:{basic.get('Password', '')}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif kind == "OAUTH_CLIENT_CREDENTIALS":
        headers["Authorization"] = f"Bearer {_oauth_token(auth.get('OAuthParameters') or {})}"
    invocation = auth.get("InvocationHttpParameters") or {}
    for header in invocation.get("HeaderParameters") or []:
        headers[header["Key"]] = header["Value"]
    query = {p["Key"]: p["Value"] for p in invocation.get("QueryStringParameters") or []}
    return headers, query


def _oauth_token(oauth: dict[str, Any]) -> str:
    """OAuth client credentials: EventBridge asks the authorization endpoint for a token (the
    client's ID and secret as basic auth, plus the connection's OAuthHttpParameters)."""
    client = oauth.get("ClientParameters") or {}
    endpoint = str(oauth.get("AuthorizationEndpoint") or "")
    parts = urlsplit(endpoint)
    if parts.hostname is None or not is_loopback_host(parts.hostname):
        raise TargetFailure(SDK_CLIENT_ERROR, f"the sandbox asks only authorization endpoints "
                            f"on this machine for a token, not {parts.hostname!r}")
    extra = oauth.get("OAuthHttpParameters") or {}
    query = {p["Key"]: p["Value"] for p in extra.get("QueryStringParameters") or []}
    body = {p["Key"]: p["Value"] for p in extra.get("BodyParameters") or []}
    body.setdefault("grant_type", "client_credentials")
    secret = f"{client.get('ClientID', '')}:{client.get('ClientSecret', '')}"
    headers = {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode(),
               "Content-Type": "application/x-www-form-urlencoded"}
    headers.update({h["Key"]: h["Value"] for h in extra.get("HeaderParameters") or []})
    path = (parts.path or "/") + (f"?{urlencode(query)}" if query else "")
    try:
        connection = http.client.HTTPConnection(parts.hostname, parts.port,
                                                timeout=HTTP_TIMEOUT_SECONDS)
        connection.request(str(oauth.get("HttpMethod") or "POST"), path,
                           body=urlencode(body).encode(), headers=headers)
        response = connection.getresponse()
        answer = response.read()
        connection.close()
        token = json.loads(answer)["access_token"] if response.status < 300 else None
    except (OSError, ValueError, KeyError, TypeError):
        token = None
    if not token:
        raise TargetFailure(SDK_CLIENT_ERROR, f"the authorization endpoint {endpoint} gave no "
                            "access_token", retriable=True)
    return str(token)


def _http(delivery: Delivery, method: str, url: str, headers: dict[str, str],
          query: dict[str, str]) -> str:
    parts = urlsplit(url)
    if parts.hostname is None or not is_loopback_host(parts.hostname):
        raise TargetFailure(SDK_CLIENT_ERROR, f"the sandbox delivers only to endpoints on this "
                            f"machine (localhost, 127.0.0.1), not {parts.hostname!r}")
    path = parts.path or "/"
    pairs = [parts.query] if parts.query else []
    if query:
        pairs.append(urlencode(query))
    if pairs:
        path += "?" + "&".join(pairs)
    headers.setdefault("Content-Type", "application/json; charset=utf-8")
    headers.setdefault("User-Agent", "Amazon/EventBridge/ApiDestinations")
    body = delivery.payload.encode() if method.upper() not in ("GET", "HEAD") else None
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else \
        http.client.HTTPConnection
    try:
        connection = connection_type(parts.hostname, parts.port, timeout=HTTP_TIMEOUT_SECONDS)
        connection.request(method.upper(), path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
    except OSError as error:
        raise TargetFailure(SDK_CLIENT_ERROR, f"{method} {url} failed: {error}",
                            retriable=True) from None
    status = response.status
    if status < 300:
        return f"HTTP {status}"
    # API destinations retry 401, 407, 409, 429 and 5xx; other errors are not retried
    retriable = status in (401, 407, 409, 429) or status >= 500
    raise TargetFailure(THROTTLING if status == 429 else SDK_CLIENT_ERROR,
                        f"{method} {url} answered HTTP {status}", retriable=retriable)


def _universal(delivery: Delivery, rest: str) -> str:
    """A Scheduler universal target, ``arn:aws:scheduler:::aws-sdk:sqs:sendMessage``: the API
    call made as the role, with Input as its parameters ("Using universal targets"); IAM
    decides the call as it decides any request signed by the role."""
    import botocore.config
    import botocore.exceptions
    from botocore import xform_name

    from .. import sts
    from ..server import service as running

    _, service, action = rest.split(":", 2)
    role = str(delivery.target.get("RoleArn") or "")
    if not role or not iam.role_exists(role):
        raise TargetFailure(NO_PERMISSIONS, f"the universal target {delivery.arn} needs an "
                            "existing RoleArn: Scheduler makes the call as that role")
    if not iam.service_may(SCHEDULER, "sts:AssumeRole", role, source_arn=delivery.source_arn,
                           source_account=delivery.account, source=delivery.source):
        raise TargetFailure(NO_PERMISSIONS, f"the role {role} does not trust {SCHEDULER}")
    sandbox = running.current()
    if sandbox is None:
        raise TargetFailure(SDK_CLIENT_ERROR, "the sandbox has stopped", retriable=True)
    if not _universal_config:  # Scheduler retries by the RetryPolicy, not botocore
        _universal_config.append(botocore.config.Config(retries={"max_attempts": 1}))
    try:
        parameters = json.loads(delivery.payload or "{}")
        client = sts.client(service, role_arn=role, session_name="EventBridgeScheduler",
                            region=delivery.region, endpoint_url=sandbox.endpoint_url,
                            config=_universal_config[0])
        method = getattr(client, xform_name(action[:1].upper() + action[1:]))
    except (ValueError, AttributeError, botocore.exceptions.BotoCoreError) as error:
        raise TargetFailure(SDK_CLIENT_ERROR, f"{delivery.arn}: {error}") from None
    try:
        answer = method(**parameters) if isinstance(parameters, dict) else method()
    except botocore.exceptions.ParamValidationError as error:
        raise TargetFailure(SDK_CLIENT_ERROR, str(error)) from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        if "AccessDenied" in code or "NotAuthorized" in code:
            raise TargetFailure(NO_PERMISSIONS, str(error)) from None
        if "NotFound" in code or "NonExistent" in code:
            raise TargetFailure(RESOURCE_NOT_FOUND, str(error)) from None
        retriable = status >= 500 or "Throttl" in code
        raise TargetFailure(THROTTLING if "Throttl" in code else SDK_CLIENT_ERROR, str(error),
                            retriable=retriable) from None
    request_id = answer.get("ResponseMetadata", {}).get("RequestId")
    return str(answer.get("MessageId") or request_id or delivery.event_id)


_universal_config: list[Any] = []  # one botocore Config (sts.client caches clients by it)


_SENDERS: dict[str, Callable[[Delivery], str]] = {
    "lambda": _to_lambda, "sqs": _to_sqs, "sns": _to_sns, "states": _to_state_machine,
    "logs": _to_log_group, "execute-api": _to_api_gateway, "kinesis": _to_kinesis,
}
