"""EventBridge delivering to a rule's targets, as AWS delivers.

EventBridge is a service principal (``events.amazonaws.com``): an SQS target needs the queue's
policy to admit the rule (``aws:SourceArn``), a Lambda target the function policy. IAM decides
(``sandbox.iam.service_may``). moto (``moto/events/models.py`` ``Rule.send_to_targets``) does
not deliver to Lambda targets at all: the sandbox invokes them asynchronously, as EventBridge
does, with the event or the target's ``Input``, ``InputPath`` or ``InputTransformer``
(``Rule._send_to_sqs_queue`` is where moto writes to a queue).
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from moto.awslambda.models import lambda_backends

from .. import iam

PRINCIPAL = "events.amazonaws.com"


def _send_to_targets(original: Any) -> Any:
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        functions = [t for t in self.targets if ":lambda:" in t["Arn"]]
        if functions:
            for target in functions:
                _invoke_from_rule(self, target, original_event)
            rest = copy.copy(self)
            rest.targets = [t for t in self.targets if t not in functions]
            original(rest, original_event, transform_input)
        else:
            original(self, original_event, transform_input)

    return send_to_targets


def _invoke_from_rule(rule: Any, target: dict[str, Any], event: Any) -> None:
    """EventBridge invokes a Lambda target asynchronously with the event (or the target's
    Input / InputPath), when the function policy admits this rule."""
    from ..server import service

    if not iam.service_may(PRINCIPAL, "lambda:InvokeFunction", target["Arn"],
                           source_arn=rule.arn, source_account=rule.account_id,
                           source=f"EventBridge rule {rule.name}"):
        return
    payload = _target_input(target, event)
    parts = target["Arn"].split(":")
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(
            parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:  # the function is gone: EventBridge counts a failed invocation
        return
    sandbox = service.current()
    if sandbox is not None:
        sandbox.lambda_runtime.async_invoker.submit(fn, payload.encode(), str(uuid.uuid4()),
                                                    target["Arn"])


def _target_input(target: dict[str, Any], event: Any) -> str:
    """The target's payload: its constant Input, the part of the event its InputPath names,
    its InputTransformer's template, or the whole event."""
    if "Input" in target:
        constant: str = target["Input"]
        return constant
    if "InputPath" in target:
        found = event
        for key in target["InputPath"].lstrip("$").strip(".").split("."):
            if key:
                found = found.get(key) if isinstance(found, dict) else None
        return json.dumps(found)
    if "InputTransformer" in target:
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        shaped = EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                           input_paths_map=transformer.get("InputPathsMap", {}),
                                           event=event)
        return shaped if isinstance(shaped, str) else json.dumps(shaped)
    return json.dumps(event)


def _send_to_sqs_queue(original: Any) -> Any:
    def send_to_sqs_queue(self: Any, resource_id: str, event: Any, group_id: Any = None) -> None:
        arn = f"arn:aws:sqs:{self.region_name}:{self.account_id}:{resource_id}"
        if iam.service_may(PRINCIPAL, "sqs:SendMessage", arn, source_arn=self.arn,
                           source_account=self.account_id, source=f"EventBridge rule {self.name}"):
            original(self, resource_id, event, group_id)

    return send_to_sqs_queue
