"""What the sandbox's event sources did with each event, and whether any are still at work.

Every path that hands an event from one service to another records a :class:`Hop` here: S3
notifications, SNS subscriptions, EventBridge rules and schedules, Lambda's asynchronous queue
and its destinations, event source mappings. A hop names the producer and the consumer by ARN,
the event it carried, the event that caused it (``parent``: an SQS message's hop has the SNS
message that put it there as its parent), and how it ended. ``sb.trace(...)`` and the
architecture diagram read them, in the spirit of an X-Ray service map: AWS shows this as
traces; the sandbox keeps every hop because "where did my event go?" is what a learner asks.

Background deliverers also register here how to tell whether they are busy, so that a notebook
can wait until an event has gone everywhere it will go (``sb.settle()``) instead of sleeping.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

LIMIT = 20_000  # hops kept (the oldest are forgotten first)

# how a hop ended
DELIVERED = "delivered"    # the consumer accepted it (a function ran, a message was queued)
FAILED = "failed"          # this attempt failed; ``detail`` says why (a retry may follow)
RETRYING = "retrying"      # failed, and will be tried again (``detail`` says when)
FILTERED = "filtered"      # a filter (policy, pattern, FilterCriteria) did not match
DEAD_LETTERED = "dead-lettered"  # given up on, sent to a dead-letter queue or destination
DROPPED = "dropped"        # given up on, and nowhere to send it (AWS discards it too)
DENIED = "denied"          # the consumer's policy did not admit the producer (IAM decided)
OUTCOMES = (DELIVERED, FAILED, RETRYING, FILTERED, DEAD_LETTERED, DROPPED, DENIED)


@dataclass(frozen=True)
class Hop:
    seq: int
    at: float          # when (epoch seconds)
    source: str        # the producer's ARN (bucket, topic, rule, schedule, queue, stream, function)
    target: str        # the consumer's ARN
    event_id: str      # the event carried: a message id, an invocation's request id, an event id
    outcome: str       # one of OUTCOMES
    detail: str = ""   # for a learner: what happened ("attempt 2 of 3: Runtime.ExitError")
    parent: str = ""   # the event that caused this one ("" for one a learner's call made)
    kind: str = ""     # the path: "s3-notification", "sns", "eventbridge", "esm", "async", ...

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Deliveries:
    """The service's record of hops, and the registry of who may still be delivering."""

    def __init__(self, now: Callable[[], float] = time.time, limit: int = LIMIT):
        self._now = now
        self._hops: deque[Hop] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._busy: dict[str, Callable[[], bool]] = {}

    def record(self, source: str, target: str, event_id: str, outcome: str, *,
               detail: str = "", parent: str = "", kind: str = "") -> Hop:
        if outcome not in OUTCOMES:
            raise ValueError(f"a hop's outcome is one of {OUTCOMES}, got {outcome!r}")
        with self._lock:
            hop = Hop(next(self._seq), self._now(), source, target, event_id, outcome,
                      detail, parent, kind)
            self._hops.append(hop)
        return hop

    def since(self, seq: int = 0) -> list[Hop]:
        with self._lock:
            return [hop for hop in self._hops if hop.seq > seq]

    def trace(self, event_id: str) -> list[Hop]:
        """Every hop of ``event_id`` and of the events it caused, in order."""
        with self._lock:
            hops = list(self._hops)
        ids, found = {event_id}, True
        while found:  # follow parent -> child until nothing new is reached
            found = False
            for hop in hops:
                if hop.parent in ids and hop.event_id not in ids:
                    ids.add(hop.event_id)
                    found = True
        return [hop for hop in hops if hop.event_id in ids]

    def clear(self) -> None:
        with self._lock:
            self._hops.clear()

    # ---------------------------------------------------------------- quiescence
    def register_busy(self, name: str, busy: Callable[[], bool]) -> None:
        """``busy()`` is true while the deliverer ``name`` has events in hand or due soon."""
        self._busy[name] = busy

    def unregister_busy(self, name: str) -> None:
        self._busy.pop(name, None)

    def busy(self) -> list[str]:
        """The deliverers still at work."""
        return [name for name, busy in list(self._busy.items()) if busy()]

    def settle(self, timeout: float, quiet_for: float = 0.05) -> list[str]:
        """Wait until no deliverer is busy for ``quiet_for`` seconds in a row (one delivery can
        start another); the deliverers still busy when ``timeout`` ran out ([] when settled)."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while True:
            busy = self.busy()
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_for:
                return []
            if now >= deadline:
                return busy
            time.sleep(0.01)
