"""EventBridge Scheduler: moto stores schedules; the sandbox makes them fire.

Each schedule (``at()``, ``rate()``, ``cron()`` read in its ``ScheduleExpressionTimezone``,
between its ``StartDate`` and ``EndDate``) fires on the schedules' simulated time
(``sandbox/events/timer.py``, which also says how a notebook controls it). Each occurrence
invokes the schedule's templated target (Lambda asynchronously, SQS, SNS, Step Functions,
EventBridge ``PutEvents``; a universal target ``arn:aws:scheduler:::aws-sdk:<service>:<action>``
makes that API call with ``Input`` as its parameters) as the target's ``RoleArn``, which must trust
``scheduler.amazonaws.com`` and allow the action ("Set up the execution role", EventBridge
Scheduler User Guide). ``Input`` is what the target receives (``{}`` without one), with the
context attributes ``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.scheduled-time>``,
``<aws.scheduler.execution-id>`` and ``<aws.scheduler.attempt-number>`` filled in. A
``FlexibleTimeWindow`` of N minutes delays each invocation by a random time within it; a failed
invocation is retried by the target's ``RetryPolicy`` and then sent to its
``DeadLetterConfig`` queue; ``ActionAfterCompletion: DELETE`` deletes a schedule that has no
occurrence left. Hops are recorded with kind ``scheduler``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..events.schedules import ExpressionError, Schedule
from ..events.targets import Delivery
from ..events.timer import Entry
from ..events.transform import fill, iso

if TYPE_CHECKING:
    from ..events import EventBridge
    from ..server.service import SandboxService


class Scheduler:
    """Scheduler's part of the schedules' timer (the EventBridge extension owns the timer)."""

    def __init__(self, service: SandboxService):
        self.service = service
        self.events: EventBridge = service.extensions["events"]  # type: ignore[assignment]
        self.events.timer.providers.append(_schedules)

    def reset(self) -> None:
        pass  # the timer and the queue are EventBridge's, which resets them

    def close(self) -> None:
        if _schedules in self.events.timer.providers:
            self.events.timer.providers.remove(_schedules)


def install(service: SandboxService) -> Scheduler:
    return Scheduler(service)


def uninstall() -> None:
    pass


def _date(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), timezone.utc)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except ValueError:
        found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def _schedules() -> Iterator[Entry]:
    from moto.scheduler.models import scheduler_backends

    for account, regions in list(scheduler_backends.items()):
        for region, backend in list(regions.items()):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    yield Entry(
                        schedule.arn, schedule.schedule_expression,
                        schedule.schedule_expression_timezone or "UTC",
                        _firing(account, region, schedule), start=_date(schedule.start_date),
                        end=_date(schedule.end_date), enabled=schedule.state == "ENABLED",
                        on_complete=_completing(backend, group.name, schedule))


def _completing(backend: Any, group: str, schedule: Any) -> Any:
    def complete() -> None:
        if schedule.action_after_completion == "DELETE":
            try:
                backend.delete_schedule(group, schedule.name)
            except Exception:  # deleted meanwhile
                pass

    return complete


def _firing(account: str, region: str, schedule: Any) -> Any:
    def fire(when: datetime) -> str:
        from ..events import _running
        from ..events.bus import make_event
        from ..events.delivery import deliver

        extension = _running
        execution_id = str(uuid.uuid4())
        target = dict(schedule.target)
        context = {"aws.scheduler.schedule-arn": schedule.arn,
                   "aws.scheduler.scheduled-time": iso(when.timestamp()),
                   "aws.scheduler.execution-id": execution_id,
                   "aws.scheduler.attempt-number": "1"}
        text = target.get("Input")
        payload = fill(text, context) if text is not None else "{}"
        if ":event-bus/" in str(target.get("Arn", "")):  # EventBridge PutEvents
            parameters = target.get("EventBridgeParameters") or {}
            detail = payload if payload.lstrip().startswith("{") else json.dumps(
                {"input": payload})
            payload = json.dumps(make_event(account, region, {
                "Source": parameters.get("Source", "aws.scheduler"),
                "DetailType": parameters.get("DetailType", "Scheduled Event"),
                "Detail": detail, "Resources": [schedule.arn]}))
        if extension is None:
            return execution_id
        delivery = Delivery(schedule.arn, account, region, target, context, execution_id,
                            payload, kind="scheduler")
        window = schedule.flexible_time_window or {}
        delay = 0.0
        if window.get("Mode") == "FLEXIBLE":
            delay = random.uniform(0, 60 * float(window.get("MaximumWindowInMinutes", 0)))
        extension.dispatcher.later(delay, lambda: deliver(extension.dispatcher, delivery))
        return execution_id

    return fire


# ---------------------------------------------------------------------- the seams
def create_schedule(original: Any) -> Any:
    """``EventBridgeSchedulerBackend.create_schedule``: refuse an expression or a time zone
    Scheduler refuses (moto stores anything)."""
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        _validate(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        return original(self, *args, **kwargs)

    return create


def update_schedule(original: Any) -> Any:
    def update(self: Any, *args: Any, **kwargs: Any) -> Any:
        _validate(kwargs.get("schedule_expression"), kwargs.get("schedule_expression_timezone"))
        return original(self, *args, **kwargs)

    return update


def _validate(expression: Any, zone: Any) -> None:
    from moto.scheduler.exceptions import ValidationException

    try:
        Schedule(str(expression or ""), str(zone or "UTC"))
    except ExpressionError as error:
        raise ValidationException(message=f"Invalid Schedule Expression {expression}. "
                                  f"{error}") from None
