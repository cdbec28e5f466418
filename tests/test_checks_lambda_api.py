"""Exercise 03's checks, three ways: the solution passes, a blank exercise is not attempted, and
each common wrong answer fails with its own hint."""

from __future__ import annotations

import io
import zipfile

import boto3
import pytest

from sandbox.accounts import ACCOUNT_ID, REGION
from sandbox.course.magic import BASIC_EXECUTION
from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.testing import check_fails, deploy, role, zip_files

HELLO = "def handler(event, context):\n    return f\"Hello, {event['name']}!\"\n"
WELCOME = "def handler(event, context):\n    return f\"Welcome back, {event['name']}!\"\n"
CHARGE = ("def handler(event, context):\n"
          "    if event['amount'] <= 0:\n"
          "        raise ValueError('amount must be positive')\n"
          "    return {'charged': event['amount']}\n")
WORKER = ("import boto3\n"
          "table = boto3.resource('dynamodb').Table('jobs-done')\n"
          "def handler(event, context):\n"
          "    for record in event['Records']:\n"
          "        table.put_item(Item={'job': record['body']})\n")
BOOTSTRAP = """#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  RESPONSE=$(printf '{"you sent": %s, "request_id": "%s"}' "$EVENT" "$REQUEST_ID")
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "$RESPONSE" > /dev/null
done
"""
CHECKS = ["live_alias_serves_a_version", "latest_moves_on_live_stays",
          "failures_reach_the_queue", "queue_feeds_the_worker", "shell_runtime_answers"]


def _role() -> str:
    """The exercise's api-exercise-role, as its first cell makes it: logs, the account's SQS
    queues, and writing to jobs-done."""
    return role("api-exercise-role", *BASIC_EXECUTION["Statement"], {
        "Effect": "Allow", "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:*", "Action": [
            "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
            "sqs:GetQueueAttributes"]}, {
        "Effect": "Allow", "Action": "dynamodb:PutItem",
        "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/jobs-done"},
        policy_name="logs-queues-table")


def _deploy(name: str, source, **config) -> str:
    """Deploy as the exercise does, with api-exercise-role."""
    return deploy(name, source, Role=_role(), **config)


def _queue(name: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


@pytest.fixture
def resources(sb):
    """What the exercise's first cell makes: the two queues and the jobs-done table."""
    _queue("payments-failed")
    _queue("jobs")
    boto3.client("dynamodb").create_table(
        TableName="jobs-done", KeySchema=[{"AttributeName": "job", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "job", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    return sb


def _update(name: str, source: str) -> None:
    lam = boto3.client("lambda")
    lam.update_function_code(FunctionName=name, ZipFile=zip_files({"app.py": source}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)


def _greeter(alias: str = "live", version: str | None = None, update: str | None = WELCOME,
             publish_after_update: bool = False) -> None:
    lam = boto3.client("lambda")
    _deploy("greeter", HELLO)
    if not publish_after_update:
        version = version or lam.publish_version(FunctionName="greeter")["Version"]
    if update:
        _update("greeter", update)
    if publish_after_update:
        version = lam.publish_version(FunctionName="greeter")["Version"]
    if alias:
        lam.create_alias(FunctionName="greeter", Name=alias, FunctionVersion=version)


def _charge(source: str = CHARGE, **config) -> None:
    _deploy("charge", source)
    if config:
        boto3.client("lambda").put_function_event_invoke_config(FunctionName="charge", **config)


def _failed_arn() -> str:
    return _queue("payments-failed")[1]


def _worker(source: str = WORKER, queue: str = "jobs", **mapping) -> None:
    _deploy("job-worker", source)
    if queue:
        boto3.client("lambda").create_event_source_mapping(
            EventSourceArn=_queue(queue)[1], FunctionName="job-worker", **mapping)


def _shell(bootstrap: str = BOOTSTRAP) -> None:
    _deploy("echo-shell", {"bootstrap": bootstrap}, runtime="provided.al2023",
           handler="function.handler")


def _fails(check: str, hint: str, cls=CheckFailed) -> None:
    check_fails(f"lambda_api.{check}", hint, cls)


def test_the_solution_passes_every_check(resources):
    _greeter()
    _charge(MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": _failed_arn()}})
    _worker(BatchSize=10)
    _shell()
    for name in CHECKS:
        find(f"lambda_api.{name}")()


def test_the_failure_check_leaves_other_messages_on_the_queue(resources):
    _charge(MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": _failed_arn()}})
    sqs = boto3.client("sqs")
    url = _queue("payments-failed")[0]
    sqs.send_message(QueueUrl=url, MessageBody="the learner's own message")
    find("lambda_api.failures_reach_the_queue")()
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
              .get("Messages", [])]
    assert bodies == ["the learner's own message"]


@pytest.mark.parametrize("name", CHECKS)
def test_nothing_deployed_is_not_attempted(resources, name):
    _fails(name, "no function named", NotAttempted)


@pytest.mark.parametrize("name, what", [("failures_reach_the_queue", "queue 'payments-failed'"),
                                        ("queue_feeds_the_worker", "queue 'jobs'")])
def test_without_the_first_cell_is_not_attempted(sb, name, what):
    _fails(name, f"there is no {what}", NotAttempted)


def test_no_jobs_table_is_not_attempted(sb):
    _queue("jobs")
    _worker()
    _fails("queue_feeds_the_worker", "no table 'jobs-done'", NotAttempted)


def test_a_placeholder_worker_is_not_attempted(resources):
    _worker("def handler(event, context):\n    raise NotImplementedError()\n")
    _fails("queue_feeds_the_worker", "still raises NotImplementedError", NotAttempted)


@pytest.mark.parametrize("setup, hint", [
    (dict(alias=""), "no alias named 'live'"),
    (dict(alias="Live"), "did you name it 'Live'"),
    (dict(version="$LATEST"), r"points at \$LATEST"),
    (dict(publish_after_update=True), "task 2's code"),
])
def test_live_alias_wrong_answers(sb, setup, hint):
    _greeter(**setup)
    _fails("live_alias_serves_a_version", hint)


def test_live_alias_wrong_greeting(sb):
    _deploy("greeter", HELLO.replace("Hello, ", "Hello "))
    lam = boto3.client("lambda")
    lam.create_alias(FunctionName="greeter", Name="live",
                     FunctionVersion=lam.publish_version(FunctionName="greeter")["Version"])
    _fails("live_alias_serves_a_version", "should answer 'Hello, <name>!'")


@pytest.mark.parametrize("setup, hint", [
    (dict(update=None), "still answers with the first greeting"),
    (dict(update=WELCOME.replace("Welcome back, ", "Welcome back ")),
     "should answer 'Welcome back, <name>!'"),
    (dict(version="$LATEST"), "answers with the new code too"),
    (dict(alias=""), "no alias named 'live'"),
])
def test_latest_and_live_wrong_answers(sb, setup, hint):
    _greeter(**setup)
    _fails("latest_moves_on_live_stays", hint)


@pytest.mark.parametrize("source, config, hint", [
    ("def handler(event, context):\n    if event['amount'] <= 0:\n"
     "        return {'error': 'amount must be positive'}\n"
     "    return {'charged': event['amount']}\n", {}, "returned a result"),
    (CHARGE.replace("ValueError", "Exception"), {}, r"should raise ValueError\('amount"),
    (CHARGE, None, "no configuration for asynchronous invocations"),
    (CHARGE, {"OnFailure": True}, "retried 2 time"),
    (CHARGE, {"MaximumRetryAttempts": 1, "OnFailure": True}, "retried 1 time"),
    (CHARGE, {"MaximumRetryAttempts": 0, "OnSuccess": True}, "is the OnSuccess destination"),
    (CHARGE, {"MaximumRetryAttempts": 0, "OnFailure": True, "OnSuccess": True},
     "the OnSuccess destination too"),
    (CHARGE, {"MaximumRetryAttempts": 0, "OnFailure": "other"}, "ARN of payments-failed"),
])
def test_failures_reach_the_queue_wrong_answers(resources, source, config, hint):
    _deploy("charge", source)
    if config is not None:
        config = dict(config or {"MaximumRetryAttempts": 0, "OnFailure": True})
        destinations = {}
        for key in ("OnFailure", "OnSuccess"):
            target = config.pop(key, None)
            if target:
                arn = _failed_arn() if target is True else _queue(target)[1]
                destinations[key] = {"Destination": arn}
        boto3.client("lambda").put_function_event_invoke_config(
            FunctionName="charge", DestinationConfig=destinations, **config)
    _fails("failures_reach_the_queue", hint)


@pytest.mark.parametrize("source, queue, hint", [
    (WORKER, "", "nothing feeds job-worker"),
    (WORKER, "other-jobs", "reads another source"),
    (WORKER.replace("for record in event['Records']:\n        table.put_item("
                    "Item={'job': record['body']})", "table.put_item(Item={'job': event['body']})"),
     "jobs", r"looked for event\['body'\]"),
    (WORKER.replace("{'job': record['body']}", "{'id': record['body']}"), "jobs",
     "failed on the message"),
    (WORKER.replace("table.put_item(Item={'job': record['body']})", "print(record['body'])"),
     "jobs", "has no item"),
])
def test_queue_feeds_the_worker_wrong_answers(resources, source, queue, hint):
    _worker(source, queue)
    _fails("queue_feeds_the_worker", hint)


def test_a_disabled_mapping_fails(resources):
    _worker(Enabled=False)
    _fails("queue_feeds_the_worker", "not enabled")


def _zip_not_executable(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


@pytest.mark.parametrize("bootstrap, hint", [
    (BOOTSTRAP.replace("while true; do\n", "").replace("done\n", ""), "never ends by itself"),
    (BOOTSTRAP.replace('"request_id": "%s"', '"request_id": "none%s"'), "this invocation's ID"),
    (BOOTSTRAP.replace('"you sent": %s, ', '"event": %s, '), "two keys"),
    (BOOTSTRAP.replace('"you sent": %s', '"you sent": "%s"'), "not valid JSON"),
    (BOOTSTRAP.replace('"you sent": %s', '"you sent": {}').replace('"$EVENT" "$REQUEST_ID"',
                                                                  '"$REQUEST_ID"'),
     "the event, as it came"),
])
def test_shell_runtime_wrong_answers(sb, bootstrap, hint):
    _shell(bootstrap)
    _fails("shell_runtime_answers", hint)


def test_a_python_echo_is_not_a_custom_runtime(sb):
    _deploy("echo-shell", "def handler(event, context):\n"
                         "    return {'you sent': event, 'request_id': context.aws_request_id}\n")
    _fails("shell_runtime_answers", "a runtime Lambda provides")


def test_a_bootstrap_that_is_not_executable_fails(sb):
    boto3.client("lambda").create_function(
        FunctionName="echo-shell", Runtime="provided.al2023", Role=_role(),
        Handler="function.handler", Code={"ZipFile": _zip_not_executable({"bootstrap": BOOTSTRAP})})
    _fails("shell_runtime_answers", "could not start bootstrap")
