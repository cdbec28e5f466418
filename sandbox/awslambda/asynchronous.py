"""Asynchronous invocation: Lambda's event queue, its retries and where results go.

``InvocationType="Event"`` answers 202 at once; the event waits in a queue and runs in the
background. A function error is retried ``MaximumRetryAttempts`` times (default 2), about one
minute and then two minutes later; a throttled event is retried with backoff until it is older than
``MaximumEventAgeInSeconds`` (default 6 hours). Then the outcome goes to the OnSuccess or OnFailure
destination (SQS, SNS, Lambda or EventBridge) as an invocation record, and a failed event to the
function's dead-letter queue. The waits run on the sandbox's clock (``sandbox.clock``).
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from moto.awslambda.models import lambda_backends

from .. import sts
from ..runtime.environments import EnvironmentAborted, Throttled

if TYPE_CHECKING:
    from . import LambdaRuntime

RETRY_DELAYS = (60.0, 120.0)  # seconds before the first and the second retry
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 21600
WORKERS = 4


@dataclass(order=True)
class _Event:
    due: float
    seq: int
    fn: Any = field(compare=False)
    payload: bytes = field(compare=False)
    request_id: str = field(compare=False)
    invoked_arn: str = field(compare=False)
    attempts: int = field(default=0, compare=False)
    throttles: int = field(default=0, compare=False)
    age: float = field(default=0.0, compare=False)  # simulated seconds since it was queued


class AsyncInvoker:
    def __init__(self, runtime: LambdaRuntime):
        self.runtime = runtime
        self.delivery_failures: list[str] = []
        self._seq = itertools.count()
        self._heap: list[_Event] = []
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._active = 0

    # ---------------------------------------------------------------- the queue
    def submit(self, fn: Any, payload: bytes, request_id: str, invoked_arn: str) -> None:
        self._schedule(_Event(0.0, 0, fn, payload, request_id, invoked_arn), 0.0)

    def _schedule(self, event: _Event, delay: float) -> None:
        with self._cond:
            if self._stopping:
                return
            event.age += delay
            event.due = time.monotonic() + self.runtime.sandbox.clock.real_seconds(delay)
            event.seq = next(self._seq)
            heapq.heappush(self._heap, event)
            if len(self._threads) < WORKERS and self._active + len(self._heap) > len(self._threads):
                thread = threading.Thread(target=self._work, name="lambda-async", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def _next(self) -> _Event | None:
        with self._cond:
            while not self._stopping:
                if self._heap:
                    wait = self._heap[0].due - time.monotonic()
                    if wait <= 0:
                        self._active += 1
                        return heapq.heappop(self._heap)
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while (event := self._next()) is not None:
            try:
                self._run(event)
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def busy(self) -> bool:
        """Whether an event is queued (a retry waiting included) or running."""
        with self._cond:
            return bool(self._heap) or self._active > 0

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event has run and been delivered (tests and lessons use it)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._active:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(10)

    def restart(self) -> None:
        with self._cond:
            self._stopping = False
            self.delivery_failures = []

    # ---------------------------------------------------------------- one attempt
    def _run(self, event: _Event) -> None:
        fn = event.fn
        config = _event_invoke_config(fn)
        max_retries = config.get("MaximumRetryAttempts", DEFAULT_RETRIES)
        max_age = config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)
        if event.age > max_age:
            self._finish(event, None, "EventAgeExceeded", config)
            return
        started = time.monotonic()
        try:
            result = self.runtime.run(fn, event.payload, invoked_arn=event.invoked_arn,
                                      request_id=event.request_id)
        except EnvironmentAborted:
            return  # the sandbox was reset or stopped: the event goes with everything else
        except Throttled:
            if self.runtime.reserved_concurrency(fn) == 0:
                # A function that may not run at all sends its events straight to failure.
                self._finish(event, None, "RetriesExhausted", config)
                return
            # A throttle is retried with backoff until the event is too old; it is no attempt.
            event.throttles += 1
            delay = min(1.0 * 2 ** event.throttles, 300.0)
            if event.age + delay > max_age:
                self._finish(event, None, "EventAgeExceeded", config)
            else:
                self._schedule(event, delay)
            return
        event.attempts += 1
        event.age += time.monotonic() - started
        if result.function_error is None:
            self._finish(event, result, "Success", config)
        elif event.attempts <= max_retries:
            self._schedule(event, RETRY_DELAYS[min(event.attempts - 1, len(RETRY_DELAYS) - 1)])
        else:
            self._finish(event, result, "RetriesExhausted", config)

    # ---------------------------------------------------------------- where results go
    def _finish(self, event: _Event, result: Any, condition: str, config: dict[str, Any]) -> None:
        destinations = config.get("DestinationConfig") or {}
        key = "OnSuccess" if condition == "Success" else "OnFailure"
        target = (destinations.get(key) or {}).get("Destination")
        if target:
            record = invocation_record(event, result, condition)
            self._deliver(event.fn, target, record, success=condition == "Success")
        if condition != "Success":
            dead_letter = (getattr(event.fn, "dead_letter_config", None) or {}).get("TargetArn")
            if dead_letter:
                self._dead_letter(event, result, dead_letter)

    def _client(self, fn: Any, service: str) -> Any:
        """A client acting as the function's execution role, as Lambda delivers."""
        return sts.client(service, role_arn=fn.role, session_name=fn.function_name,
                          region=fn.region, endpoint_url=self.runtime.sandbox.endpoint_url)

    def _send_to_queue(self, fn: Any, queue_arn: str, body: str, **extra: Any) -> None:
        # the URL comes from the ARN: Lambda's role needs sqs:SendMessage only, not GetQueueUrl
        _, _, _, _, owner, name = queue_arn.split(":")
        self._client(fn, "sqs").send_message(
            QueueUrl=f"{self.runtime.sandbox.endpoint_url}/{owner}/{name}", MessageBody=body,
            **extra)

    def _deliver(self, fn: Any, target: str, record: dict[str, Any], success: bool) -> None:
        service = target.split(":")[2]
        body = json.dumps(record)
        try:
            if service == "sqs":
                self._send_to_queue(fn, target, body)
            elif service == "sns":
                self._client(fn, "sns").publish(TopicArn=target, Message=body)
            elif service == "lambda":
                self._client(fn, "lambda").invoke(FunctionName=target, InvocationType="Event",
                                                  Payload=body.encode())
            elif service == "events":
                outcome = "Success" if success else "Failure"
                self._client(fn, "events").put_events(Entries=[{
                    "Source": "lambda",
                    "DetailType": f"Lambda Function Invocation Result - {outcome}",
                    "Resources": [record["requestContext"]["functionArn"]],
                    "Detail": body,
                    "EventBusName": target,
                }])
            else:
                raise ValueError(f"Lambda cannot deliver to {target}")
        except Exception as e:  # Lambda drops a record it cannot deliver (a metric counts it)
            self.delivery_failures.append(f"{target}: {e}")

    def _dead_letter(self, event: _Event, result: Any, target: str) -> None:
        message = _error_message(result)
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message[:1024]},
        }
        body = event.payload.decode("utf-8", "replace")
        try:
            if target.split(":")[2] == "sqs":
                self._send_to_queue(event.fn, target, body, MessageAttributes=attributes)
            else:
                self._client(event.fn, "sns").publish(TopicArn=target, Message=body,
                                                      MessageAttributes=attributes)
        except Exception as e:
            self.delivery_failures.append(f"{target}: {e}")


def _event_invoke_config(fn: Any) -> dict[str, Any]:
    latest = lambda_backends[fn.account_id][fn.region].get_function(fn.function_name)
    configs = latest.event_invoke_config
    return dict(configs[-1].config) if configs else {}


def _error_message(result: Any) -> str:
    if result is None:
        return "Event age exceeded"
    try:
        return str(json.loads(result.payload).get("errorMessage", ""))
    except (ValueError, AttributeError):
        return ""


def invocation_record(event: _Event, result: Any, condition: str) -> dict[str, Any]:
    """An asynchronous invocation record, in Lambda's destination format."""
    response_context: dict[str, Any] = {"statusCode": 200,
                                        "executedVersion": str(event.fn.version)}
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": event.invoked_arn if ":" in event.invoked_arn.split(":function:")[-1]
            else f"{event.invoked_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": max(event.attempts, 1),
        },
        "requestPayload": _loads(event.payload),
        "responseContext": response_context,
    }
    if result is not None:
        if result.function_error:
            response_context["functionError"] = result.function_error
        record["responsePayload"] = _loads(result.payload)
    return record


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
