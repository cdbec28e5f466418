"""Event source mappings are Lambda's pollers: SQS, Kinesis and DynamoDB Streams, as AWS documents.

Sources: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (event format, batching,
visibility timeout), .../services-sqs-errorhandling.html (batchItemFailures),
.../services-sqs-scaling.html (MaximumConcurrency), .../invocation-eventfiltering.html
(FilterCriteria), .../with-kinesis.html and .../with-ddb.html (stream records, StartingPosition,
retries, bisecting, on-failure destinations), .../API_EventSourceMappingConfiguration.html
(State, StateTransitionReason, LastProcessingResult).
"""

from __future__ import annotations

import base64
import json
import time

import boto3
import pytest

from sandbox.testing import deploy, execution_role

SQS_READ = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")

# The handler writes what it saw to a table, so that a test reads every invocation's records.
RECORDER = """
import json, os, time, boto3
table = boto3.resource("dynamodb").Table("seen")
def handler(event, context):
    records = event["Records"]
    table.put_item(Item={"id": context.aws_request_id, "records": json.dumps(records),
                         "at": time.time_ns()})
    bodies = [r.get("body") for r in records]
    fail = [r["messageId"] for r in records if r.get("body", "").startswith("bad")]
    if any(b == "raise" for b in bodies):
        raise ValueError("asked to fail")
    if os.environ.get("REPORT") and fail:
        return {"batchItemFailures": [{"itemIdentifier": i} for i in fail]}
    return {"ok": len(records)}
"""


def _table() -> None:
    boto3.client("dynamodb").create_table(
        TableName="seen", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")


def _invocations() -> list[list[dict]]:
    """Every invocation's records, in the order the invocations began."""
    items = boto3.resource("dynamodb").Table("seen").scan()["Items"]
    return [json.loads(item["records"]) for item in sorted(items, key=lambda i: i["at"])]


def _recorder(*actions: str, report: bool = False, **config) -> str:
    _table()
    env = {"Variables": {"REPORT": "1"}} if report else {"Variables": {}}
    return deploy("recorder", RECORDER, Environment=env,
                  Role=execution_role("recorder-role", "dynamodb:PutItem", *actions), **config)


def _queue(name: str, **attributes: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def _count(url: str) -> int:
    """Messages in the queue, visible or not."""
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]) + \
        int(values["ApproximateNumberOfMessagesNotVisible"])


def _hops(sb, kind: str = "esm") -> list[dict]:
    return [h for h in sb.admin.deliveries(since=0) if h["kind"] == kind]


# ---------------------------------------------------------------------- SQS
def test_send_message_returns_before_the_handler_runs(sb):
    # A slow handler no longer runs inside SendMessage: the poller invokes it later
    _table()
    deploy("slow", "import time\ndef handler(e, c):\n    time.sleep(1.5)\n",
           Role=execution_role("slow-role", *SQS_READ), Timeout=10)
    url, arn = _queue("jobs")
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="slow")
    started = time.monotonic()
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
    took = time.monotonic() - started
    assert sb.settle(30)
    assert took < 1.5, f"SendMessage waited for the handler ({took:.2f} s)"
    assert _count(url) == 0


def test_waiting_messages_are_delivered_in_batches_with_aws_record_format(sb):
    _recorder(*SQS_READ)
    url, arn = _queue("orders")
    sqs = boto3.client("sqs")
    for i in range(7):  # already waiting when the mapping is created
        sqs.send_message(QueueUrl=url, MessageBody=f"order {i}", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "retail"}})
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", BatchSize=3,
        ScalingConfig={"MaximumConcurrency": 2})
    assert sb.settle(30)
    batches = _invocations()
    # at most BatchSize records per invocation, every message once
    assert max(len(b) for b in batches) <= 3 and sum(len(b) for b in batches) == 7
    records = [r for b in batches for r in b]
    assert sorted(r["body"] for r in records) == [f"order {i}" for i in range(7)]
    record = records[0]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes",
                           "messageAttributes", "md5OfBody", "md5OfMessageAttributes",
                           "eventSource", "eventSourceARN", "awsRegion"}
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert set(record["attributes"]) == {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                         "ApproximateFirstReceiveTimestamp"}
    assert int(record["attributes"]["ApproximateFirstReceiveTimestamp"]) >= \
        int(record["attributes"]["SentTimestamp"])
    assert record["messageAttributes"] == {"kind": {
        "stringValue": "retail", "stringListValues": [], "binaryListValues": [],
        "dataType": "String"}}
    assert _count(url) == 0
    hops = _hops(sb)
    assert len(hops) == 7 and {h["outcome"] for h in hops} == {"delivered"}
    assert {h["source"] for h in hops} == {arn}


def test_a_failed_batch_comes_back_after_the_visibility_timeout_then_goes_to_the_dlq(sb):
    _recorder(*SQS_READ)
    _, dlq_arn = _queue("orders-dlq")
    dlq_url = boto3.client("sqs").get_queue_url(QueueName="orders-dlq")["QueueUrl"]
    url, arn = _queue("orders", VisibilityTimeout="30", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}))
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="raise")
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn,
                                                       FunctionName="recorder")
    assert sb.settle(30)
    counts = sorted(int(b[0]["attributes"]["ApproximateReceiveCount"]) for b in _invocations())
    assert counts == [1, 2, 3]  # received maxReceiveCount times, then SQS redrives it
    assert _count(url) == 0
    moved = boto3.client("sqs").receive_message(QueueUrl=dlq_url)["Messages"]
    assert [m["Body"] for m in moved] == ["raise"]
    outcomes = [h["outcome"] for h in _hops(sb)]
    assert outcomes == ["retrying", "retrying", "dead-lettered"]


def test_report_batch_item_failures_keeps_only_the_reported_messages(sb):
    # The data loss: reported failures were deleted. Now they stay and are retried,
    # and the others are deleted once (services-sqs-errorhandling.html).
    _recorder(*SQS_READ, report=True)
    _, dlq_arn = _queue("dlq")
    dlq_url = boto3.client("sqs").get_queue_url(QueueName="dlq")["QueueUrl"]
    url, arn = _queue("orders", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
    sqs = boto3.client("sqs")
    for body in ["good 1", "bad 1", "good 2", "bad 2"]:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", FunctionResponseTypes=[
            "ReportBatchItemFailures"], ScalingConfig={"MaximumConcurrency": 2})
    assert sb.settle(30)
    seen = [r["body"] for b in _invocations() for r in b]
    assert sorted(seen) == ["bad 1", "bad 1", "bad 2", "bad 2", "good 1", "good 2"]
    dead = sorted(m["Body"] for m in sqs.receive_message(QueueUrl=dlq_url,
                                                         MaxNumberOfMessages=10)["Messages"])
    assert dead == ["bad 1", "bad 2"]


@pytest.mark.parametrize("response,whole_batch_failed", [
    ({"batchItemFailures": []}, False),
    ({"batchItemFailures": None}, False),
    ({}, False),
    (None, False),
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, True),
    ({"batchItemFailures": [{"itemIdentifier": None}]}, True),
    ({"batchItemFailures": [{"itemId": "m1"}]}, True),
    ({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, True),
])
def test_batch_item_failure_responses_as_documented(response, whole_batch_failed):
    from sandbox.awslambda.mappings import batch_item_failures

    failed = batch_item_failures(json.dumps(response).encode(), ["m1", "m2"])
    assert (failed is None) == whole_batch_failed
    assert batch_item_failures(b"{not json", ["m1"]) is None
    assert batch_item_failures(json.dumps({"batchItemFailures": [
        {"itemIdentifier": "m2"}]}).encode(), ["m1", "m2"]) == {"m2"}


def test_filter_criteria_deletes_messages_that_do_not_match(sb):
    _recorder(*SQS_READ)
    url, arn = _queue("orders")
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "retail", "n": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "wholesale", "n": 2}))
    sqs.send_message(QueueUrl=url, MessageBody="plain text")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", FilterCriteria={"Filters": [
            {"Pattern": json.dumps({"body": {"kind": ["retail"]}})}]})
    assert sb.settle(30)
    assert [json.loads(r["body"])["n"] for b in _invocations() for r in b] == [1]
    assert _count(url) == 0  # the two that did not match are deleted, as AWS does
    outcomes = sorted(h["outcome"] for h in _hops(sb))
    assert outcomes == ["delivered", "filtered", "filtered"]


def test_disabled_mapping_does_not_deliver_and_resumes_when_enabled(sb):
    _recorder(*SQS_READ)
    url, arn = _queue("orders")
    lam = boto3.client("lambda")
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder",
                                              Enabled=False)
    assert mapping["State"] == "Creating"
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="later")
    assert sb.settle(30)
    assert _invocations() == [] and _count(url) == 1
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled"
    updated = lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert updated["State"] == "Enabling"
    assert sb.settle(30)
    assert [r["body"] for b in _invocations() for r in b] == ["later"]
    got = lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["State"] == "Enabled" and got["LastProcessingResult"] == "OK"
    assert got["StateTransitionReason"] == "USER_INITIATED"
    assert lam.delete_event_source_mapping(UUID=mapping["UUID"])["State"] == "Deleting"
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="after delete")
    assert sb.settle(30)
    assert len(_invocations()) == 1 and _count(url) == 1


def test_a_second_mapping_of_the_same_queue_and_function_is_refused(sb):
    _recorder(*SQS_READ)
    _, arn = _queue("orders")
    lam = boto3.client("lambda")
    first = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")
    assert first["UUID"] in str(e.value)


def test_fifo_queue_delivers_each_group_in_order_with_fifo_attributes(sb):
    _recorder(*SQS_READ)
    url, arn = _queue("orders.fifo", FifoQueue="true")
    sqs = boto3.client("sqs")
    for i in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"{'ab'[i % 2]}-{i}",
                         MessageGroupId="ab"[i % 2], MessageDeduplicationId=str(i))
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn,
                                                       FunctionName="recorder", BatchSize=2)
    assert sb.settle(30)
    records = [r for b in _invocations() for r in b]
    assert {"SequenceNumber", "MessageGroupId", "MessageDeduplicationId"} <= \
        set(records[0]["attributes"])
    for group in "ab":
        bodies = [r["body"] for r in records if r["attributes"]["MessageGroupId"] == group]
        assert bodies == [f"{group}-{i}" for i in range(6) if "ab"[i % 2] == group]


def test_a_role_that_may_not_receive_is_refused_at_create(sb):
    _recorder()
    _, arn = _queue("orders")
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")
    assert "does not have permissions to call ReceiveMessage on SQS" in str(e.value)


def test_pollers_end_at_reset_even_with_a_batch_in_hand(sb):
    deploy("slow", "import time\ndef handler(e, c):\n    time.sleep(20)\n",
           Role=execution_role("slow-role", *SQS_READ), Timeout=30)
    url, arn = _queue("jobs", VisibilityTimeout="60")
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="slow")
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
    deadline = time.monotonic() + 10  # wait until the handler is running
    while not any(e["busy"] for e in sb.admin.call("lambda.environments")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert any(name.startswith("lambda-esm") for name in sb.admin.call("threads")["threads"])
    sb.reset()
    assert not [name for name in sb.admin.call("threads")["threads"]
                if name.startswith("lambda-esm")]
