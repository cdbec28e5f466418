"""CloudWatch Logs Insights queries: moto's engine (``logs/logs_query``) knows ``fields``,
``sort`` and ``limit`` and skips every other command, so ``filter level = "ERROR"`` returned
every event. The sandbox runs this subset of the query language
(docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html) and refuses the rest
with ``MalformedQueryException``, rather than answering wrongly:

- ``fields a, b`` and ``display a, b``: the system fields ``@timestamp``, ``@message``,
  ``@logStream``, ``@log``, ``@ptr``, the fields discovered in a JSON event (nested ones
  dotted: ``record.metrics.durationMs``), and in Lambda's text lines ``@type``, ``@requestId``
  and, for REPORT lines, ``@duration``, ``@billedDuration``, ``@memorySize``, ``@maxMemoryUsed``
  and ``@initDuration`` (CWL_AnalyzeLogData-discoverable-fields.html);
- ``filter``: ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``like`` / ``not like`` a
  ``/regex/`` or a "substring", ``in [...]``, ``ispresent(f)``, ``and``, ``or``, ``not`` and
  parentheses;
- ``stats count(*)``, ``count(f)``, ``sum``, ``avg``, ``min``, ``max`` (each ``as name``
  optionally) ``by f1, f2``;
- ``sort f [asc|desc]`` (by ``@timestamp`` descending without one) and ``limit n``.

``@timestamp`` is answered as Logs Insights writes it (``2026-12-06 11:20:17.858``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from moto.logs.exceptions import LogsClientError

Row = dict[str, Any]
COMMANDS = ("fields", "display", "filter", "stats", "sort", "limit")
_REPORT = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): "
                     r"([\d.]+)")
_REPORT_NAMES = {"Duration": "@duration", "Billed Duration": "@billedDuration",
                 "Memory Size": "@memorySize", "Max Memory Used": "@maxMemoryUsed",
                 "Init Duration": "@initDuration"}
_TOKEN = re.compile(r"""\s*(?:
    (?P<regex>/(?:[^/\\]|\\.)*/) | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*') |
    (?P<number>-?\d+(?:\.\d+)?) | (?P<op><=|>=|!=|=|<|>) | (?P<punct>[(),\[\]*]) |
    (?P<name>[@A-Za-z_][\w.@-]*)
)""", re.VERBOSE)


class MalformedQuery(LogsClientError):
    def __init__(self, message: str):
        super().__init__("MalformedQueryException", message)


def _flatten(value: Any, prefix: str, into: Row) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten(inner, f"{prefix}.{index}", into)
    elif prefix:
        into[prefix] = value


def discovered(message: str) -> Row:
    """The fields Logs Insights discovers in one event's message."""
    found: Row = {}
    text = message.strip()
    if text.startswith("{"):
        try:
            _flatten(json.loads(text), "", found)
        except ValueError:
            pass
        return found
    for kind in ("START", "END", "REPORT"):
        if text.startswith(f"{kind} RequestId: "):
            found["@type"] = kind
            found["@requestId"] = text[len(f"{kind} RequestId: "):].split()[0]
            for name, number in _REPORT.findall(text):
                found[_REPORT_NAMES[name]] = float(number)
    return found


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position, text = [], 0, text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise MalformedQuery(f"unexpected text at '{text[position:position + 20]}'")
        position = match.end()
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
    return found


def _literal(kind: str, text: str) -> Any:
    if kind == "string":
        return text[1:-1].encode().decode("unicode_escape")
    return float(text)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or right is None:
        return op == "!=" and (left is None) != (right is None)
    a, b = _number(left), _number(right)
    pair: tuple[Any, Any] = (a, b) if a is not None and b is not None else (str(left),
                                                                          str(right))
    x, y = pair
    return bool({"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y,
                 ">=": x >= y}[op])


class _Filter:
    """A recursive-descent reading of a filter expression into a test of a row."""

    def __init__(self, text: str):
        self.tokens, self.at = _tokens(text), 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else ("", "")

    def word(self, value: str) -> bool:
        kind, text = self.peek()
        return kind == "name" and text.lower() == value

    def take(self) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise MalformedQuery("the filter expression ends too soon")
        self.at += 1
        return self.tokens[self.at - 1]

    def expect(self, text: str) -> None:
        if self.take()[1] != text:
            raise MalformedQuery(f"expected '{text}' in the filter expression")

    def parse(self) -> Callable[[Row], bool]:
        test = self.either()
        if self.at != len(self.tokens):
            raise MalformedQuery(f"unexpected '{self.peek()[1]}' in the filter expression")
        return test

    def either(self) -> Callable[[Row], bool]:
        terms = [self.both()]
        while self.word("or"):
            self.take()
            terms.append(self.both())
        return lambda row: any(term(row) for term in terms)

    def both(self) -> Callable[[Row], bool]:
        terms = [self.negation()]
        while self.word("and"):
            self.take()
            terms.append(self.negation())
        return lambda row: all(term(row) for term in terms)

    def negation(self) -> Callable[[Row], bool]:
        if self.word("not") and not (self.peek(1)[0] == "name"
                                     and self.peek(1)[1].lower() == "like"):
            self.take()
            inner = self.negation()
            return lambda row: not inner(row)
        return self.comparison()

    def operand(self) -> Callable[[Row], Any]:
        kind, text = self.take()
        if kind == "name":
            return lambda row: row.get(text)
        if kind in ("string", "number"):
            value = _literal(kind, text)
            return lambda row: value
        raise MalformedQuery(f"unexpected '{text}' in the filter expression")

    def comparison(self) -> Callable[[Row], bool]:
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.either()
            self.expect(")")
            return inner
        if self.word("ispresent"):
            self.take()
            self.expect("(")
            name = self.take()[1]
            self.expect(")")
            return lambda row: row.get(name) is not None
        left = self.operand()
        kind, text = self.peek()
        if kind == "op":
            self.take()
            right = self.operand()
            return lambda row: _compare(left(row), text, right(row))
        negate = False
        if self.word("not"):
            self.take()
            negate = True
        if self.word("like"):
            self.take()
            kind, pattern = self.take()
            if kind == "regex":
                compiled = re.compile(pattern[1:-1])
            elif kind == "string":
                compiled = re.compile(re.escape(_literal(kind, pattern)))
            else:
                raise MalformedQuery("like takes a /regex/ or a \"string\"")
            # a field the event lacks matches neither like nor not like
            return lambda row: left(row) is not None and (
                bool(compiled.search(str(left(row)))) != negate)
        if self.word("in"):
            self.take()
            self.expect("[")
            values = []
            while self.peek() != ("punct", "]"):
                kind, item = self.take()
                if kind not in ("string", "number"):
                    raise MalformedQuery("in takes a list of strings or numbers")
                values.append(_literal(kind, item))
                if self.peek() == ("punct", ","):
                    self.take()
            self.expect("]")
            return lambda row: left(row) is not None and (
                any(_compare(left(row), "=", v) for v in values) != negate)
        raise MalformedQuery("a filter compares a field (=, !=, <, >, like, in ...)")


def _names(text: str) -> list[tuple[str, str]]:
    """``a, b as c`` -> [(a, a), (b, c)]."""
    found = []
    for part in _split(text, ","):
        words = part.split()
        if not words:
            continue
        if len(words) == 3 and words[1].lower() == "as":
            found.append((words[0], words[2]))
        elif len(words) == 1:
            found.append((words[0], words[0]))
        else:
            raise MalformedQuery(f"the sandbox's Logs Insights reads field names here, not "
                                 f"'{part.strip()}'")
    return found


def _split(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quotes, regexes, parentheses and brackets."""
    parts, current, depth, quote = [], "", 0, ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
            continue
        if char in "\"'/":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


_STATS = re.compile(r"(count|sum|avg|min|max)\(\s*(\*|[@\w.-]+)\s*\)(?:\s+as\s+([@\w.-]+))?$",
                    re.IGNORECASE)


def _stats(text: str, rows: list[Row]) -> tuple[list[Row], list[str]]:
    parts = re.split(r"\s+by\s+", text, maxsplit=1, flags=re.IGNORECASE)
    body, by = parts[0], parts[1] if len(parts) > 1 else ""
    keys = [name for name, _ in _names(by)] if by else []
    aggregates = []
    for part in _split(body, ","):
        match = _STATS.match(part.strip())
        if not match:
            raise MalformedQuery(f"the sandbox's Logs Insights runs count, sum, avg, min and "
                                 f"max in stats, not '{part.strip()}'")
        function, field, alias = match.groups()
        aggregates.append((function.lower(), field, alias or f"{function.lower()}({field})"))
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(key) for key in keys), []).append(row)
    answers = []
    for group, members in groups.items():
        answer: Row = dict(zip(keys, group, strict=True))
        for function, field, alias in aggregates:
            if function == "count":
                answer[alias] = len(members) if field == "*" else sum(
                    1 for m in members if m.get(field) is not None)
                continue
            values = [n for n in (_number(m.get(field)) for m in members) if n is not None]
            answer[alias] = (None if not values else sum(values) if function == "sum" else
                             sum(values) / len(values) if function == "avg" else
                             min(values) if function == "min" else max(values))
        answers.append(answer)
    return answers, keys + [alias for _, _, alias in aggregates]


def _shown(value: Any, name: str) -> str:
    if name == "@timestamp" and isinstance(value, (int, float)):
        stamp = datetime.fromtimestamp(value / 1000, timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def execute_query(log_groups: list[Any], query: str, start_time: int,
                  end_time: int) -> list[dict[str, str]]:
    """moto's ``logs.models.execute_query`` (a row of sandbox/seams.py), for the subset above."""
    rows: list[Row] = []
    for group in log_groups:
        for stream in list(group.streams.values()):
            for event in list(stream.events):
                if start_time and event.timestamp < start_time * 1000:
                    continue
                if end_time and event.timestamp > end_time * 1000:
                    continue
                rows.append({"@timestamp": event.timestamp, "@message": event.message,
                             "@logStream": stream.log_stream_name,
                             "@log": f"{group.account_id}:{group.name}",
                             "@ptr": str(event.event_id), **discovered(event.message)})
    fields: list[tuple[str, str]] = []
    display: list[str] | None = None
    sort: list[tuple[str, bool]] = []
    limit: int | None = None
    stats_fields: list[str] | None = None
    for command in _split(query, "|"):
        command = command.strip()
        if not command:
            continue
        keyword, _, rest = command.partition(" ")
        keyword = keyword.lower()
        if keyword not in COMMANDS:
            raise MalformedQuery(
                f"the sandbox's Logs Insights runs {', '.join(COMMANDS)}; not '{keyword}'. "
                "For a pattern search, FilterLogEvents takes a filter pattern "
                "({ $.level = \"ERROR\" }).")
        if keyword == "fields":
            for name, alias in _names(rest):
                for row in rows:
                    row[alias] = row.get(name)
                fields.append((name, alias))
        elif keyword == "display":
            display = [alias for _, alias in _names(rest)]
        elif keyword == "filter":
            test = _Filter(rest).parse()
            rows = [row for row in rows if test(row)]
        elif keyword == "stats":
            rows, stats_fields = _stats(rest, rows)
        elif keyword == "sort":
            sort = []
            for part in _split(rest, ","):
                words = part.split()
                if not words or len(words) > 2 or (
                        len(words) == 2 and words[1].lower() not in ("asc", "desc")):
                    raise MalformedQuery(f"sort takes a field and asc or desc, not '{part}'")
                sort.append((words[0], len(words) == 1 or words[1].lower() == "desc"))
        elif keyword == "limit":
            if not rest.strip().isdigit():
                raise MalformedQuery(f"limit takes a number, not '{rest.strip()}'")
            limit = int(rest)
    if stats_fields is None and not sort:
        sort = [("@timestamp", True)]
    for name, descending in reversed(sort):  # stable: the first key decides last
        present = [row for row in rows if row.get(name) is not None]
        absent = [row for row in rows if row.get(name) is None]
        present.sort(key=lambda row: (_number(row[name]) is None, _number(row[name]) or 0,
                                      str(row[name])), reverse=descending)
        rows = present + absent
    if limit is not None:
        rows = rows[:limit]
    shown = display or stats_fields or [alias for _, alias in fields] or ["@timestamp",
                                                                          "@message"]
    answers = []
    for row in rows:
        answer = {name: _shown(row[name], name) for name in shown if row.get(name) is not None}
        if stats_fields is None:
            answer["@ptr"] = row["@ptr"]
        answers.append(answer)
    return answers
