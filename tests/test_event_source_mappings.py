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
    if any(r.get("body") == "flaky" and r["attributes"]["ApproximateReceiveCount"] == "1"
           for r in records):
        raise ValueError("fails on its first receive")
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
    # The handler waits for a "go" the test writes only after SendMessage has returned: were
    # the handler run inside SendMessage (moto's trigger), it would never see it and fail.
    _table()
    deploy("waiter", """
import time, boto3
table = boto3.resource("dynamodb").Table("seen")
def handler(event, context):
    while context.get_remaining_time_in_millis() > 1000:
        if "Item" in table.get_item(Key={"id": "go"}):
            table.put_item(Item={"id": "done"})
            return
        time.sleep(0.05)
    raise TimeoutError("no go")
""", Role=execution_role("waiter-role", "dynamodb:GetItem", "dynamodb:PutItem", *SQS_READ),
           Timeout=10)
    url, arn = _queue("jobs")
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn,
                                                       FunctionName="waiter")
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
    boto3.resource("dynamodb").Table("seen").put_item(Item={"id": "go"})
    assert sb.settle(30)
    assert "Item" in boto3.resource("dynamodb").Table("seen").get_item(Key={"id": "done"})
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


@pytest.mark.parametrize("deleted_first", [False, True])
def test_pollers_end_at_reset_even_with_a_batch_in_hand(sb, deleted_first):
    # a deleted mapping's poller finishes its batch in hand: the reset ends it too
    deploy("slow", "import time\ndef handler(e, c):\n    time.sleep(20)\n",
           Role=execution_role("slow-role", *SQS_READ), Timeout=30)
    url, arn = _queue("jobs", VisibilityTimeout="60")
    lam = boto3.client("lambda")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="slow")["UUID"]
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
    deadline = time.monotonic() + 10  # wait until the handler is running
    while not any(e["busy"] for e in sb.admin.call("lambda.environments")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    if deleted_first:
        lam.delete_event_source_mapping(UUID=uuid)
    assert any(name.startswith("lambda-esm") for name in sb.admin.call("threads")["threads"])
    sb.reset()
    assert not [name for name in sb.admin.call("threads")["threads"]
                if name.startswith("lambda-esm")]


# ---------------------------------------------------------------------- streams
STREAM_RECORDER = """
import base64, json, os, time, boto3
table = boto3.resource("dynamodb").Table("seen")
def text(record):
    if "kinesis" in record:
        return base64.b64decode(record["kinesis"]["data"]).decode()
    image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage")
    return image["v"]["S"]
def handler(event, context):
    records = event["Records"]
    table.put_item(Item={"id": context.aws_request_id, "records": json.dumps(records),
                         "at": time.time_ns()})
    texts = [text(r) for r in records]
    if "raise" in texts:
        raise ValueError("asked to fail")
    if os.environ.get("REPORT"):
        return {"batchItemFailures": [
            {"itemIdentifier": r.get("kinesis", r.get("dynamodb", {})).get(
                "sequenceNumber", r.get("dynamodb", {}).get("SequenceNumber"))}
            for r, t in zip(records, texts) if t.startswith("bad")]}
"""
KINESIS_READ = ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream",
                "kinesis:ListShards", "kinesis:ListStreams")
DYNAMODB_READ = ("dynamodb:GetRecords", "dynamodb:GetShardIterator",
                 "dynamodb:DescribeStream", "dynamodb:ListStreams")


def _stream_recorder(*actions: str, report: bool = False) -> str:
    _table()
    env = {"Variables": {"REPORT": "1"}} if report else {"Variables": {}}
    return deploy("recorder", STREAM_RECORDER, Environment=env,
                  Role=execution_role("recorder-role", "dynamodb:PutItem", *actions))


def _texts(batches: list[list[dict]]) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for b in batches for r in b]


def _kinesis(name: str = "clicks") -> str:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]


def _put(*texts: str, stream: str = "clicks") -> None:
    for text in texts:
        boto3.client("kinesis").put_record(StreamName=stream, Data=text.encode(),
                                           PartitionKey="p")


def test_kinesis_records_in_order_from_trim_horizon_in_aws_format(sb):
    _stream_recorder(*KINESIS_READ)
    arn = _kinesis()
    _put("a", "b", "c")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        BatchSize=2)
    _put("d", "e")
    assert sb.settle(30)
    batches = _invocations()
    assert _texts(batches) == ["a", "b", "c", "d", "e"]
    assert max(len(b) for b in batches) <= 2
    record = batches[0][0]
    assert set(record) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                           "invokeIdentityArn", "awsRegion", "eventSourceARN"}
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == arn and record["invokeIdentityArn"].endswith(
        ":role/recorder-role")
    assert set(record["kinesis"]) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber",
                                      "data", "approximateArrivalTimestamp"}
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"


def test_kinesis_latest_skips_what_was_there_before(sb):
    _stream_recorder(*KINESIS_READ)
    arn = _kinesis()
    _put("old")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="LATEST")
    _put("new")
    assert sb.settle(30)
    assert _texts(_invocations()) == ["new"]


def test_kinesis_failed_batch_is_retried_then_sent_to_the_on_failure_destination(sb):
    _stream_recorder(*KINESIS_READ, "sqs:SendMessage")
    arn = _kinesis()
    url, queue_arn = _queue("stream-failures")
    _put("raise", "after")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        BatchSize=1, MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    assert sb.settle(30)
    # the failing record blocks its shard: tried 1 + 2 times, then "after" goes on
    assert _texts(_invocations()) == ["raise", "raise", "raise", "after"]
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["responseContext"]["functionError"] == "Unhandled"
    info = body["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == arn
    assert info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    outcomes = [h["outcome"] for h in _hops(sb)]
    assert outcomes == ["retrying", "retrying", "dead-lettered", "delivered"]


def test_kinesis_bisect_isolates_the_failing_record(sb):
    _stream_recorder(*KINESIS_READ)
    arn = _kinesis()
    _put("a", "b", "raise", "d")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        BatchSize=4, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0)
    assert sb.settle(30)
    # [a b raise d] fails -> [a b] succeeds, [raise d] fails -> [raise] fails (no retries
    # left: discarded), [d] succeeds
    assert [[base64.b64decode(r["kinesis"]["data"]).decode() for r in b]
            for b in _invocations()] == [["a", "b", "raise", "d"], ["a", "b"], ["raise", "d"],
                                         ["raise"], ["d"]]
    dropped = [h for h in _hops(sb) if h["outcome"] == "dropped"]
    assert len(dropped) == 1


def test_kinesis_report_batch_item_failures_retries_from_the_first_reported(sb):
    _stream_recorder(*KINESIS_READ, report=True)
    arn = _kinesis()
    _put("a", "bad", "c")
    lam = boto3.client("lambda")
    lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        BatchSize=3, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1)
    assert sb.settle(30)
    assert [[base64.b64decode(r["kinesis"]["data"]).decode() for r in b]
            for b in _invocations()] == [["a", "bad", "c"], ["bad", "c"]]


def test_kinesis_filter_criteria_on_the_data(sb):
    _stream_recorder(*KINESIS_READ)
    arn = _kinesis()
    _put(json.dumps({"type": "click"}), json.dumps({"type": "view"}))
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"type": ["click"]}})}]})
    assert sb.settle(30)
    assert _texts(_invocations()) == [json.dumps({"type": "click"})]


def test_a_role_that_may_not_read_the_stream_is_refused_at_create(sb):
    _stream_recorder()
    arn = _kinesis()
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder",
                                        StartingPosition="LATEST")
    assert f"Cannot access stream {arn}. Please ensure the role can perform the GetRecords" \
        in str(e.value)


def _dynamodb_stream() -> str:
    table = boto3.client("dynamodb").create_table(
        TableName="notes", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return table["TableDescription"]["LatestStreamArn"]


def test_dynamodb_stream_records_in_order_and_put_item_does_not_wait(sb):
    _stream_recorder(*DYNAMODB_READ)
    arn = _dynamodb_stream()
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON")
    notes = boto3.client("dynamodb")
    notes.put_item(TableName="notes", Item={"k": {"S": "1"}, "v": {"S": "first"}})
    notes.put_item(TableName="notes", Item={"k": {"S": "1"}, "v": {"S": "second"}})
    notes.delete_item(TableName="notes", Key={"k": {"S": "1"}})
    assert sb.settle(30)
    records = [r for b in _invocations() for r in b]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    record = records[1]
    assert record["eventSource"] == "aws:dynamodb" and record["eventSourceARN"] == arn
    assert record["dynamodb"]["NewImage"]["v"] == {"S": "second"}
    assert record["dynamodb"]["OldImage"]["v"] == {"S": "first"}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], (int, float))
    # delivering does not empty the stream (moto's trigger did): GetRecords still reads them
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(streams.get_records(ShardIterator=iterator)["Records"]) == 3


def test_dynamodb_filter_criteria_on_event_name(sb):
    _stream_recorder(*DYNAMODB_READ)
    arn = _dynamodb_stream()
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="LATEST",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]})
    notes = boto3.client("dynamodb")
    notes.put_item(TableName="notes", Item={"k": {"S": "1"}, "v": {"S": "first"}})
    notes.put_item(TableName="notes", Item={"k": {"S": "1"}, "v": {"S": "second"}})
    assert sb.settle(30)
    assert [r["eventName"] for b in _invocations() for r in b] == ["INSERT"]
    assert sorted(h["outcome"] for h in _hops(sb)) == ["delivered", "filtered"]


def test_kinesis_maximum_record_age_discards_a_record_retried_too_long(sb):
    _stream_recorder(*KINESIS_READ, "sqs:SendMessage")
    arn = _kinesis()
    url, queue_arn = _queue("too-old")
    _put("raise")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    assert sb.settle(30)
    # after attempts 1..5 the shard waits 2, 4, 8, 16, 32 simulated seconds: 62 s in all, so
    # the record is too old before a sixth attempt
    assert len(_invocations()) == 5
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"


def test_disabling_a_stream_mapping_stops_delivery_and_enabling_resumes_where_it_stopped(sb):
    _stream_recorder(*KINESIS_READ)
    arn = _kinesis()
    lam = boto3.client("lambda")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder",
                                           StartingPosition="LATEST")["UUID"]
    _put("one")
    assert sb.settle(30)
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert sb.settle(30)
    _put("two")
    assert sb.settle(30)
    assert _texts(_invocations()) == ["one"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert sb.settle(30)
    assert _texts(_invocations()) == ["one", "two"]


def test_a_message_failing_without_a_dlq_is_retried_until_the_retention_period(sb):
    # MessageRetentionPeriod 60 s, visibility timeout 30 s: after the second failure the message
    # is older than 60 s (on the sandbox clock) and SQS deletes it
    _recorder(*SQS_READ)
    url, arn = _queue("orders", VisibilityTimeout="30", MessageRetentionPeriod="60")
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="raise")
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn,
                                                       FunctionName="recorder")
    assert sb.settle(30)
    assert len(_invocations()) == 2 and _count(url) == 0
    assert [h["outcome"] for h in _hops(sb)] == ["retrying", "dropped"]


def test_a_visibility_timeout_shorter_than_the_function_timeout_is_refused(sb):
    _recorder(*SQS_READ, Timeout=60)
    _, arn = _queue("orders")
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")
    assert "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds" \
        in str(e.value)


def test_the_batching_window_gathers_messages_on_the_sandbox_clock(sb):
    # a 60 s window at clock speed 10 is 6 real seconds: the three messages sent within it
    # reach the function in one batch (with-sqs.html, "Batching behavior")
    default, sb.clock.speed = sb.clock.speed, 10
    try:
        _recorder(*SQS_READ)
        url, arn = _queue("orders")
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=url, MessageBody="first")
        boto3.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="recorder", BatchSize=3,
            MaximumBatchingWindowInSeconds=60, ScalingConfig={"MaximumConcurrency": 2})
        sqs.send_message(QueueUrl=url, MessageBody="second")
        sqs.send_message(QueueUrl=url, MessageBody="third")
        assert sb.settle(60)
    finally:
        sb.clock.speed = default
    assert [sorted(r["body"] for r in b) for b in _invocations()] == [
        ["first", "second", "third"]]


def test_kinesis_at_timestamp_starts_at_the_first_record_from_then(sb):
    _stream_recorder(*KINESIS_READ)
    arn = _kinesis()
    _put("before")
    time.sleep(0.05)
    at = time.time()
    time.sleep(0.05)
    _put("after")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=at)
    assert sb.settle(30)
    assert _texts(_invocations()) == ["after"]


def test_a_role_that_loses_its_permission_shows_the_problem_and_keeps_the_message(sb):
    _recorder(*SQS_READ)
    url, arn = _queue("orders")
    lam = boto3.client("lambda")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder")["UUID"]
    boto3.client("iam").delete_role_policy(RoleName="recorder-role", PolicyName="actions")
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody="unread")
    deadline = time.monotonic() + 20  # the pollers look every 0.1 s
    while "PROBLEM" not in lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]:
        assert time.monotonic() < deadline, "the mapping never reported the missing permission"
        time.sleep(0.1)
    assert lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == (
        "PROBLEM: The provided execution role does not have permissions to call ReceiveMessage "
        "on SQS")
    assert _invocations() == [] and _count(url) == 1


def test_fifo_a_failed_message_holds_back_its_group_until_it_succeeds(sb):
    # FIFO: Lambda does not deliver later messages of a group before a failed one
    # (with-sqs.html, FIFO queues); the other group is not held back
    _recorder(*SQS_READ)
    url, arn = _queue("orders.fifo", FifoQueue="true", VisibilityTimeout="30")
    sqs = boto3.client("sqs")
    for i, (body, group) in enumerate([("flaky", "a"), ("next", "a"), ("other", "b")]):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                         MessageDeduplicationId=str(i))
    boto3.client("lambda").create_event_source_mapping(EventSourceArn=arn,
                                                       FunctionName="recorder", BatchSize=1)
    assert sb.settle(30)
    group_a = [r["body"] for b in _invocations() for r in b
               if r["attributes"]["MessageGroupId"] == "a"]
    assert group_a == ["flaky", "flaky", "next"]
    assert _count(url) == 0


def test_dynamodb_discarded_batch_goes_to_the_on_failure_destination(sb):
    _stream_recorder(*DYNAMODB_READ, "sqs:SendMessage")
    arn = _dynamodb_stream()
    url, queue_arn = _queue("ddb-failures")
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="recorder", StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    boto3.client("dynamodb").put_item(TableName="notes",
                                      Item={"k": {"S": "1"}, "v": {"S": "raise"}})
    assert sb.settle(30)
    assert len(_invocations()) == 1
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = body["DDBStreamBatchInfo"]
    assert info["streamArn"] == arn and info["batchSize"] == 1
