"""Checks for exercises/07-serverless-architectures.ipynb: a small event-driven pipeline. Uploads
counted by a function that S3 invokes (file processing), orders fanned out from a topic to a
shipping queue through a filter (fan-out), and jobs taken from a queue in batches whose failed
items end in a dead-letter queue (buffering and failure handling). Each check finds the pieces
with boto3, drives them with events of its own, waits until the sandbox has delivered them
(``sb.settle()``) and reads the outcome: a table's items, a queue's messages."""

from __future__ import annotations

import json
import random
from typing import Any, cast

from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import require_function, require_table, unique

BUCKET = "exercise-uploads"
COUNTER = "count-words"
COUNTS = "word-counts"
TOPIC = "exercise-orders"
SHIPPING = "exercise-shipping"
JOBS = "exercise-jobs"
JOBS_DLQ = "exercise-jobs-dlq"
WORKER = "process-job"
DONE = "exercise-jobs-done"
FIRST_CELL = "Run the exercise's first cell: it creates it."
WORDS = ("serverless", "event", "queue", "topic", "bucket", "function", "batch", "stream")

NO_S3_PERMISSION = (
    "S3 may not invoke {function!r}: its resource-based policy has no statement for "
    "Principal 's3.amazonaws.com' with the bucket's ARN as SourceArn, so S3 refuses the "
    "notification configuration (InvalidArgument: Unable to validate the following destination "
    "configurations). Add it with lambda add_permission(...) first, then configure the "
    "notification.")
NO_NOTIFICATION = (
    "the bucket {bucket!r} has no notification that invokes {function!r}: add a "
    "LambdaFunctionConfigurations entry with put_bucket_notification_configuration.")
NO_QUEUE_POLICY = (
    "SNS may not send to the queue {queue!r}: a queue admits SNS only through its own policy "
    "(the Policy attribute): a statement allowing Principal {{'Service': 'sns.amazonaws.com'}} "
    "the action sqs:SendMessage on the queue's ARN, with a Condition ArnEquals aws:SourceArn "
    "naming the topic. Set it with set_queue_attributes.")
NOT_RAW = (
    "the message reached the queue wrapped in SNS's JSON envelope (Type, MessageId, Message, "
    "...): set the subscription attribute RawMessageDelivery to 'true' so that the queue gets "
    "the message as it was published.")


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service)


def _settle() -> None:
    from ..client import current

    running = current()
    if running is not None and not running.settle(timeout=60):
        raise CheckFailed("the sandbox was still delivering events a minute after the check "
                          "produced them: does a function run for a very long time, or fail "
                          "over and over?")


def _queue(name: str) -> tuple[str, str]:
    """The queue's URL and ARN, or NotAttempted."""
    sqs = _client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise NotAttempted(f"there is no queue named {name!r} yet.") from None
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return cast(str, url), cast(str, arn)


def _drain(url: str, markers: set[str]) -> list[str]:
    """The bodies of the queue's messages that contain one of ``markers`` (the check's own),
    which are deleted; the learner's other messages are put back at once."""
    sqs = _client("sqs")
    found: list[str] = []
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=30).get("Messages", [])
        if not messages:
            break
        for message in messages:
            if any(marker in message["Body"] for marker in markers):
                found.append(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            else:
                sqs.change_message_visibility(QueueUrl=url, VisibilityTimeout=0,
                                              ReceiptHandle=message["ReceiptHandle"])
    return found


def _base(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def _allows_principal(function: str, principal: str) -> bool:
    lam = _client("lambda")
    try:
        policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return False
    return any(principal in json.dumps(statement.get("Principal", ""))
               for statement in policy.get("Statement", []))


# ---------------------------------------------------------------- task 1: file processing
@check_function("architectures.uploads_counted")
def uploads_counted() -> None:
    """Uploading a .txt object to exercise-uploads makes count-words write the number of its
    words to word-counts, under the object's key; other objects are left alone."""
    function = require_function(COUNTER)
    table = require_table(COUNTS)
    s3 = _client("s3")
    try:
        config = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    except s3.exceptions.ClientError:
        raise NotAttempted(f"there is no bucket named {BUCKET!r}. {FIRST_CELL}") from None
    invoking = [item for item in config.get("LambdaFunctionConfigurations", [])
                if _base(item["LambdaFunctionArn"]) == function["FunctionArn"]]
    if not invoking:
        if not _allows_principal(COUNTER, "s3.amazonaws.com"):
            raise CheckFailed(NO_S3_PERMISSION.format(function=COUNTER))
        raise CheckFailed(NO_NOTIFICATION.format(bucket=BUCKET, function=COUNTER))

    count = random.randint(3, 12)
    key = f"{unique('notes')}.txt"
    other = f"{unique('data')}.csv"
    text = " ".join(random.choice(WORDS) for _ in range(count))
    s3.put_object(Bucket=BUCKET, Key=key, Body=text.encode())
    s3.put_object(Bucket=BUCKET, Key=other, Body=text.encode())
    _settle()
    item = table.get_item(Key={"key": key}).get("Item")
    skipped = table.get_item(Key={"key": other}).get("Item")
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}, {"Key": other}]})
    for written in (key, other):
        table.delete_item(Key={"key": written})
    if item is None:
        raise CheckFailed(
            f"after uploading {key!r}, {COUNTS!r} has no item with that key: did S3 invoke "
            f"{COUNTER!r} (is '.txt' in the notification's filter?), and did the function "
            "fail? Read its log (/aws/lambda/count-words). The object's key is in "
            "event['Records'][0]['s3']['object']['key'].")
    if int(item.get("words", -1)) != count:
        raise CheckFailed(f"{key!r} holds {count} words separated by spaces",
                          expected={"key": key, "words": count},
                          found={k: str(v) for k, v in item.items()})
    if skipped is not None:
        raise CheckFailed(f"uploading {other!r} was counted too: the notification should "
                          "invoke the function only for keys ending in '.txt' (a Filter with "
                          "the FilterRule Name 'suffix', Value '.txt').")


# ---------------------------------------------------------------- task 2: fan-out
def _topic() -> str:
    sns = _client("sns")
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1] == TOPIC:
                return cast(str, topic["TopicArn"])
    raise NotAttempted(f"there is no topic named {TOPIC!r}. {FIRST_CELL}")


@check_function("architectures.shipping_fan_out")
def shipping_fan_out() -> None:
    """Orders published to exercise-orders with the message attribute kind=physical reach
    exercise-shipping as they were published (raw); kind=digital ones do not."""
    from ..client import current

    topic = _topic()
    url, queue = _queue(SHIPPING)
    sns = _client("sns")
    subscriptions = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
        TopicArn=topic) for s in page["Subscriptions"] if s["Endpoint"] == queue]
    if not subscriptions:
        raise NotAttempted(f"the queue {SHIPPING!r} is not subscribed to the topic {TOPIC!r} "
                           "yet (sns subscribe with Protocol 'sqs' and the queue's ARN).")
    running = current()
    if running is not None and not running.iam.service_may(
            "sns.amazonaws.com", "sqs:SendMessage", queue, source_arn=topic):
        raise CheckFailed(NO_QUEUE_POLICY.format(queue=SHIPPING))

    physical, digital = unique("parcel"), unique("ebook")
    for marker, kind in ((physical, "physical"), (digital, "digital")):
        sns.publish(TopicArn=topic, Message=json.dumps({"order": marker, "kind": kind}),
                    MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}})
    _settle()
    bodies = _drain(url, {physical, digital})
    got_digital = any(digital in body for body in bodies)
    arrived = [body for body in bodies if physical in body]
    if got_digital:
        raise CheckFailed("an order with kind=digital reached the shipping queue: the "
                          "subscription's FilterPolicy should let only kind 'physical' through "
                          "({'kind': ['physical']}, on the message attributes).")
    if not arrived:
        raise CheckFailed("an order published with the message attribute kind=physical never "
                          "reached the shipping queue: does the subscription's FilterPolicy "
                          "match it ({'kind': ['physical']}), and does it filter on the "
                          "message attributes (the default FilterPolicyScope)?")
    try:
        envelope = json.loads(arrived[0])
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        raise CheckFailed(NOT_RAW)


# ---------------------------------------------------------------- task 3: failure handling
def _mapping(queue: str, function: str) -> dict[str, Any]:
    lam = _client("lambda")
    mappings = lam.list_event_source_mappings(EventSourceArn=queue)["EventSourceMappings"]
    for mapping in mappings:
        if _base(mapping["FunctionArn"]) == function:
            return cast("dict[str, Any]", mapping)
    raise NotAttempted(f"there is no event source mapping from {JOBS!r} to {WORKER!r} yet "
                       "(lambda create_event_source_mapping).")


@check_function("architectures.jobs_dead_lettered")
def jobs_dead_lettered() -> None:
    """process-job takes jobs from exercise-jobs in batches, records each good one in
    exercise-jobs-done, reports the bad ones as batch item failures, and the queue's redrive
    policy moves those to exercise-jobs-dlq: none lost, good ones not redone."""
    function = require_function(WORKER)
    table = require_table(DONE)
    url, queue = _queue(JOBS)
    dlq_url, dlq = _queue(JOBS_DLQ)
    mapping = _mapping(queue, function["FunctionArn"])
    sqs = _client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
    if redrive.get("deadLetterTargetArn") != dlq:
        raise CheckFailed(f"the queue {JOBS!r} has no redrive policy to {JOBS_DLQ!r}: a job "
                          "that always fails would be retried until it expires. Set the "
                          "RedrivePolicy attribute: {'deadLetterTargetArn': <the DLQ's ARN>, "
                          "'maxReceiveCount': '5'}.", found=redrive or None)
    if "ReportBatchItemFailures" not in (mapping.get("FunctionResponseTypes") or []):
        raise CheckFailed("the event source mapping does not report batch item failures: "
                          "without FunctionResponseTypes=['ReportBatchItemFailures'], Lambda "
                          "ignores the batchItemFailures your handler returns, and one bad job "
                          "makes the whole batch fail (or none does).")
    visibility = int(attributes.get("VisibilityTimeout", "30"))
    if visibility < 6 * int(function.get("Timeout", 3)):
        raise CheckFailed(
            f"the queue's visibility timeout ({visibility} s) is less than six times the "
            f"function's timeout ({function.get('Timeout')} s), as AWS advises for a queue that "
            "a function reads: a batch still being worked on could be handed out again.",
            expected=f">= {6 * int(function.get('Timeout', 3))}", found=visibility)

    good = [unique("job") for _ in range(random.randint(3, 5))]
    bad = [unique("broken") for _ in range(2)]
    entries = [{"Id": str(i), "MessageBody": json.dumps({"id": job, "amount": random.randint(
        1, 99)})} for i, job in enumerate(good)]
    entries += [{"Id": str(len(good) + i), "MessageBody": json.dumps({"id": job, "amount": -1})}
                for i, job in enumerate(bad)]
    random.shuffle(entries)
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    _settle()
    done = {job for job in good + bad if table.get_item(Key={"id": job}).get("Item")}
    dead = _drain(dlq_url, set(good + bad))
    for job in good + bad:
        table.delete_item(Key={"id": job})
    good_dead = [job for job in good if any(job in body for body in dead)]
    bad_dead = [job for job in bad if any(job in body for body in dead)]
    if good_dead:
        raise CheckFailed("good jobs ended in the dead-letter queue with the bad ones: the "
                          "handler made the whole batch fail (it raised?) instead of returning "
                          "{'batchItemFailures': [{'itemIdentifier': <messageId>}, ...]} for the "
                          "failed jobs only.", expected=[], found=good_dead)
    if set(good) - done:
        raise CheckFailed("good jobs (a positive amount) were not recorded in "
                          f"{DONE!r}: read the function's log (/aws/lambda/{WORKER}).",
                          expected=sorted(good), found=sorted(done & set(good)))
    if set(bad) & done:
        raise CheckFailed("a job with a negative amount was recorded as done: it should fail.",
                          found=sorted(set(bad) & done))
    if len(bad_dead) < len(bad):
        raise CheckFailed("the bad jobs never reached the dead-letter queue: they were lost. "
                          "Does the handler return {'batchItemFailures': [{'itemIdentifier': "
                          "record['messageId']}, ...]} for each job it could not do?",
                          expected=sorted(bad), found=sorted(bad_dead))
