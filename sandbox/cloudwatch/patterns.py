"""CloudWatch Logs filter patterns for JSON log events, which moto does not know (its
``moto/logs/utils.py`` ``EventMessageFilter`` matches every event with a pattern it does not
understand, so ``{ $.level = "ERROR" }`` returned every line).

As CloudWatch Logs documents them (docs.aws.amazon.com/AmazonCloudWatch/latest/logs/
FilterAndPatternSyntax.html, "Using filter patterns to match terms in JSON log events"):
``{ $.level = "ERROR" }`` (``=`` and ``!=`` on strings, ``*`` a wildcard),
``{ $.latency > 500 }`` (``=``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` on numbers),
``{ $.ok IS TRUE }``, ``IS FALSE``, ``IS NULL``, ``{ $.user NOT EXISTS }``, selectors with
fields and array indexes (``$.order.items[0].sku``), combined with ``&&``, ``||`` and
parentheses. An event that is not a JSON object never matches a JSON pattern.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(r"""\s*(?:
    (?P<and>&&) | (?P<or>\|\|) | (?P<open>\() | (?P<close>\)) |
    (?P<op>!=|<=|>=|=|<|>) |
    (?P<is>IS\s+(?:TRUE|FALSE|NULL)\b|NOT\s+EXISTS\b) |
    (?P<selector>\$(?:\.[^\s.=!<>()\[\]&|]+|\[\d+\])*) |
    (?P<string>"(?:[^"\\]|\\.)*") |
    (?P<word>[^\s=!<>()&|"]+)
)""", re.VERBOSE)
_MISSING = object()


class PatternError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise PatternError(f"Invalid character(s) in term '{text[position:]}'")
        position = match.end()
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
    return found


def _select(document: Any, selector: str) -> Any:
    value = document
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        if name:
            if not isinstance(value, dict) or name not in value:
                return _MISSING
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _comparison(selector: str, op: str, raw: str, quoted: bool) -> Callable[[Any], bool]:
    text = json.loads(raw) if quoted else raw
    number = None if quoted else _number(text)

    def test(document: Any) -> bool:
        value = _select(document, selector)
        if value is _MISSING:
            return False
        if number is not None and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            return {"=": value == number, "!=": value != number, "<": value < number,
                    ">": value > number, "<=": value <= number, ">=": value >= number}[op]
        if op not in ("=", "!="):
            return False  # a numeric comparison with a value that is not a number
        if value is None or isinstance(value, (dict, list)):
            return False if op == "=" else True
        shown = json.dumps(value) if isinstance(value, bool) else str(value)
        same = fnmatch.fnmatchcase(shown, text) if "*" in text else shown == text
        return same if op == "=" else not same

    return test


def _state(selector: str, check: str) -> Callable[[Any], bool]:
    check = " ".join(check.split())

    def test(document: Any) -> bool:
        value = _select(document, selector)
        if check == "NOT EXISTS":
            return value is _MISSING
        return {"IS TRUE": value is True, "IS FALSE": value is False,
                "IS NULL": value is None}[check]

    return test


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.at = tokens, 0

    def peek(self) -> str:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else ""

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            raise PatternError(f"expected {kind} at token {self.at + 1}")
        self.at += 1
        return self.tokens[self.at - 1][1]

    def either(self) -> Callable[[Any], bool]:
        terms = [self.both()]
        while self.peek() == "or":
            self.take("or")
            terms.append(self.both())
        return lambda document: any(term(document) for term in terms)

    def both(self) -> Callable[[Any], bool]:
        terms = [self.one()]
        while self.peek() == "and":
            self.take("and")
            terms.append(self.one())
        return lambda document: all(term(document) for term in terms)

    def one(self) -> Callable[[Any], bool]:
        if self.peek() == "open":
            self.take("open")
            inner = self.either()
            self.take("close")
            return inner
        selector = self.take("selector")
        if self.peek() == "is":
            return _state(selector, self.take("is"))
        op = self.take("op")
        if self.peek() == "string":
            return _comparison(selector, op, self.take("string"), quoted=True)
        return _comparison(selector, op, self.take("word"), quoted=False)


def json_pattern(pattern: str) -> Callable[[str], bool]:
    """A matcher for the JSON filter pattern ``{ ... }``."""
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise PatternError("a JSON filter pattern is enclosed in { }")
    parser = _Parser(_tokens(body[1:-1]))
    test = parser.either()
    if parser.at != len(parser.tokens):
        raise PatternError(f"unexpected {parser.tokens[parser.at][1]!r}")

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return isinstance(document, (dict, list)) and test(document)

    return matches


def message_filter(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``EventMessageFilter.__init__`` (a row of sandbox/seams.py): a pattern in braces is
    a JSON filter pattern; a malformed one is refused as CloudWatch Logs refuses it."""
    def __init__(self: Any, pattern: str) -> None:
        original(self, pattern)
        if pattern and pattern.strip().startswith("{"):
            try:
                matcher = json_pattern(pattern)
            except PatternError as error:
                from moto.logs.exceptions import InvalidParameterException

                raise InvalidParameterException(
                    f"Invalid filter pattern {pattern!r}: {error}. A JSON filter pattern "
                    "reads like { $.level = \"ERROR\" } or { $.latency > 500 }.") from None
            self.matches = matcher

    return __init__
