"""Schedule expressions (``rate()``, ``cron()``, ``at()``) and when they next occur.

The syntax is EventBridge's ("Schedule expressions for rules" in the EventBridge User Guide, and
"Schedule types" in the EventBridge Scheduler User Guide): ``rate(value unit)`` with unit
minute(s), hour(s) or day(s); ``cron(minutes hours day-of-month month day-of-week year)`` with
``*``, ``?``, ``,``, ``-``, ``/``, ``L``, ``W`` and ``#``, one of day-of-month and day-of-week
being ``?``; ``at(yyyy-mm-ddThh:mm:ss)`` (Scheduler only) once. Cron and at() are read in the
schedule's time zone (``ScheduleExpressionTimezone``, UTC for rules).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(
    "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}
_DAYS = {name: i for i, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), start=1)}
SEARCH_YEARS = 5  # how far ahead a cron expression's next occurrence is looked for


class ExpressionError(ValueError):
    """Not a schedule expression EventBridge accepts."""


@dataclass(frozen=True)
class Schedule:
    """A parsed expression: ``next_after(t)`` is its first occurrence strictly after ``t``."""

    expression: str
    zone: str = "UTC"

    def __post_init__(self) -> None:
        self._kind()  # validate now
        _zone(self.zone)

    def _kind(self) -> tuple[str, object]:
        text = self.expression.strip()
        rate = _RATE.match(text)
        if rate:
            value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            if value < 1:
                raise ExpressionError("The rate value must be a positive number")
            if (value == 1) != (not rate.group(2).endswith("s")):
                raise ExpressionError(f"use rate({value} {unit if value == 1 else unit + 's'})"
                                      f": 1 takes the singular, larger values the plural")
            return "rate", value * _UNIT_SECONDS[unit]
        cron = _CRON.match(text)
        if cron:
            return "cron", _Cron(cron.group(1))
        at = _AT.match(text)
        if at:
            return "at", datetime.fromisoformat(at.group(1))
        raise ExpressionError(f"{self.expression!r} is not a schedule expression: use "
                              "rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-01T12:00:00)")

    @property
    def kind(self) -> str:
        return self._kind()[0]

    def next_after(self, after: datetime, start: datetime) -> datetime | None:
        """The first occurrence strictly after ``after`` (UTC, aware); a rate counts from
        ``start``. None: no more (an at() past, or no cron match within SEARCH_YEARS)."""
        kind, spec = self._kind()
        if kind == "rate":
            assert isinstance(spec, int)
            elapsed = (after - start).total_seconds()
            periods = max(0, int(elapsed // spec) + 1)
            return start + timedelta(seconds=periods * spec)
        zone = _zone(self.zone)
        if kind == "at":
            assert isinstance(spec, datetime)
            when = spec.replace(tzinfo=zone).astimezone(timezone.utc)
            return when if when > after else None
        assert isinstance(spec, _Cron)
        local = after.astimezone(zone)
        found = spec.next_after(local.replace(tzinfo=None))
        return None if found is None else found.replace(tzinfo=zone).astimezone(timezone.utc)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"Invalid ScheduleExpressionTimezone {name!r}: use an IANA "
                              "name such as 'Europe/Paris' or 'UTC'") from None


class _Cron:
    def __init__(self, text: str):
        fields = text.split()
        if len(fields) != 6:
            raise ExpressionError("a cron expression has six fields: minutes hours "
                                  "day-of-month month day-of-week year, as in cron(0 12 * * ? *)")
        minutes, hours, self.dom, months, self.dow, years = fields
        if (self.dom == "?") == (self.dow == "?"):
            raise ExpressionError("in cron(), one of day-of-month and day-of-week must be '?' "
                                  "and the other not, as in cron(0 12 * * ? *)")
        self.minutes = _values(minutes, 0, 59, {})
        self.hours = _values(hours, 0, 23, {})
        self.months = _values(months, 1, 12, _MONTHS)
        self.years = _values(years, 1970, 2199, {})

    def next_after(self, after: datetime) -> datetime | None:
        moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = moment.date()
        for _ in range(366 * SEARCH_YEARS):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute)
                        if candidate >= moment:
                            return candidate
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: object) -> bool:
        from datetime import date

        assert isinstance(day, date)
        last = calendar.monthrange(day.year, day.month)[1]
        weekday = (day.isoweekday() % 7) + 1  # SUN=1 ... SAT=7
        if self.dom != "?":
            if self.dom == "L":
                return day.day == last
            if self.dom.endswith("W"):  # the weekday nearest the given day, within the month
                target = min(int(self.dom[:-1]), last)
                nearest = target
                wd = calendar.weekday(day.year, day.month, target)  # MON=0
                if wd == 5:
                    nearest = target - 1 if target > 1 else target + 2
                elif wd == 6:
                    nearest = target + 1 if target < last else target - 2
                return day.day == nearest
            return day.day in _values(self.dom, 1, 31, {})
        if self.dow.endswith("L"):  # the last such weekday of the month
            wanted = _values(self.dow[:-1] or "7", 1, 7, _DAYS)
            return weekday in wanted and day.day + 7 > last
        if "#" in self.dow:
            name, nth = self.dow.split("#")
            return weekday in _values(name, 1, 7, _DAYS) and (day.day - 1) // 7 + 1 == int(nth)
        return weekday in _values(self.dow, 1, 7, _DAYS)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    found: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _number(step_text, names)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _number(a, names), _number(b, names)
        else:
            start = _number(part, names)
            end = high if step != 1 else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ExpressionError(f"cron field {field!r}: values run from {low} to {high}")
        found.update(range(start, end + 1, step))
    return found


def _number(text: str, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ExpressionError(f"cron value {text!r} is not a number"
                              + (f" or one of {', '.join(names)}" if names else ""))
    return int(text)
