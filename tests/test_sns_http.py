"""SNS HTTP/HTTPS subscriptions: delivered after Publish answers, retried as SNS's default
delivery policy says, and never to another machine."""

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
        self.arrived = threading.Event()
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


def subscribe(url: str) -> str:
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    return topic


def test_publish_answers_before_a_slow_endpoint_is_done(sb, endpoint):
    slow = endpoint([200], delay=2.0)
    topic = subscribe(slow.url)
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
    boto3.client("sns").publish(TopicArn=subscribe(flaky.url), Message="again")
    assert flaky.arrived.wait(30)
    assert len(flaky.received) == 4
    gone = endpoint([404])
    boto3.client("sns").publish(TopicArn=subscribe(gone.url), Message="once")
    time.sleep(0.5)  # 20 simulated seconds are 2 ms: a retry would have come
    assert len(gone.received) == 1


def test_an_endpoint_off_the_machine_fails_its_delivery_not_the_publish(sb):
    topic = subscribe("http://example.com/hook")
    answer = boto3.client("sns").publish(TopicArn=topic, Message="nowhere")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    deadline = time.monotonic() + 10
    while "delivers only to endpoints on this machine" not in sb.admin.server_log():
        assert time.monotonic() < deadline, sb.admin.server_log()[-2000:]
        time.sleep(0.1)
