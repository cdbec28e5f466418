"""Event source mappings: Lambda's pollers, reading queues and streams and invoking functions.

On AWS an event source mapping is a poller that Lambda runs for you
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html): it reads a
batch from an SQS queue, a Kinesis stream or a DynamoDB stream with the function's execution
role and invokes the function synchronously with it. moto instead runs the function inside the
producer's call (``Queue.add_message``, ``StreamShard.add``, ``Stream.put_record``): SendMessage
waits for the handler, a failed message is never retried, ``FilterCriteria`` is ignored and
reported failures are deleted. The sandbox takes the mappings away from moto's triggers
(``_create_event_source_mapping`` below) and runs one :class:`MappingService` per sandbox:

- SQS (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html): pollers (5, or
  ``ScalingConfig.MaximumConcurrency``) receive batches of ``BatchSize`` within
  ``MaximumBatchingWindowInSeconds``, invoke, delete what succeeded; a failed message stays
  invisible for the queue's visibility timeout and is received again, and SQS moves it to the
  dead-letter queue after ``maxReceiveCount`` receives. ``ReportBatchItemFailures`` keeps only the
  reported messages (services-sqs-errorhandling.html); messages that ``FilterCriteria`` does not
  match are deleted (invocation-eventfiltering.html).
- Kinesis and DynamoDB Streams (with-kinesis.html, with-ddb.html): one poller per shard reads in
  order from ``StartingPosition``; a failed batch blocks its shard and is retried
  (``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds``, ``BisectBatchOnFunctionError``,
  ``ReportBatchItemFailures``), then discarded, to the ``OnFailure`` destination if there is one.

Waits that AWS measures in seconds (visibility timeouts, batching windows, retry backoff) run on
the sandbox's clock. Every batch's records are hops in ``service.deliveries`` (kind ``"esm"``);
the service is busy (``sb.settle()``) while a mapping has records it will deliver.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import iam, sts
from ..runtime.environments import EnvironmentAborted, Throttled
from ..server import deliveries as hops
from . import metrics

if TYPE_CHECKING:
    from . import LambdaRuntime

KIND = "esm"
DEFAULT_SQS_POLLERS = 5   # Lambda starts with five concurrent batches (services-sqs-scaling)
MAX_SQS_POLLERS = 10      # the sandbox's cap on concurrent batches per mapping (2 cores)
IDLE_WAIT = 0.1           # real seconds an idle poller waits before it looks again
PROBLEM_WAIT = 1.0        # simulated seconds before a poller that hit a problem tries again
RETRY_BACKOFF_LIMIT = 300.0  # simulated seconds between a stream batch's retries, at most
STREAM_RETENTION = 86400.0  # a stream record expires after 24 hours (Kinesis' default)
USER_INITIATED = "USER_INITIATED"
NO_RECORDS = "No records processed"
OK = "OK"
FUNCTION_FAILED = "PROBLEM: Function call failed"

SQS_ACTIONS = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
KINESIS_ACTIONS = ("GetRecords", "GetShardIterator", "DescribeStream", "ListShards",
                   "ListStreams")
DYNAMODB_ACTIONS = ("GetRecords", "GetShardIterator", "DescribeStream", "ListStreams")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc) \
        .isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------- the service
class MappingService:
    """Every event source mapping's poller in a running sandbox."""

    def __init__(self, runtime: LambdaRuntime):
        self.runtime = runtime
        self._pollers: dict[str, Poller] = {}
        self._retired: list[Poller] = []  # deleted mappings' pollers, finishing a batch
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def clock(self) -> Any:
        return self.runtime.sandbox.clock

    def record(self, source: str, target: str, event_id: str, outcome: str,
               detail: str = "") -> None:
        self.runtime.sandbox.deliveries.record(source, target, event_id, outcome,
                                               detail=detail, kind=KIND)

    # ---------------------------------------------------------------- life of a mapping
    def created(self, esm: Any) -> None:
        poller = _poller_for(self, esm)
        poller.announce = "Creating"  # CreateEventSourceMapping answers "Creating"
        with self._lock:
            if self._stopping:
                return
            self._pollers[esm.uuid] = poller
        if esm.enabled:
            poller.start()

    def updated(self, esm: Any, spec: dict[str, Any]) -> None:
        poller = self._pollers.get(esm.uuid)
        if poller is None:
            return
        was_running = poller.running
        if "Enabled" in spec and bool(spec["Enabled"]) != was_running:
            poller.announce = "Enabling" if spec["Enabled"] else "Disabling"
        else:
            poller.announce = "Updating"
        if esm.enabled and (not was_running or "ScalingConfig" in spec):
            poller.stop(wait=False)  # a batch in hand finishes; new pollers take over
            poller.start()
        elif not esm.enabled and was_running:
            poller.stop(wait=False)

    def deleted(self, esm: Any) -> None:
        with self._lock:
            poller = self._pollers.pop(esm.uuid, None)
            if poller is not None:
                self._retired = [p for p in self._retired if p.alive] + [poller]
        if poller is not None:
            poller.stop(wait=False)

    def configuration(self, esm: Any, config: dict[str, Any]) -> dict[str, Any]:
        """The mapping as GetEventSourceMapping shows it: State (Creating, Enabling, Enabled,
        Disabling, Disabled, Updating, Deleting), StateTransitionReason, LastProcessingResult."""
        poller = self._pollers.get(esm.uuid)
        config["StateTransitionReason"] = USER_INITIATED
        if poller is None:
            return config
        announce, poller.announce = poller.announce, None
        config["State"] = announce or poller.state
        config["LastProcessingResult"] = poller.last_result
        return config

    # ---------------------------------------------------------------- the sandbox's life
    def busy(self) -> bool:
        return any(poller.busy() for poller in list(self._pollers.values()) + self._retired)

    def stop(self) -> None:
        """End every poller (reset, stop): the Lambda pool is closed first, so a batch in hand
        ends at once."""
        with self._lock:
            self._stopping = True
            pollers = list(self._pollers.values()) + self._retired
            self._pollers.clear()
            self._retired = []
        for poller in pollers:
            poller.stop(wait=False)
        for poller in pollers:
            poller.join()

    def restart(self) -> None:
        with self._lock:
            self._stopping = False


def _poller_for(service: MappingService, esm: Any) -> Poller:
    kind = esm.event_source_arn.split(":")[2]
    if kind == "sqs":
        return SqsPoller(service, esm)
    if kind == "kinesis":
        return StreamPoller(service, esm, KinesisSource(esm.event_source_arn))
    return StreamPoller(service, esm, DynamoDBSource(esm.event_source_arn))


# ---------------------------------------------------------------------- pollers
class Poller:
    """The threads polling one mapping's source."""

    def __init__(self, service: MappingService, esm: Any):
        self.service = service
        self.esm = esm
        self.announce: str | None = None
        self.last_result = NO_RECORDS
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._in_hand = 0  # batches being delivered

    # ---------------------------------------------------------------- threads
    def thread_count(self) -> int:
        return 1

    def start(self) -> None:
        stop = self._stop = threading.Event()
        threads = [threading.Thread(target=self._guarded, args=(index, stop), daemon=True,
                                    name=f"lambda-esm-{self.esm.uuid[:8]}-{index}")
                   for index in range(self.thread_count())]
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + threads
        for thread in threads:
            thread.start()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        if wait:
            self.join()

    def join(self) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(10)

    @property
    def alive(self) -> bool:
        """Whether a thread of this poller still runs (a stopped one finishing its batch)."""
        return any(t.is_alive() for t in self._threads)

    @property
    def running(self) -> bool:
        return not self._stop.is_set() and any(t.is_alive() for t in self._threads)

    @property
    def state(self) -> str:
        if self.running:
            return "Enabled"
        if any(t.is_alive() for t in self._threads):
            return "Disabling"  # a batch in hand finishes first
        return "Disabled"

    def _guarded(self, index: int, stop: threading.Event) -> None:
        try:
            self.poll(index, stop)
        except EnvironmentAborted:
            pass  # the sandbox was reset or stopped: the batch goes with everything else

    def poll(self, index: int, stop: threading.Event) -> None:
        raise NotImplementedError

    def busy(self) -> bool:
        raise NotImplementedError

    def _holding(self, delta: int) -> None:
        with self._lock:
            self._in_hand += delta

    # ---------------------------------------------------------------- shared steps
    def role_may(self, fn: Any, action: str) -> bool:
        return iam.role_may(fn.role, action, self.esm.event_source_arn, region=fn.region,
                            source=f"Lambda event source mapping {self.esm.uuid} for "
                                   f"{fn.function_name}")

    def function(self) -> Any | None:
        from moto.awslambda.models import lambda_backends

        parts = self.esm.function_arn.split(":")
        try:
            return lambda_backends[parts[4]][parts[3]].get_function(
                parts[6], parts[7] if len(parts) > 7 else None)
        except Exception:
            self.last_result = "PROBLEM: Function not found"
            return None

    def invoke(self, fn: Any, event: dict[str, Any]) -> tuple[Any, str]:
        """One synchronous invocation: (the result or None, why it failed or "")."""
        try:
            result = self.service.runtime.run(fn, json.dumps(event).encode(),
                                              invoked_arn=self.esm.function_arn)
        except Throttled:
            self.last_result = FUNCTION_FAILED
            return None, "throttled (Rate Exceeded.): no execution environment could start"
        if result.function_error:
            self.last_result = FUNCTION_FAILED
            return result, _error_summary(result.payload)
        self.last_result = OK
        return result, ""

    def matches(self, record: dict[str, Any]) -> bool:
        """FilterCriteria: a record goes to the function if any filter's pattern matches it
        (EventBridge's pattern grammar on the record, with a JSON body or data parsed)."""
        criteria = self.esm.filter_criteria or {}
        filters = criteria.get("Filters") or []
        if not filters:
            return True
        from moto.events.models import EventPattern

        view = _filter_view(record)
        for item in filters:
            try:
                pattern = json.loads(item.get("Pattern") or "{}")
            except ValueError:
                continue
            if EventPattern(None, pattern).matches_event(view):  # type: ignore[arg-type]
                return True
        return False

    def wait(self, stop: threading.Event, simulated: float) -> bool:
        """Wait ``simulated`` seconds of the sandbox's clock; False if the poller stopped."""
        return not stop.wait(self.service.clock.real_seconds(simulated))

    def send_on_failure(self, fn: Any, record: dict[str, Any]) -> str:
        """Send a discarded batch's record to the OnFailure destination as the function's role;
        the destination's ARN, or "" (none, or it could not be sent)."""
        target = ((self.esm.destination_config or {}).get("OnFailure") or {}).get(
            "Destination") or ""
        if not target:
            return ""
        endpoint = self.service.runtime.sandbox.endpoint_url
        service = target.split(":")[2]
        body = json.dumps(record)
        try:
            client = sts.client(service, role_arn=fn.role, session_name=fn.function_name,
                                region=fn.region, endpoint_url=endpoint)
            if service == "sqs":
                _, _, _, _, owner, name = target.split(":")
                client.send_message(QueueUrl=f"{endpoint}/{owner}/{name}", MessageBody=body)
            elif service == "sns":
                client.publish(TopicArn=target, Message=body)
            else:
                return ""
        except Exception as e:  # Lambda drops a record it cannot deliver (a metric counts it)
            self.last_result = f"PROBLEM: could not send to the OnFailure destination: {e}"
            return ""
        return target


def _error_summary(payload: bytes) -> str:
    try:
        error = json.loads(payload)
        return f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        return "the function failed"


def _filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """What FilterCriteria patterns see: the record, with an SQS body or Kinesis data that is a
    JSON object parsed (a pattern on ``body``/``data`` fields needs JSON; a plain string is
    matched as a string)."""
    view = dict(record)
    if "body" in view:
        view["body"] = _json_or_text(view["body"])
    kinesis = view.get("kinesis")
    if isinstance(kinesis, dict) and "data" in kinesis:
        try:
            text = base64.b64decode(kinesis["data"]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            text = kinesis["data"]
        view["data"] = _json_or_text(text)
    return view


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, (dict, list)) else text


def batch_item_failures(payload: bytes, ids: Iterable[str]) -> set[str] | None:
    """The item identifiers a ReportBatchItemFailures response names; None when Lambda treats
    the whole batch as failed. Per services-sqs-errorhandling.html: an empty or null
    ``batchItemFailures`` list, an empty or null response are success; an invalid JSON
    response, a null or empty ``itemIdentifier``, a bad key name or an identifier not in the
    batch fail the whole batch."""
    known = set(ids)
    try:
        response = json.loads(payload) if payload.strip() else None
    except ValueError:
        return None
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    items = response.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or set(item) != {"itemIdentifier"}:
            return None
        identifier = item["itemIdentifier"]
        if not isinstance(identifier, str) or identifier not in known:
            return None
        failed.add(identifier)
    return failed


# ---------------------------------------------------------------------- SQS
class SqsPoller(Poller):
    def __init__(self, service: MappingService, esm: Any):
        super().__init__(service, esm)
        self._waited: dict[str, float] = {}  # message id -> simulated seconds spent invisible

    def thread_count(self) -> int:
        scaling = self.esm.scaling_config or {}
        wanted = int(scaling.get("MaximumConcurrency") or DEFAULT_SQS_POLLERS)
        return max(1, min(wanted, MAX_SQS_POLLERS))

    def queue(self) -> Any | None:
        from moto.sqs.models import sqs_backends

        _, _, _, region, account, name = self.esm.event_source_arn.split(":")
        return sqs_backends[account][region].queues.get(name)

    def busy(self) -> bool:
        if self._in_hand:
            return True
        if not self.running:
            return False
        queue = self.queue()
        # every message counts, invisible ones too: they come back after their timeout
        return queue is not None and bool(queue._messages)

    def poll(self, index: int, stop: threading.Event) -> None:
        while not stop.is_set():
            queue, fn = self.queue(), self.function()
            if queue is None or fn is None:
                if queue is None:
                    self.last_result = "PROBLEM: the queue does not exist"
                stop.wait(IDLE_WAIT)
                continue
            if not self.role_may(fn, "sqs:ReceiveMessage"):
                self.last_result = ("PROBLEM: The provided execution role does not have "
                                    "permissions to call ReceiveMessage on SQS")
                self.wait(stop, PROBLEM_WAIT)
                stop.wait(IDLE_WAIT)
                continue
            batch = self.receive(queue, stop)
            if not batch:
                self._idle(queue, stop)
                continue
            self._holding(1)
            try:
                self.deliver(queue, fn, batch)
            finally:
                self._holding(-1)

    def _idle(self, queue: Any, stop: threading.Event) -> None:
        """Wait for a SendMessage (it notifies the queue's condition) or for the first message
        in flight or delayed to become visible, at most IDLE_WAIT."""
        wait = IDLE_WAIT
        messages = list(queue._messages)
        if messages:
            soonest = min(max(m.visible_at, m.delayed_until) for m in messages)
            wait = min(IDLE_WAIT, max(0.01, (soonest - _now_ms()) / 1000))
        with queue._messages_lock:
            queue._messages_lock.wait(wait)

    def receive(self, queue: Any, stop: threading.Event) -> list[Any]:
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[queue.account_id][queue.region]
        size = int(self.esm.batch_size)
        visibility = int(queue.visibility_timeout or 0)
        window = float(self.esm.max_batch_window or 0)
        deadline = time.monotonic() + self.service.clock.real_seconds(window)
        batch: list[Any] = []
        # moto's receive is not atomic (two pollers could take the same message), and one
        # poller at a time gathers a batch within the window, so that the messages sent during
        # it end up in one batch
        with _receiving(queue):
            while True:
                batch += backend.receive_message(queue.name, size - len(batch), 0, visibility,
                                                 ["All"])
                if len(batch) >= size or time.monotonic() >= deadline or stop.is_set():
                    return batch
                with queue._messages_lock:
                    queue._messages_lock.wait(
                        min(0.01, max(0.0, deadline - time.monotonic())))

    def record_of(self, queue: Any, message: Any) -> dict[str, Any]:
        """A message as Lambda hands it to the function (with-sqs.html, example event)."""
        attributes = {
            "ApproximateReceiveCount": str(message.approximate_receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": str(message.sender_id),
            "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
        }
        if queue.fifo_queue:
            # moto numbers a message only when it was sent with a MessageDeduplicationId
            if message.sequence_number is not None:
                attributes["SequenceNumber"] = str(message.sequence_number)
            attributes.update({"MessageGroupId": str(message.group_id),
                               "MessageDeduplicationId": str(message.deduplication_id)})
        record: dict[str, Any] = {
            "messageId": message.id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": {name: _lambda_attribute(value) for name, value
                                  in message.message_attributes.items()},
            "md5OfBody": message.body_md5,
        }
        if message.message_attributes:
            record["md5OfMessageAttributes"] = message.attribute_md5
        record.update({"eventSource": "aws:sqs", "eventSourceARN": queue.queue_arn,
                       "awsRegion": queue.region})
        return record

    def deliver(self, queue: Any, fn: Any, batch: list[Any]) -> None:
        records = [self.record_of(queue, message) for message in batch]
        kept = [r for r in records if self.matches(r)]
        dropped = [r["messageId"] for r in records if r not in kept]
        if dropped:  # "Lambda deletes messages that don't match" (invocation-eventfiltering)
            self._delete(queue, fn, dropped, hops.FILTERED,
                         "FilterCriteria did not match: deleted from the queue")
        if not kept:
            return
        ids = [r["messageId"] for r in kept]
        result, error = self.invoke(fn, {"Records": kept})
        failed: set[str] | None
        if error:
            failed, why = set(ids), error
        elif "ReportBatchItemFailures" in (self.esm.function_response_types or []):
            failed = batch_item_failures(result.payload, ids)
            why = "reported in batchItemFailures"
            if failed is None:
                failed, why = set(ids), ("the response is not a valid batchItemFailures "
                                         "report: the whole batch failed")
        else:
            failed, why = set(), ""
        succeeded = [i for i in ids if i not in failed]
        if succeeded:
            self._delete(queue, fn, succeeded, hops.DELIVERED, "")
        if failed:
            self._back_later(queue, [i for i in ids if i in failed], why)

    def _delete(self, queue: Any, fn: Any, ids: list[str], outcome: str, detail: str) -> None:
        source, target = queue.queue_arn, self.esm.function_arn
        if not self.role_may(fn, "sqs:DeleteMessage"):
            self.last_result = ("PROBLEM: The provided execution role does not have "
                                "permissions to call DeleteMessage on SQS")
            self._back_later(queue, ids, "the execution role may not sqs:DeleteMessage, so "
                                         "the message stays in the queue")
            return
        gone = set(ids)
        # one pass (moto's DeleteMessage scans once per message), neither during a receive
        # (which may move messages to the dead-letter queue) nor during a SendMessage
        with _receiving(queue), queue._messages_lock:
            kept = []
            for message in queue._messages:
                if message.id in gone:
                    queue.pending_messages.discard(message)
                    queue.deleted_messages.update(message.all_receipt_handles)
                else:
                    kept.append(message)
            queue._messages = kept
        for message_id in ids:
            self._waited.pop(message_id, None)
            self.service.record(source, target, message_id, outcome, detail)

    def _back_later(self, queue: Any, ids: list[str], why: str) -> None:
        """The messages stay in the queue and become visible again when the queue's visibility
        timeout (on the sandbox's clock) has passed since this receive; SQS moves one received
        maxReceiveCount times to the dead-letter queue when it is next received."""
        source, target = queue.queue_arn, self.esm.function_arn
        visibility = float(queue.visibility_timeout or 0)
        visible_at = _now_ms() + self.service.clock.real_seconds(visibility) * 1000
        wanted = set(ids)
        redrive = queue.redrive_policy or {}
        limit = int(redrive.get("maxReceiveCount") or 0)
        dead_letter = queue.dead_letter_queue
        retention = float(queue.message_retention_period or 345600)
        expired = []
        for message in list(queue._messages):
            if message.id not in wanted:
                continue
            message.visible_at = visible_at
            count = message.approximate_receive_count
            # the message's age: real time since it was sent and the simulated waits
            waited = self._waited[message.id] = self._waited.get(message.id, 0.0) + visibility
            if (_now_ms() - float(message.sent_timestamp or 0)) / 1000 + waited > retention:
                expired.append(message.id)
                continue
            if dead_letter is not None and limit and count >= limit:
                self.service.record(source, target, message.id, hops.DEAD_LETTERED,
                                    f"receive {count} of maxReceiveCount {limit} failed ({why}): "
                                    f"SQS moves it to {dead_letter.queue_arn}")
            else:
                self.service.record(source, target, message.id, hops.RETRYING,
                                    f"receive {count} failed ({why}): back on the queue after "
                                    f"its visibility timeout ({visibility:g} s)")
        if expired:  # SQS deletes a message older than the queue's retention period
            with _receiving(queue), queue._messages_lock:
                queue._messages = [m for m in queue._messages if m.id not in set(expired)]
            for message_id in expired:
                self._waited.pop(message_id, None)
                self.service.record(source, target, message_id, hops.DROPPED,
                                    f"failed ({why}) until the queue's retention period "
                                    f"({retention:g} s) ran out: SQS deleted it")


_receive_locks: dict[str, threading.Lock] = {}
_receive_locks_lock = threading.Lock()


def _receiving(queue: Any) -> threading.Lock:
    """The lock the pollers of ``queue`` hold while they receive from it."""
    with _receive_locks_lock:
        return _receive_locks.setdefault(queue.queue_arn, threading.Lock())


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An SQS message attribute as Lambda shows it (camelCase, with the list fields)."""
    shown: dict[str, Any] = {"stringListValues": [], "binaryListValues": [],
                             "dataType": value.get("DataType", "String")}
    if value.get("StringValue") is not None:
        shown["stringValue"] = value["StringValue"]
    if value.get("BinaryValue") is not None:
        binary = value["BinaryValue"]
        shown["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) \
            else binary
    return shown


# ---------------------------------------------------------------------- streams
@dataclass
class StreamRecord:
    sequence: str
    arrival: float  # epoch seconds
    record: dict[str, Any]
    waited: float = field(default=0.0)  # simulated seconds spent waiting for retries


class KinesisSource:
    name = "Kinesis"
    batch_info = "KinesisBatchInfo"

    def __init__(self, arn: str):
        self.arn = arn
        _, _, _, self.region, self.account, resource = arn.split(":", 5)
        self.stream_name = resource.split("/", 1)[1]

    def _stream(self) -> Any | None:
        from moto.kinesis.models import kinesis_backends

        return kinesis_backends[self.account][self.region].streams.get(self.stream_name)

    def shards(self) -> list[str]:
        stream = self._stream()
        return [] if stream is None else list(stream.shards)

    def position(self, shard: str, starting: str, timestamp: Any) -> Any:
        """The sequence number after which reading starts (-1: before the first)."""
        stream = self._stream()
        records = list(stream.shards[shard].records.values()) if stream else []
        if starting == "LATEST":
            return records[-1].sequence_number if records else -1
        if starting == "AT_TIMESTAMP" and timestamp is not None:
            at = float(timestamp.timestamp() if hasattr(timestamp, "timestamp") else timestamp)
            before = [r.sequence_number for r in records if r.created_at < at]
            return before[-1] if before else -1
        return -1

    def read(self, shard: str, after: Any, limit: int) -> list[StreamRecord]:
        stream = self._stream()
        if stream is None or shard not in stream.shards:
            return []
        found: list[StreamRecord] = []
        for sequence, record in list(stream.shards[shard].records.items()):
            if sequence <= after:
                continue
            found.append(StreamRecord(str(sequence), record.created_at, {
                "kinesis": {"kinesisSchemaVersion": "1.0",
                            "partitionKey": record.partition_key,
                            "sequenceNumber": str(sequence),
                            "data": record.data,
                            "approximateArrivalTimestamp": record.created_at},
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{sequence}",
                "eventName": "aws:kinesis:record",
                "awsRegion": self.region,
                "eventSourceARN": self.arn,
            }))
            if len(found) >= limit:
                break
        return found

    @staticmethod
    def after(record: StreamRecord) -> Any:
        return int(record.sequence)


class DynamoDBSource:
    name = "DynamoDB"
    batch_info = "DDBStreamBatchInfo"

    def __init__(self, arn: str):
        self.arn = arn
        _, _, _, self.region, self.account, resource = arn.split(":", 5)
        self.table_name = resource.split("/")[1]

    def _shard(self) -> Any | None:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[self.account][self.region].tables.get(self.table_name)
        if table is None or table.stream_shard is None:
            return None
        if not self.arn.endswith(f"/stream/{table.latest_stream_label}"):
            return None  # the stream was turned off and on: this ARN's stream is gone
        return table.stream_shard

    def shards(self) -> list[str]:
        shard = self._shard()
        return [] if shard is None else [shard.id]

    def position(self, shard: str, starting: str, timestamp: Any) -> Any:
        found = self._shard()
        if starting == "LATEST" and found is not None:
            return len(found.items)
        return 0

    def read(self, shard: str, after: Any, limit: int) -> list[StreamRecord]:
        found = self._shard()
        if found is None:
            return []
        records = []
        for index, item in enumerate(found.items[after:after + limit], start=after):
            data = json.loads(json.dumps(item.to_json(), default=_dynamodb_default))
            data["eventSourceARN"] = self.arn
            data["awsRegion"] = self.region
            records.append(StreamRecord(data["dynamodb"]["SequenceNumber"],
                                        _created(item.to_json()), data))
            records[-1].record["_index"] = index  # removed before the function sees it
        return records

    @staticmethod
    def after(record: StreamRecord) -> Any:
        return int(record.record["_index"]) + 1


def _dynamodb_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):  # ApproximateCreationDateTime: epoch seconds
        return int(value.replace(tzinfo=value.tzinfo or datetime.timezone.utc).timestamp())
    return str(value)


def _created(record: dict[str, Any]) -> float:
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=value.tzinfo or datetime.timezone.utc).timestamp()
    return time.time()


class StreamPoller(Poller):
    """One thread per shard, reading in order; a failing batch blocks its shard until it
    succeeds or is discarded (with-kinesis.html "Error handling", with-ddb.html)."""

    def __init__(self, service: MappingService, esm: Any, source: Any):
        super().__init__(service, esm)
        self.source = source
        self.positions: dict[str, Any] = {}  # kept across disable/enable: reading resumes
        self._shards = source.shards()
        for shard in self._shards:
            self.positions[shard] = source.position(shard, esm.starting_position or
                                                    "TRIM_HORIZON",
                                                    esm.starting_position_timestamp)
        self._pending: dict[str, bool] = {}

    def thread_count(self) -> int:
        return max(1, len(self._shards))

    def busy(self) -> bool:
        if self._in_hand:
            return True
        if not self.running:
            return False
        return any(self.source.read(shard, self.positions[shard], 1)
                   for shard in self._shards)

    def poll(self, index: int, stop: threading.Event) -> None:
        if index >= len(self._shards):
            return
        shard = self._shards[index]
        while not stop.is_set():
            fn = self.function()
            if fn is None:
                stop.wait(IDLE_WAIT)
                continue
            denied = [a for a in self._actions() if not self.role_may(fn, a)]
            if denied:
                self.last_result = (f"PROBLEM: Cannot access stream {self.source.arn}. The "
                                    f"execution role may not {', '.join(denied)}.")
                self.wait(stop, PROBLEM_WAIT)
                stop.wait(IDLE_WAIT)
                continue
            batch = self._read(shard, stop)
            if not batch:
                stop.wait(IDLE_WAIT / 2)
                continue
            self._holding(1)
            try:
                self.deliver(shard, fn, batch, stop)
            finally:
                self._holding(-1)

    def _actions(self) -> tuple[str, ...]:
        prefix = "kinesis" if self.source.name == "Kinesis" else "dynamodb"
        return tuple(f"{prefix}:{a}" for a in ("GetRecords", "GetShardIterator"))

    def _read(self, shard: str, stop: threading.Event) -> list[StreamRecord]:
        size = int(self.esm.batch_size)
        window = float(self.esm.max_batch_window or 0)
        deadline = time.monotonic() + self.service.clock.real_seconds(window)
        while True:
            batch: list[StreamRecord] = self.source.read(shard, self.positions[shard], size)
            if len(batch) >= size or time.monotonic() >= deadline or stop.is_set():
                return batch
            stop.wait(min(0.01, max(0.0, deadline - time.monotonic())))

    def deliver(self, shard: str, fn: Any, batch: list[StreamRecord],
                stop: threading.Event) -> None:
        source, target = self.source.arn, self.esm.function_arn
        kept = []
        for record in batch:
            if self.source.name == "Kinesis":  # the role Lambda read the stream with
                record.record["invokeIdentityArn"] = fn.role
            if self.matches(self._shown(record)):
                kept.append(record)
            else:  # "Lambda drops records that don't match" (invocation-eventfiltering)
                self.service.record(source, target, record.sequence, hops.FILTERED,
                                    "FilterCriteria did not match: skipped")
        if not kept:
            self.positions[shard] = self.source.after(batch[-1])
            return
        if self._process(shard, fn, kept, stop):
            self.positions[shard] = self.source.after(batch[-1])

    @staticmethod
    def _shown(record: StreamRecord) -> dict[str, Any]:
        return {k: v for k, v in record.record.items() if k != "_index"}

    def _process(self, shard: str, fn: Any, batch: list[StreamRecord],
                 stop: threading.Event) -> bool | None:
        """Deliver ``batch`` until it succeeds or is discarded; True when done, None when the
        poller stopped meanwhile (the position stays: reading resumes there)."""
        queue = [batch]
        while queue:
            part = queue.pop(0)
            attempts = 0
            while part:
                if stop.is_set():
                    return None
                too_old = self._too_old(part)
                if too_old:
                    self._discard(shard, fn, part, "RecordAgeExceeded", attempts, None)
                    break
                # IteratorAge: the age of the batch's last record as Lambda sends it (its real
                # age, plus the simulated time its retries waited)
                last = part[-1]
                age = max(0.0, time.time() - last.arrival + last.waited)
                metrics.publish(fn, {"IteratorAge": (round(age * 1000), "Milliseconds")},
                                invoked_arn=self.esm.function_arn)
                result, error = self.invoke(fn, {"Records": [self._shown(r) for r in part]})
                attempts += 1
                if not error and "ReportBatchItemFailures" in (
                        self.esm.function_response_types or []):
                    failed = batch_item_failures(result.payload, [r.sequence for r in part])
                    if failed is None:
                        error = "the response is not a valid batchItemFailures report"
                    elif failed:
                        # Lambda checkpoints before the lowest reported sequence number and
                        # retries from it (with-kinesis.html, "Reporting batch item failures")
                        first = min(i for i, r in enumerate(part) if r.sequence in failed)
                        self._delivered(part[:first])
                        part = part[first:]
                        error = "reported in batchItemFailures"
                if not error:
                    self._delivered(part)
                    break
                if self.esm.bisect_on_error and len(part) > 1:
                    # splitting does not count against the retries (with-kinesis.html)
                    half = len(part) // 2
                    for record in part:
                        self.service.record(self.source.arn, self.esm.function_arn,
                                            record.sequence, hops.RETRYING,
                                            f"attempt {attempts} failed ({error}): the batch is "
                                            "split in two and retried")
                    queue[:0] = [part[:half], part[half:]]
                    break
                retries = self.esm.max_retry_attempts
                if retries is not None and int(retries) != -1 and attempts > int(retries):
                    self._discard(shard, fn, part, "RetryAttemptsExhausted", attempts, result)
                    break
                for record in part:
                    self.service.record(self.source.arn, self.esm.function_arn,
                                        record.sequence, hops.RETRYING,
                                        f"attempt {attempts} failed ({error}): retried; the "
                                        "shard waits")
                delay = min(2.0 ** attempts, RETRY_BACKOFF_LIMIT)
                for record in part:
                    record.waited += delay
                if not self.wait(stop, delay):
                    return None
        return True

    def _too_old(self, part: list[StreamRecord]) -> bool:
        """Older than MaximumRecordAgeInSeconds, or expired from the stream (infinite retries
        end there: with-kinesis.html); age is real time plus the retries' simulated waits."""
        limit = self.esm.max_record_age
        if limit is None or int(limit) == -1:
            limit = STREAM_RETENTION
        now = time.time()
        return any(now - r.arrival + r.waited > float(limit) for r in part)

    def _delivered(self, part: list[StreamRecord]) -> None:
        for record in part:
            self.service.record(self.source.arn, self.esm.function_arn, record.sequence,
                                hops.DELIVERED)

    def _discard(self, shard: str, fn: Any, part: list[StreamRecord], condition: str,
                 attempts: int, result: Any) -> None:
        """Lambda gives the records up and sends a record of the batch to the OnFailure
        destination (invocation-async-retain-records.html#invocation-async-destinations:
        stream sources)."""
        response: dict[str, Any] = {"statusCode": 200,
                                    "executedVersion": str(getattr(fn, "version", "$LATEST"))}
        if result is not None and result.function_error:
            response["functionError"] = result.function_error
        record = {
            "requestContext": {"requestId": str(uuid.uuid4()),
                               "functionArn": self.esm.function_arn,
                               "condition": condition,
                               "approximateInvokeCount": attempts},
            "responseContext": response,
            "version": "1.0",
            "timestamp": _iso(time.time()),
            self.source.batch_info: {
                "shardId": shard,
                "startSequenceNumber": part[0].sequence,
                "endSequenceNumber": part[-1].sequence,
                "approximateArrivalOfFirstRecord": _iso(part[0].arrival),
                "approximateArrivalOfLastRecord": _iso(part[-1].arrival),
                "batchSize": len(part),
                "streamArn": self.source.arn,
            },
        }
        target = self.send_on_failure(fn, record)
        for item in part:
            if target:
                self.service.record(self.source.arn, self.esm.function_arn, item.sequence,
                                    hops.DEAD_LETTERED,
                                    f"{condition}: a record of the batch went to {target}")
            else:
                self.service.record(self.source.arn, self.esm.function_arn, item.sequence,
                                    hops.DROPPED, f"{condition}: discarded (no OnFailure "
                                                  "destination)")


# ---------------------------------------------------------------------- the seams
def _service() -> MappingService:
    from . import running

    mappings: MappingService = running().mappings
    return mappings


def _check_role(backend: Any, spec: dict[str, Any]) -> None:
    """CreateEventSourceMapping refuses a role that cannot read the source, in AWS's words."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    source = spec.get("EventSourceArn", "")
    if not spec.get("FunctionName"):
        return
    fn = backend._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    service = source.split(":")[2] if source.count(":") >= 5 else ""
    actions = {"sqs": SQS_ACTIONS, "kinesis": KINESIS_ACTIONS,
               "dynamodb": DYNAMODB_ACTIONS}.get(service, ())
    for action in actions:
        if iam.role_may(fn.role, f"{service}:{action}", source, region=backend.region_name,
                        source=f"Lambda event source mapping for {fn.function_name}"):
            continue
        if service == "sqs":
            raise InvalidParameterValueException(
                "The provided execution role does not have permissions to call "
                f"{action} on SQS")
        listed = ", ".join(actions[:-1]) + ", and " + actions[-1]
        raise InvalidParameterValueException(
            f"Cannot access stream {source}. Please ensure the role can perform the "
            f"{listed} Actions on your stream in IAM.")


def _check_visibility(backend: Any, spec: dict[str, Any]) -> None:
    """An SQS queue's visibility timeout must cover the function's timeout, or a message would
    come back while its invocation still runs (with-sqs.html, "Configuring a queue")."""
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.sqs.models import sqs_backends

    source = spec.get("EventSourceArn", "")
    if not source.startswith("arn:aws:sqs:") or source.count(":") != 5:
        return
    _, _, _, region, account, name = source.split(":")
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return
    fn = backend._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    visibility = int(getattr(queue, "visibility_timeout", 0) or 0)
    timeout = int(fn.timeout)
    if visibility < timeout:
        raise InvalidParameterValueException(
            f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
            f"{timeout} seconds")


def _check_unique(backend: Any, spec: dict[str, Any]) -> None:
    """One mapping per SQS queue and function (moto compares with a literal string)."""
    from moto.awslambda.exceptions import LambdaClientError

    class ResourceConflict(LambdaClientError):
        code = 409

    source = spec.get("EventSourceArn", "")
    if not source.startswith("arn:aws:sqs:"):
        return
    fn = backend._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
    for esm in backend._event_source_mappings.values():
        if esm.event_source_arn == source and esm.function_arn == fn.function_arn:
            raise ResourceConflict(
                "ResourceConflictException",
                f'An event source mapping with SQS arn (" {source} ") and function '
                f'(" {fn.function_name} ") already exists. Please update or delete the '
                f"existing mapping with UUID {esm.uuid}")


def _detach(esm: Any) -> None:
    """Take the mapping out of moto's inline triggers (``lambda_event_source_mappings`` of the
    queue, table or stream): the sandbox's pollers deliver instead."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    holders: list[Any] = []
    account, region = esm.account_id, esm.region
    holders += list(sqs_backends[account][region].queues.values())
    holders += list(dynamodb_backends[account][region].tables.values())
    holders += list(kinesis_backends[account][region].streams.values())
    for holder in holders:
        table: dict[str, Any] = getattr(holder, "lambda_event_source_mappings", {})
        for key in [k for k, v in table.items() if v is esm]:
            del table[key]


def _create_event_source_mapping(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        if spec.get("FunctionName"):
            _check_role(self, spec)
            _check_visibility(self, spec)
            _check_unique(self, spec)
        esm = original(self, spec)
        _detach(esm)
        _service().created(esm)
        return esm

    return create_event_source_mapping


def _update_event_source_mapping(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_event_source_mapping(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
        esm = original(self, uuid, spec)
        if esm is not None:
            _service().updated(esm, spec)
        return esm

    return update_event_source_mapping


def _delete_event_source_mapping(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_event_source_mapping(self: Any, uuid: str) -> Any:
        esm = original(self, uuid)
        if esm is not None:
            _service().deleted(esm)
        return esm

    return delete_event_source_mapping


def _get_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_configuration(self: Any) -> dict[str, Any]:
        config: dict[str, Any] = original(self)
        return _service().configuration(self, config)

    return get_configuration


# ---------------------------------------------------------------------- moto's SQS, in time
# moto's ReceiveMessage reads every message's visibility with datetime arithmetic and, for each
# message it returns, computes every queue attribute (ApproximateNumberOfMessages scans the
# queue again) to read the retention period: a receive from a 10,000-message backlog took
# seconds. Same answers, from epoch seconds and the one attribute.
def _message_visible(self: Any) -> bool:
    return bool(time.time() * 1000 > self.visible_at)


def _message_delayed(self: Any) -> bool:
    return bool(time.time() * 1000 < self.delayed_until)


message_visible = property(_message_visible)
message_delayed = property(_message_delayed)


def is_message_valid_based_on_retention_period(self: Any, queue_name: str,
                                               message: Any) -> bool:
    queue = self.get_queue(queue_name)
    retention = int(queue.message_retention_period)
    return bool(retention + message.sent_timestamp / 1000 > time.time())

