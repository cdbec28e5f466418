"""S3 event notifications, checked and delivered as AWS checks and delivers them.

S3 is a service principal (``s3.amazonaws.com``) when it invokes a function or writes to a
queue or topic: only the destination's own policy can let it in, with the bucket's ARN and the
account as ``aws:SourceArn`` and ``aws:SourceAccount``. IAM decides (``sandbox.iam.service_may``).
At configuration time S3 tests each destination and refuses the whole configuration,
``InvalidArgument: Unable to validate the following destination configurations``
(``moto/s3/models.py`` ``S3Backend.put_bucket_notification_configuration`` checks nothing); a
destination that stops allowing it later gets nothing (``moto/s3/notifications.py`` delivers to
every destination), and the record of deliveries says so (a denied hop).

Delivery is asynchronous, as on AWS ("Amazon S3 Event Notifications", S3 User Guide): the
request that caused the event (``PutObject``, ``DeleteObject``, ``CopyObject``, ...) answers at
once: a function's event is handed to Lambda's asynchronous queue (``AsyncInvoker``: retries,
maximum event age, destinations, dead-letter queue), which does not wait for the function; a
queue's or topic's is written by the S3 service's background deliverer
(``sandbox/sns/deliverer.py``). moto delivered inside the producer's call: with a 2 s handler,
``PutObject`` took 2 s.

The event is the S3 User Guide's "Event message structure", version 2.1 (``userIdentity``,
``requestParameters``, ``responseElements`` with ``x-amz-request-id`` and ``x-amz-id-2``, the
bucket's ``ownerIdentity``, the object's ``sequencer`` and, in a versioned bucket, ``versionId``;
a removal carries no ``size`` or ``eTag``); 2.3 for tagging, ACL and lifecycle events (newer
guides describe one unified version, 2.4 and later: not imitated). The ``x-amz-request-id``
the sandbox makes for each event is the event's id in the record of deliveries:
``sb.admin.trace(request_id)`` follows it to the invocation, message or EventBridge event it
became. With the bucket's
``EventBridgeConfiguration`` on, every event also goes to the default event bus as EventBridge's
"Object Created" / "Object Deleted" event (S3 User Guide, "EventBridge event message
structure"), through EventBridge's own ``PutEvents`` path.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any
from urllib.parse import quote_plus

from .. import iam
from ..server import deliveries as hops

PRINCIPAL = "s3.amazonaws.com"


def _bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _refused_destinations(bucket: Any, account: str) -> list[str]:
    """The ARNs of the configured destinations whose policy does not admit S3."""
    config = bucket.notification_configuration
    if config is None:
        return []
    checks = [(n.arn, "lambda:InvokeFunction") for n in config.cloud_function]
    checks += [(n.arn, "sqs:SendMessage") for n in config.queue]
    checks += [(n.arn, "sns:Publish") for n in config.topic]
    return [arn for arn, action in checks if not iam.service_may(
        PRINCIPAL, action, arn, source_arn=_bucket_arn(bucket.name),
        source_account=account, source=f"S3 notification configuration of {bucket.name}")]


def _put_bucket_notification_configuration(original: Any) -> Any:
    def put_bucket_notification_configuration(self: Any, bucket_name: str,
                                              notification_config: dict[str, Any]) -> None:
        from moto.s3.exceptions import S3ClientError

        bucket = self.get_bucket(bucket_name)
        before = bucket.notification_configuration
        original(self, bucket_name, notification_config)
        if _refused_destinations(bucket, self.account_id):
            bucket.notification_configuration = before
            # AWS also names each refused destination (ArgumentName1...); botocore shows only
            # the code and this message
            raise S3ClientError("InvalidArgument",
                                "Unable to validate the following destination configurations")

    return put_bucket_notification_configuration



KIND = "s3-notification"
_sequence = itertools.count()


def _running_s3() -> Any:
    """The running S3 extension (its deliverer), or None when no sandbox runs."""
    from ..server import service

    sandbox = service.current()
    return None if sandbox is None else sandbox.extensions.get("s3")


def _name(event_name: Any) -> str:
    """"s3:ObjectCreated:Put", whether moto passes the enum member or its value."""
    return str(event_name.value if isinstance(event_name, Enum) else event_name)


def _request_id() -> str:
    """An S3 request ID: 16 upper-case hexadecimal characters."""
    return uuid.uuid4().hex[:16].upper()


def _sequencer() -> str:
    """Increasing for the events of one key, as S3's hexadecimal sequencer is."""
    return f"{time.time_ns():016X}{next(_sequence) % 256:02X}"


# the events of S3 Lifecycle, Intelligent-Tiering, object ACL, object tagging and object
# restoration delete are version 2.3 (S3 User Guide, "Event message structure")
_VERSION_2_3 = ("s3:LifecycleExpiration", "s3:LifecycleTransition", "s3:IntelligentTiering",
                "s3:ObjectAcl", "s3:ObjectTagging", "s3:ObjectRestore:Delete")


def _record(name: str, bucket: Any, key: Any, account: str, request_id: str,
            sequencer: str) -> dict[str, Any]:
    """One record of the S3 User Guide's event message structure."""
    from moto.core.utils import iso_8601_datetime_with_milliseconds

    obj: dict[str, Any] = {"key": quote_plus(key.name)}  # S3 sends the key URL-encoded
    if not name.startswith("s3:ObjectRemoved"):
        obj["size"] = key.size
        obj["eTag"] = key.etag.replace('"', "")
    if bucket.is_versioned and getattr(key, "version_id", None) not in (None, "null"):
        obj["versionId"] = key.version_id
    obj["sequencer"] = sequencer
    return {
        "eventVersion": "2.3" if name.startswith(_VERSION_2_3) else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": iso_8601_datetime_with_milliseconds(),
        "eventName": name[3:],
        # the requester's principal; the sandbox names the account (it does not keep the
        # caller of the request that caused the event)
        "userIdentity": {"principalId": f"AWS:{account}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": request_id,
            "x-amz-id-2": hashlib.sha256(request_id.encode()).hexdigest(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "",
            "bucket": {"name": bucket.name, "ownerIdentity": {"principalId": account},
                       "arn": _bucket_arn(bucket.name)},
            "object": obj,
        },
    }


_tagging = threading.local()  # set while a PutObjectTagging request runs


def put_object_tagging(original: Any) -> Any:
    """S3Response.put_object_tagging: the only request whose tagging is an s3:ObjectTagging:Put
    event. moto's PutObject and CopyObject store their tags through the same backend method,
    which sent an ObjectTagging:Put event after every upload; S3 sends ObjectCreated only."""
    def tagging_request(self: Any) -> Any:
        _tagging.active = True
        try:
            return original(self)
        finally:
            _tagging.active = False

    return tagging_request


def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    """Replaces ``moto.s3.notifications.send_event``: the events are made now (the object as
    it is at this moment) and delivered after the request has answered."""
    config = bucket.notification_configuration
    s3 = _running_s3()
    if config is None or key is None or s3 is None:
        return
    name = _name(event_name)
    if name == "s3:ObjectTagging:Put" and not getattr(_tagging, "active", False):
        return  # an upload's or copy's tags (see put_object_tagging)
    request_id = _request_id()
    record = _record(name, bucket, key, account_id, request_id, _sequencer())
    destinations: list[tuple[str, Any]] = [
        *[("lambda", n) for n in config.cloud_function],
        *[("sqs", n) for n in config.queue],
        *[("sns", n) for n in config.topic]]
    for kind, notification in destinations:
        if notification.matches(name, key.name):
            one = copy.deepcopy(record)
            one["s3"]["configurationId"] = notification.id
            deliver = partial(_DELIVER[kind], account_id, bucket.name, notification.arn,
                              {"Records": [one]}, request_id)
            if kind == "lambda":
                # handing an event to Lambda's asynchronous queue does not wait for the
                # function: done at once, without the deliverer's thread in between
                deliver()
            else:
                s3.deliverer.put(deliver)
    if config.event_bridge is not None:
        detail = _eventbridge_detail(name, bucket, key, account_id, request_id,
                                     record["s3"]["object"]["sequencer"])
        if detail is not None:
            s3.deliverer.put(partial(_to_eventbridge, account_id, bucket, *detail, request_id))


def send_test_event(account_id: str, bucket: Any) -> None:
    """Replaces ``moto.s3.notifications.send_test_event``: after a notification configuration
    is put, each queue and topic gets one ``s3:TestEvent`` (Lambda functions get none)."""
    from moto.core.utils import iso_8601_datetime_with_milliseconds

    s3 = _running_s3()
    if s3 is None:
        return
    request_id = _request_id()
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent",
             "Time": iso_8601_datetime_with_milliseconds(), "Bucket": bucket.name,
             "RequestId": request_id, "HostId": hashlib.sha256(request_id.encode()).hexdigest()}
    config = bucket.notification_configuration
    for kind, arns in (("sqs", {n.arn for n in config.queue}),
                       ("sns", {n.arn for n in config.topic})):
        for arn in sorted(arns):
            s3.deliverer.put(partial(_DELIVER[kind], account_id, bucket.name, arn, event,
                                     request_id))


# ---------------------------------------------------------------------- in the background
def _admitted(action: str, arn: str, bucket: str, account: str, request_id: str) -> bool:
    if iam.service_may(PRINCIPAL, action, arn, source_arn=_bucket_arn(bucket),
                       source_account=account, source=f"S3 event notification of {bucket}"):
        return True
    _hop(bucket, arn, request_id, hops.DENIED,
         f"the destination's policy does not let {PRINCIPAL} {action} for this bucket")
    return False


def _hop(bucket: str, target: str, event_id: str, outcome: str, detail: str,
         parent: str = "") -> None:
    from ..server import service

    sandbox = service.current()
    if sandbox is not None:
        sandbox.deliveries.record(_bucket_arn(bucket), target, event_id, outcome,
                                  detail=detail, parent=parent, kind=KIND)


def _to_lambda(account: str, bucket: str, arn: str, event: dict[str, Any],
               request_id: str) -> None:
    """S3 invokes the function asynchronously: the event joins Lambda's event queue."""
    from moto.awslambda.models import lambda_backends

    from ..server import service

    if not _admitted("lambda:InvokeFunction", arn, bucket, account, request_id):
        return
    parts = arn.split(":")
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(
            parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:  # the function is gone: S3 cannot deliver (AWS says nothing either)
        _hop(bucket, arn, request_id, hops.FAILED, "the function does not exist")
        return
    sandbox = service.current()
    if sandbox is None:
        return
    invocation = str(uuid.uuid4())
    sandbox.lambda_runtime.async_invoker.submit(
        fn, json.dumps(event).encode(), invocation, arn, source=_bucket_arn(bucket),
        parent=request_id)
    _hop(bucket, arn, invocation, hops.DELIVERED, "queued for an asynchronous invocation",
         parent=request_id)


def _to_sqs(account: str, bucket: str, arn: str, event: dict[str, Any],
            request_id: str) -> None:
    from moto.sqs.models import sqs_backends

    if not _admitted("sqs:SendMessage", arn, bucket, account, request_id):
        return
    _, _, _, region, owner, name = arn.split(":")
    try:
        message = sqs_backends[owner][region].send_message(name, json.dumps(event))
    except Exception as e:  # the queue is gone, or FIFO (not a valid S3 destination)
        _hop(bucket, arn, request_id, hops.FAILED, f"the queue did not take it: {e}")
        return
    _hop(bucket, arn, message.id, hops.DELIVERED, "sent to the queue", parent=request_id)


def _to_sns(account: str, bucket: str, arn: str, event: dict[str, Any],
            request_id: str) -> None:
    from moto.sns.models import sns_backends

    if not _admitted("sns:Publish", arn, bucket, account, request_id):
        return
    _, _, _, region, owner, _ = arn.split(":")
    try:  # S3's messages carry this subject
        message_id = sns_backends[owner][region].publish(
            json.dumps(event), arn, subject="Amazon S3 Notification")
    except Exception as e:
        _hop(bucket, arn, request_id, hops.FAILED, f"the topic did not take it: {e}")
        return
    _hop(bucket, arn, message_id, hops.DELIVERED, "published to the topic", parent=request_id)


_DELIVER: dict[str, Callable[[str, str, str, dict[str, Any], str], None]] = {
    "lambda": _to_lambda, "sqs": _to_sqs, "sns": _to_sns}


# ---------------------------------------------------------------------- EventBridge
def _eventbridge_detail(name: str, bucket: Any, key: Any, account: str, request_id: str,
                        sequencer: str) -> tuple[str, dict[str, Any]] | None:
    """The detail-type and detail of S3's event on the default bus (S3 User Guide,
    "EventBridge event message structure"); None for events S3 does not send there."""
    obj: dict[str, Any] = {"key": key.name}  # not URL-encoded, unlike a notification's
    created = name.startswith("s3:ObjectCreated")
    removed = name.startswith("s3:ObjectRemoved")
    if not (created or removed):
        return None
    if created:
        obj["size"] = key.size
        obj["etag"] = key.etag.replace('"', "")
    if bucket.is_versioned and getattr(key, "version_id", None) not in (None, "null"):
        obj["version-id"] = key.version_id
    obj["sequencer"] = sequencer
    detail: dict[str, Any] = {
        "version": "0", "bucket": {"name": bucket.name}, "object": obj,
        "request-id": request_id, "requester": account, "source-ip-address": "127.0.0.1",
        "reason": _REASONS.get(name, "PutObject" if created else "DeleteObject"),
    }
    if removed:
        detail["deletion-type"] = ("Delete Marker Created" if name.endswith("DeleteMarkerCreated")
                                   else "Permanently Deleted")
    return ("Object Created" if created else "Object Deleted"), detail


_REASONS = {"s3:ObjectCreated:Put": "PutObject", "s3:ObjectCreated:Post": "POST Object",
            "s3:ObjectCreated:Copy": "CopyObject",
            "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
            "s3:ObjectRemoved:Delete": "DeleteObject",
            "s3:ObjectRemoved:DeleteMarkerCreated": "DeleteObject"}


def _to_eventbridge(account: str, bucket: Any, detail_type: str, detail: dict[str, Any],
                    request_id: str) -> None:
    """S3 puts the event on the account's default bus; EventBridge's PutEvents path routes
    it to the rules (no policy is needed: the default bus takes AWS services' events)."""
    from moto.events.models import events_backends

    region = bucket.region_name
    bus = f"arn:aws:events:{region}:{account}:event-bus/default"
    try:
        entries = events_backends[account][region].put_events([{
            "Source": "aws.s3", "DetailType": detail_type, "Detail": json.dumps(detail),
            "Resources": [_bucket_arn(bucket.name)], "EventBusName": "default"}])
        event_id = str(entries[0].get("EventId", ""))
    except Exception as e:
        _hop(bucket.name, bus, request_id, hops.FAILED, f"EventBridge did not take it: {e}")
        return
    _hop(bucket.name, bus, event_id or request_id, hops.DELIVERED, detail_type,
         parent=request_id if event_id else "")
