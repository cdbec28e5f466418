"""S3 event notifications: delivered after the request answers, in S3's event format, to Lambda
through its asynchronous queue, to SQS, SNS and EventBridge; every hop recorded.

AWS references: S3 User Guide, "Amazon S3 Event Notifications" (asynchronous delivery),
"Event message structure" (eventVersion 2.1 fields), "Using EventBridge" and "EventBridge event
message structure"; Lambda Developer Guide, "Process Amazon S3 event notifications with Lambda"
(S3 invokes the function asynchronously)."""

from __future__ import annotations

import json

import boto3

from sandbox.testing import deploy, execution_role

REGION, ACCOUNT = "us-east-1", "123456789012"


def _queue(name: str, service: str = "s3.amazonaws.com", source: str = "") -> tuple[str, str]:
    """A queue whose policy admits ``service`` for ``source``; (url, arn)."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnLike": {"aws:SourceArn": source or "*"}}}]})})
    return url, arn


def _messages(url: str) -> list[dict]:
    found = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


def _bucket_to_queue(bucket: str, queue: str, **notification) -> str:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    url, arn = _queue(queue, source=f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": arn,
                                 "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                                 **notification}]})
    return url


def test_a_queue_gets_the_test_event_then_each_event_in_s3s_format(sb):
    url = _bucket_to_queue("uploads", "uploads-events")
    s3 = boto3.client("s3")
    s3.put_object(Bucket="uploads", Key="a b/ü.txt", Body=b"hello")
    s3.delete_object(Bucket="uploads", Key="a b/ü.txt")
    assert sb.settle(timeout=10)
    test_event, created, removed = _messages(url)
    # S3 sends one s3:TestEvent to a queue when the configuration is put
    assert test_event["Event"] == "s3:TestEvent" and test_event["Bucket"] == "uploads"

    record = created["Records"][0]
    assert {k: record[k] for k in ("eventVersion", "eventSource", "awsRegion", "eventName")} == {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventName": "ObjectCreated:Put"}
    assert record["eventTime"].endswith("Z")
    assert set(record) >= {"userIdentity", "requestParameters", "responseElements"}
    assert len(record["responseElements"]["x-amz-request-id"]) == 16
    assert record["s3"]["configurationId"] == "to-queue"
    assert record["s3"]["bucket"] == {"name": "uploads", "ownerIdentity": {"principalId": ACCOUNT},
                                      "arn": "arn:aws:s3:::uploads"}
    obj = record["s3"]["object"]
    # the key is URL-encoded, as S3 sends it ("a b/ü.txt")
    assert obj["key"] == "a+b%2F%C3%BC.txt"
    assert obj["size"] == 5 and obj["eTag"] == "5d41402abc4b2a76b9719d911017c592"
    assert "versionId" not in obj  # the bucket is not versioned

    gone = removed["Records"][0]
    assert gone["eventName"] == "ObjectRemoved:Delete"
    # a removal carries no size or eTag; sequencers grow for one key
    assert set(gone["s3"]["object"]) == {"key", "sequencer"}
    assert int(gone["s3"]["object"]["sequencer"], 16) > int(obj["sequencer"], 16)


def test_a_versioned_buckets_event_names_the_version(sb):
    url = _bucket_to_queue("versions", "versions-events")
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="versions", Key="k", Body=b"1")["VersionId"]
    assert sb.settle(timeout=10)
    event = _messages(url)[-1]
    assert event["Records"][0]["s3"]["object"]["versionId"] == version


def test_the_key_filter_decides_which_events_go(sb):
    url = _bucket_to_queue("photos", "photo-events", Filter={"Key": {"FilterRules": [
        {"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".jpg"}]}})
    s3 = boto3.client("s3")
    for key in ("in/cat.jpg", "in/notes.txt", "out/dog.jpg"):
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    assert sb.settle(timeout=10)
    keys = [m["Records"][0]["s3"]["object"]["key"] for m in _messages(url) if "Records" in m]
    assert keys == ["in%2Fcat.jpg"]


HANDLER = """
import boto3, json, time
def handler(event, context):
    sqs = boto3.client("sqs")
    # wait for the test's go-ahead: a PutObject that waited for this handler could never
    # return before the go-ahead is sent
    for _ in range(100):
        if sqs.receive_message(QueueUrl=GO, WaitTimeSeconds=0).get("Messages"):
            break
        time.sleep(0.1)
    else:
        raise TimeoutError("no go-ahead")
    sqs.send_message(QueueUrl=SEEN, MessageBody=json.dumps(event))
"""


def _function_for(bucket: str, source: str) -> tuple[str, str]:
    """A function S3 may invoke for ``bucket``, running ``source``; (arn, queue it reports to)."""
    sqs = boto3.client("sqs")
    go = sqs.create_queue(QueueName="go")["QueueUrl"]
    seen = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = deploy("on-upload", f"GO = {go!r}\nSEEN = {seen!r}\n" + source, Timeout=30,
                 Role=execution_role("on-upload-role", "sqs:*"))
    boto3.client("lambda").add_permission(
        FunctionName="on-upload", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount=ACCOUNT)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn,
                                          "Events": ["s3:ObjectCreated:*"]}]})
    return arn, seen


def test_put_object_answers_before_the_function_runs_and_the_trace_follows_the_event(sb):
    arn, seen = _function_for("inbox", HANDLER)
    s3 = boto3.client("s3")
    s3.put_object(Bucket="inbox", Key="report.csv", Body=b"1,2")
    # PutObject has answered while the handler still waits for the go-ahead
    boto3.client("sqs").send_message(QueueUrl=seen.replace("/seen", "/go"), MessageBody="go")
    assert sb.settle(timeout=30)
    (event,) = _messages(seen)
    record = event["Records"][0]
    assert record["s3"]["object"]["key"] == "report.csv"

    request_id = record["responseElements"]["x-amz-request-id"]
    hops = sb.admin.trace(request_id)
    handed, attempt = hops
    assert (handed["source"], handed["target"], handed["kind"], handed["outcome"]) == (
        "arn:aws:s3:::inbox", arn, "s3-notification", "delivered")
    assert handed["parent"] == request_id
    # then Lambda's asynchronous queue runs it: the same invocation, attempt 1 of 3
    assert (attempt["event_id"], attempt["kind"], attempt["outcome"], attempt["detail"]) == (
        handed["event_id"], "async", "delivered", "attempt 1 of 3")


FAILING = """
def handler(event, context):
    raise ValueError("cannot read " + event["Records"][0]["s3"]["object"]["key"])
"""


def test_a_failing_function_is_retried_by_lambdas_asynchronous_queue(sb):
    _function_for("broken", FAILING)
    boto3.client("s3").put_object(Bucket="broken", Key="x.csv", Body=b"")
    assert sb.settle(timeout=30)
    attempts = [(h["outcome"], h["detail"]) for h in sb.admin.deliveries() if h["kind"] == "async"]
    # twice retried, one and two minutes later (on the sandbox clock), then discarded: no
    # destination or dead-letter queue (Lambda Developer Guide, "Error handling and automatic
    # retries in Lambda")
    assert attempts == [
        ("retrying", "attempt 1 of 3 failed (ValueError): tried again in 60 s (sandbox clock)"),
        ("retrying", "attempt 2 of 3 failed (ValueError): tried again in 120 s (sandbox clock)"),
        ("failed", "attempt 3 of 3 failed (ValueError): no retries left"),
        ("dropped", "RetriesExhausted: the function has no on-failure destination and no "
                    "dead-letter queue, so Lambda discards the event")]


def test_a_destination_that_stops_admitting_s3_gets_nothing_and_the_hop_says_denied(sb):
    url = _bucket_to_queue("closing", "closing-events")
    boto3.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    boto3.client("s3").put_object(Bucket="closing", Key="k", Body=b"x")
    assert sb.settle(timeout=10)
    assert [m.get("Event") for m in _messages(url)] == ["s3:TestEvent"]
    denied = [h for h in sb.admin.deliveries() if h["outcome"] == "denied"]
    assert [(h["source"], h["target"], h["kind"]) for h in denied] == [
        ("arn:aws:s3:::closing", f"arn:aws:sqs:{REGION}:{ACCOUNT}:closing-events",
         "s3-notification")]


def test_a_topic_destination_publishes_with_s3s_subject(sb):
    sns, s3 = boto3.client("sns"), boto3.client("s3")
    topic = sns.create_topic(Name="uploads-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic}]}))
    url, arn = _queue("topic-copy", service="sns.amazonaws.com", source=topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    s3.create_bucket(Bucket="announced")
    s3.put_bucket_notification_configuration(Bucket="announced", NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="announced", Key="new.txt", Body=b"x")
    assert sb.settle(timeout=10)
    notifications = [m for m in _messages(url) if "Records" in m.get("Message", "")]
    (notification,) = notifications
    assert notification["Subject"] == "Amazon S3 Notification"
    request_id = json.loads(notification["Message"])["Records"][0]["responseElements"][
        "x-amz-request-id"]
    # the trace goes from the upload to the SNS message to the SQS message
    assert [(h["kind"], h["target"]) for h in sb.admin.trace(request_id)] == [
        ("s3-notification", topic), ("sns", arn)]


def test_eventbridge_gets_object_created_on_the_default_bus(sb):
    s3, events = boto3.client("s3"), boto3.client("events")
    s3.create_bucket(Bucket="bridged")
    s3.put_bucket_notification_configuration(Bucket="bridged", NotificationConfiguration={
        "EventBridgeConfiguration": {}})
    rule = events.put_rule(Name="new-objects", EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["bridged"]}}}))["RuleArn"]
    url, arn = _queue("bridged-events", service="events.amazonaws.com", source=rule)
    events.put_targets(Rule="new-objects", Targets=[{"Id": "q", "Arn": arn}])
    s3.put_object(Bucket="bridged", Key="a b.txt", Body=b"hello")
    assert sb.settle(timeout=10)
    (event,) = _messages(url)
    assert (event["source"], event["detail-type"], event["resources"]) == (
        "aws.s3", "Object Created", ["arn:aws:s3:::bridged"])
    detail = event["detail"]
    assert detail["bucket"] == {"name": "bridged"}
    # EventBridge's object key is not URL-encoded; its etag is lower-case
    assert {k: detail["object"][k] for k in ("key", "size", "etag")} == {
        "key": "a b.txt", "size": 5, "etag": "5d41402abc4b2a76b9719d911017c592"}
    assert detail["reason"] == "PutObject" and detail["requester"] == ACCOUNT
    hop = next(h for h in sb.admin.deliveries() if h["kind"] == "s3-notification")
    assert (hop["target"], hop["event_id"], hop["parent"]) == (
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default", event["id"],
        detail["request-id"])


def test_a_tagging_event_is_version_2_3(sb):
    """S3 User Guide, "Event message structure": version 2.3 for object tagging events."""
    url = _bucket_to_queue("tagged", "tag-events")
    s3 = boto3.client("s3")
    s3.put_bucket_notification_configuration(Bucket="tagged", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:tag-events",
                                 "Events": ["s3:ObjectTagging:*"]}]})
    s3.put_object(Bucket="tagged", Key="k", Body=b"x")
    s3.put_object_tagging(Bucket="tagged", Key="k",
                          Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert sb.settle(timeout=10)
    records = [m["Records"][0] for m in _messages(url) if "Records" in m]
    assert [(r["eventName"], r["eventVersion"]) for r in records] == [
        ("ObjectTagging:Put", "2.3")]
