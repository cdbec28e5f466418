"""SNS HTTP/HTTPS subscriptions: confirmed by the token SNS posts, delivered after Publish
answers, retried as SNS's default delivery policy says, and never to another machine.

SNS Developer Guide, "Fanout to HTTP/S endpoints" (confirming the subscription, the
SubscriptionConfirmation and Notification messages and headers) and "Amazon SNS message
delivery retries" (the default HTTP/S delivery policy)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest


class Endpoint(ThreadingHTTPServer):
    """An HTTP endpoint on loopback that answers the statuses it is given, in turn."""

    daemon_threads = True

    def __init__(self, statuses: list[int], delay: float = 0.0):
        self.statuses, self.delay, self.received = list(statuses), delay, []
        self.confirmations: list[dict] = []
        self.arrived, self.asked = threading.Event(), threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation":
            self.server.confirmations.append(json.loads(body))
            self.server.asked.set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        time.sleep(self.server.delay)
        self.server.received.append((dict(self.headers), json.loads(body)))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if status < 300:
            self.server.arrived.set()


@pytest.fixture
def endpoint():
    made: list[Endpoint] = []

    def make(statuses: list[int], delay: float = 0.0) -> Endpoint:
        made.append(Endpoint(statuses, delay))
        return made[-1]

    yield make
    for server in made:
        server.shutdown()
        server.server_close()


def subscribe(endpoint: Endpoint) -> str:
    """Subscribe the endpoint and confirm with the token SNS posted to it; the topic."""
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="news")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)[
        "SubscriptionArn"] == "pending confirmation"
    assert endpoint.asked.wait(30)
    sns.confirm_subscription(TopicArn=topic, Token=endpoint.confirmations[0]["Token"])
    return topic


def test_a_subscription_receives_nothing_until_confirmed_with_the_posted_token(sb, endpoint):
    hook = endpoint([])
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="news")["TopicArn"]
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert hook.asked.wait(30)
    (asking,) = hook.confirmations
    assert (asking["Type"], asking["TopicArn"]) == ("SubscriptionConfirmation", topic)
    assert "Action=ConfirmSubscription" in asking["SubscribeURL"]
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"][
        "PendingConfirmation"] == "true"
    unheard = sns.publish(TopicArn=topic, Message="too early")["MessageId"]
    assert sb.settle()
    assert hook.received == []
    assert [h["outcome"] for h in sb.admin.trace(unheard)] == ["dropped"]

    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=topic, Token="not-the-token")
    confirmed = sns.confirm_subscription(TopicArn=topic, Token=asking["Token"])
    assert confirmed["SubscriptionArn"] == arn
    sns.publish(TopicArn=topic, Message="heard")
    assert hook.arrived.wait(30)
    assert [body["Message"] for _, body in hook.received] == ["heard"]


def test_publish_answers_before_a_slow_endpoint_is_done(sb, endpoint):
    slow = endpoint([200], delay=2.0)
    topic = subscribe(slow)
    message_id = boto3.client("sns").publish(TopicArn=topic, Message="hello")["MessageId"]
    assert slow.received == []  # Publish answered; the endpoint is still at work
    assert slow.arrived.wait(30)
    headers, body = slow.received[0]
    assert (body["Type"], body["Message"], body["MessageId"]) == ("Notification", "hello",
                                                                  message_id)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"


def test_server_errors_are_retried_three_times_client_errors_not_at_all(sb, endpoint):
    flaky = endpoint([500, 503, 500])  # the fourth attempt (third retry) succeeds
    boto3.client("sns").publish(TopicArn=subscribe(flaky), Message="again")
    assert flaky.arrived.wait(30)
    assert len(flaky.received) == 4
    gone = endpoint([404])
    boto3.client("sns").publish(TopicArn=subscribe(gone), Message="once")
    time.sleep(0.5)  # 20 simulated seconds are 2 ms: a retry would have come
    assert len(gone.received) == 1


def test_an_endpoint_off_the_machine_fails_its_delivery_not_the_publish(sb):
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://example.com/hook")
    answer = boto3.client("sns").publish(TopicArn=topic, Message="nowhere")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    deadline = time.monotonic() + 10
    while "delivers only to endpoints on this machine" not in sb.admin.server_log():
        assert time.monotonic() < deadline, sb.admin.server_log()[-2000:]
        time.sleep(0.1)


def test_a_notification_the_endpoint_refuses_goes_to_the_dead_letter_queue(sb, endpoint):
    """SNS Developer Guide, "Amazon SNS dead-letter queues": after the delivery policy gives
    up, the message goes to the subscription's RedrivePolicy queue."""
    refusing = endpoint([404])
    topic = subscribe(refusing)
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="hook-dlq")["QueueUrl"]
    dlq_arn = "arn:aws:sqs:us-east-1:123456789012:hook-dlq"
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": dlq_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sns = boto3.client("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    sns.set_subscription_attributes(
        SubscriptionArn=subscription["SubscriptionArn"], AttributeName="RedrivePolicy",
        AttributeValue=json.dumps({"deadLetterTargetArn": dlq_arn}))
    message_id = sns.publish(TopicArn=topic, Message="refused")["MessageId"]
    assert sb.settle()
    (message,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert json.loads(message["Body"])["MessageId"] == message_id
    assert [h["outcome"] for h in sb.admin.trace(message_id)] == ["failed", "dead-lettered"]


def test_raw_message_delivery_posts_the_message_itself(sb, endpoint):
    """SNS Developer Guide, "Amazon SNS raw message delivery": an HTTP/S endpoint gets the
    message as the body, and the x-amz-sns-rawdelivery header."""
    hook = endpoint([])
    topic = subscribe(hook)
    sns = boto3.client("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    sns.set_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"],
                                    AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message=json.dumps({"order": 7}))
    assert hook.arrived.wait(30)
    headers, body = hook.received[0]
    assert body == {"order": 7}
    assert headers["x-amz-sns-rawdelivery"] == "true"
