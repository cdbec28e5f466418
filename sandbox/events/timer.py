"""Schedules firing on the sandbox's clock: rules with a ``ScheduleExpression`` and EventBridge
Scheduler's schedules.

Time for schedules is simulated: it starts at the real time when the sandbox starts (or is
reset) and runs ``clock.speed`` times faster (10,000x by default: a simulated day in 8.6 s).
A schedule's occurrences are computed in that time (a ``rate()`` counting from when the
sandbox first saw the schedule, or from its StartDate), and each occurrence is a real
delivery whose event carries the occurrence's (simulated) time.

At 10,000x a ``rate(1 minute)`` schedule would fire every 6 ms and flood a notebook, so the
sandbox fires one schedule automatically at most once every ``MIN_REAL_INTERVAL`` real seconds
(0.25 s: an hourly schedule keeps its pace): occurrences are never skipped, they come late (the
schedule falls behind the simulated clock).
For a lesson or a test that needs to know exactly how many times something fired, the admin
operations turn automatic firing off (``schedules.automatic``) and fire the next N
occurrences of one schedule at once (``schedules.fire``); ``schedules`` lists them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .schedules import ExpressionError, Schedule

TICK_SECONDS = 0.02  # real seconds between looks at the schedules
# real seconds between two automatic firings of one schedule: rate(1 hour) (0.36 s at 10,000x)
# keeps its pace; rate(1 minute) (6 ms) fires four times a second, not 170
MIN_REAL_INTERVAL = 0.25


@dataclass
class Entry:
    """One schedule, as a provider describes it on each tick."""

    arn: str
    expression: str
    zone: str
    fire: Callable[[datetime], Any]  # called with the occurrence's time (UTC); its answer
    start: datetime | None = None  # StartDate
    end: datetime | None = None  # EndDate
    enabled: bool = True
    on_complete: Callable[[], None] | None = None  # no occurrence is left


@dataclass
class _State:
    key: tuple[str, str, str, Any, Any]
    next: datetime | None
    start: datetime
    last_fired: float = 0.0  # real monotonic time of the last automatic firing


class Timer:
    """Looks at every provider's schedules each tick and fires the ones due."""

    def __init__(self, speed: Callable[[], float]):
        self._speed = speed
        self.providers: list[Callable[[], Iterable[Entry]]] = []
        self.automatic = True
        self._lock = threading.RLock()
        self._states: dict[str, _State] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._now = datetime.now(timezone.utc)
        self._mono = time.monotonic()

    # ---------------------------------------------------------------- simulated time
    def now(self) -> datetime:
        """Schedules' simulated time (UTC)."""
        with self._lock:
            mono = time.monotonic()
            self._now += timedelta(seconds=(mono - self._mono) * self._speed())
            self._mono = mono
            return self._now

    # ---------------------------------------------------------------- life cycle
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def reset(self) -> None:
        self.stop()
        with self._lock:
            self._states.clear()
            self.automatic = True
            self._now, self._mono = datetime.now(timezone.utc), time.monotonic()
        self.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:  # a schedule's bug must not end the timer
                import logging

                logging.getLogger(__name__).exception("schedules: a tick failed")

    # ---------------------------------------------------------------- firing
    def entries(self) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        for provider in list(self.providers):
            for entry in provider():
                found[entry.arn] = entry
        return found

    def _state(self, entry: Entry, now: datetime) -> _State | None:
        key = (entry.arn, entry.expression, entry.zone, entry.start, entry.end)
        state = self._states.get(entry.arn)
        if state is None or state.key != key:
            try:
                schedule = Schedule(entry.expression, entry.zone)
            except ExpressionError:
                return None
            start = entry.start or now
            state = _State(key, None, start)
            state.next = self._after(schedule, entry, max(now, start) - timedelta(
                microseconds=1) if entry.start and entry.start > now else now, start)
            self._states[entry.arn] = state
        return state

    @staticmethod
    def _after(schedule: Schedule, entry: Entry, after: datetime,
               start: datetime) -> datetime | None:
        found = schedule.next_after(after, start)
        if found is not None and entry.end is not None and found > entry.end:
            return None
        return found

    def tick(self) -> None:
        with self._lock:
            now = self.now()
            entries = self.entries()
            for arn in [a for a in self._states if a not in entries]:
                del self._states[arn]  # deleted: forgotten
            for entry in entries.values():
                state = self._state(entry, now)
                if state is None or not entry.enabled or not self.automatic:
                    continue
                if state.next is None:
                    if entry.on_complete is not None:
                        entry.on_complete()
                    continue
                if state.next <= now and \
                        time.monotonic() - state.last_fired >= MIN_REAL_INTERVAL:
                    state.last_fired = time.monotonic()
                    self._fire(entry, state)

    def _fire(self, entry: Entry, state: _State) -> Any:
        assert state.next is not None
        when = state.next
        state.next = self._after(Schedule(entry.expression, entry.zone), entry, when,
                                 state.start)
        return {"time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "result": entry.fire(when)}

    def fire(self, arn: str, count: int) -> list[Any]:
        """Fire the next ``count`` occurrences of schedule ``arn`` now, in order."""
        with self._lock:
            now = self.now()
            entries = self.entries()
            entry = entries.get(arn) or next(
                (e for e in entries.values() if e.arn.rsplit("/", 1)[-1] == arn), None)
            if entry is None:
                return []
            if not entry.enabled:
                raise ValueError(f"{entry.arn} is disabled: a disabled schedule does not fire. "
                                 "Enable it first.")
            state = self._state(entry, now)
            fired: list[Any] = []
            while state is not None and state.next is not None and len(fired) < count:
                fired.append(self._fire(entry, state))
            return fired

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            now = self.now()
            out = []
            for entry in self.entries().values():
                state = self._state(entry, now)
                nxt = state.next if state is not None else None
                out.append({"arn": entry.arn, "expression": entry.expression,
                            "timezone": entry.zone, "enabled": entry.enabled,
                            "next": nxt.strftime("%Y-%m-%dT%H:%M:%SZ") if nxt else None})
            return out
