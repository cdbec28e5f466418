"""Asynchronous invocation: Lambda's event queue, its retries and where results go.

``InvocationType="Event"`` answers 202 at once; the event waits in a queue and runs in the
background. A function error is retried ``MaximumRetryAttempts`` times (default 2), about one
minute and then two minutes later; a throttled event is retried with backoff until it is older than
``MaximumEventAgeInSeconds`` (default 6 hours). Then the outcome goes to the OnSuccess or OnFailure
destination (SQS, SNS, Lambda or EventBridge; for OnFailure also an S3 bucket) as an invocation
record, and a failed event to the function's dead-letter queue. The waits run on the sandbox's
clock (``sandbox.clock``).

Every step is a hop in the service's record of deliveries (``sandbox/server/deliveries.py``,
kind ``"async"``): each attempt (delivered, retrying and when, failed), a throttle, the record
sent to a destination (``"destination"``) or the event to the dead-letter queue (``"dlq"``,
dead-lettered), an event given up on with nowhere to go (dropped), a destination the function's
role may not write to (denied). A hop's ``event_id`` is the invocation's request ID; its
``parent`` is the event that caused the invocation (an S3 request ID, an SNS message ID), so
``sb.admin.trace(...)`` follows an upload to its function's retries and destinations.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from moto.awslambda.models import lambda_backends

from .. import sts
from ..runtime.environments import EnvironmentAborted, Throttled
from ..server import deliveries as hops
from . import metrics

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
    source: str = field(default="", compare=False)  # the producer's ARN ("" for an Invoke)
    parent: str = field(default="", compare=False)  # the event that caused this invocation


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
    def submit(self, fn: Any, payload: bytes, request_id: str, invoked_arn: str, *,
               source: str = "", parent: str = "") -> None:
        """Queue an event for ``fn``; ``source`` (a bucket's, a topic's ARN) and ``parent`` (the
        event that caused it) are what the record of deliveries shows."""
        metrics.publish(fn, {"AsyncEventsReceived": (1.0, "Count")}, invoked_arn=invoked_arn)
        self._schedule(_Event(0.0, 0, fn, payload, request_id, invoked_arn, source=source,
                              parent=parent), 0.0)

    def _hop(self, event: _Event, outcome: str, detail: str, *, target: str = "",
             event_id: str = "", parent: str | None = None, kind: str = "async",
             source: str | None = None) -> None:
        self.runtime.sandbox.deliveries.record(
            event.source if source is None else source, target or _unqualified(event),
            event_id or event.request_id, outcome, detail=detail,
            parent=event.parent if parent is None else parent, kind=kind)

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
            self._hop(event, hops.FAILED, f"older than MaximumEventAgeInSeconds ({max_age} s)")
            self._finish(event, None, "EventAgeExceeded", config)
            return
        started = time.monotonic()
        # from queued to this attempt, on the sandbox clock (the time a retry waited included)
        metrics.publish(fn, {"AsyncEventAge": (round(event.age * 1000), "Milliseconds")},
                        invoked_arn=event.invoked_arn)
        try:
            result = self.runtime.run(fn, event.payload, invoked_arn=event.invoked_arn,
                                      request_id=event.request_id)
        except EnvironmentAborted:
            return  # the sandbox was reset or stopped: the event goes with everything else
        except Throttled:
            if self.runtime.reserved_concurrency(fn) == 0:
                # A function that may not run at all sends its events straight to failure.
                self._hop(event, hops.FAILED, "throttled: the function's reserved concurrency "
                          "is 0, so Lambda does not retry")
                self._finish(event, None, "RetriesExhausted", config)
                return
            # A throttle is retried with backoff until the event is too old; it is no attempt.
            event.throttles += 1
            delay = min(1.0 * 2 ** event.throttles, 300.0)
            if event.age + delay > max_age:
                self._hop(event, hops.FAILED, "throttled until older than "
                          f"MaximumEventAgeInSeconds ({max_age} s)")
                self._finish(event, None, "EventAgeExceeded", config)
            else:
                self._hop(event, hops.RETRYING, f"throttled: tried again in {delay:g} s "
                          "(sandbox clock)")
                self._schedule(event, delay)
            return
        event.attempts += 1
        event.age += time.monotonic() - started
        attempt = f"attempt {event.attempts} of {max_retries + 1}"
        if result.function_error is None:
            self._hop(event, hops.DELIVERED, attempt)
            self._finish(event, result, "Success", config)
        elif event.attempts <= max_retries:
            delay = RETRY_DELAYS[min(event.attempts - 1, len(RETRY_DELAYS) - 1)]
            self._hop(event, hops.RETRYING, f"{attempt} failed ({_error_type(result)}): tried "
                      f"again in {delay:g} s (sandbox clock)")
            self._schedule(event, delay)
        else:
            self._hop(event, hops.FAILED, f"{attempt} failed ({_error_type(result)}): no "
                      "retries left")
            self._finish(event, result, "RetriesExhausted", config)

    # ---------------------------------------------------------------- where results go
    def _finish(self, event: _Event, result: Any, condition: str, config: dict[str, Any]) -> None:
        if condition != "Success":  # sent on to a destination or DLQ first, if any
            metrics.publish(event.fn, {"AsyncEventsDropped": (1.0, "Count")},
                            invoked_arn=event.invoked_arn)
        destinations = config.get("DestinationConfig") or {}
        key = "OnSuccess" if condition == "Success" else "OnFailure"
        target = (destinations.get(key) or {}).get("Destination")
        if target:
            record = invocation_record(event, result, condition)
            self._deliver(event, target, record, success=condition == "Success")
        if condition != "Success":
            dead_letter = (getattr(event.fn, "dead_letter_config", None) or {}).get("TargetArn")
            if dead_letter:
                self._dead_letter(event, result, dead_letter)
            elif not target:  # Lambda discards it (AWS counts it in a metric, nothing more)
                self._hop(event, hops.DROPPED, f"{condition}: the function has no on-failure "
                          "destination and no dead-letter queue, so Lambda discards the event",
                          target=_unqualified(event), source=_unqualified(event), kind="async")

    def _client(self, fn: Any, service: str) -> Any:
        """A client acting as the function's execution role, as Lambda delivers."""
        return sts.client(service, role_arn=fn.role, session_name=fn.function_name,
                          region=fn.region, endpoint_url=self.runtime.sandbox.endpoint_url)

    def _send_to_queue(self, fn: Any, queue_arn: str, body: str, **extra: Any) -> str:
        # the URL comes from the ARN: Lambda's role needs sqs:SendMessage only, not GetQueueUrl
        _, _, _, _, owner, name = queue_arn.split(":")
        sent = self._client(fn, "sqs").send_message(
            QueueUrl=f"{self.runtime.sandbox.endpoint_url}/{owner}/{name}", MessageBody=body,
            **extra)
        return str(sent["MessageId"])

    def _deliver(self, event: _Event, target: str, record: dict[str, Any],
                 success: bool) -> None:
        fn = event.fn
        service = target.split(":")[2]
        body = json.dumps(record)
        sent = ""  # the id of what the destination received, when it says one
        try:
            if service == "sqs":
                sent = self._send_to_queue(fn, target, body)
            elif service == "sns":
                sent = self._client(fn, "sns").publish(TopicArn=target, Message=body)["MessageId"]
            elif service == "lambda":
                answer = self._client(fn, "lambda").invoke(
                    FunctionName=target, InvocationType="Event", Payload=body.encode())
                sent = answer["ResponseMetadata"].get("RequestId", "")
            elif service == "events":
                outcome = "Success" if success else "Failure"
                answer = self._client(fn, "events").put_events(Entries=[{
                    "Source": "lambda",
                    "DetailType": f"Lambda Function Invocation Result - {outcome}",
                    "Resources": [record["requestContext"]["functionArn"]],
                    "Detail": body,
                    "EventBusName": target,
                }])
                sent = (answer.get("Entries") or [{}])[0].get("EventId", "")
            elif service == "s3" and not success:
                sent = self._put_to_bucket(event, target, body)
            else:
                raise ValueError(f"Lambda cannot deliver to {target}")
        except Exception as e:  # Lambda drops a record it cannot deliver (a metric counts it)
            self.delivery_failures.append(f"{target}: {e}")
            metrics.publish(fn, {"DestinationDeliveryFailures": (1.0, "Count")},
                            invoked_arn=event.invoked_arn)
            self._hop(event, _refusal(e), f"the record was not delivered: {e}", target=target,
                      source=_unqualified(event), parent=event.parent, kind="destination")
            return
        condition = record["requestContext"]["condition"]
        self._hop(event, hops.DELIVERED if success else hops.DEAD_LETTERED,
                  f"{'OnSuccess' if success else 'OnFailure'} destination: {condition}",
                  target=target, source=_unqualified(event), event_id=sent or event.request_id,
                  parent=event.request_id if sent else event.parent, kind="destination")

    def _put_to_bucket(self, event: _Event, bucket_arn: str, body: str) -> str:
        """An S3 on-failure destination: the invocation record as one JSON object.

        The Lambda Developer Guide ("Capturing records of Lambda asynchronous invocations",
        Amazon S3 destinations) names the object aws/lambda/async/<function name>/YYYY/MM/DD/
        YYYY-MM-DDTHH.MM.SS-<random UUID> and has the execution role need s3:PutObject and
        s3:ListBucket: the sandbox lists the prefix, then writes, both as the role."""
        now = datetime.now(timezone.utc)
        key = (f"aws/lambda/async/{event.fn.function_name}/{now:%Y/%m/%d}/"
               f"{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}")
        bucket = bucket_arn.split(":")[-1]
        s3 = self._client(event.fn, "s3")
        s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(),
                      ContentType="application/json")
        return f"{bucket_arn}/{key}"

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
                sent = self._send_to_queue(event.fn, target, body, MessageAttributes=attributes)
            else:
                sent = self._client(event.fn, "sns").publish(
                    TopicArn=target, Message=body, MessageAttributes=attributes)["MessageId"]
        except Exception as e:
            self.delivery_failures.append(f"{target}: {e}")
            metrics.publish(event.fn, {"DeadLetterErrors": (1.0, "Count")},
                            invoked_arn=event.invoked_arn)
            self._hop(event, _refusal(e), f"the dead-letter queue did not take the event: {e}",
                      target=target, source=_unqualified(event), kind="dlq")
            return
        self._hop(event, hops.DEAD_LETTERED, f"dead-letter queue: {message or 'failed'}",
                  target=target, source=_unqualified(event), event_id=sent,
                  parent=event.request_id, kind="dlq")


def _unqualified(event: _Event) -> str:
    """The function's ARN without a qualifier: the node a diagram draws."""
    arn = str(event.fn.function_arn)
    return arn if str(event.fn.version) == "$LATEST" else arn.rsplit(":", 1)[0]


def _refusal(error: Exception) -> str:
    """DENIED when IAM refused the delivery, FAILED for anything else."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return hops.DENIED if code in ("AccessDenied", "AccessDeniedException",
                                   "AuthorizationError") else hops.FAILED


def _error_type(result: Any) -> str:
    try:
        return str(json.loads(result.payload).get("errorType") or result.function_error)
    except (ValueError, AttributeError):
        return str(result.function_error)


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
