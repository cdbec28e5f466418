"""EventBridge event patterns, matched as the EventBridge User Guide's "Event patterns" and
"Content filtering" pages say.

A pattern mirrors the event: each key names a field, each value is either a nested pattern
(an object) or a list of match conditions, one of which must hold. A condition is a value
matched exactly (string, number, boolean, null) or an object naming an operator: ``prefix``,
``suffix`` (each also ``{"equals-ignore-case": ...}``), ``anything-but`` (a value, a list, or a
``prefix``/``suffix``/``equals-ignore-case``/``wildcard`` of them), ``numeric``, ``exists``,
``cidr``, ``equals-ignore-case`` and ``wildcard``; ``$or`` lists alternative patterns. An event
field that is an array matches when any of its elements matches, and arrays of objects are
flattened: ``{"items": {"name": ["a"]}}`` matches ``{"items": [{"name": "a"}, {"name": "b"}]}``.

moto 5.2.5 (``moto/events/models.py`` ``EventPattern``) gets most operators right, but not
arrays of objects (it compares the whole array), ``true`` against ``1`` (Python's ``True ==
1``), or ``anything-but`` with a ``wildcard`` or with a list of prefixes; ``matches_event``
here replaces it (a row of ``sandbox/seams.py``) so that delivery and ``TestEventPattern``
decide alike.
"""

from __future__ import annotations

import ipaddress
import json
import re
from operator import eq, ge, gt, le, lt
from typing import Any

OPERATORS = ("prefix", "suffix", "anything-but", "numeric", "exists", "cidr",
             "equals-ignore-case", "wildcard")
_NUMERIC = {"<": lt, "<=": le, "=": eq, ">=": ge, ">": gt}


class PatternError(ValueError):
    """The pattern is not one EventBridge accepts (``InvalidEventPatternException``)."""


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Does ``event`` (a JSON object) match ``pattern``? An empty pattern matches every event."""
    return _match_object(pattern, [event])


def _match_object(pattern: dict[str, Any], nodes: list[Any]) -> bool:
    for key, spec in pattern.items():
        if key == "$or":
            if not any(_match_object(alternative, nodes) for alternative in spec):
                return False
            continue
        present, values = _children(nodes, key)
        if isinstance(spec, dict):
            if not _match_object(spec, [v for v in values if isinstance(v, dict)]):
                return False
        elif not _match_leaf(spec, present, [v for v in values if not isinstance(v, dict)]):
            return False
    return True


def _children(nodes: list[Any], key: str) -> tuple[bool, list[Any]]:
    """Whether any node has ``key``, and its values, arrays (of arrays) flattened."""
    present, values = False, []
    for node in nodes:
        if isinstance(node, dict) and key in node:
            present = True
            stack = [node[key]]
            while stack:
                value = stack.pop(0)
                if isinstance(value, list):
                    stack[:0] = value
                else:
                    values.append(value)
    return present, values


def _match_leaf(conditions: list[Any], present: bool, values: list[Any]) -> bool:
    for condition in conditions:
        if isinstance(condition, dict):
            (name, argument), = condition.items()
            if name == "exists":
                # exists matches leaf fields only: a field holding an object does not "exist"
                if (present and bool(values)) == bool(argument):
                    return True
                continue
            if any(_operator(name, argument, value) for value in values):
                return True
        elif any(_equal(condition, value) for value in values):
            return True
    return False


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool) or expected is None or value is None:
        return expected is value or (type(expected) is type(value) and expected == value)
    if _is_number(expected) and _is_number(value):
        return bool(float(expected) == float(value))
    return type(expected) is type(value) and bool(expected == value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _operator(name: str, argument: Any, value: Any) -> bool:
    if name == "prefix":
        return _text_test(argument, value, str.startswith)
    if name == "suffix":
        return _text_test(argument, value, str.endswith)
    if name == "equals-ignore-case":
        options = argument if isinstance(argument, list) else [argument]
        return isinstance(value, str) and any(value.lower() == o.lower() for o in options)
    if name == "wildcard":
        options = argument if isinstance(argument, list) else [argument]
        return isinstance(value, str) and any(_wildcard(o).fullmatch(value) for o in options)
    if name == "numeric":
        if not _is_number(value):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=True)
        return all(_NUMERIC[op](float(value), float(bound)) for op, bound in pairs)
    if name == "cidr":
        if not isinstance(value, str):
            return False
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(argument, strict=False)
        except ValueError:
            return False
    if name == "anything-but":
        if isinstance(argument, dict):
            (inner, inner_argument), = argument.items()
            # anything-but a prefix/suffix/wildcard matches strings only (User Guide)
            return isinstance(value, str) and not _operator(inner, inner_argument, value)
        options = argument if isinstance(argument, list) else [argument]
        return not any(_equal(option, value) for option in options)
    raise PatternError(f"Unrecognized match type {name}")


def _text_test(argument: Any, value: Any, test: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict):  # {"prefix": {"equals-ignore-case": "abc"}}
        (_, inner), = argument.items()
        options = inner if isinstance(inner, list) else [inner]
        return any(test(value.lower(), o.lower()) for o in options)
    options = argument if isinstance(argument, list) else [argument]
    return any(test(value, o) for o in options)


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` matches any run of characters; ``\\*`` a star, ``\\\\`` a backslash."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if pattern[i] == "*" else re.escape(pattern[i])
        i += 1
    return re.compile(regex, re.DOTALL)


# ---------------------------------------------------------------------- validation
def validate(pattern: Any, path: str = "") -> None:
    """Refuse a pattern EventBridge refuses, in its words (InvalidEventPatternException)."""
    if not isinstance(pattern, dict):
        raise PatternError("Event pattern must be a JSON object")
    for key, spec in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(spec, list) or len(spec) < 2:
                raise PatternError("Value of $or must be an array of at least 2 objects")
            for alternative in spec:
                validate(alternative, path)
        elif isinstance(spec, dict):
            validate(spec, where)
        elif isinstance(spec, list):
            if not spec:
                raise PatternError("Empty arrays are not allowed")
            for condition in spec:
                if isinstance(condition, dict):
                    _validate_operator(condition, where)
                elif isinstance(condition, list):
                    raise PatternError(f"Match value for {where} must be a string, number, "
                                       "boolean, null or an object")
        else:
            raise PatternError(f"'{key}' must be an object or an array")


def _validate_operator(condition: dict[str, Any], where: str) -> None:
    if len(condition) != 1:
        raise PatternError(f"Match object for {where} must have exactly one operator")
    (name, argument), = condition.items()
    if name not in OPERATORS:
        raise PatternError(f"Unrecognized match type {name}")
    if name == "numeric":
        if not isinstance(argument, list) or not argument or len(argument) % 2 or any(
                op not in _NUMERIC or not _is_number(bound)
                for op, bound in zip(argument[::2], argument[1::2], strict=True)):
            raise PatternError("Value of numeric must be an array of operator, number pairs "
                               "(like [\">\", 0, \"<=\", 5])")
    elif name == "exists" and not isinstance(argument, bool):
        raise PatternError("exists match pattern must be either true or false.")
    elif name == "cidr":
        try:
            ipaddress.ip_network(argument, strict=False)
        except (TypeError, ValueError):
            raise PatternError(f"Malformed CIDR, one '/' required: {argument!r}") from None
    elif name in ("prefix", "suffix", "wildcard", "equals-ignore-case") and not (
            isinstance(argument, str)
            or (isinstance(argument, dict) and name in ("prefix", "suffix")
                and set(argument) == {"equals-ignore-case"})
            or (isinstance(argument, list) and all(isinstance(a, str) for a in argument))):
        raise PatternError(f"{name} match pattern must be a string")


# ---------------------------------------------------------------------- the seams
def matches_event(self: Any, event: Any) -> bool:
    """``EventPattern.matches_event`` (moto/events/models.py), as EventBridge matches."""
    pattern = self.get_pattern()
    return not pattern or matches(pattern, json.loads(json.dumps(event, default=str)))
