"""EventBridge: what the sandbox adds to moto's EventBridge.

- ``bus``: ``PutEvents`` validated and answered per entry as AWS does, each event routed in the
  background to the enabled rules it matches; events AWS services put on the default bus
  (``put_service_event``); ``TestEventPattern``;
- ``patterns``: event patterns with every documented operator;
- ``targets`` and ``transform``: delivery to Lambda, SQS (FIFO too), SNS, Step Functions,
  Kinesis, another bus, a log group, an API destination or an API Gateway stage, with ``Input``,
  ``InputPath`` or ``InputTransformer``, each decided by IAM;
- ``delivery``: the queue, the retry policy on the sandbox's clock, dead-letter queues, the hops;
- ``schedules`` and ``timer``: ``rate()``/``cron()`` rules (and EventBridge Scheduler's
  schedules, ``sandbox/scheduler``) firing on the sandbox's clock.

Each moto hook is a row of ``sandbox/seams.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import BadArgumentError
from ..server.admin import operation
from .delivery import Dispatcher, deliver
from .targets import Delivery
from .timer import Entry, Timer
from .transform import iso, target_input

if TYPE_CHECKING:
    from ..server.service import SandboxService

_running: EventBridge | None = None


class EventBridge:
    """The sandbox's EventBridge: its delivery queue and the schedules' timer."""

    def __init__(self, service: SandboxService):
        self.service = service
        self.dispatcher = Dispatcher(service, "eventbridge")
        self.timer = Timer(lambda: service.clock.speed)
        self.timer.providers.append(_rule_schedules)
        service.deliveries.register_busy("eventbridge", self.dispatcher.busy)
        self.timer.start()

    def reset(self) -> None:
        self.dispatcher.clear()
        self.timer.reset()

    def close(self) -> None:
        self.timer.stop()
        self.dispatcher.clear()
        self.service.deliveries.unregister_busy("eventbridge")


def install(service: SandboxService) -> EventBridge:
    global _running
    _running = EventBridge(service)
    return _running


def uninstall() -> None:
    global _running
    _running = None


# ---------------------------------------------------------------------- scheduled rules
def _rule_schedules() -> Iterator[Entry]:
    from moto.events.models import events_backends

    for account, regions in list(events_backends.items()):
        for region, backend in list(regions.items()):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression:
                        yield Entry(rule.arn, rule.scheduled_expression, "UTC",
                                    _firing(account, region, rule),
                                    enabled=rule.state == "ENABLED")


def _firing(account: str, region: str, rule: Any) -> Any:
    def fire(when: datetime) -> str:
        """The Scheduled Event ("Creating a rule that runs on a schedule", User Guide)."""
        extension = _running
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": account, "time": iso(when.timestamp()),
                 "region": region, "resources": [rule.arn], "detail": {}}
        if extension is None:
            return str(event["id"])
        for target in list(rule.targets):
            delivery = Delivery(rule.arn, account, region, target, event, str(event["id"]),
                                target_input(target, event, rule.arn, iso(when.timestamp())))
            extension.dispatcher.later(0, partial(deliver, extension.dispatcher, delivery))
        return str(event["id"])

    return fire


# ---------------------------------------------------------------------- admin operations
def _timer(service: SandboxService) -> Timer:
    extension = service.extensions.get("events")
    if not isinstance(extension, EventBridge):
        raise BadArgumentError("EventBridge is not running in this sandbox")
    return extension.timer


@operation("schedules")
def schedules(service: SandboxService, params: dict[str, Any]) -> dict[str, Any]:
    """Every schedule (rules with a ScheduleExpression, Scheduler's schedules), with its next
    occurrence in the schedules' simulated time, and whether they fire by themselves."""
    timer = _timer(service)
    return {"automatic": timer.automatic, "now": timer.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "schedules": timer.describe()}


@operation("schedules.automatic")
def schedules_automatic(service: SandboxService, params: dict[str, Any]) -> dict[str, bool]:
    """Turn automatic firing off (``{"on": false}``) to fire only with schedules.fire."""
    timer = _timer(service)
    if "on" in params:
        timer.automatic = bool(params["on"])
    return {"automatic": timer.automatic}


@operation("schedules.fire")
def schedules_fire(service: SandboxService, params: dict[str, Any]) -> list[Any]:
    """Fire the next ``count`` occurrences of one schedule (its ARN or name) now."""
    timer = _timer(service)
    name, count = params.get("schedule"), params.get("count", 1)
    if not isinstance(name, str) or not name:
        raise BadArgumentError(f"schedules.fire needs a schedule: a rule's or a schedule's ARN "
                               f"or name, got {name!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise BadArgumentError(f"count must be a positive whole number, got {count!r}")
    try:
        fired = timer.fire(name, count)
    except ValueError as error:
        raise BadArgumentError(str(error)) from None
    if not fired and not any(e["arn"] == name or e["arn"].rsplit("/", 1)[-1] == name
                             for e in timer.describe()):
        known = ", ".join(sorted(e["arn"].rsplit("/", 1)[-1] for e in timer.describe()))
        raise BadArgumentError(f"no schedule {name!r}: the schedules are {known or 'none'}")
    return fired
