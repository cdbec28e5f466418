"""EventBridge as AWS behaves: PutEvents, event patterns, targets, input shaping, retries and
dead-letter queues, scheduled rules. Each test names the AWS page it follows."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest

from sandbox.errors import BadArgumentError
from sandbox.events.patterns import PatternError, matches, validate
from sandbox.events.schedules import ExpressionError, Schedule
from sandbox.events.transform import fill
from sandbox.testing import deploy, execution_role

ACCOUNT = "123456789012"
REGION = "us-east-1"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/"


# ---------------------------------------------------------------------- helpers
def _queue(name: str, admit_rule: str | None = None, **attributes: str) -> tuple[str, str]:
    """A queue, with a policy letting EventBridge send to it for ``admit_rule``."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    if admit_rule:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARN + admit_rule}}}]})})
    return url, arn


def _messages(url: str, expect: int = 10, attributes: bool = False) -> list[dict]:
    sqs, found = boto3.client("sqs"), []
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"] if attributes else [],
                                  AttributeNames=["All"]).get("Messages", [])
        found += got
        if len(found) >= expect or not got:
            break
    return found


def _rule(name: str, pattern: dict, *targets: dict, bus: str = "default") -> str:
    events = boto3.client("events")
    arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern),
                          EventBusName=bus)["RuleArn"]
    if targets:
        answer = events.put_targets(Rule=name, EventBusName=bus, Targets=list(targets))
        assert answer["FailedEntryCount"] == 0, answer
    return str(arn)


def _put(detail: dict, source: str = "shop", detail_type: str = "OrderPlaced",
         **entry: object) -> dict:
    return boto3.client("events").put_events(Entries=[{
        "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **entry}])


# ---------------------------------------------------------------------- PutEvents
def test_put_events_answers_each_entry_in_order_with_failed_entry_count(sb):
    """PutEvents (API Reference): one result per entry, in request order; an entry without
    DetailType fails with InvalidArgument, a Detail that is not a JSON object with
    MalformedDetail; the others get an EventId."""
    answer = boto3.client("events").put_events(Entries=[
        {"Source": "shop", "DetailType": "A", "Detail": "{}"},
        {"Source": "shop", "Detail": "{}"},
        {"Source": "shop", "DetailType": "A", "Detail": "[1, 2]"},
        {"Source": "shop", "DetailType": "A", "Detail": "{not json"},
        {"Source": "shop", "DetailType": "A", "Detail": "{}", "EventBusName": "nope"},
    ])
    codes = [e.get("ErrorCode") for e in answer["Entries"]]
    assert codes == [None, "InvalidArgument", "MalformedDetail", "MalformedDetail",
                     "ResourceNotFoundException"]
    assert answer["FailedEntryCount"] == 4
    assert "EventId" in answer["Entries"][0]


def test_put_events_refuses_more_than_ten_entries_and_more_than_256_kb(sb):
    """PutEvents: 1 to 10 entries, at most 256 KB in all ("Calculating PutEvents event entry
    size")."""
    events = boto3.client("events")
    entry = {"Source": "shop", "DetailType": "A", "Detail": "{}"}
    with pytest.raises(botocore.exceptions.ClientError, match="less than or equal to 10"):
        events.put_events(Entries=[entry] * 11)
    big = {**entry, "Detail": json.dumps({"x": "y" * (256 * 1024)})}
    with pytest.raises(botocore.exceptions.ClientError, match="over the limit"):
        events.put_events(Entries=[big])


def test_a_learner_may_not_put_events_with_an_aws_source(sb):
    """Sources starting with aws. are AWS services' own: NotAuthorizedForSourceException."""
    answer = _put({}, source="aws.s3")
    assert answer["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"


def test_event_reaches_an_sqs_target_in_aws_format(sb):
    """"Amazon EventBridge events": version, id, detail-type, source, account, time (ISO 8601),
    region, resources, detail; the queue's policy admits the rule."""
    url, arn = _queue("orders", admit_rule="orders")
    _rule("orders", {"source": ["shop"]}, {"Id": "q", "Arn": arn})
    event_id = _put({"id": 7}, Resources=["arn:aws:s3:::b"])["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    body = json.loads(_messages(url, 1)[0]["Body"])
    assert body["id"] == event_id and body["version"] == "0"
    assert body["detail-type"] == "OrderPlaced" and body["source"] == "shop"
    assert body["account"] == ACCOUNT and body["region"] == REGION
    assert body["resources"] == ["arn:aws:s3:::b"] and body["detail"] == {"id": 7}
    assert body["time"].endswith("Z") and "T" in body["time"]
    hops = [h for h in sb.admin.trace(event_id) if h["kind"] == "eventbridge"]
    assert [(h["source"], h["target"], h["outcome"]) for h in hops] == [
        (RULE_ARN + "orders", arn, "delivered")]


def test_a_queue_whose_policy_does_not_admit_the_rule_gets_nothing(sb):
    """EventBridge is a service principal: the queue policy must allow it for the rule
    ("Using resource-based policies for Amazon EventBridge"). Not retried; recorded DENIED."""
    url, arn = _queue("closed")
    _rule("closed", {"source": ["shop"]}, {"Id": "q", "Arn": arn})
    event_id = _put({})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    assert _messages(url, 1) == []
    outcomes = [h["outcome"] for h in sb.admin.trace(event_id)]
    assert outcomes == ["denied", "dropped"]


def test_a_disabled_rule_delivers_nothing(sb):
    """DisableRule: "A disabled rule won't match any events"."""
    url, arn = _queue("off", admit_rule="off")
    _rule("off", {"source": ["shop"]}, {"Id": "q", "Arn": arn})
    boto3.client("events").disable_rule(Name="off")
    _put({})
    assert sb.settle(timeout=10)
    assert _messages(url, 1) == []


def test_one_rules_failing_target_does_not_lose_another_rules_event(sb):
    """Each target is delivered on its own: an SNS target (moto raised NotImplementedError,
    failing PutEvents with HTTP 500) and a missing state machine do not stop the SQS rule."""
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    url, arn = _queue("kept", admit_rule="good")
    _rule("bad", {"source": ["shop"]},
          {"Id": "sns", "Arn": topic},
          {"Id": "sfn", "Arn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:gone",
           "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/none"})
    _rule("good", {"source": ["shop"]}, {"Id": "q", "Arn": arn})
    answer = _put({"n": 1})
    assert answer["FailedEntryCount"] == 0
    assert sb.settle(timeout=10)
    assert len(_messages(url, 1)) == 1


def test_fifo_queue_target_gets_the_message_group_id(sb):
    """A FIFO queue target needs SqsParameters.MessageGroupId ("Amazon EventBridge targets")."""
    url, arn = _queue("orders.fifo", admit_rule="fifo", FifoQueue="true")
    _rule("fifo", {"source": ["shop"]},
          {"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "g1"}})
    _put({"n": 1})
    _put({"n": 2})
    assert sb.settle(timeout=10)
    messages = _messages(url, 2)
    # EventBridge does not promise order between events; both arrive, in the one group
    assert sorted(json.loads(m["Body"])["detail"]["n"] for m in messages) == [1, 2]
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"g1"}


def test_sns_target_publishes_when_the_topic_policy_admits_eventbridge(sb):
    """SNS targets: the topic policy must allow events.amazonaws.com to sns:Publish
    ("Amazon SNS permissions", EventBridge User Guide); the subscribed queue gets the event."""
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="fan")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic}]}))
    url, queue = _queue("sub")
    boto3.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue,
                  Attributes={"RawMessageDelivery": "true"})
    _rule("fan", {"source": ["shop"]}, {"Id": "t", "Arn": topic})
    event_id = _put({"n": 3})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    body = json.loads(_messages(url, 1)[0]["Body"])
    assert body["id"] == event_id and body["detail"] == {"n": 3}


def _state_machine(name: str = "pass") -> str:
    role = execution_role(f"{name}-sfn-role", service="states.amazonaws.com")
    return str(boto3.client("stepfunctions").create_state_machine(
        name=name, roleArn=role, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"])


def _events_role(name: str, action: str, resource: str) -> str:
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": action, "Resource": resource}]}))
    return str(arn)


def test_step_functions_target_starts_an_execution_as_the_targets_role(sb):
    """Step Functions targets use the target's RoleArn, which must allow states:StartExecution
    ("Amazon EventBridge targets"); the execution's input is the event."""
    machine = _state_machine()
    role = _events_role("start-pass", "states:StartExecution", machine)
    _rule("run", {"source": ["shop"]}, {"Id": "s", "Arn": machine, "RoleArn": role})
    event_id = _put({"n": 4})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    executions = boto3.client("stepfunctions").list_executions(
        stateMachineArn=machine)["executions"]
    assert len(executions) == 1
    described = boto3.client("stepfunctions").describe_execution(
        executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"])["id"] == event_id


def test_step_functions_target_without_permission_is_denied(sb):
    machine = _state_machine("denied")
    role = _events_role("start-nothing", "states:DescribeExecution", machine)
    _rule("run2", {"source": ["shop"]}, {"Id": "s", "Arn": machine, "RoleArn": role})
    event_id = _put({})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    assert [h["outcome"] for h in sb.admin.trace(event_id)] == ["denied", "dropped"]
    assert boto3.client("stepfunctions").list_executions(
        stateMachineArn=machine)["executions"] == []


def test_lambda_target_is_invoked_asynchronously_when_the_function_policy_admits_the_rule(sb):
    """Lambda targets: a function policy allowing events.amazonaws.com with the rule as
    SourceArn; EventBridge invokes asynchronously with the event."""
    arn = deploy("sink", "def handler(event, context):\n    print('GOT', event['id'])\n",
                 Role=execution_role("sink-role"))
    rule = _rule("to-fn", {"source": ["shop"]}, {"Id": "f", "Arn": arn})
    boto3.client("lambda").add_permission(
        FunctionName="sink", StatementId="eb", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=rule)
    event_id = _put({})["Entries"][0]["EventId"]
    assert sb.settle(timeout=20)
    hops = [h for h in sb.admin.trace(event_id) if h["kind"] == "eventbridge"]
    assert [h["outcome"] for h in hops] == ["delivered"]
    logs = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/sink")
    assert any(f"GOT {event_id}" in e["message"] for e in logs["events"])


def test_event_to_another_bus_is_routed_by_that_buses_rules(sb):
    """An event bus as a target: the event goes on as it is, matched by the other bus's rules
    ("Sending and receiving events between event buses")."""
    events = boto3.client("events")
    other = events.create_event_bus(Name="other")["EventBusArn"]
    role = _events_role("forward", "events:PutEvents", other)
    _rule("forward", {"source": ["shop"]}, {"Id": "b", "Arn": other, "RoleArn": role})
    url, queue = _queue("far", admit_rule="other/far")
    _rule("far", {"detail-type": ["OrderPlaced"]}, {"Id": "q", "Arn": queue}, bus="other")
    event_id = _put({"n": 5})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    body = json.loads(_messages(url, 1)[0]["Body"])
    assert body["id"] == event_id and body["detail"] == {"n": 5}


def test_log_group_target_gets_the_event(sb):
    """CloudWatch Logs targets: the event, as JSON, in the log group."""
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/events/shop")
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/shop"
    _rule("log", {"source": ["shop"]}, {"Id": "l", "Arn": group})
    event_id = _put({"n": 6})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    found = logs.filter_log_events(logGroupName="/aws/events/shop")["events"]
    assert [json.loads(e["message"])["id"] for e in found] == [event_id]


# ---------------------------------------------------------------------- input shaping
def test_input_inputpath_and_input_transformer(sb):
    """"Amazon EventBridge input transformation": Input replaces the event, InputPath picks a
    part, InputTransformer fills a template (a string value inside quotes as text, outside as
    JSON; the predefined <aws.events.rule-name>)."""
    url, arn = _queue("shaped", admit_rule="shape")
    _rule("shape", {"source": ["shop"]},
          {"Id": "a", "Arn": arn, "Input": '{"constant": true}'},
          {"Id": "b", "Arn": arn, "InputPath": "$.detail.order"},
          {"Id": "c", "Arn": arn, "InputTransformer": {
              "InputPathsMap": {"who": "$.detail.order.customer", "n": "$.detail.order.n"},
              "InputTemplate": '{"text": "<who> ordered <n>", "who": <who>, "n": <n>, '
                               '"rule": "<aws.events.rule-name>"}'}},
          {"Id": "d", "Arn": arn, "InputTransformer": {
              "InputPathsMap": {"who": "$.detail.order.customer"},
              "InputTemplate": "<who> ordered"}})
    _put({"order": {"customer": "Ann \"A\"", "n": 2}})
    assert sb.settle(timeout=10)
    bodies = sorted(m["Body"] for m in _messages(url, 4))
    assert len(bodies) == 4
    assert '{"constant": true}' in bodies
    assert 'Ann "A" ordered' in bodies
    parsed = [json.loads(b) for b in bodies if b.startswith("{") and "constant" not in b]
    assert {"customer": 'Ann "A"', "n": 2} in parsed
    assert {"text": 'Ann "A" ordered 2', "who": 'Ann "A"', "n": 2, "rule": "shape"} in parsed


def test_fill_quoting_rules():
    assert fill('{"a": <x>, "b": "<x>"}', {"x": "hi"}) == '{"a": "hi", "b": "hi"}'
    assert fill('{"a": <x>, "b": "v=<x>"}', {"x": {"k": 1}}) == \
        '{"a": {"k": 1}, "b": "v={\\"k\\": 1}"}'
    assert fill("<x> is <y>", {"x": "i-1", "y": 5}) == "i-1 is 5"


# ---------------------------------------------------------------------- retries and DLQ
class _Failing(http.server.BaseHTTPRequestHandler):
    calls: list[str] = []
    status = 500

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"] or 0)).decode()
        type(self).calls.append(f"{self.headers.get('x-api-key')} {self.path} {body}")
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[type[_Failing]]:
    class Handler(_Failing):
        calls: list[str] = []

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield Handler
    server.shutdown()
    server.server_close()


def _api_destination(url: str) -> str:
    events = boto3.client("events")
    connection = events.create_connection(
        Name="c", AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}})
    return str(events.create_api_destination(
        Name="d", ConnectionArn=connection["ConnectionArn"], InvocationEndpoint=url + "/hook",
        HttpMethod="POST")["ApiDestinationArn"])


def test_api_destination_gets_the_event_with_the_connections_api_key(sb, endpoint):
    """API destinations: an HTTP request with the connection's authorization ("API
    destinations", EventBridge User Guide), here to a loopback endpoint."""
    endpoint.status = 200
    destination = _api_destination(endpoint.url)
    role = _events_role("invoke-api", "events:InvokeApiDestination", destination)
    _rule("hook", {"source": ["shop"]}, {"Id": "h", "Arn": destination, "RoleArn": role,
                                         "HttpParameters": {"QueryStringParameters": {"a": "1"}}})
    event_id = _put({"n": 8})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    assert len(endpoint.calls) == 1
    key, path, body = endpoint.calls[0].split(" ", 2)
    assert key == "s3cret" and path == "/hook?a=1" and json.loads(body)["id"] == event_id


def test_failed_deliveries_are_retried_by_the_retry_policy_then_dead_lettered(sb, endpoint):
    """"Event retry policy and using dead-letter queues": a server error is retried
    MaximumRetryAttempts times, then the event goes to the DLQ with RULE_ARN, TARGET_ARN,
    ERROR_CODE and ERROR_MESSAGE attributes."""
    endpoint.status = 503
    destination = _api_destination(endpoint.url)
    role = _events_role("invoke-api2", "events:InvokeApiDestination", destination)
    dlq_url, dlq = _queue("dlq", admit_rule="retry")
    _rule("retry", {"source": ["shop"]}, {
        "Id": "h", "Arn": destination, "RoleArn": role,
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": dlq}})
    event_id = _put({"n": 9})["Entries"][0]["EventId"]
    assert sb.settle(timeout=20)
    assert len(endpoint.calls) == 3  # the first attempt and two retries
    outcomes = [h["outcome"] for h in sb.admin.trace(event_id)]
    assert outcomes == ["retrying", "retrying", "dead-lettered"]
    message = _messages(dlq_url, 1, attributes=True)[0]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RULE_ARN"] == RULE_ARN + "retry"
    assert attributes["TARGET_ARN"] == destination
    assert attributes["ERROR_CODE"] and "503" in attributes["ERROR_MESSAGE"]
    assert json.loads(message["Body"])["id"] == event_id


def test_a_missing_target_is_not_retried_and_goes_to_the_dlq_at_once(sb):
    """"Event retry policy...": a target that no longer exists is not retried."""
    dlq_url, dlq = _queue("dlq2", admit_rule="gone")
    _rule("gone", {"source": ["shop"]}, {
        "Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:missing",
        "DeadLetterConfig": {"Arn": dlq}})
    event_id = _put({})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    assert [h["outcome"] for h in sb.admin.trace(event_id)] == ["dead-lettered"]
    attributes = _messages(dlq_url, 1, attributes=True)[0]["MessageAttributes"]
    assert attributes["ERROR_CODE"]["StringValue"] == "RESOURCE_NOT_FOUND"


# ---------------------------------------------------------------------- patterns
EVENT = {"version": "0", "id": "1", "detail-type": "OrderPlaced", "source": "com.shop",
         "account": ACCOUNT, "time": "2026-01-01T00:00:00Z", "region": REGION,
         "resources": ["arn:aws:s3:::photos"],
         "detail": {"state": "running", "size": 42, "ip": "10.0.0.7", "flag": True,
                    "file": "Photo.PNG", "none": None,
                    "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 5}]}}

PATTERN_CASES = [  # (pattern, matches EVENT?) - "Content filtering in Amazon EventBridge"
    ({"source": ["com.shop"]}, True),
    ({"source": ["other"]}, False),
    ({"detail": {"state": [{"prefix": "run"}]}}, True),
    ({"detail": {"file": [{"prefix": {"equals-ignore-case": "PHOTO"}}]}}, True),
    ({"detail": {"file": [{"suffix": ".png"}]}}, False),
    ({"detail": {"file": [{"suffix": {"equals-ignore-case": ".png"}}]}}, True),
    ({"detail": {"state": [{"anything-but": "stopped"}]}}, True),
    ({"detail": {"state": [{"anything-but": ["running", "x"]}]}}, False),
    ({"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}, False),
    ({"detail": {"file": [{"anything-but": {"suffix": ".jpg"}}]}}, True),
    ({"detail": {"file": [{"anything-but": {"wildcard": "*.PNG"}}]}}, False),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}}, False),
    ({"detail": {"missing": [{"anything-but": "x"}]}}, False),
    ({"detail": {"size": [{"numeric": [">", 0, "<=", 42]}]}}, True),
    ({"detail": {"size": [{"numeric": ["<", 10]}]}}, False),
    ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),
    ({"detail": {"state": [{"exists": True}]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"items": [{"exists": True}]}}, False),  # an array of objects is no leaf
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ({"detail": {"ip": [{"cidr": "10.0.1.0/24"}]}}, False),
    ({"detail": {"state": [{"equals-ignore-case": "RUNNING"}]}}, True),
    ({"detail": {"file": [{"wildcard": "Photo.*"}]}}, True),
    ({"detail": {"file": [{"wildcard": "photo.*"}]}}, False),
    ({"detail": {"flag": [True]}}, True),
    ({"detail": {"size": [True]}}, False),
    ({"detail": {"flag": [1]}}, False),  # true is not 1
    ({"detail": {"none": [None]}}, True),
    ({"detail": {"size": [42.0]}}, True),
    ({"resources": ["arn:aws:s3:::photos"]}, True),
    ({"detail": {"items": {"sku": ["b"]}}}, True),  # arrays of objects are flattened
    ({"detail": {"items": {"sku": ["c"]}}}, False),
    ({"$or": [{"source": ["x"]}, {"detail": {"size": [42]}}]}, True),
    ({"detail": {"$or": [{"state": ["x"]}, {"size": [1]}]}}, False),
    ({"source": ["com.shop"], "detail": {"state": ["stopped"]}}, False),
]


@pytest.mark.parametrize(("pattern", "expected"), PATTERN_CASES)
def test_pattern_operators(pattern, expected):
    validate(pattern)
    assert matches(pattern, EVENT) is expected


def test_test_event_pattern_agrees_with_delivery(sb):
    """TestEventPattern answers as rules match: every case above, through the API."""
    events = boto3.client("events")
    for pattern, expected in PATTERN_CASES:
        answer = events.test_event_pattern(EventPattern=json.dumps(pattern),
                                           Event=json.dumps(EVENT))
        assert answer["Result"] is expected, pattern


@pytest.mark.parametrize("pattern", [
    {"source": "shop"}, {"source": []}, {"source": [{"nope": 1}]},
    {"detail": {"n": [{"numeric": [">", "x"]}]}}, {"detail": {"n": [{"exists": "yes"}]}},
    {"$or": [{"source": ["a"]}]},
])
def test_invalid_patterns_are_refused(sb, pattern):
    """PutRule refuses a malformed pattern with InvalidEventPatternException."""
    with pytest.raises(PatternError):
        validate(pattern)
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidEventPattern"):
        boto3.client("events").put_rule(Name="bad", EventPattern=json.dumps(pattern))


# ---------------------------------------------------------------------- schedules
def test_schedule_expressions():
    """"Schedule expressions for rules": rate() counts from the start; cron() has six fields,
    one of day-of-month and day-of-week being '?', with L, W and #."""
    from datetime import datetime, timezone

    start = datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert Schedule("rate(5 minutes)").next_after(start, start) == \
        datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc)
    noon = Schedule("cron(0 12 * * ? *)")
    assert noon.next_after(start, start) == datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    friday = Schedule("cron(15 10 ? * 6L 2026)")  # the last Friday of the month, 10:15
    assert friday.next_after(start, start) == datetime(2026, 1, 30, 10, 15, tzinfo=timezone.utc)
    second_monday = Schedule("cron(0 9 ? * MON#2 *)")
    assert second_monday.next_after(start, start) == \
        datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)
    last_day = Schedule("cron(0 0 L * ? *)")
    assert last_day.next_after(start, start) == datetime(2026, 1, 31, 0, 0, tzinfo=timezone.utc)
    paris = Schedule("cron(0 9 * * ? *)", "Europe/Paris")  # 09:00 in Paris is 08:00 UTC
    assert paris.next_after(start, start) == datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)
    for bad in ("rate(1 minutes)", "rate(0 minutes)", "cron(0 12 * * * *)", "every day"):
        with pytest.raises(ExpressionError):
            Schedule(bad)


def test_a_scheduled_rule_fires_scheduled_events(sb):
    """"Creating a rule that runs on a schedule": detail-type "Scheduled Event", source
    aws.events, resources the rule's ARN, an empty detail. Fired on demand (schedules.fire)."""
    events = boto3.client("events")
    sb.admin.call("schedules.automatic", {"on": False})
    events.put_rule(Name="tick", ScheduleExpression="rate(5 minutes)")
    url, arn = _queue("ticks", admit_rule="tick")
    events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
    fired = sb.admin.call("schedules.fire", {"schedule": "tick", "count": 3})
    assert len(fired) == 3
    assert sb.settle(timeout=10)
    bodies = sorted((json.loads(m["Body"]) for m in _messages(url, 3)), key=lambda b: b["time"])
    assert len(bodies) == 3
    assert {b["detail-type"] for b in bodies} == {"Scheduled Event"}
    assert {b["source"] for b in bodies} == {"aws.events"}
    assert bodies[0]["resources"] == [RULE_ARN + "tick"] and bodies[0]["detail"] == {}
    assert [b["time"] for b in bodies] == [f["time"] for f in fired]  # five minutes apart
    events.disable_rule(Name="tick")
    with pytest.raises(BadArgumentError, match="disabled"):
        sb.admin.call("schedules.fire", {"schedule": "tick"})


def test_a_scheduled_rule_fires_by_itself_on_the_sandbox_clock(sb):
    """With automatic firing on (the default), a rate(1 day) rule fires without help: a
    simulated day is 8.6 s at 10,000x. (No timing is asserted: only that it fires.)"""
    events = boto3.client("events")
    events.put_rule(Name="daily", ScheduleExpression="rate(1 day)")
    url, arn = _queue("daily", admit_rule="daily")
    events.put_targets(Rule="daily", Targets=[{"Id": "q", "Arn": arn}])
    sqs, found = boto3.client("sqs"), []
    deadline = time.monotonic() + 60  # a wait for the first firing, not a timing assertion
    while not found and time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        time.sleep(0.2)
    assert found and json.loads(found[0]["Body"])["detail-type"] == "Scheduled Event"


# ---------------------------------------------------------------------- Step Functions events
def test_step_functions_status_changes_reach_the_default_bus(sb):
    """"Step Functions Execution Status Change" events (source aws.states, resources the
    execution's ARN) for RUNNING and then SUCCEEDED, with the documented detail fields."""
    url, arn = _queue("status", admit_rule="status")
    _rule("status", {"source": ["aws.states"],
                     "detail-type": ["Step Functions Execution Status Change"]},
          {"Id": "q", "Arn": arn})
    machine = _state_machine("watched")
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=machine, input='{"a": 1}')["executionArn"]
    assert sb.settle(timeout=10)
    bodies = [json.loads(m["Body"]) for m in _messages(url, 2)]
    by_status = {b["detail"]["status"]: b for b in bodies}
    assert set(by_status) == {"RUNNING", "SUCCEEDED"}
    done = by_status["SUCCEEDED"]
    assert done["resources"] == [execution]
    assert done["detail"]["executionArn"] == execution
    assert done["detail"]["stateMachineArn"] == machine
    assert json.loads(done["detail"]["input"]) == {"a": 1}
    assert json.loads(done["detail"]["output"]) == {"a": 1}
    assert isinstance(done["detail"]["stopDate"], int)
    assert by_status["RUNNING"]["detail"]["stopDate"] is None


# ---------------------------------------------------------------------- another account
def test_an_event_reaches_a_bus_in_another_account_only_if_its_policy_allows(sb):
    """Cross-account: the receiving bus's policy must allow the sending account to
    events:PutEvents ("Sending and receiving events between AWS accounts")."""
    from sandbox.accounts import SECOND_ACCOUNT_ID

    partner = sb.iam.session(SECOND_ACCOUNT_ID)
    partner_events = partner.client("events")
    partner_bus = f"arn:aws:events:{REGION}:{SECOND_ACCOUNT_ID}:event-bus/default"
    partner_sqs = partner.client("sqs")
    url = partner_sqs.create_queue(QueueName="inbox")["QueueUrl"]
    inbox = f"arn:aws:sqs:{REGION}:{SECOND_ACCOUNT_ID}:inbox"
    rule = partner_events.put_rule(Name="inbox", EventPattern=json.dumps(
        {"source": ["shop"]}))["RuleArn"]
    partner_events.put_targets(Rule="inbox", Targets=[{"Id": "q", "Arn": inbox}])
    partner_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": inbox,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule}}}]})})
    role = _events_role("share", "events:PutEvents", partner_bus)
    _rule("share", {"source": ["shop"]}, {"Id": "b", "Arn": partner_bus, "RoleArn": role})
    refused = _put({"n": 1})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    assert [h["outcome"] for h in sb.admin.trace(refused)] == ["denied", "dropped"]
    partner_events.put_permission(EventBusName="default", Action="events:PutEvents",
                                  Principal=ACCOUNT, StatementId="shop")
    sent = _put({"n": 2})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    found = partner_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["id"] for m in found] == [sent]


# ---------------------------------------------------------------------- API Gateway, settle
def test_api_gateway_stage_target_gets_a_request_with_the_event(sb):
    """An API Gateway REST stage as a target: EventBridge calls the method with the event as
    the body, the target's PathParameterValues filling the path's wildcards ("Amazon API
    Gateway target", EventBridge User Guide)."""
    arn = deploy("api-sink", "import json\ndef handler(event, context):\n"
                             "    print('PATH', event['path'], 'BODY', event['body'])\n"
                             "    return {'statusCode': 200, 'body': 'ok'}\n",
                 Role=execution_role("api-sink-role"))
    api = boto3.client("apigateway")
    api_id = api.create_rest_api(name="hooks")["id"]
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    orders = api.create_resource(restApiId=api_id, parentId=root, pathPart="orders")["id"]
    one = api.create_resource(restApiId=api_id, parentId=orders, pathPart="{id}")["id"]
    api.put_method(restApiId=api_id, resourceId=one, httpMethod="POST",
                   authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=one, httpMethod="POST", type="AWS_PROXY",
                        integrationHttpMethod="POST", uri="arn:aws:apigateway:us-east-1:lambda:"
                        f"path/2015-03-31/functions/{arn}/invocations")
    boto3.client("lambda").add_permission(
        FunctionName="api-sink", StatementId="apigw", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*")
    api.create_deployment(restApiId=api_id, stageName="prod")
    _rule("to-api", {"source": ["shop"]}, {
        "Id": "a", "Arn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod/POST/orders/*",
        "HttpParameters": {"PathParameterValues": ["42"]}})
    event_id = _put({"n": 10})["Entries"][0]["EventId"]
    assert sb.settle(timeout=20)
    assert [h["outcome"] for h in sb.admin.trace(event_id)
            if h["kind"] == "eventbridge"] == ["delivered"]
    logs = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/api-sink")
    lines = [e["message"] for e in logs["events"] if e["message"].startswith("PATH")]
    assert len(lines) == 1 and lines[0].startswith("PATH /orders/42 BODY ")
    assert json.loads(lines[0].split(" BODY ", 1)[1])["id"] == event_id


def test_settle_does_not_wait_for_a_recurring_schedule(sb):
    """sb.settle() waits for deliveries in hand, not for a schedule's next occurrence."""
    boto3.client("events").put_rule(Name="often", ScheduleExpression="rate(1 minute)")
    assert sb.settle(timeout=10)


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "cron(0 12 * * * *)",
                                        "cron(0 25 * * ? *)"])
def test_invalid_schedule_expressions_are_refused(sb, expression):
    """PutRule: "Parameter ScheduleExpression is not valid." (moto takes any cron())."""
    with pytest.raises(botocore.exceptions.ClientError, match="ScheduleExpression is not valid"):
        boto3.client("events").put_rule(Name="bad", ScheduleExpression=expression)


def test_predefined_transformer_variables():
    """"Predefined variables": aws.events.event.json is the whole event, aws.events.event the
    event without detail, both inserted as JSON; rule-arn and ingestion-time as text."""
    from sandbox.events.transform import target_input

    event = {"id": "e1", "source": "shop", "detail": {"n": 1}}
    shaped = target_input({"InputTransformer": {"InputPathsMap": {}, "InputTemplate":
                           '{"all": <aws.events.event.json>, "meta": <aws.events.event>, '
                           '"rule": "<aws.events.rule-arn>", '
                           '"at": "<aws.events.event.ingestion-time>"}'}},
                          event, RULE_ARN + "r", "2026-01-01T00:00:00Z")
    assert json.loads(shaped) == {"all": event, "meta": {"id": "e1", "source": "shop"},
                                  "rule": RULE_ARN + "r", "at": "2026-01-01T00:00:00Z"}
    assert target_input({"InputPath": "$.detail.missing"}, event, "", "") == "null"


def test_maximum_event_age_ends_the_retries(sb, endpoint):
    """RetryPolicy: retries stop at whichever limit comes first; here MaximumEventAgeInSeconds
    (60 s, simulated) before MaximumRetryAttempts (185). The sandbox waits 1 s, then doubles
    (1+2+4+8+16 = 31 s; the next wait, 32 s, would pass 60 s): six attempts in all."""
    endpoint.status = 500
    destination = _api_destination(endpoint.url)
    role = _events_role("invoke-api3", "events:InvokeApiDestination", destination)
    _rule("aging", {"source": ["shop"]}, {
        "Id": "h", "Arn": destination, "RoleArn": role,
        "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60}})
    event_id = _put({})["Entries"][0]["EventId"]
    assert sb.settle(timeout=20)
    assert len(endpoint.calls) == 6
    last = sb.admin.trace(event_id)[-1]
    assert last["outcome"] == "dropped" and "MaximumEventAgeInSeconds 60" in last["detail"]


def test_api_destination_with_an_oauth_connection_sends_the_token(sb):
    """OAUTH_CLIENT_CREDENTIALS connections: EventBridge gets a token from the authorization
    endpoint with the client's credentials and sends it as a bearer token ("Connections for
    API destination targets")."""
    seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"] or 0))
            seen.append((self.path, self.headers.get("Authorization", "")))
            answer = json.dumps({"access_token": "tok-1"}).encode() \
                if self.path == "/token" else b""
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        events = boto3.client("events")
        connection = events.create_connection(
            Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters={
                "OAuthParameters": {"ClientParameters": {"ClientID": "id",
                                                         "ClientSecret": "secret"},
                                    "AuthorizationEndpoint": url + "/token",
                                    "HttpMethod": "POST"}})
        destination = events.create_api_destination(
            Name="oauth-hook", ConnectionArn=connection["ConnectionArn"],
            InvocationEndpoint=url + "/hook", HttpMethod="POST")["ApiDestinationArn"]
        role = _events_role("invoke-oauth", "events:InvokeApiDestination", destination)
        _rule("oauth", {"source": ["shop"]}, {"Id": "h", "Arn": destination, "RoleArn": role})
        _put({})
        assert sb.settle(timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [("/token", "Basic aWQ6c2VjcmV0"), ("/hook", "Bearer tok-1")]


def test_kinesis_target_puts_a_record_keyed_by_the_partition_key_path(sb):
    """Kinesis targets: PutRecord as the target's role, the partition key read from the event
    at KinesisParameters.PartitionKeyPath ("Amazon EventBridge targets")."""
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]
    role = _events_role("to-kinesis", "kinesis:PutRecord", stream["StreamARN"])
    _rule("clicks", {"source": ["shop"]}, {
        "Id": "k", "Arn": stream["StreamARN"], "RoleArn": role,
        "KinesisParameters": {"PartitionKeyPath": "$.detail.user"}})
    event_id = _put({"user": "ann"})["Entries"][0]["EventId"]
    assert sb.settle(timeout=10)
    iterator = kinesis.get_shard_iterator(
        StreamName="clicks", ShardId=stream["Shards"][0]["ShardId"],
        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    [record] = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert record["PartitionKey"] == "ann" and json.loads(record["Data"])["id"] == event_id



@pytest.mark.parametrize("arn", [
    f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:flow",
    f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/clicks",
    f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/d/1",
    f"arn:aws:events:{REGION}:210987654321:event-bus/default",
])
def test_put_targets_needs_a_role_for_targets_reached_as_a_role(sb, arn):
    """PutTargets: "RoleArn is required for target ..." for Step Functions, Kinesis, API
    destinations and a bus in another account ("Amazon EventBridge targets")."""
    _rule("roleless", {"source": ["shop"]})
    with pytest.raises(botocore.exceptions.ClientError, match="RoleArn is required for target"):
        boto3.client("events").put_targets(Rule="roleless", Targets=[{"Id": "t", "Arn": arn}])
