"""What a target receives: the event, its target's ``Input``, ``InputPath`` or
``InputTransformer`` ("Amazon EventBridge input transformation", EventBridge User Guide).

``InputTransformer`` fills ``InputTemplate``'s ``<name>`` placeholders with the values
``InputPathsMap`` picks from the event (JSON paths: dot notation and array indices), plus the
predefined ``aws.events.rule-arn``, ``aws.events.rule-name``,
``aws.events.event.ingestion-time``, ``aws.events.event`` (the event without ``detail``) and
``aws.events.event.json`` (the whole event). The quoting rules (InputTransformer, API reference):
in a JSON template a placeholder inside a string is replaced by the value's text, escaped for
that string; outside a string by the value as JSON (a string gets its quotes), ``null`` when the
path finds nothing; in a template that is not JSON, by the value's text.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_MISSING = object()


def iso(epoch: float) -> str:
    """An event's time: ISO 8601 to the second, UTC (``2026-12-06T08:00:00Z``)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_millis(text: Any) -> int:
    if isinstance(text, str):
        try:
            return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
                       .replace(tzinfo=timezone.utc).timestamp() * 1000)
        except ValueError:
            pass
    return int(datetime.now(timezone.utc).timestamp() * 1000)


def json_path(document: Any, path: str) -> Any:
    """``$.detail.items[0].name`` in ``document``; _MISSING when it finds nothing."""
    if not path.startswith("$"):
        return _MISSING
    found = document
    for part in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", path[1:]):
        key, index = part
        if key:
            if not isinstance(found, dict) or key not in found:
                return _MISSING
            found = found[key]
        else:
            if not isinstance(found, list) or int(index) >= len(found):
                return _MISSING
            found = found[int(index)]
    return found


def target_input(target: dict[str, Any], event: dict[str, Any], rule_arn: str,
                 ingestion_time: str) -> str:
    """The payload a rule's target receives for ``event``."""
    if target.get("Input") is not None:
        constant: str = target["Input"]
        return constant
    if target.get("InputPath"):
        found = json_path(event, target["InputPath"])
        return "null" if found is _MISSING else json.dumps(found)
    transformer = target.get("InputTransformer")
    if transformer:
        values = {name: json_path(event, path)
                  for name, path in (transformer.get("InputPathsMap") or {}).items()}
        without_detail = {k: v for k, v in event.items() if k != "detail"}
        values.update({
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_arn.rsplit("/", 1)[-1],
            "aws.events.event.ingestion-time": ingestion_time,
        })
        raw = {"aws.events.event": json.dumps(without_detail),
               "aws.events.event.json": json.dumps(event)}
        return fill(transformer.get("InputTemplate") or "", values, raw)
    return json.dumps(event)


def fill(template: str, values: dict[str, Any], raw: dict[str, str] | None = None) -> str:
    """Replace each ``<name>`` of ``values`` (or of ``raw``, inserted as it is) in
    ``template`` by the quoting rules above; other ``<...>`` text stays."""
    raw = raw or {}
    is_json = template.lstrip()[:1] in ("{", "[")
    out: list[str] = []
    in_string, escaped, i = False, False, 0
    while i < len(template):
        c = template[i]
        if c == "<":
            match = _PLACEHOLDER.match(template, i)
            if match and (match.group(1) in values or match.group(1) in raw):
                name = match.group(1)
                out.append(raw[name] if name in raw else
                           _render(values[name], is_json, in_string))
                i = match.end()
                continue
        if is_json:
            if escaped:
                escaped = False
            elif c == "\\" and in_string:
                escaped = True
            elif c == '"':
                in_string = not in_string
        out.append(c)
        i += 1
    return "".join(out)


def _render(value: Any, is_json: bool, in_string: bool) -> str:
    if is_json and not in_string:
        return "null" if value is _MISSING else json.dumps(value)
    if value is _MISSING or value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    if is_json:  # inside a JSON string: escaped for it, without quotes of its own
        return json.dumps(text)[1:-1]
    return text
