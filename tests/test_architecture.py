"""The architecture diagram (sandbox/course/architecture.py): resources built with boto3 come
back as nodes and labelled edges read through the AWS APIs, and a trace of recorded hops is a
table and colours the edges it took."""

from __future__ import annotations

import json

import boto3
import pytest

import sandbox
from sandbox.course.architecture import Architecture, Trace, base_arn, kind_of, name_of
from sandbox.testing import deploy, role

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _queue(name: str, **attributes: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def _worker(name: str = "worker") -> str:
    arn = role("worker-role",
               {"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"},
               {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage",
                                              "sqs:GetQueueAttributes", "sqs:SendMessage",
                                              "dynamodb:DescribeStream", "dynamodb:GetRecords",
                                              "dynamodb:GetShardIterator",
                                              "dynamodb:ListStreams"], "Resource": "*"},
               {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
                "Resource": _arn("dynamodb", "table/photos")})
    return deploy(name, "def handler(event, context):\n    return {}\n", Role=arn)


def test_a_pipeline_is_drawn_with_its_triggers_and_labels(sb):
    function = _worker()
    lam = boto3.client("lambda")
    # S3 event notifications name the function, its events and key filter
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads")
    lam.add_permission(FunctionName="worker", StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads")
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"},
                                               {"Name": "suffix", "Value": ".jpg"}]}}}]})
    # a queue with a redrive policy to its dead-letter queue
    # (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html)
    _, dlq = _queue("jobs-dlq")
    _, jobs = _queue("jobs", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq, "maxReceiveCount": "3"}), VisibilityTimeout="60")
    # an SNS subscription with a filter policy and raw delivery
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=jobs, Attributes={
        "FilterPolicy": json.dumps({"kind": ["book"]}), "RawMessageDelivery": "true"})
    # an event source mapping reporting batch item failures
    lam.create_event_source_mapping(EventSourceArn=jobs, FunctionName="worker", BatchSize=5,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    # a table with a stream, and a mapping from it
    table = boto3.client("dynamodb").create_table(
        TableName="photos", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    # EventBridge: a rule with a pattern targeting the topic, a scheduled rule
    events = boto3.client("events")
    events.put_rule(Name="big-orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="big-orders", Targets=[{"Id": "t", "Arn": topic}])
    events.put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    events.put_targets(Rule="nightly", Targets=[{"Id": "t", "Arn": function}])
    # asynchronous invocation's on-failure destination
    lam.put_function_event_invoke_config(FunctionName="worker", DestinationConfig={
        "OnFailure": {"Destination": dlq}})

    drawn = sandbox.architecture()

    assert drawn.edge("uploads", "worker").label == "ObjectCreated:* in/*.jpg"
    assert drawn.edge("orders", "jobs").label == "filter kind=book, raw"
    assert drawn.edge("jobs", "worker").label == "batch 5, partial failures"
    assert drawn.edge("jobs", "jobs-dlq").label == "after 3 receives"
    assert drawn.edge("jobs", "jobs-dlq").dashed
    assert drawn.edge("big-orders", "orders").kind == "trigger"
    assert drawn.edge("default", "big-orders").label == "source=shop"
    assert drawn.named("nightly").note == "rate(1 day)"
    assert drawn.edge("nightly", "worker")
    assert drawn.edge("worker", "jobs-dlq").label == "on failure"
    # the role names the table: the function uses it (dashed, with the actions)
    assert drawn.edge("worker", "photos").label == "PutItem, GetItem"
    stream = drawn.nodes[table["LatestStreamArn"]]
    assert stream.kind == "stream"
    assert drawn.edge(table["TableArn"], stream.arn).label == "NEW_IMAGE"
    text = drawn.text()
    assert "S3 uploads" in text and "--> λ worker [ObjectCreated:* in/*.jpg]" in text
    mermaid = drawn.mermaid()
    assert mermaid.startswith("flowchart LR")
    assert '"ObjectCreated:* in/*.jpg"' in mermaid
    bundle = drawn._repr_mimebundle_()
    assert bundle["text/markdown"].startswith("```mermaid\nflowchart LR")
    assert bundle["text/plain"] == text


def test_around_keeps_only_what_is_connected(sb):
    function = _worker()
    boto3.client("s3").create_bucket(Bucket="unrelated")
    _, dlq = _queue("jobs-dlq")
    _, jobs = _queue("jobs", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq, "maxReceiveCount": "2"}))
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=jobs,
                                                       FunctionName=function)
    names = {node.name for node in sandbox.architecture(around="jobs").nodes.values()}
    assert names == {"jobs", "jobs-dlq", "worker"}
    assert "unrelated" in {n.name for n in sandbox.architecture().nodes.values()}


def test_an_api_and_a_state_machine_show_what_they_call(sb):
    function = _worker()
    api = boto3.client("apigateway")
    rest = api.create_rest_api(name="shop")["id"]
    root = api.get_resources(restApiId=rest)["items"][0]["id"]
    items = api.create_resource(restApiId=rest, parentId=root, pathPart="items")["id"]
    api.put_method(restApiId=rest, resourceId=items, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=rest, resourceId=items, httpMethod="GET", type="AWS_PROXY",
                        integrationHttpMethod="POST",
                        uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                            f"{function}/invocations")
    http = boto3.client("apigatewayv2").create_api(Name="shop-http", ProtocolType="HTTP",
                                                   Target=function)
    machine = {"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": function, "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
              "Parameters": {"FunctionName": function, "Payload.$": "$"}}}}
    boto3.client("stepfunctions").create_state_machine(
        name="flow", definition=json.dumps(machine),
        roleArn=role("flow-role", service="states.amazonaws.com"))

    drawn = sandbox.architecture()

    assert drawn.edge("shop", "worker").label == "GET /items"
    assert drawn.named("shop").kind == "api"
    assert drawn.edge("shop-http", "worker").label == "$default"
    assert http["ApiId"]
    assert drawn.edge("flow", "worker").label == "Task"  # both states call one function


HOPS = [  # as sb.admin.trace answers: an SNS message fanned out to two queues, one filtered
    {"seq": 1, "at": 100.0, "source": _arn("sns", "orders"), "target": _arn("sqs", "jobs"),
     "event_id": "sqs-1", "outcome": "delivered", "detail": "", "parent": "msg-1",
     "kind": "sns"},
    {"seq": 2, "at": 100.0001, "source": _arn("sns", "orders"), "target": _arn("sqs", "audit"),
     "event_id": "sqs-2", "outcome": "filtered", "detail": "kind: 'toy' is not 'book'",
     "parent": "msg-1", "kind": "sns"},
    {"seq": 3, "at": 100.001, "source": _arn("sqs", "jobs"),
     "target": _arn("lambda", "function:worker:$LATEST"), "event_id": "inv-1",
     "outcome": "retrying", "detail": "attempt 1: Runtime.ExitError", "parent": "sqs-1",
     "kind": "esm"},
    {"seq": 4, "at": 100.013, "source": _arn("sqs", "jobs"), "target": _arn("sqs", "jobs-dlq"),
     "event_id": "sqs-1b", "outcome": "dead-lettered", "detail": "maxReceiveCount 3",
     "parent": "sqs-1", "kind": "esm"},
]


def _map() -> Architecture:
    drawn = Architecture()
    drawn.connect(_arn("sns", "orders"), _arn("sqs", "jobs"))
    drawn.connect(_arn("sns", "orders"), _arn("sqs", "audit"), 'filter kind=["toy"]')
    drawn.connect(_arn("sqs", "jobs"), _arn("lambda", "function:worker"), "batch 10", "poll")
    return drawn


def test_a_trace_is_a_table_of_hops_in_real_time():
    trace = Trace("msg-1", reversed(HOPS))
    assert trace.outcomes == [("orders", "jobs", "delivered"), ("orders", "audit", "filtered"),
                              ("jobs", "worker", "retrying"),
                              ("jobs", "jobs-dlq", "dead-lettered")]
    rows = trace.rows()
    assert [row[0] for row in rows] == ["+0 ms", "+0 ms", "+1 ms", "+13 ms"]
    assert rows[1][1:5] == ("SNS orders", "SQS audit", "sns", "· filtered")
    assert rows[2][2] == "λ worker"
    text = trace.text()
    assert text.splitlines()[0].split() == ["After", "From", "To", "Via", "Outcome", "Detail"]
    assert "maxReceiveCount 3" in text
    assert "<td" in trace._repr_html_()


def test_a_trace_drawn_on_the_map_colours_the_edges_it_took():
    drawn = Trace("msg-1", HOPS).diagram(_map())
    taken = drawn.taken()
    # edges: 0 orders->jobs, 1 orders->audit, 2 jobs->worker, 3 jobs->jobs-dlq (added: the map
    # had no edge for the dead-lettering hop)
    assert taken == {0: "delivered", 1: "filtered", 2: "retrying", 3: "dead-lettered"}
    assert drawn.edges[3].kind == "trace"
    mermaid = drawn.mermaid()
    assert "linkStyle 0 stroke:#2e8540" in mermaid
    assert "linkStyle 2 stroke:#d98e04" in mermaid
    assert f"class {drawn.named('worker').id} taken" not in mermaid  # it failed: not reached
    assert f"class {drawn.named('jobs').id} taken" in mermaid
    assert "✓ delivered" in drawn.text() and "☠ dead-lettered" in drawn.text()


def test_no_hops_recorded_says_what_to_check(sb):
    trace = sandbox.trace("no-such-event")
    assert trace.hops == []
    assert "sb.settle()" in trace.text()


@pytest.mark.parametrize("arn, kind, name", [
    (_arn("lambda", "function:f:$LATEST"), "function", "f"),
    (_arn("dynamodb", "table/t/stream/2026-01-01T00:00:00.000"), "stream", "t"),
    (_arn("events", "rule/bus/r"), "rule", "r"),
    (_arn("states", "stateMachine:flow"), "statemachine", "flow"),
    ("arn:aws:s3:::b", "bucket", "b"),
])
def test_arns_name_their_kind(arn, kind, name):
    assert (kind_of(arn), name_of(arn)) == (kind, name)
    assert base_arn(_arn("lambda", "function:f:live")) == _arn("lambda", "function:f")


def test_the_server_says_which_services_it_has_loaded(sb):
    # the diagram skips a service the server never loaded (it holds nothing): API Gateway and
    # Step Functions take seconds to load, and a lesson that never used them should not wait
    boto3.client("sqs").list_queues()
    loaded = sb.admin.call("services.loaded")
    assert "sqs" in loaded
    assert all("." not in name for name in loaded)


def test_around_does_not_follow_a_shared_table_to_its_other_users():
    drawn = Architecture()
    drawn.connect("arn:aws:s3:::inbox", _arn("lambda", "function:a"))
    drawn.connect(_arn("lambda", "function:a"), _arn("dynamodb", "table/shared"), "PutItem",
                  "uses")
    drawn.connect(_arn("lambda", "function:b"), _arn("dynamodb", "table/shared"), "GetItem",
                  "uses")
    drawn.connect(_arn("sqs", "other"), _arn("lambda", "function:b"), "batch 10", "poll")
    assert {n.name for n in drawn.around("inbox").nodes.values()} == {"inbox", "a", "shared"}
    # named itself, the table shows every function that uses it, and what feeds them
    assert {n.name for n in drawn.around("shared").nodes.values()} == {
        "inbox", "a", "shared", "b", "other"}


@pytest.mark.parametrize("pattern, shown", [
    # EventBridge's content filters (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)
    ({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}},
     "source=shop, detail.total>100"),
    ({"kind": ["book", "ebook"]}, "kind=book|ebook"),
    ({"key": [{"prefix": "img/"}], "size": [{"exists": True}]}, "key=img/*, size exists"),
    ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, "(a=1) or (b=2)"),
])
def test_patterns_and_filter_policies_are_shown_compactly(pattern, shown):
    from sandbox.course.architecture import _compact

    assert _compact(json.dumps(pattern)) == shown


def test_a_trace_without_a_map_is_drawn_on_the_live_sandbox(sb):
    _, jobs = _queue("jobs")
    _, audit = _queue("audit")
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=jobs)
    hops = [{"seq": 1, "at": 1.0, "source": topic, "target": jobs, "event_id": "m-1",
             "outcome": "delivered", "detail": "", "parent": "", "kind": "sns"}]
    drawn = Trace("m-1", hops).diagram()
    assert {node.name for node in drawn.nodes.values()} == {"orders", "jobs"}  # not audit
    assert drawn.taken() == {0: "delivered"}
    assert audit


def test_a_hop_from_lambdas_own_queue_is_shown_and_not_drawn():
    # Lambda's asynchronous queue hands an event to the function without an ARN of its own
    hops = [*HOPS[:1], {"seq": 5, "at": 102.5, "source": "", "event_id": "inv-9",
                        "target": _arn("lambda", "function:worker"), "outcome": "delivered",
                        "detail": "attempt 1 of 3", "parent": "msg-1", "kind": "async"}]
    trace = Trace("msg-1", hops)
    assert trace.rows()[1][:3] == ("+2.500 s", "Lambda's async queue", "λ worker")
    drawn = trace.diagram(_map())
    assert len(drawn.edges) == len(_map().edges)
    assert "" not in drawn.nodes


def test_the_latest_event_is_the_request_that_caused_the_latest_hops():
    from sandbox.course.architecture import latest_event

    s3_hops = [  # an S3 notification's hops have the PutObject request as their parent
        {"event_id": "e-1", "parent": "put-1"}, {"event_id": "e-1", "parent": "put-1"},
        {"event_id": "e-2", "parent": "put-2"}, {"event_id": "inv-2", "parent": "e-2"}]
    assert latest_event(s3_hops) == "put-2"
    assert latest_event([{"event_id": "m-1", "parent": ""},
                         {"event_id": "q-1", "parent": "m-1"}]) == "m-1"
    assert latest_event([]) is None
