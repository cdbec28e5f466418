"""CloudWatch alarms evaluate their metric and act on a state change, as CloudWatch documents it:
docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html ("Evaluating
an alarm"), .../alarms-and-missing-data.html (TreatMissingData), and
.../APIReference/API_SetAlarmState.html (SetAlarmState runs the new state's actions)."""

import json
from datetime import datetime, timedelta, timezone

import boto3

from sandbox.testing import deploy

FAILS = "def handler(event, context):\n    raise ValueError('no')\n"
DAY = 86400  # a day's period: the test's datapoints stay in their periods while it runs


def _alarm(name, **extra):
    settings = dict(AlarmName=name, Namespace="Shop", MetricName="Refunds", Statistic="Sum",
                    Period=DAY, EvaluationPeriods=1, Threshold=1.0,
                    ComparisonOperator="GreaterThanOrEqualToThreshold")
    settings.update(extra)
    boto3.client("cloudwatch").put_metric_alarm(**settings)


def _state(name):
    return boto3.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def _put(value, days_ago=0):
    when = datetime.now(timezone.utc) - timedelta(days=days_ago)
    boto3.client("cloudwatch").put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Refunds", "Value": value, "Timestamp": when}])


def _queue_on_topic(name):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    # SNS delivers to a queue whose policy admits the topic
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, url


def _messages(url):
    found = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def test_a_new_alarm_starts_unchecked_and_without_data_has_insufficient_data(sb):
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="quiet", Namespace="Shop", MetricName="Refunds", Statistic="Sum",
        Period=DAY, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold", ActionsEnabled=False)
    # CloudWatch creates an alarm in INSUFFICIENT_DATA (moto alone says OK)
    first = _state("quiet")
    assert first["StateValue"] == "INSUFFICIENT_DATA"
    assert sb.settle(timeout=30)
    after = _state("quiet")
    assert after["StateValue"] == "INSUFFICIENT_DATA"  # missing data, treated as missing
    assert after["StateReason"] in ("Unchecked: Initial alarm creation",
                                    "Insufficient Data: 1 datapoint was unknown.")


def test_a_failing_function_puts_its_errors_alarm_in_alarm_and_notifies_the_topic(sb):
    deploy("payments", FAILS)
    topic, url = _queue_on_topic("oncall")
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName="payments-errors", Namespace="AWS/Lambda", MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "payments"}], Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        AlarmActions=[topic])
    boto3.client("lambda").invoke(FunctionName="payments", Payload=b"{}")
    assert sb.settle(timeout=30)
    alarm = _state("payments-errors")
    assert alarm["StateValue"] == "ALARM", alarm["StateReason"]
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
    assert alarm["StateReason"].endswith(
        "was greater than or equal to the threshold (1.0) "
        "(minimum 1 datapoint for OK -> ALARM transition).")
    data = json.loads(alarm["StateReasonData"])
    assert data["recentDatapoints"] == [1.0] and data["threshold"] == 1.0
    notes = _messages(url)
    assert len(notes) == 1
    assert notes[0]["Subject"] == 'ALARM: "payments-errors" in US East (N. Virginia)'
    body = json.loads(notes[0]["Message"])
    assert body["NewStateValue"] == "ALARM"
    assert body["OldStateValue"] in ("INSUFFICIENT_DATA", "OK")
    assert body["NewStateReason"] == alarm["StateReason"]
    assert body["Trigger"]["MetricName"] == "Errors"
    assert body["Trigger"]["Statistic"] == "SUM"
    assert body["Trigger"]["Dimensions"] == [{"value": "payments", "name": "FunctionName"}]
    hops = [h for h in sb.admin.deliveries(since=0) if h["kind"] == "cloudwatch-alarm"]
    assert [(h["target"], h["outcome"]) for h in hops] == [(topic, "delivered")]
    assert hops[0]["source"] == alarm["AlarmArn"]


def test_datapoints_to_alarm_counts_breaching_periods_out_of_the_evaluation_periods(sb):
    # three days' sums, newest first: 5, 0, 5 -- two of the last three breach
    _put(5, days_ago=0)
    _put(0, days_ago=1)
    _put(5, days_ago=2)
    _alarm("two-of-three", EvaluationPeriods=3, DatapointsToAlarm=2)
    _alarm("three-of-three", EvaluationPeriods=3, DatapointsToAlarm=3)
    assert sb.settle(timeout=30)
    two = _state("two-of-three")
    assert two["StateValue"] == "ALARM"
    assert two["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints")
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in two["StateReason"]
    three = _state("three-of-three")
    assert three["StateValue"] == "OK"
    assert three["StateReason"].startswith("Threshold Crossed: 1 out of the last 3 datapoints "
                                           "[0.0 (")
    assert "was not greater than or equal to the threshold (1.0)" in three["StateReason"]


def test_treat_missing_data_decides_a_period_without_data(sb):
    _alarm("missing-missing")
    _alarm("missing-good", TreatMissingData="notBreaching")
    _alarm("missing-bad", TreatMissingData="breaching")
    _alarm("missing-ignored", TreatMissingData="ignore")
    assert sb.settle(timeout=30)
    assert _state("missing-missing")["StateValue"] == "INSUFFICIENT_DATA"
    good = _state("missing-good")
    assert good["StateValue"] == "OK"
    assert good["StateReason"] == ("Threshold Crossed: no datapoints were received for 1 period "
                                   "and 1 missing datapoint was treated as [NonBreaching].")
    assert _state("missing-bad")["StateValue"] == "ALARM"
    ignored = _state("missing-ignored")  # ignore keeps the state it had: the initial one
    assert ignored["StateValue"] == "INSUFFICIENT_DATA"
    assert ignored["StateReason"] == "Unchecked: Initial alarm creation"


def test_the_alarm_returns_to_ok_when_the_metric_is_back_within_the_threshold(sb):
    _put(3)
    _alarm("refunds", ComparisonOperator="GreaterThanThreshold", Threshold=10.0,
           Statistic="Maximum")
    assert sb.settle(timeout=30)
    assert _state("refunds")["StateValue"] == "OK"
    _put(12)
    assert sb.settle(timeout=30)
    alarm = _state("refunds")
    assert alarm["StateValue"] == "ALARM"
    assert "[12.0 (" in alarm["StateReason"]


def test_updating_an_alarm_keeps_its_state(sb):
    _put(5)
    _alarm("kept")
    assert sb.settle(timeout=30)
    assert _state("kept")["StateValue"] == "ALARM"
    _alarm("kept", AlarmDescription="now with a description", ActionsEnabled=False)
    assert _state("kept")["StateValue"] == "ALARM"


def test_set_alarm_state_runs_the_new_states_actions(sb):
    topic, url = _queue_on_topic("drill")
    _alarm("drill", TreatMissingData="ignore", AlarmActions=[topic], OKActions=[topic])
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName="drill", StateValue="ALARM",
                               StateReason="testing the pager")
    assert sb.settle(timeout=30)
    notes = _messages(url)
    assert [json.loads(n["Message"])["NewStateReason"] for n in notes] == ["testing the pager"]


def test_disabled_actions_change_the_state_but_notify_no_one(sb):
    topic, url = _queue_on_topic("muted")
    _put(5)
    _alarm("muted", AlarmActions=[topic], ActionsEnabled=False)
    assert sb.settle(timeout=30)
    assert _state("muted")["StateValue"] == "ALARM"
    assert _messages(url) == []


def test_a_state_change_is_an_eventbridge_event(sb):
    """"CloudWatch sends events to Amazon EventBridge whenever a CloudWatch alarm ... changes
    alarm state" (cloudwatch-and-eventbridge.html), actions enabled or not."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="alarm-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    rule = events.put_rule(Name="alarms", EventPattern=json.dumps({
        "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule["RuleArn"]}}}]})})
    events.put_targets(Rule="alarms", Targets=[{"Id": "queue", "Arn": arn}])
    _put(5)
    _alarm("evented", ActionsEnabled=False, AlarmDescription="refunds pile up")
    assert sb.settle(timeout=30)
    found = _messages(url)
    assert len(found) == 1
    event = found[0]
    assert event["source"] == "aws.cloudwatch"
    assert event["resources"] == [_state("evented")["AlarmArn"]]
    detail = event["detail"]
    assert detail["alarmName"] == "evented"
    assert detail["state"]["value"] == "ALARM"
    assert detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert detail["configuration"]["description"] == "refunds pile up"
    stat = detail["configuration"]["metrics"][0]["metricStat"]
    assert stat == {"metric": {"namespace": "Shop", "name": "Refunds", "dimensions": {}},
                    "period": DAY, "stat": "Sum"}


def test_a_lambda_action_invokes_the_function_its_policy_admits(sb):
    """A Lambda action needs the function's policy to admit
    lambda.alarms.cloudwatch.amazonaws.com (alarms-and-actions-Lambda.html)."""
    arn = deploy("on-alarm", "import json\ndef handler(event, context):\n"
                             "    print(json.dumps(event))\n")
    _put(5)
    _alarm("refused", AlarmActions=[arn])
    assert sb.settle(timeout=30)
    hops = [h for h in sb.admin.deliveries(since=0) if h["kind"] == "cloudwatch-alarm"]
    assert [h["outcome"] for h in hops] == ["denied"]
    alarm_arn = _state("refused")["AlarmArn"].replace(":refused", ":admitted")
    boto3.client("lambda").add_permission(
        FunctionName="on-alarm", StatementId="alarm", Action="lambda:InvokeFunction",
        Principal="lambda.alarms.cloudwatch.amazonaws.com", SourceArn=alarm_arn)
    _alarm("admitted", AlarmActions=[arn])
    assert sb.settle(timeout=30)
    logs = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/on-alarm")
    payloads = [json.loads(e["message"]) for e in logs["events"]
                if e["message"].startswith("{")]
    assert len(payloads) == 1
    payload = payloads[0]
    assert payload["source"] == "aws.cloudwatch" and payload["alarmArn"] == alarm_arn
    assert payload["alarmData"]["alarmName"] == "admitted"
    assert payload["alarmData"]["state"]["value"] == "ALARM"


def test_the_alarm_history_lists_creation_state_changes_and_actions(sb):
    """DescribeAlarmHistory: ConfigurationUpdate, StateUpdate and Action items, newest first
    (API_DescribeAlarmHistory.html)."""
    topic, _ = _queue_on_topic("history")
    _put(5)
    _alarm("remembered", AlarmActions=[topic])
    assert sb.settle(timeout=30)
    cloudwatch = boto3.client("cloudwatch")
    items = cloudwatch.describe_alarm_history(AlarmName="remembered")["AlarmHistoryItems"]
    assert [i["HistoryItemType"] for i in items] == ["Action", "StateUpdate",
                                                    "ConfigurationUpdate"]
    assert items[0]["HistorySummary"] == f"Successfully executed action {topic}"
    assert items[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    data = json.loads(items[1]["HistoryData"])
    assert data["oldState"]["stateValue"] == "INSUFFICIENT_DATA"
    assert data["newState"]["stateValue"] == "ALARM"
    assert data["newState"]["stateReasonData"]["recentDatapoints"] == [5.0]
    assert items[2]["HistorySummary"] == 'Alarm "remembered" created'
    updates = cloudwatch.describe_alarm_history(AlarmName="remembered",
                                                HistoryItemType="StateUpdate",
                                                ScanBy="TimestampAscending")
    assert len(updates["AlarmHistoryItems"]) == 1


def test_a_period_just_begun_is_not_yet_missing(sb):
    """The period under way has no figure yet: the range ends with the last period that has
    one, so a figure from the end of the previous period still alarms (and an alarm does not
    flap to OK the moment a period begins)."""
    _put(5, days_ago=1)  # yesterday's period has the figure; today's has none yet
    _alarm("yesterday", TreatMissingData="notBreaching")
    assert sb.settle(timeout=30)
    assert _state("yesterday")["StateValue"] == "ALARM"
    _put(0)  # today's first figure: today's period is evaluated now
    assert sb.settle(timeout=30)
    assert _state("yesterday")["StateValue"] == "OK"
