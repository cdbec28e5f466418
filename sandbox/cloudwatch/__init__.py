"""CloudWatch alarms that evaluate: moto stores an alarm and never looks at its metric again;
the sandbox evaluates each metric alarm and acts on its state changes.

As CloudWatch documents them (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
AlarmThatSendsEmail.html, "Evaluating an alarm", and alarms-and-missing-data.html):

- an alarm is created in ``INSUFFICIENT_DATA`` ("Unchecked: Initial alarm creation"; moto
  starts it in ``OK``); updating an alarm keeps its state;
- each evaluation computes the alarm's statistic (``SampleCount``, ``Sum``, ``Average``,
  ``Minimum``, ``Maximum``) for each of the last ``EvaluationPeriods`` periods of ``Period``
  seconds, over the figures published with exactly the alarm's dimensions (and ``Unit``, when
  given), and compares each with ``Threshold`` by ``ComparisonOperator``; ``DatapointsToAlarm``
  (M, default ``EvaluationPeriods``) breaching datapoints out of those N put it in ``ALARM``,
  fewer in ``OK``;
- a period without data is missing, and ``TreatMissingData`` decides: ``notBreaching`` (good),
  ``breaching`` (bad), ``ignore`` (all missing: the state is kept), ``missing`` (the default:
  all missing gives ``INSUFFICIENT_DATA``);
- a state change writes ``StateReason`` / ``StateReasonData`` as CloudWatch writes them
  ("Threshold Crossed: 1 out of the last 1 datapoints [3.0 (06/12/26 10:51:00)] was greater than
  or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).") and, with
  ``ActionsEnabled``, runs the new state's actions (``AlarmActions``, ``OKActions``,
  ``InsufficientDataActions``): an SNS topic gets CloudWatch's alarm message (JSON with
  ``AlarmName``, ``NewStateValue``, ``NewStateReason``, ``OldStateValue``, ``Trigger``...) with
  the subject ``ALARM: "name" in US East (N. Virginia)``; a Lambda function is invoked
  asynchronously with the alarm's event (``alarmData``) if its policy admits
  ``lambda.alarms.cloudwatch.amazonaws.com``; ``SetAlarmState`` runs them too;
- each state change puts a "CloudWatch Alarm State Change" event (source ``aws.cloudwatch``) on
  the default event bus;
- each action is a hop in the deliveries record, kind ``cloudwatch-alarm``;
- ``DescribeAlarmHistory`` (moto has none) lists creations and updates, state changes and
  actions.

Time: the figures carry real timestamps (a handler runs in real time, and Lambda's figures are
the minutes they happened in), so a period is a real ``Period`` seconds. What the sandbox clock
speeds up is CloudWatch's cadence: CloudWatch evaluates an alarm about once a minute and a
while after the data arrives; the sandbox evaluates every simulated minute
(``clock.real_seconds(60)``, but no more often than every ``MIN_TICK`` real seconds), at once
after a ``PutMetricAlarm``, and when ``sb.settle()`` finds figures it has not evaluated yet.
So an alarm goes to ``ALARM`` moments after a failing invocation, and back to ``OK`` once its
periods have really passed.

Not evaluated (the sandbox says so in the alarm's ``StateReason``): metric math alarms
(``Metrics``), percentile statistics (``ExtendedStatistic``), anomaly detection and composite
alarms. Actions other than SNS topics and Lambda functions are recorded as ``DROPPED`` hops.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..server.deliveries import DELIVERED, DENIED, DROPPED, FAILED

if TYPE_CHECKING:
    from ..server.service import SandboxService

KIND = "cloudwatch-alarm"
CLOUDWATCH = "cloudwatch.amazonaws.com"
MIN_TICK = 0.05  # real seconds between two evaluations at the most
UNCHECKED = "Unchecked: Initial alarm creation"
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
                "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
                "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)"}
_WORDS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t)}
_running: Alarms | None = None


class Alarms:
    """The evaluator: one thread evaluating every metric alarm on the sandbox clock."""

    def __init__(self, service: SandboxService):
        self.service = service
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()  # one evaluation pass at a time
        self._seen: tuple[int, ...] = ()  # the figures and alarms the last pass evaluated
        self._thread: threading.Thread | None = None
        service.deliveries.register_busy("cloudwatch-alarms", self.busy)
        self.start()

    # ---------------------------------------------------------------- life cycle
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cloudwatch-alarms", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def reset(self) -> None:
        self.stop()
        self._seen = ()
        self.start()

    def close(self) -> None:
        self.stop()
        self.service.deliveries.unregister_busy("cloudwatch-alarms")

    def busy(self) -> bool:
        """True while figures or alarms have changed since the last evaluation began: a settle
        then sees the actions of the figures published before it."""
        if _signature() != self._seen:
            self._wake.set()
            return True
        return False

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                seen = _signature()
                self.evaluate_all()
            except Exception:  # one alarm's bug must not end the evaluator (nor hang a settle)
                logging.getLogger(__name__).exception("cloudwatch: an evaluation failed")
                seen = _signature()
            self._seen = seen
            tick = max(MIN_TICK, self.service.clock.real_seconds(60))
            self._wake.wait(tick)
            self._wake.clear()

    # ---------------------------------------------------------------- evaluation
    def evaluate_all(self, now: datetime | None = None) -> None:
        with self._lock:
            for backend, alarm in list(_alarms()):
                evaluate(backend, alarm, now or _utcnow())


def install(service: SandboxService) -> Alarms:
    global _running
    _running = Alarms(service)
    return _running


def uninstall() -> None:
    global _running
    _running = None


def _alarms() -> Iterator[tuple[Any, Any]]:
    from moto.cloudwatch.models import cloudwatch_backends

    for regions in list(cloudwatch_backends.values()):
        for backend in list(regions.values()):
            for alarm in list(backend.alarms.values()):
                yield backend, alarm


def _signature() -> tuple[int, ...]:
    """What an evaluation depends on, cheaply: how many figures and which alarms there are
    (Lambda's minute sets grow in place: their sample counts too)."""
    from moto.cloudwatch.models import cloudwatch_backends

    figures = samples = alarms = 0
    for regions in list(cloudwatch_backends.values()):
        for backend in list(regions.values()):
            figures += len(backend.metric_data)
            alarms += sum(id(alarm) for alarm in list(backend.alarms.values()))
            minutes = backend.__dict__.get("_sandbox_lambda_minutes") or {}
            samples += int(sum(datum.sample_count for datum in list(minutes.values())))
    return figures, samples, alarms


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _naive(stamp: Any) -> datetime | None:
    """moto keeps naive UTC datetimes; a PutMetricData Timestamp may arrive with a zone."""
    if isinstance(stamp, datetime):
        return stamp.astimezone(timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp
    try:
        found = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    return _naive(found)


def _statistic(name: str, figures: list[Any]) -> float:
    count = total = 0.0
    low, high = math.inf, -math.inf
    for datum in figures:
        if hasattr(datum, "sample_count"):  # a statistic set (Lambda's minutes)
            count += float(datum.sample_count)
            total += float(datum.sum)
            low, high = min(low, float(datum.min)), max(high, float(datum.max))
        else:
            count += 1
            total += float(datum.value)
            low, high = min(low, float(datum.value)), max(high, float(datum.value))
    return {"SampleCount": count, "Sum": total, "Average": total / count if count else 0.0,
            "Minimum": low, "Maximum": high}[name]


def datapoints(backend: Any, alarm: Any, now: datetime) -> list[tuple[datetime, float | None]]:
    """The alarm's last ``EvaluationPeriods`` datapoints, newest first: (period start, value or
    None when the period had no figure). Periods are aligned on multiples of ``Period``.

    The newest period is the one under way: its figures count as soon as they arrive. While it
    has none yet and the period before it has some, the range ends with that one instead: a
    period just begun is not yet a missing datapoint (CloudWatch evaluates over a range of
    recent datapoints and does not count data not yet due as missing, "Evaluating an alarm");
    so an error in a period's last moment still reaches the alarm."""
    period = int(alarm.period)
    count = int(alarm.evaluation_periods)
    epoch = datetime(1970, 1, 1)
    latest = epoch + timedelta(seconds=(int((now - epoch).total_seconds()) // period) * period)
    starts = [latest - timedelta(seconds=period * i) for i in range(count + 1)]
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    buckets: dict[datetime, list[Any]] = {start: [] for start in starts}
    oldest = starts[-1]
    for datum in list(backend.metric_data):
        if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue  # CloudWatch: each dimension set is a metric of its own
        if alarm.unit and datum.unit and datum.unit != alarm.unit:
            continue
        stamp = _naive(datum.timestamp)
        if stamp is None or stamp < oldest or stamp >= latest + timedelta(seconds=period):
            continue
        start = epoch + timedelta(seconds=(int((stamp - epoch).total_seconds()) // period)
                                  * period)
        if start in buckets:
            buckets[start].append(datum)
    if not buckets[starts[0]] and buckets[starts[1]]:
        starts = starts[1:]  # the period under way has no figure yet: not due
    else:
        starts = starts[:count]
    return [(start, _statistic(alarm.statistic, buckets[start]) if buckets[start] else None)
            for start in starts]


def _stamp(when: datetime) -> str:
    return when.strftime("%d/%m/%y %H:%M:%S")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def decide(alarm: Any, points: list[tuple[datetime, float | None]],
           now: datetime) -> tuple[str, str, str] | None:
    """(state, reason, reason data) for these datapoints, or None to keep the state."""
    words, breaches = _WORDS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    n = len(points)
    m = int(alarm.datapoints_to_alarm or n)
    treat = alarm.treat_missing_data or "missing"
    present = [(when, value) for when, value in points if value is not None]
    missing = n - len(present)
    data = {"version": "1.0", "queryDate": _iso(now),
            "startDate": _iso(points[-1][0]), "statistic": alarm.statistic,
            "period": int(alarm.period),
            "recentDatapoints": [value for _, value in reversed(present)],
            "threshold": threshold,
            "evaluatedDatapoints": [
                {"timestamp": _iso(when), **({"value": value} if value is not None else {})}
                for when, value in points]}
    if not present:
        if treat == "ignore":
            return None
        if treat == "missing":
            return ("INSUFFICIENT_DATA",
                    f"Insufficient Data: {_plural(n, 'datapoint')} "
                    f"{'was' if n == 1 else 'were'} unknown.", json.dumps(data))
        label = "Breaching" if treat == "breaching" else "NonBreaching"
        state = "ALARM" if treat == "breaching" else "OK"
        return (state, f"Threshold Crossed: no datapoints were received for "
                       f"{_plural(n, 'period')} and {_plural(missing, 'missing datapoint')} "
                       f"{'was' if missing == 1 else 'were'} treated as [{label}].",
                json.dumps(data))
    bad = [(when, value) for when, value in present if breaches(value, threshold)]
    good = [(when, value) for when, value in present if not breaches(value, threshold)]
    bad_missing = missing if treat == "breaching" else 0
    if len(bad) + bad_missing >= m:
        counted, state, verb = bad, "ALARM", ""
        minimum, transition = m, "OK -> ALARM"
        total = len(bad) + bad_missing
    else:
        counted, state, verb = good, "OK", "not "
        minimum, transition = n - m + 1, "ALARM -> OK"
        total = len(good) + (missing if treat == "notBreaching" else 0)
    listed = ", ".join(f"{value!r} ({_stamp(when)})" for when, value in counted)
    was = "was" if total == 1 else "were"
    reason = (f"Threshold Crossed: {total} out of the last {n} datapoints [{listed}] {was} "
              f"{verb}{words} the threshold ({threshold!r}) (minimum "
              f"{_plural(minimum, 'datapoint')} for {transition} transition).")
    return state, reason, json.dumps(data)


def evaluate(backend: Any, alarm: Any, now: datetime) -> None:
    if getattr(alarm, "rule", None) or alarm.metric_data_queries or not alarm.metric_name:
        _unsupported(backend, alarm, "metric math and composite alarms")
        return
    if alarm.extended_statistic or alarm.statistic not in (
            "SampleCount", "Sum", "Average", "Minimum", "Maximum"):
        _unsupported(backend, alarm, f"the statistic {alarm.extended_statistic}")
        return
    if alarm.comparison_operator not in _WORDS or not alarm.period:
        _unsupported(backend, alarm, f"the operator {alarm.comparison_operator}")
        return
    decision = decide(alarm, datapoints(backend, alarm, now), now)
    if decision is None or decision[0] == alarm.state_value:
        return
    change(backend, alarm, *decision)


def _unsupported(backend: Any, alarm: Any, what: str) -> None:
    reason = (f"Unchecked: the sandbox does not evaluate {what}; set this alarm's state "
              "with SetAlarmState to test its actions")
    if alarm.state_reason != reason and alarm.state_value == "INSUFFICIENT_DATA":
        alarm.state_reason = reason


def _remember(backend: Any, alarm_name: str, kind: str, summary: str,
              data: dict[str, Any]) -> None:
    """One item of DescribeAlarmHistory (moto has no such API). Kept per Region, so that a
    deleted alarm's history stays, as on AWS."""
    items = backend.__dict__.setdefault("_sandbox_alarm_history", [])  # gone with a reset
    items.append({"AlarmName": alarm_name, "AlarmType": "MetricAlarm",
                  "Timestamp": datetime.now(timezone.utc), "HistoryItemType": kind,
                  "HistorySummary": summary, "HistoryData": json.dumps(data)})


def _reason_data(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text


def _state_updated(backend: Any, alarm: Any, old: tuple[str, str, str]) -> None:
    _remember(backend, alarm.name, "StateUpdate",
              f"Alarm updated from {old[0]} to {alarm.state_value}",
              {"version": "1.0",
               "oldState": {"stateValue": old[0], "stateReason": old[1],
                            "stateReasonData": _reason_data(old[2])},
               "newState": {"stateValue": alarm.state_value, "stateReason": alarm.state_reason,
                            "stateReasonData": _reason_data(alarm.state_reason_data)}})


def _action_done(backend: Any, alarm: Any, action: str, error: str | None = None) -> None:
    if error is None:
        _remember(backend, alarm.name, "Action", f"Successfully executed action {action}",
                  {"actionState": "Succeeded", "notificationResource": action,
                   "stateUpdateTimestamp": _iso(alarm.state_updated_timestamp)})
    else:
        _remember(backend, alarm.name, "Action",
                  f"Failed to execute action {action}. Received error: \"{error}\"",
                  {"actionState": "Failed", "notificationResource": action, "error": error,
                   "stateUpdateTimestamp": _iso(alarm.state_updated_timestamp)})


def change(backend: Any, alarm: Any, state: str, reason: str, reason_data: str) -> None:
    """Move ``alarm`` to ``state`` and run that state's actions."""
    old = (alarm.state_value, alarm.state_reason, alarm.state_reason_data)
    alarm.update_state(reason, reason_data, state)
    if old[0] != state:
        _state_updated(backend, alarm, old)
        act(backend, alarm, old[0])


def act(backend: Any, alarm: Any, old: str) -> None:
    """A state change: its event on the default bus (whatever ActionsEnabled says: "CloudWatch
    sends events to Amazon EventBridge whenever a CloudWatch alarm ... changes alarm state",
    cloudwatch-and-eventbridge.html), then the new state's actions."""
    from ..events.bus import put_service_event

    put_service_event(backend.account_id, backend.region_name, "aws.cloudwatch",
                      "CloudWatch Alarm State Change", alarm_event_detail(alarm),
                      [alarm.alarm_arn])
    if not alarm.actions_enabled:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[alarm.state_value] or []
    for action in actions:
        if action.startswith("arn:aws:lambda:"):
            _invoke(backend, alarm, action)
        else:
            _notify(backend, alarm, old, action)


def _state_record(value: str, reason: str, reason_data: str, when: datetime) -> dict[str, Any]:
    record = {"value": value, "reason": reason, "timestamp": _iso(when)}
    if reason_data and reason_data != "{}":
        record["reasonData"] = reason_data
    return record


def alarm_event_detail(alarm: Any) -> dict[str, Any]:
    """The alarm's state change as CloudWatch describes it to EventBridge and to a Lambda
    action: name, configuration (the metric as a ``metricStat``), previous and new state."""
    history = alarm.history[-1] if alarm.history else None
    previous = (_state_record(history[3], history[1], history[2], history[4]) if history
                else _state_record("INSUFFICIENT_DATA", UNCHECKED, "",
                                   alarm.configuration_updated_timestamp))
    metric: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
        "metricStat": {"metric": {"namespace": alarm.namespace, "name": alarm.metric_name,
                                  "dimensions": {d.name: d.value for d in alarm.dimensions}},
                       "period": int(alarm.period or 0), "stat": alarm.statistic},
        "returnData": True}
    configuration: dict[str, Any] = {"metrics": [metric]}
    if alarm.description:
        configuration["description"] = alarm.description
    return {"alarmName": alarm.name, "state": _state_record(
                alarm.state_value, alarm.state_reason, alarm.state_reason_data,
                alarm.state_updated_timestamp),
            "previousState": previous, "configuration": configuration}


LAMBDA_ACTIONS = "lambda.alarms.cloudwatch.amazonaws.com"


def _invoke(backend: Any, alarm: Any, action: str) -> None:
    """A Lambda action: an asynchronous invocation with the alarm's event, if the function's
    policy admits lambda.alarms.cloudwatch.amazonaws.com (alarms-and-actions-Lambda.html)."""
    from moto.awslambda.models import lambda_backends

    from .. import iam

    service = _running.service if _running is not None else None
    event_id = str(uuid.uuid4())
    if service is None:
        return
    parts = action.split(":")
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(
            parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:  # moto's own not-found errors: AWS does not invoke either
        service.deliveries.record(alarm.alarm_arn, action, event_id, FAILED, kind=KIND,
                                  detail=f"Function not found: {action}")
        _action_done(backend, alarm, action, "Function not found")
        return
    if not iam.service_may(LAMBDA_ACTIONS, "lambda:InvokeFunction", action,
                           source_arn=alarm.alarm_arn, source_account=backend.account_id,
                           source=KIND):
        service.deliveries.record(
            alarm.alarm_arn, action, event_id, DENIED, kind=KIND,
            detail=f"the policy of {action} does not allow {LAMBDA_ACTIONS} to invoke it "
                   "(add_permission with that principal and the alarm as SourceArn)")
        _action_done(backend, alarm, action, "CloudWatch Alarms is not authorized to invoke "
                     "this function")
        return
    payload = {"source": "aws.cloudwatch", "alarmArn": alarm.alarm_arn,
               "accountId": backend.account_id, "time": _iso(alarm.state_updated_timestamp),
               "region": backend.region_name, "alarmData": alarm_event_detail(alarm)}
    service.lambda_runtime.async_invoker.submit(fn, json.dumps(payload).encode(), event_id,
                                                action)
    service.deliveries.record(alarm.alarm_arn, action, event_id, DELIVERED, kind=KIND,
                              detail=f"invoked asynchronously ({alarm.state_value})")
    _action_done(backend, alarm, action)


def message(backend: Any, alarm: Any, old: str) -> dict[str, Any]:
    """CloudWatch's alarm notification, as an SNS subscriber receives it."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": backend.account_id,
        "AlarmConfigurationUpdatedTimestamp": _iso(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _iso(alarm.state_updated_timestamp),
        "Region": REGION_NAMES.get(backend.region_name, backend.region_name),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic or "").upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": int(alarm.period or 0),
            "EvaluationPeriods": int(alarm.evaluation_periods or 0),
            "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods or 0),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold or 0),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        },
    }


def _notify(backend: Any, alarm: Any, old: str, action: str) -> None:
    from moto.sns.models import sns_backends

    from .. import iam

    service = _running.service if _running is not None else None
    record: Callable[..., Any] = (service.deliveries.record if service is not None
                                  else lambda *a, **k: None)
    event_id = str(uuid.uuid4())
    if not action.startswith("arn:aws:sns:"):
        record(alarm.alarm_arn, action, event_id, DROPPED, kind=KIND,
               detail="the sandbox runs alarm actions on SNS topics and Lambda functions only")
        _action_done(backend, alarm, action, "the sandbox does not run this kind of action")
        return
    _, _, _, region, account, _ = action.split(":", 5)
    topics = sns_backends[account][region].topics
    if action not in topics:
        record(alarm.alarm_arn, action, event_id, FAILED, kind=KIND,
               detail=f"Topic does not exist: {action}")
        _action_done(backend, alarm, action, "Topic does not exist")
        return
    # An alarm notifies a topic of its own account under the topic's default policy (the
    # console's alarm wizard makes such a topic); another account's topic must admit
    # cloudwatch.amazonaws.com in its policy.
    if account != backend.account_id and not iam.service_may(
            CLOUDWATCH, "sns:Publish", action, source_arn=alarm.alarm_arn,
            source_account=backend.account_id, source=KIND):
        record(alarm.alarm_arn, action, event_id, DENIED, kind=KIND,
               detail=f"the policy of {action} does not allow {CLOUDWATCH} to sns:Publish")
        _action_done(backend, alarm, action, "CloudWatch Alarms is not authorized to publish "
                     "to this topic")
        return
    region_name = REGION_NAMES.get(backend.region_name, backend.region_name)
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name}'[:100]
    try:
        message_id = sns_backends[account][region].publish(
            json.dumps(message(backend, alarm, old)), arn=action, subject=subject)
    except Exception as error:  # a FIFO topic, a deleted topic meanwhile
        record(alarm.alarm_arn, action, event_id, FAILED, kind=KIND, detail=str(error))
        _action_done(backend, alarm, action, str(error))
        return
    record(alarm.alarm_arn, action, str(message_id), DELIVERED, kind=KIND,
           detail=f"{old} -> {alarm.state_value}")
    _action_done(backend, alarm, action)


# ---------------------------------------------------------------- seams (sandbox/seams.py)
def creating(original: Callable[..., Any]) -> Callable[..., Any]:
    """PutMetricAlarm: a new alarm starts in INSUFFICIENT_DATA; an updated one keeps its state;
    the evaluator looks at it at once."""
    def put_metric_alarm(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        before = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        if before is not None:
            alarm.state_value, alarm.state_reason = before.state_value, before.state_reason
            alarm.state_reason_data = before.state_reason_data
            alarm.state_updated_timestamp = before.state_updated_timestamp
            alarm.history = before.history
        else:
            alarm.state_value, alarm.state_reason = "INSUFFICIENT_DATA", UNCHECKED
        _remember(self, name, "ConfigurationUpdate",
                  f'Alarm "{name}" {"updated" if before is not None else "created"}',
                  {"version": "1.0", "type": "Update" if before is not None else "Create"})
        if _running is not None:
            _running.wake()
        return alarm

    return put_metric_alarm


def setting(original: Callable[..., Any]) -> Callable[..., Any]:
    """SetAlarmState: "When the updated state differs from the previous value, the action
    configured for the appropriate state is invoked" (API_SetAlarmState.html); moto only sets
    it."""
    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str,
                        state_value: str) -> None:
        alarm = self.alarms.get(alarm_name)
        old = (alarm.state_value, alarm.state_reason, alarm.state_reason_data) \
            if alarm is not None else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is not None and old is not None and old[0] != state_value:
            _state_updated(self, alarm, old)
            act(self, alarm, old[0])

    return set_alarm_state



def describe_alarm_history(self: Any) -> Any:
    """DescribeAlarmHistory (moto has none): the items the sandbox remembered, newest first
    unless ``ScanBy=TimestampAscending``, filtered by ``AlarmName``, ``AlarmTypes``,
    ``HistoryItemType``, ``StartDate`` and ``EndDate``, at most ``MaxRecords`` (100)."""
    from moto.core.responses import ActionResult

    backend = self.cloudwatch_backend
    items = list(backend.__dict__.get("_sandbox_alarm_history", []))
    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    types = self._get_param("AlarmTypes", [])
    start, end = _naive(self._get_param("StartDate")), _naive(self._get_param("EndDate"))
    found = []
    for item in items:
        stamp = _naive(item["Timestamp"])
        if name and item["AlarmName"] != name or kind and item["HistoryItemType"] != kind:
            continue
        if types and item["AlarmType"] not in types:
            continue
        if stamp is not None and (start and stamp < start or end and stamp > end):
            continue
        found.append(item)
    if self._get_param("ScanBy") != "TimestampAscending":
        found.reverse()
    limit = int(self._get_param("MaxRecords") or 100)
    return ActionResult({"AlarmHistoryItems": found[:limit]})
