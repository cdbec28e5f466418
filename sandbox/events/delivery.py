"""EventBridge's delivery queue: each (event, target) pair delivered in the background, retried
by the target's ``RetryPolicy`` on the sandbox's clock, then dead-lettered or dropped.

"Event retry policy and using dead-letter queues" (EventBridge User Guide): a failed delivery
is retried with exponential back-off, by default for 24 hours and up to 185 times
(``RetryPolicy``: ``MaximumRetryAttempts``, ``MaximumEventAgeInSeconds``); a missing target or
missing permissions are not retried. An event that is given up on goes to the target's
``DeadLetterConfig`` queue (an SQS queue whose policy must admit the rule) with the message
attributes ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE`` and
``RETRY_ATTEMPTS`` (EventBridge Scheduler: ``SCHEDULE_ARN`` instead of ``RULE_ARN``), or is
dropped. Every hop is recorded in ``service.deliveries`` (kind ``eventbridge`` or
``scheduler``): a delivered hop names what the target calls the event (the asynchronous
invocation's request id, the SQS or SNS message id, the execution ARN) as its ``event_id``,
with the EventBridge event as its ``parent``, so that ``sb.admin.trace(event_id)`` follows the
event further; any other outcome names the event itself.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import iam
from ..server import deliveries as hops
from .targets import (
    NO_PERMISSIONS,
    RESOURCE_NOT_FOUND,
    SDK_CLIENT_ERROR,
    Delivery,
    TargetFailure,
    send,
)

if TYPE_CHECKING:
    from ..server.service import SandboxService

DEFAULT_RETRIES = 185
DEFAULT_MAX_AGE = 86400
FIRST_RETRY_SECONDS = 1.0  # simulated; doubled after each failure ("exponential back-off")
MAX_RETRY_SECONDS = 180.0
WORKERS = 4
log = logging.getLogger(__name__)


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    run: Callable[[], None] = field(compare=False)


class Dispatcher:
    """Background workers running jobs when they are due (real monotonic seconds)."""

    def __init__(self, service: SandboxService, name: str):
        self.service = service
        self.name = name
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._active = 0
        self._stopping = False

    def later(self, simulated_seconds: float, run: Callable[[], None]) -> None:
        due = time.monotonic() + self.service.clock.real_seconds(simulated_seconds)
        with self._cond:
            if self._stopping:
                return
            heapq.heappush(self._heap, _Job(due, next(self._seq), run))
            if len(self._threads) < WORKERS and \
                    self._active + len(self._heap) > len(self._threads):
                thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def busy(self) -> bool:
        with self._cond:
            return bool(self._heap) or self._active > 0

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap and self._heap[0].due <= time.monotonic():
                        job = heapq.heappop(self._heap)
                        self._active += 1
                        break
                    timeout = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                else:
                    return
            try:
                job.run()
            except Exception:  # a bug of ours must not end the worker
                log.exception("%s: a delivery job failed", self.name)
            finally:
                with self._cond:
                    self._active -= 1

    def clear(self) -> None:
        """Forget every pending job and end the workers (reset, stop)."""
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        with self._cond:
            self._stopping = False
            self._active = 0


# ---------------------------------------------------------------------- one delivery
def deliver(dispatcher: Dispatcher, delivery: Delivery) -> None:
    """Try ``delivery`` now; on failure retry later, dead-letter or drop it."""
    record = dispatcher.service.deliveries.record
    delivery.attempts += 1
    try:
        delivered_as = send(delivery)
    except TargetFailure as failure:
        _failed(dispatcher, delivery, failure)
        return
    except Exception as error:  # a target's unexpected error: retried, as a service error
        _failed(dispatcher, delivery, TargetFailure(SDK_CLIENT_ERROR, str(error) or
                                                    type(error).__name__, retriable=True))
        return
    record(delivery.source_arn, delivery.arn, delivered_as or delivery.event_id,
           hops.DELIVERED, detail=f"attempt {delivery.attempts}",
           parent=delivery.event_id if delivered_as != delivery.event_id else delivery.parent,
           kind=delivery.kind)


def _failed(dispatcher: Dispatcher, delivery: Delivery, failure: TargetFailure) -> None:
    record = dispatcher.service.deliveries.record
    policy = delivery.target.get("RetryPolicy") or {}
    retries = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRIES))
    max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE))
    delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (delivery.attempts - 1))
    outcome = hops.DENIED if failure.code == NO_PERMISSIONS else hops.FAILED
    if failure.retriable and delivery.attempts <= retries and delivery.age + delay <= max_age:
        record(delivery.source_arn, delivery.arn, delivery.event_id, hops.RETRYING,
               detail=f"attempt {delivery.attempts} failed ({failure.code}: "
                      f"{failure.message}); retrying in {delay:g} s (simulated)",
               parent=delivery.parent, kind=delivery.kind)
        delivery.age += delay
        dispatcher.later(delay, lambda: deliver(dispatcher, delivery))
        return
    if not failure.retriable:
        why = "not retried"
    elif delivery.attempts > retries:
        why = f"retries exhausted (MaximumRetryAttempts {retries})"
    else:
        why = f"too old to retry (MaximumEventAgeInSeconds {max_age:g})"
    detail = f"attempt {delivery.attempts}: {failure.code}: {failure.message}; {why}"
    if outcome == hops.DENIED:
        record(delivery.source_arn, delivery.arn, delivery.event_id, hops.DENIED,
               detail=detail, parent=delivery.parent, kind=delivery.kind)
    dead_letter = (delivery.target.get("DeadLetterConfig") or {}).get("Arn")
    if dead_letter:
        sent, problem = _dead_letter(delivery, dead_letter, failure)
        if sent:
            record(delivery.source_arn, delivery.arn, delivery.event_id, hops.DEAD_LETTERED,
                   detail=f"{detail}; sent to the dead-letter queue {dead_letter}",
                   parent=delivery.parent, kind=delivery.kind)
            return
        detail += f"; the dead-letter queue refused it: {problem}"
    record(delivery.source_arn, delivery.arn, delivery.event_id, hops.DROPPED, detail=detail,
           parent=delivery.parent, kind=delivery.kind)


def _dead_letter(delivery: Delivery, queue_arn: str,
                 failure: TargetFailure) -> tuple[bool, str]:
    from moto.sqs.models import sqs_backends

    if delivery.kind == "scheduler":  # Scheduler sends to the DLQ as the execution role
        role = str(delivery.target.get("RoleArn") or "")
        if not role or not iam.role_may(role, "sqs:SendMessage", queue_arn,
                                        region=delivery.region,
                                        source=f"{delivery.source} (dead-letter queue)"):
            return False, f"the role {role} may not sqs:SendMessage to it"
    elif not iam.service_may(delivery.principal, "sqs:SendMessage", queue_arn,
                             source_arn=delivery.source_arn, source_account=delivery.account,
                             source=f"{delivery.source} (dead-letter queue)"):
        return False, f"its policy does not allow {delivery.principal} to sqs:SendMessage"
    _, _, _, region, account, name = queue_arn.split(":", 5)
    if name not in sqs_backends[account][region].queues:
        return False, f"{RESOURCE_NOT_FOUND}: the queue does not exist"
    source_key = "SCHEDULE_ARN" if delivery.kind == "scheduler" else "RULE_ARN"
    attributes = {
        source_key: delivery.source_arn, "TARGET_ARN": delivery.arn,
        "ERROR_CODE": failure.code, "ERROR_MESSAGE": failure.message[:256],
        "RETRY_ATTEMPTS": str(delivery.attempts - 1),
    }
    if delivery.kind == "scheduler":
        attributes["EXECUTION_ID"] = delivery.event_id
    body = delivery.payload if delivery.kind == "scheduler" else json.dumps(delivery.event)
    sqs_backends[account][region].send_message(
        name, body, message_attributes={
            key: {"DataType": "String", "StringValue": value}
            for key, value in attributes.items()})
    return True, ""
