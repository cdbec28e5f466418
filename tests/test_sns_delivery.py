"""SNS deliveries: after Publish answers, in AWS's formats, filtered by every documented
filter-policy operator, to Lambda (through its asynchronous queue) and SQS (fan-out, raw
delivery, FIFO), every hop recorded.

AWS references: SNS Developer Guide, "Amazon SNS subscription filter policies" and its pages on
each operator (string, numeric, key, IP address matching, AND/OR logic, "Filter policy
scope"), "Amazon SNS raw message delivery", "Fanout to Amazon SQS queues", "Message ordering
and deduplication (FIFO topics)"; Lambda Developer Guide, "Invoking Lambda functions with
Amazon SNS notifications" (the event, asynchronous invocation)."""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox.sns.filters import matches
from sandbox.testing import deploy, execution_role

REGION, ACCOUNT = "us-east-1", "123456789012"


# ---------------------------------------------------------------------- filter policies
def _attrs(**values) -> dict:
    """Message attributes as SNS holds them: name -> {"Type", "Value"}."""
    out = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = {"Type": "String.Array", "Value": json.dumps(value)}
        elif isinstance(value, (int, float)):
            out[name] = {"Type": "Number", "Value": str(value)}
        else:
            out[name] = {"Type": "String", "Value": value}
    return out


def _a(policy: dict, **values) -> bool:
    return matches(policy, "MessageAttributes", _attrs(**values), "")


def _b(policy: dict, body: dict) -> bool:
    return matches(policy, "MessageBody", {}, json.dumps(body))


def test_exact_string_matching_any_listed_value_and_any_array_element():
    policy = {"customer_interests": ["rugby", "tennis"]}
    assert _a(policy, customer_interests="rugby")
    assert _a(policy, customer_interests=["rugby", "baseball"])  # String.Array: any element
    assert not _a(policy, customer_interests="baseball")
    assert not _a(policy)  # the attribute is absent


def test_numeric_exact_and_range_matching_on_number_attributes_only():
    assert _a({"price_usd": [{"numeric": ["=", 301.5]}]}, price_usd=301.5)
    assert _a({"price_usd": [301.5]}, price_usd=3.015e2)
    assert not _a({"price_usd": [301.5]}, price_usd="301.5")  # a String is not a number
    ranged = {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}
    assert _a(ranged, price_usd=150) and _a(ranged, price_usd=0.5)
    assert not _a(ranged, price_usd=0) and not _a(ranged, price_usd=150.5)


def test_prefix_suffix_and_equals_ignore_case():
    assert _a({"customer_interests": [{"prefix": "bas"}]}, customer_interests="baseball")
    assert not _a({"customer_interests": [{"prefix": "bas"}]}, customer_interests="rugby")
    assert _a({"customer_interests": [{"suffix": "ball"}]}, customer_interests="baseball")
    assert not _a({"customer_interests": [{"suffix": "ball"}]}, customer_interests="tennis")
    assert _a({"customer_interests": [{"equals-ignore-case": "tennis"}]},
              customer_interests="TeNnIs")


def test_anything_but_a_value_a_list_a_number_and_a_prefix():
    assert _a({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
              customer_interests="football")
    assert not _a({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
                  customer_interests="rugby")
    assert not _a({"customer_interests": [{"anything-but": "rugby"}]},
                  customer_interests="rugby")
    assert _a({"price": [{"anything-but": [100, 500]}]}, price=200)
    assert not _a({"price": [{"anything-but": [100, 500]}]}, price=100)
    assert _a({"event": [{"anything-but": {"prefix": "order-"}}]}, event="invoice-1")
    assert not _a({"event": [{"anything-but": {"prefix": "order-"}}]}, event="order-1")
    # an absent attribute matches no anything-but
    assert not _a({"event": [{"anything-but": "order"}]})


def test_exists_true_and_false_even_next_to_other_conditions():
    assert _a({"store": [{"exists": True}]}, store="example_corp")
    assert not _a({"store": [{"exists": True}]})
    assert _a({"store": [{"exists": False}]})
    assert not _a({"store": [{"exists": False}]}, store="example_corp")
    # the list is ORed: an absent attribute still matches exists:false after another condition
    # (moto 5.2.5 returns "no match" at the first condition naming the absent attribute)
    assert _a({"store": ["example_corp", {"exists": False}]})


def test_ip_address_matching_with_cidr():
    policy = {"source_ip": [{"cidr": "10.0.0.0/24"}]}
    assert _a(policy, source_ip="10.0.0.255")
    assert not _a(policy, source_ip="10.1.1.0")
    assert not _a(policy, source_ip="not an address")
    assert _a({"source_ip": [{"cidr": "2001:db8::/32"}]}, source_ip="2001:db8::1")


def test_keys_are_anded_and_or_operator_ors_sub_policies():
    policy = {"source": ["aws.cloudwatch"],
              "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}
    assert _a(policy, source="aws.cloudwatch", metricName="CPUUtilization")
    assert _a(policy, source="aws.cloudwatch", namespace="AWS/EC2")
    assert not _a(policy, source="aws.cloudwatch", namespace="AWS/S3")
    assert not _a(policy, source="aws.sns", metricName="CPUUtilization")


def test_message_body_scope_nested_keys_and_arrays():
    policy = {"patient": {"vitals": {"bp": [{"numeric": [">", 120]}]}}}
    assert _b(policy, {"patient": {"vitals": {"bp": 140}}})
    assert not _b(policy, {"patient": {"vitals": {"bp": 110}}})
    assert not _b(policy, {"patient": {"name": "x"}})
    assert _b({"customer_interests": ["rugby"]}, {"customer_interests": ["football", "rugby"]})
    assert _b({"order": {"items": {"sku": [{"prefix": "B-"}]}}},
              {"order": {"items": [{"sku": "A-1"}, {"sku": "B-2"}]}})
    assert not matches({"a": ["b"]}, "MessageBody", {}, "not json")


# ---------------------------------------------------------------------- deliveries
def _queue(name: str, topic: str, **attributes) -> tuple[str, str]:
    """A queue whose policy admits the topic (as the SNS fan-out tutorial sets it)."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    return url, arn


def _receive(url: str, **options) -> list[dict]:
    return boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, **options).get("Messages", [])


def test_fan_out_to_queues_with_filter_policies_and_a_trace_per_message(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    url_all, arn_all = _queue("all-orders", topic)
    url_big, arn_big = _queue("big-orders", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_all)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn_big, Attributes={
        "FilterPolicyScope": "MessageBody",
        "FilterPolicy": json.dumps({"total": [{"numeric": [">=", 100]}]})})
    small = sns.publish(TopicArn=topic, Message=json.dumps({"total": 5}), Subject="order",
                        MessageAttributes={"shop": {"DataType": "String",
                                                    "StringValue": "north"}})["MessageId"]
    big = sns.publish(TopicArn=topic, Message=json.dumps({"total": 500}))["MessageId"]
    assert sb.settle(timeout=10)

    notes = [json.loads(m["Body"]) for m in _receive(url_all)]
    assert [n["MessageId"] for n in notes] == [small, big]
    note = notes[0]
    assert {k: note[k] for k in ("Type", "TopicArn", "Subject", "Message")} == {
        "Type": "Notification", "TopicArn": topic, "Subject": "order",
        "Message": json.dumps({"total": 5})}
    assert note["MessageAttributes"] == {"shop": {"Type": "String", "Value": "north"}}
    assert note["Signature"] and note["SigningCertURL"].endswith(".pem")
    subscription = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]
    assert note["UnsubscribeURL"].endswith(f"SubscriptionArn={subscription['SubscriptionArn']}")
    assert [json.loads(m["Body"])["MessageId"] for m in _receive(url_big)] == [big]

    # the small order: delivered to one queue (the SQS message, child of the SNS message),
    # filtered out of the other
    hops = sb.admin.trace(small)
    assert sorted((h["target"], h["outcome"]) for h in hops) == [
        (arn_all, "delivered"), (arn_big, "filtered")]
    delivered = next(h for h in hops if h["outcome"] == "delivered")
    assert delivered["parent"] == small and delivered["event_id"] != small


def test_raw_message_delivery_sends_the_message_and_its_attributes(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="raw")["TopicArn"]
    url, arn = _queue("raw-copy", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="just this", MessageAttributes={
        "colour": {"DataType": "String", "StringValue": "red"},
        "count": {"DataType": "Number", "StringValue": "3"}})
    assert sb.settle(timeout=10)
    (message,) = _receive(url, MessageAttributeNames=["All"])
    assert message["Body"] == "just this"
    assert message["MessageAttributes"] == {
        "colour": {"DataType": "String", "StringValue": "red"},
        "count": {"DataType": "Number", "StringValue": "3"}}


def test_raw_message_delivery_false_still_sends_the_notification(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="wrapped")["TopicArn"]
    url, arn = _queue("wrapped-copy", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "false"})
    sns.publish(TopicArn=topic, Message="wrapped")
    assert sb.settle(timeout=10)
    (message,) = _receive(url)
    assert json.loads(message["Body"])["Message"] == "wrapped"


def test_a_fifo_topic_keeps_order_and_deduplicates_by_content(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="ledger.fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url, arn = _queue("ledger.fifo", topic, FifoQueue="true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    for body in ("debit 1", "credit 2", "debit 1", "debit 3"):  # the second "debit 1" is a
        sns.publish(TopicArn=topic, Message=body, MessageGroupId="acct-7")  # duplicate
    assert sb.settle(timeout=10)
    messages = _receive(url, AttributeNames=["All"])
    assert [m["Body"] for m in messages] == ["debit 1", "credit 2", "debit 3"]
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {"acct-7"}


def test_an_invalid_cidr_is_refused_and_a_valid_one_accepted(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="ips")["TopicArn"]
    _, arn = _queue("ips", topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)[
        "SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"ip": [{"cidr": "10.0.0.0/8"}]}))
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.set_subscription_attributes(
            SubscriptionArn=subscription, AttributeName="FilterPolicy",
            AttributeValue=json.dumps({"ip": [{"cidr": "ten"}]}))


GATED = """
import boto3, json, time
def handler(event, context):
    sqs = boto3.client("sqs")
    for _ in range(100):  # wait for the test's go-ahead
        if sqs.receive_message(QueueUrl=GO, WaitTimeSeconds=0).get("Messages"):
            break
        time.sleep(0.1)
    else:
        raise TimeoutError("no go-ahead")
    sqs.send_message(QueueUrl=SEEN, MessageBody=json.dumps(event))
"""


def test_publish_answers_before_a_lambda_subscriber_runs_and_it_gets_snss_event(sb):
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    go = sqs.create_queue(QueueName="go")["QueueUrl"]
    seen = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = deploy("listener", f"GO = {go!r}\nSEEN = {seen!r}\n" + GATED, Timeout=30,
                 Role=execution_role("listener-role", "sqs:*"))
    topic = sns.create_topic(Name="news")["TopicArn"]
    boto3.client("lambda").add_permission(
        FunctionName="listener", StatementId="news", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com", SourceArn=topic)
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)[
        "SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic, Message="hello", MessageAttributes={
        "lang": {"DataType": "String", "StringValue": "en"}})["MessageId"]
    # Publish has answered while the handler still waits for the go-ahead
    sqs.send_message(QueueUrl=go, MessageBody="go")
    assert sb.settle(timeout=30)
    (message,) = _receive(seen)
    record = json.loads(message["Body"])["Records"][0]
    assert (record["EventVersion"], record["EventSource"], record["EventSubscriptionArn"]) == (
        "1.0", "aws:sns", subscription)
    event = record["Sns"]
    assert {k: event[k] for k in ("Type", "MessageId", "TopicArn", "Subject", "Message",
                                  "MessageAttributes")} == {
        "Type": "Notification", "MessageId": message_id, "TopicArn": topic, "Subject": None,
        "Message": "hello", "MessageAttributes": {"lang": {"Type": "String", "Value": "en"}}}
    assert event["Signature"] and event["SigningCertUrl"].endswith(".pem")
    assert event["UnsubscribeUrl"].endswith(subscription)
    # the trace: SNS handed it to Lambda's queue, which ran it once
    assert [(h["kind"], h["outcome"]) for h in sb.admin.trace(message_id)] == [
        ("sns", "delivered"), ("async", "delivered")]


def test_publish_batch_delivers_every_entry(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="batch")["TopicArn"]
    url, arn = _queue("batch-copy", topic)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(i), "Message": f"m{i}"} for i in range(5)])
    assert sb.settle(timeout=10)
    assert sorted(m["Body"] for m in _receive(url)) == [f"m{i}" for i in range(5)]


def test_a_queue_that_does_not_admit_the_topic_is_a_denied_hop(sb):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="closed")["TopicArn"]
    sqs.create_queue(QueueName="no-policy")
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-policy"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    message_id = sns.publish(TopicArn=topic, Message="nobody hears")["MessageId"]
    assert sb.settle(timeout=10)
    assert [(h["source"], h["target"], h["outcome"]) for h in sb.admin.trace(message_id)] == [
        (topic, arn, "denied")]


def test_an_undeliverable_message_goes_to_the_subscriptions_dead_letter_queue(sb):
    """SNS Developer Guide, "Amazon SNS dead-letter queues": a client-side error (here the
    endpoint's policy does not admit SNS; a function that does not exist, which no policy can
    admit) sends the message to the subscription's RedrivePolicy queue, whose policy admits
    the topic."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    dlq_url, dlq_arn = _queue("orders-dlq", topic)
    sqs.create_queue(QueueName="closed")
    closed = f"arn:aws:sqs:{REGION}:{ACCOUNT}:closed"
    redrive = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=closed, Attributes=redrive)
    gone = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gone"
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=gone, Attributes=redrive)
    message_id = sns.publish(TopicArn=topic, Message="undeliverable")["MessageId"]
    assert sb.settle(timeout=10)
    bodies = [json.loads(m["Body"]) for m in _receive(dlq_url)]
    assert [(b["MessageId"], b["Message"]) for b in bodies] == [
        (message_id, "undeliverable"), (message_id, "undeliverable")]
    assert sorted((h["target"], h["outcome"]) for h in sb.admin.trace(message_id)) == sorted([
        (closed, "denied"), (dlq_arn, "dead-lettered"),
        (gone, "denied"), (dlq_arn, "dead-lettered")])
