"""SNS subscription filter policies, matched as the SNS Developer Guide describes them.

"Amazon SNS subscription filter policies" and its pages on each operator: a policy's keys are
ANDed, the conditions in a key's list ORed; ``$or`` ORs whole sub-policies. Operators: exact
string and numeric match, ``prefix``, ``suffix``, ``equals-ignore-case``, ``anything-but`` (a
value, a list, or ``{"prefix": ...}`` / ``{"suffix": ...}``), ``numeric`` ranges, ``exists``,
``cidr`` (IP address matching). With ``FilterPolicyScope: MessageAttributes`` the keys name message
attributes (``String``, ``String.Array``: a match on any element; ``Number``: numeric only;
``Binary`` attributes are never matched by value); with ``MessageBody`` they name properties of the
JSON message, nested objects matched by nested policies, arrays by any element.

moto 5.2.5's ``moto/sns/utils.py`` ``FilterPolicyMatcher`` lacks ``$or``, ``cidr`` and
``anything-but`` with ``suffix``, and returns "no match" for a whole list as soon as one
condition names an absent attribute, even when a later ``{"exists": false}`` would match (an
array's elements are matched one by one here, ``anything-but`` included: not confirmed against
AWS for ``anything-but``). Its validation (``SNSBackend._validate_filter_policy``) refuses
``cidr``. The sandbox matches with this module and lets ``cidr`` through validation
(``sandbox/seams.py``).
"""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

_ABSENT: list[Any] = []


def matches(policy: dict[str, Any] | None, scope: str | None,
            attributes: dict[str, Any] | None, message: str) -> bool:
    """Whether a message with ``attributes`` (moto's ``{name: {"Type", "Value"}}``) and body
    ``message`` passes the subscription's filter ``policy``."""
    if not policy:
        return True
    if scope == "MessageBody":
        try:
            body = json.loads(message)
        except ValueError:  # a body that is not JSON matches no body policy
            return False
        return isinstance(body, dict) and _body_matches(policy, body)
    return _attributes_match(policy, attributes or {})


def _attributes_match(policy: dict[str, Any], attributes: dict[str, Any]) -> bool:
    for key, conditions in policy.items():
        if key == "$or":
            if not any(_attributes_match(branch, attributes) for branch in conditions):
                return False
            continue
        present = key in attributes
        values = _attribute_values(attributes[key]) if present else _ABSENT
        if not any(_condition(c, values, present) for c in conditions):
            return False
    return True


def _attribute_values(attribute: dict[str, Any]) -> list[Any]:
    kind, value = str(attribute.get("Type", "String")), attribute.get("Value")
    if kind.startswith("Number"):
        try:
            return [float(value)]  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return []
    if kind.startswith("String.Array"):
        try:
            items = json.loads(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return []
        return [_json_value(v) for v in items] if isinstance(items, list) else []
    if kind.startswith("String"):
        return [value]
    return []  # Binary: present (for exists), never matched by value


def _json_value(value: Any) -> Any:
    """Numbers as floats (10 and 10.0 are one number); anything else as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _body_matches(policy: dict[str, Any], body: dict[str, Any]) -> bool:
    for key, conditions in policy.items():
        if key == "$or":
            if not any(_body_matches(branch, body) for branch in conditions):
                return False
            continue
        if isinstance(conditions, dict):  # a nested policy for a nested object
            child = body.get(key)
            children = [c for c in (child if isinstance(child, list) else [child])
                        if isinstance(c, dict)] or [{}]
            if not any(_body_matches(conditions, c) for c in children):
                return False
            continue
        present = key in body
        raw = body.get(key)
        values = ([_json_value(v) for v in raw] if isinstance(raw, list)
                  else [_json_value(raw)]) if present else _ABSENT
        if not any(_condition(c, values, present) for c in conditions):
            return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, float)


def _condition(condition: Any, values: list[Any], present: bool) -> bool:
    """One condition of a key's list against the key's values (any value may match)."""
    if condition is None or isinstance(condition, bool):
        return any(v is condition for v in values)
    if isinstance(condition, str):
        return any(isinstance(v, str) and v == condition for v in values)
    if isinstance(condition, (int, float)):
        return any(_is_number(v) and v == float(condition) for v in values)
    if not isinstance(condition, dict) or len(condition) != 1:
        return False
    ((operator, operand),) = condition.items()
    strings = [v for v in values if isinstance(v, str)]
    if operator == "exists":
        return present is bool(operand)
    if operator == "prefix":
        return any(v.startswith(operand) for v in strings)
    if operator == "suffix":
        return any(v.endswith(operand) for v in strings)
    if operator == "equals-ignore-case":
        return any(v.lower() == str(operand).lower() for v in strings)
    if operator == "numeric":
        return any(_in_range(v, operand) for v in values if _is_number(v))
    if operator == "cidr":
        return any(_in_network(v, operand) for v in strings)
    if operator == "anything-but":
        # a key that is absent matches no anything-but; any value that is none of the
        # operand's matches
        return any(_anything_but(v, operand) for v in values)
    return False


def _anything_but(value: Any, operand: Any) -> bool:
    if isinstance(operand, dict):
        ((operator, text),) = operand.items()
        if not isinstance(value, str):
            return True
        if operator == "prefix":
            return not value.startswith(text)
        if operator == "suffix":
            return not value.endswith(text)
        if operator == "equals-ignore-case":
            texts = text if isinstance(text, list) else [text]
            return value.lower() not in [str(t).lower() for t in texts]
        return False
    excluded = operand if isinstance(operand, list) else [operand]
    return not any(_condition(e, [value], True) for e in excluded)


def _in_range(value: float, spec: list[Any]) -> bool:
    checks = {"=": value.__eq__, ">": value.__gt__, ">=": value.__ge__, "<": value.__lt__,
              "<=": value.__le__}
    pairs = list(zip(spec[::2], spec[1::2], strict=False))
    return bool(pairs) and all(op in checks and checks[op](float(n)) for op, n in pairs)


def _in_network(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


# ---------------------------------------------------------------------- validation
def validate_filter_policy(original: Any) -> Any:
    """moto's validation, with ``cidr`` understood: a CIDR block is checked here and replaced
    by a condition moto accepts before moto checks the rest."""
    def _validate_filter_policy(self: Any, value: Any, scope: str | None) -> None:
        original(self, _without_cidr(value), scope)

    return _validate_filter_policy


def _without_cidr(policy: Any) -> Any:
    from moto.sns.exceptions import SNSInvalidParameter

    policy = copy.deepcopy(policy)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, dict) and set(item) == {"cidr"}:
                    try:
                        ipaddress.ip_network(str(item["cidr"]), strict=False)
                    except ValueError:
                        raise SNSInvalidParameter(
                            "Invalid parameter: FilterPolicy: Malformed CIDR, one '/' required"
                        ) from None
                    node[i] = {"prefix": ""}
                else:
                    walk(item)

    walk(policy)
    return policy
