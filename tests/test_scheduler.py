"""EventBridge Scheduler: schedules fire on the sandbox's clock and invoke their targets as
their execution role, as the EventBridge Scheduler User Guide describes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import botocore.exceptions
import pytest

from sandbox.testing import deploy, execution_role

ACCOUNT = "123456789012"
REGION = "us-east-1"
SCHEDULE_ARN = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/"


def _scheduler_role(name: str, *actions: str) -> str:
    """"Set up the execution role": trusted by scheduler.amazonaws.com, allowed ``actions``."""
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    if actions:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
    return str(arn)


def _queue(name: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def _bodies(url: str, expect: int) -> list[str]:
    sqs, found = boto3.client("sqs"), []
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        found += got
        if len(found) >= expect or not got:
            break
    return [m["Body"] for m in found]


def _schedule(name: str, expression: str, target: dict, **options: object) -> str:
    options.setdefault("FlexibleTimeWindow", {"Mode": "OFF"})
    return str(boto3.client("scheduler").create_schedule(
        Name=name, ScheduleExpression=expression, Target=target, **options)["ScheduleArn"])


@pytest.fixture
def manual(sb):
    """Schedules fire only when told (schedules.fire): counts are exact."""
    sb.admin.call("schedules.automatic", {"on": False})
    return sb


def test_sqs_target_gets_the_input_with_context_attributes(manual):
    """Templated SQS target: the message body is Input, with <aws.scheduler.*> context
    attributes filled in ("Adding context attributes")."""
    url, queue = _queue("jobs")
    role = _scheduler_role("to-sqs", "sqs:SendMessage")
    _schedule("every-hour", "rate(1 hour)", {
        "Arn": queue, "RoleArn": role,
        "Input": '{"schedule": "<aws.scheduler.schedule-arn>", '
                 '"at": "<aws.scheduler.scheduled-time>", '
                 '"run": "<aws.scheduler.execution-id>"}'})
    fired = manual.admin.call("schedules.fire", {"schedule": "every-hour", "count": 2})
    assert manual.settle(timeout=10)
    bodies = sorted((json.loads(b) for b in _bodies(url, 2)), key=lambda b: b["at"])
    assert [b["at"] for b in bodies] == [f["time"] for f in fired]
    assert {b["schedule"] for b in bodies} == {SCHEDULE_ARN + "every-hour"}
    assert sorted(b["run"] for b in bodies) == sorted(f["result"] for f in fired)
    first, second = (datetime.fromisoformat(f["time"].replace("Z", "+00:00")) for f in fired)
    assert second - first == timedelta(hours=1)


def test_a_role_that_may_not_send_is_denied_and_dead_lettered(manual):
    """The execution role decides; a permission failure is not retried and goes to the
    dead-letter queue (sent as the role) with ERROR_CODE and the schedule's ARN."""
    url, queue = _queue("jobs2")
    dlq_url, dlq = _queue("dlq")
    role = _scheduler_role("only-dlq", "sqs:GetQueueUrl")
    boto3.client("iam").put_role_policy(RoleName="only-dlq", PolicyName="dlq", PolicyDocument=
        json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq}]}))
    _schedule("denied", "rate(5 minutes)", {"Arn": queue, "RoleArn": role, "Input": "hi",
                                            "DeadLetterConfig": {"Arn": dlq}})
    [fired] = manual.admin.call("schedules.fire", {"schedule": "denied"})
    assert manual.settle(timeout=10)
    assert _bodies(url, 1) == []
    hops = manual.admin.trace(fired["result"])
    assert [(h["kind"], h["outcome"]) for h in hops] == [("scheduler", "denied"),
                                                         ("scheduler", "dead-lettered")]
    message = boto3.client("sqs").receive_message(
        QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"][0]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["SCHEDULE_ARN"] == SCHEDULE_ARN + "denied"
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS" and message["Body"] == "hi"


def test_lambda_target_is_invoked_asynchronously_as_the_role(manual):
    arn = deploy("tick", "def handler(event, context):\n    print('TICK', event)\n",
                 Role=execution_role("tick-role"))
    role = _scheduler_role("invoke-tick", "lambda:InvokeFunction")
    _schedule("ticker", "cron(0 9 * * ? *)", {"Arn": arn, "RoleArn": role,
                                              "Input": '{"n": 1}'},
              ScheduleExpressionTimezone="Europe/Paris")
    [fired] = manual.admin.call("schedules.fire", {"schedule": "ticker"})
    assert fired["time"].endswith(("T08:00:00Z", "T07:00:00Z"))  # 09:00 in Paris, winter/summer
    assert manual.settle(timeout=20)
    logs = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/tick")
    assert any("TICK {'n': 1}" in e["message"] for e in logs["events"])


def test_eventbridge_target_puts_an_event_with_the_schedules_detail_type(manual):
    """The EventBridge PutEvents target: EventBridgeParameters give DetailType and Source,
    Input is the detail."""
    events = boto3.client("events")
    url, queue = _queue("from-schedule")
    rule = events.put_rule(Name="reports", EventPattern=json.dumps(
        {"source": ["reports"]}))["RuleArn"]
    events.put_targets(Rule="reports", Targets=[{"Id": "q", "Arn": queue}])
    boto3.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule}}}]})})
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    role = _scheduler_role("put-events", "events:PutEvents")
    _schedule("report", "rate(1 day)", {
        "Arn": bus, "RoleArn": role, "Input": '{"kind": "daily"}',
        "EventBridgeParameters": {"DetailType": "Report Due", "Source": "reports"}})
    manual.admin.call("schedules.fire", {"schedule": "report"})
    assert manual.settle(timeout=10)
    [body] = [json.loads(b) for b in _bodies(url, 1)]
    assert body["detail-type"] == "Report Due" and body["detail"] == {"kind": "daily"}


def test_a_one_time_schedule_fires_once_and_deletes_itself_after_completion(manual):
    """at() fires once; ActionAfterCompletion DELETE removes the schedule afterwards."""
    url, queue = _queue("once")
    role = _scheduler_role("once", "sqs:SendMessage")
    when = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    _schedule("once", f"at({when})", {"Arn": queue, "RoleArn": role, "Input": "x"},
              ActionAfterCompletion="DELETE")
    fired = manual.admin.call("schedules.fire", {"schedule": "once", "count": 5})
    assert [f["time"] for f in fired] == [when + "Z"]
    manual.admin.call("schedules.automatic", {"on": True})  # lets the timer see it complete
    scheduler = boto3.client("scheduler")
    for _ in range(200):
        names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
        if "once" not in names:
            break
        manual.clock.sleep(60)  # a simulated minute: the timer ticks meanwhile
    assert "once" not in names
    assert manual.settle(timeout=10)
    assert _bodies(url, 1) == ["x"]


def test_start_and_end_dates_bound_the_occurrences(manual):
    url, queue = _queue("bounded")
    role = _scheduler_role("bounded", "sqs:SendMessage")
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    _schedule("bounded", "rate(1 hour)", {"Arn": queue, "RoleArn": role},
              StartDate=start, EndDate=start + timedelta(hours=2, minutes=30))
    fired = manual.admin.call("schedules.fire", {"schedule": "bounded", "count": 10})
    assert [f["time"] for f in fired] == [
        (start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(3)]


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "cron(0 9 * * * *)", "daily"])
def test_invalid_expressions_are_refused(sb, expression):
    with pytest.raises(botocore.exceptions.ClientError, match="ValidationException"):
        _schedule("bad", expression, {"Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                                      "RoleArn": "arn:aws:iam::123456789012:role/r"})


def test_schedules_lists_each_schedule_and_its_next_occurrence(manual):
    _, queue = _queue("listed")
    _schedule("listed", "rate(10 minutes)", {"Arn": queue, "RoleArn": _scheduler_role("l")})
    found = manual.admin.call("schedules")
    assert found["automatic"] is False
    [entry] = [s for s in found["schedules"] if s["arn"] == SCHEDULE_ARN + "listed"]
    assert entry["expression"] == "rate(10 minutes)" and entry["next"]


def test_sns_and_step_functions_targets(manual):
    """Templated SNS (Publish) and Step Functions (StartExecution) targets, each as the role;
    a FlexibleTimeWindow delays the invocation within the window, it does not drop it."""
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url, queue = _queue("alerts-sub")
    boto3.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue,
                  Attributes={"RawMessageDelivery": "true"})
    machine = boto3.client("stepfunctions").create_state_machine(
        name="nightly", roleArn=execution_role("nightly-sfn", service="states.amazonaws.com"),
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    )["stateMachineArn"]
    role = _scheduler_role("publisher", "sns:Publish", "states:StartExecution")
    _schedule("alert", "rate(1 hour)", {"Arn": topic, "RoleArn": role, "Input": "wake up"},
              FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
    _schedule("nightly", "cron(0 2 * * ? *)", {"Arn": machine, "RoleArn": role,
                                               "Input": '{"job": "<aws.scheduler.execution-id>"}'})
    manual.admin.call("schedules.fire", {"schedule": "alert"})
    [run] = manual.admin.call("schedules.fire", {"schedule": "nightly"})
    assert manual.settle(timeout=20)
    assert _bodies(url, 1) == ["wake up"]
    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=machine)["executions"]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"job": run["result"]}


def test_universal_target_calls_the_api_as_the_role(manual):
    """A universal target (arn:aws:scheduler:::aws-sdk:<service>:<action>) makes the API call
    with Input as its parameters, as the role ("Using universal targets"): IAM decides it."""
    url, queue = _queue("universal")
    allowed = _scheduler_role("universal-ok", "sqs:SendMessage")
    refused = _scheduler_role("universal-no", "sqs:GetQueueUrl")
    target = {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
              "Input": json.dumps({"QueueUrl": url, "MessageBody": "from the SDK"})}
    _schedule("sdk-ok", "rate(1 hour)", {**target, "RoleArn": allowed})
    _schedule("sdk-no", "rate(1 hour)", {**target, "RoleArn": refused})
    manual.admin.call("schedules.fire", {"schedule": "sdk-ok"})
    [denied] = manual.admin.call("schedules.fire", {"schedule": "sdk-no"})
    assert manual.settle(timeout=20)
    assert _bodies(url, 2) == ["from the SDK"]
    assert [h["outcome"] for h in manual.admin.trace(denied["result"])] == ["denied", "dropped"]


def test_reset_forgets_schedules_and_turns_automatic_firing_back_on(manual):
    _, queue = _queue("forgotten")
    _schedule("forgotten", "rate(1 hour)", {"Arn": queue, "RoleArn": _scheduler_role("f")})
    manual.reset()
    found = manual.admin.call("schedules")
    assert found["automatic"] is True and found["schedules"] == []
