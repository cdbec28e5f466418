"""Lambda's CloudWatch metrics come from real invocations, as AWS documents them
(docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html)."""

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from sandbox.testing import deploy

OK = "def handler(event, context):\n    return 'ok'\n"
FAILS = "def handler(event, context):\n    raise ValueError('no')\n"


def _sum(metric, dimensions, statistic="Sum"):
    cloudwatch = boto3.client("cloudwatch")
    now = datetime.now(timezone.utc)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric, Dimensions=dimensions,
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=5), Period=3600,
        Statistics=[statistic])["Datapoints"]
    return sum(p[statistic] for p in points) if statistic == "Sum" else \
        max((p[statistic] for p in points), default=None)


def test_invocations_errors_and_duration_per_function_and_for_the_account(sb):
    deploy("good", OK)
    deploy("bad", FAILS)
    lam = boto3.client("lambda")
    for _ in range(3):
        lam.invoke(FunctionName="good")
    lam.invoke(FunctionName="bad")
    good = [{"Name": "FunctionName", "Value": "good"}]
    bad = [{"Name": "FunctionName", "Value": "bad"}]
    assert _sum("Invocations", good) == 3
    assert _sum("Errors", good) == 0
    assert _sum("Invocations", bad) == 1
    assert _sum("Errors", bad) == 1  # a function error still counts as an invocation
    assert _sum("Invocations", []) == 4  # the account's aggregate has no dimensions
    assert _sum("Duration", good, "Maximum") > 0
    assert _sum("ConcurrentExecutions", [], "Maximum") >= 1


def test_a_version_or_alias_invocation_has_the_resource_and_executed_version_dimensions(sb):
    deploy("versioned", OK)
    lam = boto3.client("lambda")
    version = lam.publish_version(FunctionName="versioned")["Version"]
    lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion=version)
    lam.invoke(FunctionName="versioned", Qualifier="live")
    by_alias = [{"Name": "FunctionName", "Value": "versioned"},
                {"Name": "Resource", "Value": "versioned:live"}]
    assert _sum("Invocations", by_alias) == 1
    assert _sum("Invocations", by_alias + [{"Name": "ExecutedVersion", "Value": version}]) == 1


def test_a_throttled_request_counts_as_a_throttle_and_not_an_invocation(sb):
    deploy("held", OK)
    # one attempt: the SDK retries a throttle by itself, and each retry is a throttle too
    lam = boto3.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    lam.put_function_concurrency(FunctionName="held", ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke(FunctionName="held")
    held = [{"Name": "FunctionName", "Value": "held"}]
    assert _sum("Throttles", held) == 1
    assert _sum("Invocations", held) == 0


def test_asynchronous_invocations_publish_their_queue_metrics(sb):
    """AsyncEventsReceived for each queued event, AsyncEventAge for each attempt (queued to
    invoked), AsyncEventsDropped for an event that ends without success
    (docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html, asynchronous invocation
    metrics)."""
    deploy("async-ok", OK)
    deploy("async-bad", FAILS)
    lam = boto3.client("lambda")
    lam.put_function_event_invoke_config(FunctionName="async-bad", MaximumRetryAttempts=1)
    for name in ("async-ok", "async-bad"):
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert sb.settle(timeout=60)
    ok = [{"Name": "FunctionName", "Value": "async-ok"}]
    bad = [{"Name": "FunctionName", "Value": "async-bad"}]
    assert _sum("AsyncEventsReceived", ok) == 1
    assert _sum("AsyncEventsDropped", ok) == 0
    assert _sum("AsyncEventsReceived", bad) == 1
    assert _sum("AsyncEventsDropped", bad) == 1  # one try and one retry, both failed
    assert _sum("Invocations", bad) == 2
    # the retry waited about a minute on the sandbox clock before its attempt
    assert _sum("AsyncEventAge", bad, "Maximum") >= 60_000


def test_a_dead_letter_queue_that_refuses_counts_dead_letter_errors(sb):
    # the role may not send to the queue: Lambda cannot write the failed event there
    deploy("no-dlq-rights", FAILS, DeadLetterConfig={
        "TargetArn": boto3.client("sqs").get_queue_attributes(
            QueueUrl=boto3.client("sqs").create_queue(QueueName="dlq")["QueueUrl"],
            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]})
    lam = boto3.client("lambda")
    lam.put_function_event_invoke_config(FunctionName="no-dlq-rights", MaximumRetryAttempts=0)
    lam.invoke(FunctionName="no-dlq-rights", InvocationType="Event", Payload=b"{}")
    assert sb.settle(timeout=60)
    assert _sum("DeadLetterErrors", [{"Name": "FunctionName", "Value": "no-dlq-rights"}]) == 1


def test_a_stream_mapping_publishes_iterator_age(sb):
    from sandbox.testing import execution_role

    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    arn = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
    role = execution_role("reader", "kinesis:GetRecords", "kinesis:GetShardIterator",
                          "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
                          "kinesis:ListShards", "kinesis:ListStreams")
    deploy("reader", OK, Role=role)
    boto3.client("lambda").create_event_source_mapping(
        FunctionName="reader", EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    kinesis.put_record(StreamName="clicks", Data=b"x", PartitionKey="k")
    assert sb.settle(timeout=60)
    reader = [{"Name": "FunctionName", "Value": "reader"}]
    assert _sum("Invocations", reader) >= 1
    assert _sum("IteratorAge", reader, "Maximum") >= 0
    assert _sum("IteratorAge", reader, "SampleCount") >= 1
