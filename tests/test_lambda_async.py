"""Asynchronous invocation: retries, destinations and dead-letter queues, in Lambda's formats."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from sandbox.testing import deploy, execution_role

FLAKY = """
import boto3
def handler(event, context):
    if event.get("fail"):
        raise ValueError("bad order " + str(event["id"]))
    return {"handled": event["id"]}
"""


def _flaky(*actions: str, **config) -> str:
    """Deploy FLAKY with a role allowed ``actions``: Lambda delivers its records and dead
    letters with the function's role."""
    return deploy("flaky", FLAKY, Role=execution_role("flaky-role", *actions), **config)


def _admit(queue_url: str, service: str, source_arn: str) -> None:
    """A queue policy letting ``service`` send to the queue for ``source_arn``, as on AWS."""
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}]})})


def _queue(name: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def _messages(url: str, attributes: bool = False) -> list[dict]:
    response = boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"] if attributes else [])
    return response.get("Messages", [])


def _event(name: str, payload: dict) -> str:
    response = boto3.client("lambda").invoke(FunctionName=name, InvocationType="Event",
                                             Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["RequestId"]


def test_failed_event_is_retried_twice_then_sent_to_on_failure(sb):
    arn = _flaky("sqs:SendMessage")
    url, queue_arn = _queue("failures")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    request_id = _event("flaky", {"id": 7, "fail": True})
    assert sb.admin.wait_for_async_invocations()
    [message] = _messages(url)
    record = json.loads(message["Body"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record.pop("timestamp"))
    payload = record.pop("responsePayload")
    assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "bad order 7"
    assert record == {
        "version": "1.0",
        "requestContext": {"requestId": request_id, "functionArn": f"{arn}:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"id": 7, "fail": True},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
    }
    # three attempts, each in the function's log
    events = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/flaky",
                                                    filterPattern="RequestId")["events"]
    starts = [e["message"] for e in events if e["message"].startswith("START")]
    assert len(starts) == 3 and all(request_id in start for start in starts)


def test_retry_count_follows_the_event_invoke_config(sb):
    _flaky("sqs:SendMessage")
    url, queue_arn = _queue("failures")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    _event("flaky", {"id": 1, "fail": True})
    assert sb.admin.wait_for_async_invocations()
    [message] = _messages(url)
    assert json.loads(message["Body"])["requestContext"]["approximateInvokeCount"] == 1


def test_retry_delays_follow_the_sandbox_clock(sb):
    import time

    deploy("flaky", FLAKY)
    default, sb.clock.speed = sb.clock.speed, 60  # retry delays of 1 and 2 min: 1 and 2 s
    try:
        started = time.perf_counter()
        _event("flaky", {"id": 1, "fail": True})
        assert sb.admin.wait_for_async_invocations(timeout=30)
        assert time.perf_counter() - started >= 3.0  # waited, in simulated minutes
    finally:
        sb.clock.speed = default


def test_success_goes_to_on_success(sb):
    arn = _flaky("sqs:SendMessage")
    url, queue_arn = _queue("successes")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", DestinationConfig={"OnSuccess": {"Destination": queue_arn}})
    _event("flaky", {"id": 2})
    assert sb.admin.wait_for_async_invocations()
    [message] = _messages(url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"] == f"{arn}:$LATEST"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"handled": 2}


def test_dead_letter_queue_gets_the_event_and_error_attributes(sb):
    url, queue_arn = _queue("dlq")
    _flaky("sqs:SendMessage", DeadLetterConfig={"TargetArn": queue_arn})
    config = boto3.client("lambda").get_function_configuration(FunctionName="flaky")
    assert config["DeadLetterConfig"] == {"TargetArn": queue_arn}
    request_id = _event("flaky", {"id": 3, "fail": True})
    assert sb.admin.wait_for_async_invocations()
    [message] = _messages(url, attributes=True)
    assert json.loads(message["Body"]) == {"id": 3, "fail": True}
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"RequestID": request_id, "ErrorCode": "200",
                          "ErrorMessage": "bad order 3"}


def test_sns_lambda_and_eventbridge_destinations(sb):
    lam = boto3.client("lambda")
    sns_url, sns_queue = _queue("via-sns")
    topic = boto3.client("sns").create_topic(Name="results")["TopicArn"]
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_queue,
                                  Attributes={"RawMessageDelivery": "true"})
    _admit(sns_url, "sns.amazonaws.com", topic)
    bus_url, bus_queue = _queue("via-events")
    events = boto3.client("events")
    rule = events.put_rule(Name="lambda-results", EventPattern=json.dumps(
        {"source": ["lambda"], "detail-type": ["Lambda Function Invocation Result - Failure"]}))
    events.put_targets(Rule="lambda-results", Targets=[{"Id": "q", "Arn": bus_queue}])
    _admit(bus_url, "events.amazonaws.com", rule["RuleArn"])
    bus = events.describe_event_bus()["Arn"]
    _flaky("sns:Publish", "events:PutEvents", "lambda:InvokeFunction")
    deploy("recorder", "import boto3, json\ndef handler(event, context):\n"
                       "    boto3.client('sqs').create_queue(QueueName='recorded-' + "
                       "event['requestContext']['condition'])\n",
           Role=execution_role("recorder-role", "sqs:CreateQueue"))
    recorder = lam.get_function(FunctionName="recorder")["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnSuccess": {"Destination": topic},
                                                            "OnFailure": {"Destination": bus}})
    _event("flaky", {"id": 4})
    _event("flaky", {"id": 5, "fail": True})
    assert sb.admin.wait_for_async_invocations()
    [via_sns] = _messages(sns_url)
    assert json.loads(via_sns["Body"])["responsePayload"] == {"handled": 4}
    [via_bus] = _messages(bus_url)
    event = json.loads(via_bus["Body"])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert event["detail"]["requestPayload"] == {"id": 5, "fail": True}
    lam.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnSuccess":
                                                            {"Destination": recorder}})
    _event("flaky", {"id": 6})
    assert sb.admin.wait_for_async_invocations()
    queues = boto3.client("sqs").list_queues()["QueueUrls"]
    assert any(q.endswith("/recorded-Success") for q in queues)
    assert sb.admin.call("lambda.wait_idle", {"timeout": 30})["delivery_failures"] == []


def test_reserved_concurrency_zero_sends_events_straight_to_failure(sb):
    _flaky("sqs:SendMessage")
    url, queue_arn = _queue("failures")
    lam = boto3.client("lambda")
    lam.put_function_concurrency(FunctionName="flaky", ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(
        FunctionName="flaky", DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    _event("flaky", {"id": 8})
    assert sb.admin.wait_for_async_invocations()
    [message] = _messages(url)
    record = json.loads(message["Body"])
    assert record["requestPayload"] == {"id": 8}
    assert "responsePayload" not in record


def test_a_role_that_may_not_send_loses_the_record(sb):
    """Lambda delivers with the function's role: without sqs:SendMessage on the destination
    the record is dropped (on AWS a DestinationDeliveryFailures metric counts it)."""
    _flaky()
    url, queue_arn = _queue("failures")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    _event("flaky", {"id": 9, "fail": True})
    assert sb.admin.wait_for_async_invocations()
    assert _messages(url) == []
    [denial] = sb.iam.denials(principal="assumed-role/flaky-role/flaky")
    assert (denial.action, denial.resource) == ("sqs:SendMessage", queue_arn)
    assert denial.message == (
        "User: arn:aws:sts::123456789012:assumed-role/flaky-role/flaky is not authorized to "
        f"perform: sqs:SendMessage on resource: {queue_arn} because no identity-based policy "
        "allows the sqs:SendMessage action")


# ---------------------------------------------------------------------- the record of hops
def _hops(request_id: str, sb) -> list[tuple[str, str, str]]:
    return [(h["kind"], h["outcome"], h["detail"]) for h in sb.admin.trace(request_id)]


def test_each_attempt_and_the_on_failure_record_are_hops_of_the_invocation(sb):
    arn = _flaky("sqs:SendMessage")
    url, queue_arn = _queue("failures")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    request_id = _event("flaky", {"id": 4, "fail": True})
    assert sb.settle()
    [message] = _messages(url)
    assert _hops(request_id, sb) == [
        ("async", "retrying", "attempt 1 of 2 failed (ValueError): tried again in 60 s "
                              "(sandbox clock)"),
        ("async", "failed", "attempt 2 of 2 failed (ValueError): no retries left"),
        ("destination", "dead-lettered", "OnFailure destination: RetriesExhausted")]
    record = sb.admin.trace(request_id)[-1]
    # the destination's hop carries the SQS message, a child of the invocation
    assert (record["source"], record["target"], record["event_id"], record["parent"]) == (
        arn, queue_arn, message["MessageId"], request_id)


def test_the_dead_letter_queue_and_a_success_are_hops(sb):
    url, queue_arn = _queue("dlq")
    _flaky("sqs:SendMessage", DeadLetterConfig={"TargetArn": queue_arn})
    boto3.client("lambda").put_function_event_invoke_config(FunctionName="flaky",
                                                            MaximumRetryAttempts=0)
    failed = _event("flaky", {"id": 5, "fail": True})
    succeeded = _event("flaky", {"id": 6})
    assert sb.settle()
    assert _hops(failed, sb) == [
        ("async", "failed", "attempt 1 of 1 failed (ValueError): no retries left"),
        ("dlq", "dead-lettered", "dead-letter queue: bad order 5")]
    assert _hops(succeeded, sb) == [("async", "delivered", "attempt 1 of 1")]


def test_an_event_for_a_function_that_may_not_run_is_dropped_with_nowhere_to_go(sb):
    _flaky()
    lam = boto3.client("lambda")
    lam.put_function_concurrency(FunctionName="flaky", ReservedConcurrentExecutions=0)
    request_id = _event("flaky", {"id": 10})
    assert sb.settle()
    outcomes = [(kind, outcome) for kind, outcome, _ in _hops(request_id, sb)]
    assert outcomes == [("async", "failed"), ("async", "dropped")]


def test_an_event_older_than_its_maximum_age_is_not_retried(sb):
    """MaximumEventAgeInSeconds=60: the first retry would come a minute later, too old."""
    _flaky()
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumEventAgeInSeconds=60)
    request_id = _event("flaky", {"id": 14, "fail": True})
    assert sb.settle()
    assert [(outcome, detail) for _, outcome, detail in _hops(request_id, sb)] == [
        ("retrying", "attempt 1 of 3 failed (ValueError): tried again in 60 s (sandbox clock)"),
        ("failed", "older than MaximumEventAgeInSeconds (60 s)"),
        ("dropped", "EventAgeExceeded: the function has no on-failure destination and no "
                    "dead-letter queue, so Lambda discards the event")]


def test_a_destination_the_role_may_not_write_is_a_denied_hop(sb):
    _flaky()
    _, queue_arn = _queue("failures")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    request_id = _event("flaky", {"id": 11, "fail": True})
    assert sb.settle()
    (kind, outcome, detail) = _hops(request_id, sb)[-1]
    assert (kind, outcome) == ("destination", "denied") and "not authorized" in detail


def test_an_s3_bucket_is_an_on_failure_destination(sb):
    """Lambda Developer Guide, "Capturing records of Lambda asynchronous invocations": an S3
    bucket may be an on-failure destination; the record is one JSON object under
    aws/lambda/async/<function>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>, written with
    the execution role, which needs s3:PutObject and s3:ListBucket."""
    arn = _flaky("s3:PutObject", "s3:ListBucket")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="failed-events")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::failed-events"}})
    request_id = _event("flaky", {"id": 12, "fail": True})
    assert sb.settle()
    [listed] = s3.list_objects_v2(Bucket="failed-events")["Contents"]
    assert re.fullmatch(r"aws/lambda/async/flaky/\d{4}/\d\d/\d\d/"
                        r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d-[0-9a-f-]{36}", listed["Key"])
    record = json.loads(s3.get_object(Bucket="failed-events", Key=listed["Key"])["Body"].read())
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": f"{arn}:$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"id": 12, "fail": True}
    assert _hops(request_id, sb)[-1][:2] == ("destination", "dead-lettered")


@pytest.mark.parametrize("granted", [(), ("s3:PutObject",), ("s3:ListBucket",)])
def test_an_s3_destination_needs_put_object_and_list_bucket_on_the_role(sb, granted):
    # the guide's "Required permissions" for an S3 destination: s3:PutObject and s3:ListBucket
    _flaky(*granted)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="failed-events")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::failed-events"}})
    request_id = _event("flaky", {"id": 13, "fail": True})
    assert sb.settle()
    assert "Contents" not in s3.list_objects_v2(Bucket="failed-events")
    assert _hops(request_id, sb)[-1][:2] == ("destination", "denied")


def test_an_event_too_old_to_retry_sends_an_event_age_exceeded_record(sb):
    """The invocation record's requestContext.condition is "EventAgeExceeded" when Lambda
    discards an event for its age (invocation-async-retain-records.html), after the attempts
    made so far: here one, since the first retry would come a minute later."""
    _flaky("sqs:SendMessage")
    url, queue_arn = _queue("too-old")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="flaky", MaximumEventAgeInSeconds=60, MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    request_id = _event("flaky", {"id": 15, "fail": True})
    assert sb.settle()
    (message,) = _messages(url)
    context = json.loads(message["Body"])["requestContext"]
    assert (context["requestId"], context["condition"], context["approximateInvokeCount"]) == \
        (request_id, "EventAgeExceeded", 1)
