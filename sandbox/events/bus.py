"""Event buses: ``PutEvents`` as AWS answers it, and each event routed to the rules it matches.

``PutEvents`` ("PutEvents", EventBridge API Reference) takes 1 to 10 entries, at most 256 KB
in all, and answers one result per entry, in order: an ``EventId`` or an ``ErrorCode`` and
``ErrorMessage`` (``InvalidArgument`` for a missing Source, DetailType or Detail,
``MalformedDetail`` for a Detail that is not a JSON object, ``NotAuthorizedForSourceException``
for a source of AWS's own, ``aws.*``), and ``FailedEntryCount``. The events are then matched
and delivered in the background (``delivery.py``), so that one rule's failing target never
loses another rule's event and the caller never waits for a target. A disabled rule, or one
with only a ``ScheduleExpression``, matches nothing.

moto (``moto/events/models.py`` ``EventsBackend.put_events``) delivers inside the call, to
disabled rules too, and a target it cannot deliver to fails the whole call with HTTP 500.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

from .delivery import deliver
from .patterns import PatternError, matches, validate
from .targets import Delivery
from .transform import iso, target_input

if TYPE_CHECKING:
    from . import EventBridge

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
_learner = threading.local()  # set while a learner's PutEvents request is answered


def _running() -> EventBridge:
    from ..server.service import running_extension

    found: EventBridge = running_extension("events")
    return found


def entry_size(entry: dict[str, Any]) -> int:
    """"Calculating PutEvents event entry size" (EventBridge User Guide)."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key) or "").encode())
    size += sum(len(str(r).encode()) for r in entry.get("Resources") or [])
    return size


def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``EventsBackend.put_events``: validate, answer per entry, deliver in the background."""
    from moto.events.exceptions import ValidationException

    if not events or len(events) > MAX_ENTRIES:
        raise ValidationException(
            "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed "
            "to satisfy constraint: Member must have length less than or equal to 10"
            if events else "1 validation error detected: Value '[]' at 'entries' failed to "
            "satisfy constraint: Member must have length greater than or equal to 1")
    if sum(entry_size(e) for e in events) > MAX_REQUEST_BYTES:
        raise ValidationException("Total size of the entries in the request is over the limit.")
    answers = []
    for entry in events:
        problem = _entry_problem(self, entry)
        if problem is not None:
            answers.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
            continue
        bus = self._get_event_bus(self._normalize_event_bus_arn(entry.get("EventBusName")))
        event = make_event(self.account_id, self.region_name, entry)
        answers.append({"EventId": event["id"]})
        _running().dispatcher.later(0, partial(route, self.account_id, self.region_name, bus,
                                               event))
    return answers


def _entry_problem(backend: Any, entry: dict[str, Any]) -> tuple[str, str] | None:
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return "InvalidArgument", f"Parameter {key} is not valid. Reason: {key} is a " \
                                      "required argument."
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):  # EventBridge takes a JSON object only
        return "MalformedDetail", "Detail is malformed."
    if getattr(_learner, "calling", False) and str(entry["Source"]).startswith("aws."):
        return "NotAuthorizedForSourceException", "Not authorized for the source."
    name = backend._normalize_event_bus_arn(entry.get("EventBusName"))
    if name not in backend.event_buses:
        return "ResourceNotFoundException", f"Event bus {name} does not exist."
    return None


def make_event(account: str, region: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The event as targets receive it ("Amazon EventBridge events", EventBridge User Guide)."""
    when: Any = entry.get("Time")
    if hasattr(when, "timestamp"):
        when = when.timestamp()
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"],
        "source": entry["Source"], "account": account,
        "time": iso(float(when) if when is not None else time.time()), "region": region,
        "resources": list(entry.get("Resources") or []), "detail": json.loads(entry["Detail"]),
    }


def put_service_event(account: str, region: str, source: str, detail_type: str,
                      detail: dict[str, Any], resources: list[str] | None = None,
                      bus_name: str = "default") -> str | None:
    """An AWS service putting its own event (``aws.s3``, ``aws.states``) on a bus, as
    EventBridge receives them; its id, or None when no sandbox runs or the bus is gone."""
    from moto.events.models import events_backends

    from ..server.service import current

    service = current()
    if service is None or service.extensions.get("events") is None:
        return None
    backend = events_backends[account][region]
    bus = backend.event_buses.get(bus_name)
    if bus is None:
        return None
    event = make_event(account, region, {"Source": source, "DetailType": detail_type,
                                         "Detail": json.dumps(detail),
                                         "Resources": resources or []})
    _running().dispatcher.later(0, lambda: route(account, region, bus, event))
    return str(event["id"])


def route(account: str, region: str, bus: Any, event: dict[str, Any],
          hops: tuple[str, ...] = ()) -> None:
    """Deliver ``event`` to every target of every enabled rule of ``bus`` it matches."""
    extension = _running()
    ingested = iso(time.time())
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.get_pattern():
            continue  # disabled, or a schedule's rule: it matches no event
        try:
            matched = matches(rule.event_pattern.get_pattern(), event)
        except PatternError:
            continue
        if not matched:
            continue  # FILTERED is not recorded per rule: there would be too many
        for target in list(rule.targets):
            if target["Arn"].split(":", 5)[5:] == [""]:  # an archive (moto's own rule)
                _archive(rule, target, event)
                continue
            delivery = Delivery(
                rule.arn, account, region, target, event, str(event["id"]),
                target_input(target, event, rule.arn, ingested), hops=hops)
            extension.dispatcher.later(0, partial(deliver, extension.dispatcher, delivery))


def _archive(rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
    """moto keeps archives as a rule whose target holds the archive's ARN."""
    from moto.events.utils import EventTemplateParser
    from moto.utilities.arns import parse_arn

    transformer: Any = target.get("InputTransformer") or {}
    parse: Any = EventTemplateParser.parse
    shaped = parse(input_template=transformer.get("InputTemplate"),
                                       input_paths_map=transformer.get("InputPathsMap", {}),
                                       event=event)
    if isinstance(shaped, dict) and "archive-arn" in shaped:
        rule._send_to_events_archive(parse_arn(shaped["archive-arn"]).resource_id, event)


# ---------------------------------------------------------------------- more seams
def learner_put_events(original: Any) -> Any:
    """``EventsHandler.put_events``: a learner's request may not claim an AWS source."""
    def put_events(self: Any) -> Any:
        _learner.calling = True
        try:
            return original(self)
        finally:
            _learner.calling = False

    return put_events


def test_event_pattern(self: Any) -> str:
    """``EventsHandler.test_event_pattern`` (moto answers nothing): match as delivery does."""
    from moto.events.exceptions import InvalidEventPatternException

    try:
        pattern = json.loads(self._get_param("EventPattern") or "")
        event = json.loads(self._get_param("Event") or "")
    except ValueError:
        raise InvalidEventPatternException(reason="Invalid JSON") from None
    if not isinstance(event, dict) or any(
            key not in event for key in ("id", "account", "source", "time", "region",
                                         "detail-type")):
        from moto.events.exceptions import ValidationException

        raise ValidationException("Parameter Event is not valid: an event needs id, account, "
                                  "source, time, region and detail-type.")
    try:
        validate(pattern)
        return json.dumps({"Result": matches(pattern, event)})
    except PatternError as error:
        raise InvalidEventPatternException(reason=str(error)) from None


def put_rule(original: Any) -> Any:
    """``EventsBackend.put_rule``: refuse a pattern or a schedule expression EventBridge
    refuses, in its words."""
    def put_rule_checked(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        from moto.events.exceptions import InvalidEventPatternException

        expression = kwargs.get("scheduled_expression")
        if expression:
            from moto.events.exceptions import ValidationException

            from .schedules import ExpressionError, Schedule

            try:
                if Schedule(expression).kind == "at":
                    raise ExpressionError("at() is EventBridge Scheduler's, not a rule's")
            except ExpressionError:
                raise ValidationException("Parameter ScheduleExpression is not valid.") from None
        raw = kwargs.get("event_pattern")
        if raw:
            try:
                validate(json.loads(raw))
            except ValueError as error:  # PatternError is one
                reason = str(error) if isinstance(error, PatternError) else "Invalid JSON"
                raise InvalidEventPatternException(reason=reason) from None
        return original(self, name, *args, **kwargs)

    return put_rule_checked


def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    """``Rule.send_to_targets`` (moto's replays call it): through the sandbox's delivery."""
    event = dict(original_event)
    if isinstance(event.get("time"), (int, float)):
        event["time"] = iso(float(event["time"]))
    if not self.event_pattern.get_pattern() or matches(self.event_pattern.get_pattern(), event):
        extension = _running()
        for target in list(self.targets):
            delivery = Delivery(self.arn, self.account_id, self.region_name, target, event,
                                str(event.get("id", uuid.uuid4())),
                                target_input(target, event, self.arn, iso(time.time())))
            extension.dispatcher.later(0, partial(deliver, extension.dispatcher, delivery))


def put_targets(original: Any) -> Any:
    """``EventsBackend.put_targets``: the targets EventBridge reaches only as a role need one
    (Step Functions, Kinesis, API destinations, a bus in another account or Region):
    "RoleArn is required for target ..." (moto takes them without)."""
    def put_targets_checked(self: Any, name: str, event_bus_arn: str | None,
                            targets: list[dict[str, Any]]) -> Any:
        from moto.events.exceptions import ValidationException

        for target in targets:
            arn = str(target.get("Arn", ""))
            if not target.get("RoleArn") and _needs_role(arn, self.account_id,
                                                          self.region_name):
                raise ValidationException(f"RoleArn is required for target {arn}.")
        return original(self, name, event_bus_arn, targets)

    return put_targets_checked


def _needs_role(arn: str, account: str, region: str) -> bool:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return False
    service, rest = parts[2], parts[5]
    if service in ("states", "kinesis") or rest.startswith("api-destination/"):
        return True
    return service == "events" and rest.startswith("event-bus/") and (
        parts[4] != account or parts[3] != region)


# CloudFormation's Ref of an AWS::Events::EventBus answers its name (a row of sandbox.seams adds
# this to moto's EventBus, which has no physical_resource_id)
event_bus_name = property(lambda self: self.name)
