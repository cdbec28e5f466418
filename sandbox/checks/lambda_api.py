"""Checks for exercises/03-lambda-api.ipynb: a version behind an alias, an asynchronous failure
sent to a queue, a queue feeding a function, and a custom runtime in shell."""

from __future__ import annotations

import difflib
import json
import random
import time
from typing import Any, cast

from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import (
    answered,
    expect_equal,
    invoke,
    log_messages,
    require_function,
    require_table,
    unique,
    wait_for_async_invocations,
)

FIRST_CELL = "run the exercise's first cell, which creates it."
FAILED_QUEUE = "payments-failed"
JOBS_QUEUE = "jobs"
DONE_TABLE = "jobs-done"


def _queue(name: str) -> tuple[str, str]:
    """The queue's URL and ARN, or NotAttempted when the set-up cell was not run."""
    import boto3

    sqs = boto3.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise NotAttempted(f"there is no queue {name!r}: {FIRST_CELL}") from None
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


# ---------------------------------------------------------------- tasks 1 and 2: versions
def _live_alias() -> dict[str, Any]:
    import boto3

    aliases = boto3.client("lambda").list_aliases(FunctionName="greeter")["Aliases"]
    for alias in aliases:
        if alias["Name"] == "live":
            return cast("dict[str, Any]", alias)
    names = [alias["Name"] for alias in aliases]
    close = difflib.get_close_matches("live", names, n=1)
    near = f" (did you name it {close[0]!r}?)" if close else ""
    raise CheckFailed(f"greeter has no alias named 'live'{near}: create it with "
                      "create_alias(FunctionName='greeter', Name='live', FunctionVersion=...), "
                      "giving the number of the version you published.",
                      expected="an alias 'live'", found=names or "no alias")


@check_function("lambda_api.live_alias_serves_a_version")
def live_alias_serves_a_version() -> None:
    """greeter:live points at a published version that answers "Hello, <name>!"."""
    require_function("greeter", "Create it with create_function, as the task says.")
    live = _live_alias()
    if live["FunctionVersion"] == "$LATEST":
        raise CheckFailed("live points at $LATEST, which changes with every update: publish a "
                          "version (publish_version, which answers with its number) and point "
                          "live at that number.", expected="a version number such as '1'",
                          found="$LATEST")
    name = unique("Ada")
    payload = answered("greeter:live", {"name": name}, hints={
        "KeyError": "the function reads a key the event does not have: the name is in "
                    "event['name']."}).payload
    if payload == f"Welcome back, {name}!":
        raise CheckFailed("live answers with task 2's code: the version it points at was "
                          "published after the update. Point live at the version published "
                          "with the first greeting.", expected=f"Hello, {name}!", found=payload)
    expect_equal(payload, f"Hello, {name}!",
                 "greeter:live should answer 'Hello, <name>!' with the name from the event.")


@check_function("lambda_api.latest_moves_on_live_stays")
def latest_moves_on_live_stays() -> None:
    """greeter's $LATEST answers "Welcome back, <name>!" while live still says hello."""
    require_function("greeter", "Create it with create_function, as task 1 says.")
    _live_alias()
    name = unique("Ada")
    latest = answered("greeter", {"name": name}).payload
    if latest == f"Hello, {name}!":
        raise CheckFailed("greeter ($LATEST) still answers with the first greeting: change its "
                          "code with update_function_code (and wait with the "
                          "function_updated_v2 waiter).", expected=f"Welcome back, {name}!",
                          found=latest)
    expect_equal(latest, f"Welcome back, {name}!",
                 "greeter ($LATEST) should answer 'Welcome back, <name>!'.")
    live = answered("greeter:live", {"name": name}).payload
    if live == latest:
        raise CheckFailed("live answers with the new code too: it points at $LATEST, or at a "
                          "version published after the update. The new code is not released "
                          "yet: live stays on the version with the first greeting.",
                          expected=f"Hello, {name}!", found=live)
    expect_equal(live, f"Hello, {name}!", "greeter:live should still answer 'Hello, <name>!'.")


# ---------------------------------------------------------------- task 3: destinations
def _records(url: str, wanted: str) -> list[dict[str, Any]]:
    """Invocation records on the queue whose event carries ``payment: wanted``; they are deleted,
    other messages are left as they were."""
    import boto3

    sqs = boto3.client("sqs")
    found, looked = [], set()
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=0).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in looked]
        if not fresh:
            break
        for message in fresh:
            looked.add(message["MessageId"])
            try:
                record = json.loads(message["Body"])
            except ValueError:
                continue
            event = record.get("requestPayload") if isinstance(record, dict) else None
            if isinstance(event, dict) and event.get("payment") == wanted:
                found.append(record)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


@check_function("lambda_api.failures_reach_the_queue")
def failures_reach_the_queue() -> None:
    """charge raises for amount 0; its failed asynchronous events, not retried, land in
    payments-failed as invocation records."""
    import boto3

    url, arn = _queue(FAILED_QUEUE)
    require_function("charge", "Deploy it with the %%lambda cell of the task.")
    amount = random.randint(1, 500)
    good = answered("charge", {"amount": amount}, hints={
        "KeyError": "the function reads a key the event does not have: the amount is in "
                    "event['amount']."}).payload
    expect_equal(good, {"charged": amount}, "for a positive amount charge should return "
                                            "{'charged': <the amount>}.")
    wanted = "ValueError: amount must be positive"
    bad = invoke("charge", {"amount": 0})
    if bad.error is None:
        raise CheckFailed("for amount 0 charge returned a result: to Lambda that is a success, "
                          "and a success never reaches an OnFailure destination. Raise "
                          "ValueError('amount must be positive').", expected=wanted,
                          found=bad.payload)
    expect_equal(f"{bad.error_type}: {bad.error.get('errorMessage')}", wanted,
                 "for an amount of 0 or less charge should raise "
                 "ValueError('amount must be positive').")
    lam = boto3.client("lambda")
    try:
        config = lam.get_function_event_invoke_config(FunctionName="charge")
    except lam.exceptions.ResourceNotFoundException:
        raise CheckFailed("charge has no configuration for asynchronous invocations yet: set "
                          "one with put_function_event_invoke_config.",
                          expected="MaximumRetryAttempts=0 and an OnFailure destination",
                          found="none") from None
    retries = config.get("MaximumRetryAttempts", 2)
    if retries != 0:
        raise CheckFailed(f"a failed event is retried {retries} time(s) before it reaches the "
                          "queue (2 when MaximumRetryAttempts is not given): the task asks "
                          "Lambda not to try a failed payment again, so set "
                          "MaximumRetryAttempts=0.", expected=0,
                          found=retries)
    destinations = config.get("DestinationConfig") or {}
    on_failure = (destinations.get("OnFailure") or {}).get("Destination")
    on_success = (destinations.get("OnSuccess") or {}).get("Destination")
    if on_failure != arn:
        if on_success == arn:
            raise CheckFailed("payments-failed is the OnSuccess destination: it would get the "
                              "payments that went through. Failures go to OnFailure.",
                              expected={"OnFailure": {"Destination": arn}}, found=destinations)
        raise CheckFailed("the OnFailure destination should be the ARN of payments-failed (a "
                          "destination is named by its ARN, not its URL).",
                          expected={"OnFailure": {"Destination": arn}}, found=destinations)
    if on_success == arn:
        raise CheckFailed("payments-failed is the OnSuccess destination too: it would also get "
                          "the payments that went through. Leave OnSuccess out.",
                          expected={"OnFailure": {"Destination": arn}}, found=destinations)
    payment = unique("payment")
    lam.invoke(FunctionName="charge", InvocationType="Event",
               Payload=json.dumps({"amount": 0, "payment": payment}))
    wait_for_async_invocations()
    records = _records(url, payment)
    if not records:
        raise CheckFailed("an asynchronous invocation with amount 0 failed, but no invocation "
                          "record reached payments-failed.", expected="one record",
                          found="none")
    record = records[0]
    context = record.get("requestContext", {})
    expect_equal((context.get("condition"), context.get("approximateInvokeCount")),
                 ("RetriesExhausted", 1), "the record should show one attempt, not retried.")


# ---------------------------------------------------------------- task 4: event source mapping
@check_function("lambda_api.queue_feeds_the_worker")
def queue_feeds_the_worker() -> None:
    """A message sent to the jobs queue ends up, through an event source mapping and
    job-worker, as an item of the jobs-done table."""
    import boto3

    url, arn = _queue(JOBS_QUEUE)
    require_table(DONE_TABLE, FIRST_CELL)
    require_function("job-worker", "Deploy it with the %%lambda cell of the task.")
    mappings = boto3.client("lambda").list_event_source_mappings(
        FunctionName="job-worker")["EventSourceMappings"]
    if not mappings:
        raise CheckFailed("nothing feeds job-worker yet: create an event source mapping from "
                          "the jobs queue, create_event_source_mapping(EventSourceArn=<the "
                          "queue's ARN>, FunctionName='job-worker').",
                          expected=f"a mapping from {arn}", found="no mapping")
    mapping = next((m for m in mappings if m.get("EventSourceArn") == arn), None)
    if mapping is None:
        raise CheckFailed("job-worker's event source mapping reads another source: it should "
                          "read the jobs queue, named by its ARN.", expected=arn,
                          found=[m.get("EventSourceArn") for m in mappings])
    if mapping.get("State") not in ("Enabled", "Enabling", "Creating"):
        raise CheckFailed("the event source mapping is not enabled: Lambda is not reading the "
                          "queue. Enable it (update_event_source_mapping(..., Enabled=True)).",
                          expected="Enabled", found=mapping.get("State"))
    table = boto3.resource("dynamodb").Table(DONE_TABLE)
    job = unique("job")
    seen = len(log_messages("job-worker"))
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody=job)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        finished = any(m.startswith("REPORT ") for m in log_messages("job-worker")[seen:])
        if table.get_item(Key={"job": job}).get("Item") is not None:
            return
        if finished:  # the invocation is over, and wrote nothing
            break
        time.sleep(0.1)
    errors = [m for m in log_messages("job-worker")[seen:] if m.startswith("[ERROR]")]
    if any("NotImplementedError" in error for error in errors):
        raise NotAttempted("job-worker still raises NotImplementedError: replace "
                           "'# YOUR CODE HERE' and the raise with your code, then run the cell "
                           "again.")
    if any("KeyError: 'body'" in error for error in errors):
        raise CheckFailed("the function looked for event['body']: the event is a batch, "
                          "{'Records': [...]}, with one record per message; the message's text "
                          "is record['body'] for each record in event['Records'].",
                          expected={"job": job}, found=errors[-1].splitlines()[0])
    if errors:
        raise CheckFailed(f"job-worker failed on the message {job!r}: fix the error in its log.",
                          expected={"job": job}, found=errors[-1].splitlines()[0])
    raise CheckFailed(f"the message {job!r} went through job-worker, but the table "
                      f"{DONE_TABLE!r} has no item {{'job': {job!r}}}: put one item per record, "
                      "with the message's body as 'job'.", expected={"job": job},
                      found="no such item")


# ---------------------------------------------------------------- task 5: custom runtime
@check_function("lambda_api.shell_runtime_answers")
def shell_runtime_answers() -> None:
    """echo-shell, a custom runtime whose bootstrap is a shell script, answers
    {"you sent": <event>, "request_id": <the request ID>}, invocation after invocation."""
    config = require_function("echo-shell", "Create it with create_function, as the task says.")
    if not config.get("Runtime", "").startswith("provided"):
        raise CheckFailed(f"echo-shell runs on {config.get('Runtime')}, a runtime Lambda "
                          "provides. A custom runtime is an OS-only runtime, "
                          "Runtime='provided.al2023', with an executable file named bootstrap "
                          "in the zip.", expected="provided.al2023", found=config.get("Runtime"))
    hints = {
        "Runtime.InvalidEntrypoint": "Lambda could not start bootstrap: it must be at the top "
                                     "of the zip, named bootstrap, executable (zip_code marks it "
                                     "so), and start with #!/bin/sh.",
        "Runtime.ExitError": "bootstrap exited: a runtime never ends by itself. After posting a "
                             "response it asks for the next event, in a loop (while true; do "
                             "... done).",
    }
    events: list[Any] = [{"word": unique("hello")}, [unique("one"), random.randint(1, 99)]]
    for event in events:
        result = answered("echo-shell", event, hints=hints)
        payload = result.payload
        if isinstance(payload, str) and payload.lstrip().startswith("{"):
            raise CheckFailed("the response is not valid JSON. The event is JSON already: put "
                              "it in as it came, with no quotes around it; only the request ID "
                              "is a string.", expected={"you sent": event,
                                                        "request_id": result.request_id},
                              found=payload)
        if not isinstance(payload, dict) or set(payload) != {"you sent", "request_id"}:
            raise CheckFailed("the response should be a JSON object with two keys, 'you sent' "
                              "and 'request_id'.", expected=["request_id", "you sent"],
                              found=sorted(payload) if isinstance(payload, dict) else payload)
        expect_equal(payload["you sent"], event, "'you sent' should be the event, as it came "
                                                 "(the body of the /invocation/next response).")
        expect_equal(payload["request_id"], result.request_id,
                     "'request_id' should be this invocation's ID: the "
                     "Lambda-Runtime-Aws-Request-Id header of the /invocation/next response.")
