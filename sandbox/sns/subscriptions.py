"""SNS deliveries, checked and made as AWS makes them.

``Publish`` answers once SNS has the message; the deliveries follow (SNS Developer Guide,
"Message delivery"). moto (``moto/sns/models.py`` ``Subscription.publish``) delivered inside
``Publish``: with a 2 s Lambda subscriber, ``Publish`` took 2 s. Here each subscription's
filter policy is applied when the message is published (``filters.py``), then the SNS service's
background deliverer (``sandbox/sns/deliverer.py``, one thread: a FIFO topic's order is kept)
delivers:

- to Lambda: through Lambda's asynchronous queue (retries, destinations, dead-letter queue), with
  the event of the Lambda Developer Guide's "Invoking Lambda functions with Amazon SNS
  notifications" (``Records[].Sns`` with ``Signature``, ``SigningCertUrl``, ``UnsubscribeUrl``,
  ``MessageAttributes``, ``Subject`` null when there is none);
- to SQS: the JSON notification, or with ``RawMessageDelivery`` the message itself with its
  attributes as the SQS message's attributes; from a FIFO topic with the message group and
  deduplication ID (a topic's content-based deduplication ID is the SHA-256 of the message, as
  SNS computes it);
- to HTTP/HTTPS: see below.

SNS is a service principal (``sns.amazonaws.com``) when it delivers to a Lambda or SQS
subscription: a function or queue whose policy does not admit the topic (``aws:SourceArn``)
gets nothing, and the publisher never knows. IAM decides (``sandbox.iam.service_may``).

A message SNS cannot deliver (the endpoint's policy refuses it, the function or queue is gone,
an HTTP/S endpoint refuses it or never answers) goes to the subscription's dead-letter queue when
its ``RedrivePolicy`` names one (SNS Developer Guide, "Amazon SNS dead-letter queues"): the
body the endpoint would have received; the queue's policy must admit the topic.

Every delivery is a hop in the record of deliveries (kind ``"sns"``): filtered, denied,
delivered (to a queue: the SQS message's ID, its parent the SNS message's; to a function: the
invocation's request ID), failed.

HTTP and HTTPS subscriptions: moto posts inside ``Publish`` with ``requests``, so a slow or
unreachable endpoint failed the publisher's call, and the post could go to any machine. SNS
delivers after ``Publish`` has answered, and on a server-side error (5xx, no answer) retries
as its default HTTP/S delivery policy says: three times, 20 seconds apart (on the sandbox's
clock). The sandbox delivers only to endpoints on this machine; any other endpoint is a failed
delivery, said in the server's log (``sb.admin.server_log()``).

The confirmation handshake (SNS Developer Guide, "Fanout to HTTP/S endpoints": "Confirm your
subscription"): ``Subscribe`` answers ``"pending confirmation"`` (the ARN with
``ReturnSubscriptionArn=True``) and SNS posts a ``SubscriptionConfirmation`` message with a
``Token`` and a ``SubscribeURL``; the subscription receives notifications once
``ConfirmSubscription(TopicArn, Token)`` is called. moto confirms every subscription at once
and its ``ConfirmSubscription`` answers an ARN it makes up. Not as on AWS: visiting the
``SubscribeURL`` (an unsigned GET) is refused by the sandbox's IAM enforcement
(MissingAuthenticationToken); call ``ConfirmSubscription`` with the token instead.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import threading
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

from .. import iam
from ..safety import is_loopback_host
from ..server import deliveries as hops
from . import filters

PRINCIPAL = "sns.amazonaws.com"
KIND = "sns"
HTTP_RETRY_DELAYS = (20, 20, 20)  # SNS's default HTTP/S delivery policy, in seconds
HTTP_TIMEOUT_SECONDS = 15  # how long SNS waits for an HTTP/S endpoint to answer
log = logging.getLogger(__name__)


def _running_sns() -> Any:
    from ..server import service

    sandbox = service.current()
    return None if sandbox is None else sandbox.extensions.get("sns")


def _subscription_publish(original: Any) -> Any:
    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                deduplication_id: str | None = None,
                message_structure: str | None = None) -> None:
        sns = _running_sns()
        if sns is None or self.protocol not in ("lambda", "sqs", "http", "https"):
            original(self, message, message_id, subject, message_attributes, group_id,
                     deduplication_id, message_structure)
            return
        if self.protocol in ("http", "https") and _pending(self):
            _hop(self, message_id, hops.DROPPED, "the subscription is pending confirmation: "
                 "SNS delivers only to confirmed subscriptions (ConfirmSubscription with the "
                 "Token of the SubscriptionConfirmation message)")
            return
        if not filters.matches(self._filter_policy, self.attributes.get("FilterPolicyScope"),
                               message_attributes, message):
            _hop(self, message_id, hops.FILTERED, "the subscription's filter policy did not "
                 "match the message")
            return
        if message_structure == "json":  # the protocol's own message, or the default one
            message = self._parse_message_structure(message, self.protocol)
        if self.topic.fifo_topic and not deduplication_id and \
                self.topic.content_based_deduplication:
            deduplication_id = hashlib.sha256(message.encode()).hexdigest()
        sns.deliverer.put(partial(_DELIVER[self.protocol], self, message, message_id, subject,
                                  message_attributes or {}, group_id, deduplication_id))

    return publish


# ---------------------------------------------------------------------- confirmation
def _pending(subscription: Any) -> bool:
    return str(subscription.attributes.get("PendingConfirmation", "false")).lower() == "true"


def subscribe(original: Any) -> Any:
    """SNSResponse.subscribe: a new HTTP/S subscription waits for its confirmation."""
    def subscribe(self: Any) -> Any:
        from moto.core.responses import ActionResult

        topic_arn, endpoint = self._get_param("TopicArn"), self._get_param("Endpoint")
        protocol = str(self._get_param("Protocol") or "").lower()
        existing = self.backend._find_subscription(topic_arn, endpoint, protocol)
        result = original(self)
        subscription = self.backend._find_subscription(topic_arn, endpoint, protocol)
        if subscription is None or protocol not in ("http", "https"):
            return result
        if existing is None:
            _ask_for_confirmation(subscription)
        if _pending(subscription) and str(self._get_param("ReturnSubscriptionArn")
                                          or "false").lower() != "true":
            return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    return subscribe


def _ask_for_confirmation(subscription: Any) -> None:
    from ..server import service

    sandbox = service.current()
    sns = _running_sns()
    if sandbox is None or sns is None:
        return
    token = uuid.uuid4().hex * 2
    subscription.attributes["PendingConfirmation"] = "true"
    subscription.attributes["ConfirmationWasAuthenticated"] = "false"
    subscription.sandbox_token = token
    topic = subscription.topic.arn
    message_id = str(uuid.uuid4())
    data = _notification(subscription, "", message_id, None, {})
    body = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.\nTo confirm the "
                   "subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"{sandbox.endpoint_url}/?Action=ConfirmSubscription"
                        f"&TopicArn={quote(topic)}&Token={token}",
        "Timestamp": data["Timestamp"],
        "SignatureVersion": data["SignatureVersion"],
        "Signature": data["Signature"],
        "SigningCertURL": data["SigningCertURL"],
    }
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": "SubscriptionConfirmation",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic,
    }
    release = sns.deliverer.hold()
    threading.Thread(target=_post_with_retries,
                     args=(subscription, message_id, json.dumps(body).encode(), headers,
                           release),
                     name="sns-http-confirmation", daemon=True).start()


def confirm_subscription(self: Any) -> Any:
    """SNSResponse.confirm_subscription: the token of the subscription's confirmation message
    confirms it; any other token is refused."""
    from moto.core.responses import ActionResult
    from moto.sns.exceptions import SNSInvalidParameter, SNSNotFoundError

    topic_arn, token = self._get_param("TopicArn"), self._get_param("Token")
    if topic_arn not in self.backend.topics:
        raise SNSNotFoundError("Topic does not exist")
    for subscription in self.backend.subscriptions.values():
        if subscription.topic.arn == topic_arn and \
                getattr(subscription, "sandbox_token", None) == token:
            subscription.attributes["PendingConfirmation"] = "false"
            subscription.confirmed = True
            return ActionResult({"SubscriptionArn": subscription.arn})
    raise SNSInvalidParameter("Invalid token")


def _hop(subscription: Any, event_id: str, outcome: str, detail: str, parent: str = "") -> None:
    from ..server import service

    sandbox = service.current()
    if sandbox is not None:
        sandbox.deliveries.record(subscription.topic.arn, subscription.endpoint, event_id,
                                  outcome, detail=detail, parent=parent, kind=KIND)


def _admitted(subscription: Any, action: str, message_id: str) -> bool:
    if iam.service_may(PRINCIPAL, action, subscription.endpoint,
                       source_arn=subscription.topic.arn, source_account=subscription.account_id,
                       source=f"SNS delivery from {subscription.topic.name}"):
        return True
    _hop(subscription, message_id, hops.DENIED,
         f"the endpoint's policy does not let {PRINCIPAL} {action} for this topic")
    return False


def _dead_letter(subscription: Any, message_id: str, body: str, group_id: str | None = None,
                 deduplication_id: str | None = None) -> None:
    """A message SNS could not deliver goes to the subscription's dead-letter queue, when its
    RedrivePolicy names one (SNS Developer Guide, "Amazon SNS dead-letter queues"): the body
    the endpoint would have received. The queue's policy must admit the topic."""
    from moto.sqs.models import sqs_backends

    from ..server import service

    try:
        target = str(json.loads(subscription.attributes.get("RedrivePolicy") or "{}")
                     ["deadLetterTargetArn"])
    except (ValueError, KeyError, TypeError):
        return
    sandbox = service.current()
    if sandbox is None:
        return
    topic = subscription.topic.arn

    def hop(event_id: str, outcome: str, detail: str, parent: str = "") -> None:
        sandbox.deliveries.record(topic, target, event_id, outcome, detail=detail,
                                  parent=parent, kind=KIND)

    if not iam.service_may(PRINCIPAL, "sqs:SendMessage", target, source_arn=topic,
                           source_account=subscription.account_id,
                           source=f"SNS dead-letter queue of a subscription to "
                                  f"{subscription.topic.name}"):
        hop(message_id, hops.DENIED, f"the dead-letter queue's policy does not let {PRINCIPAL} "
            "sqs:SendMessage for this topic")
        return
    _, _, _, region, owner, name = target.split(":")
    try:
        sent = sqs_backends[owner][region].send_message(
            name, body, group_id=group_id, deduplication_id=deduplication_id)
    except Exception as e:
        hop(message_id, hops.FAILED, f"the dead-letter queue did not take it: {e}")
        return
    hop(sent.id, hops.DEAD_LETTERED, "the subscription's dead-letter queue (RedrivePolicy)",
        parent=message_id)


def _notification(subscription: Any, message: str, message_id: str, subject: str | None,
                  attributes: dict[str, Any]) -> dict[str, Any]:
    """The signed JSON notification (moto's, with this subscription's unsubscribe URL)."""
    data: dict[str, Any] = subscription.get_post_data(message, message_id, subject,
                                                      message_attributes=attributes)
    region = subscription.topic.arn.split(":")[3]
    data["UnsubscribeURL"] = (f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                              f"&SubscriptionArn={subscription.arn}")
    return data


def _raw(subscription: Any) -> bool:
    return str(subscription.attributes.get("RawMessageDelivery", "false")).lower() == "true"


# ---------------------------------------------------------------------- in the background
def _to_lambda(subscription: Any, message: str, message_id: str, subject: str | None,
               attributes: dict[str, Any], group_id: str | None,
               deduplication_id: str | None) -> None:
    from moto.awslambda.models import lambda_backends

    from ..server import service

    data = _notification(subscription, message, message_id, subject, attributes)
    if not _admitted(subscription, "lambda:InvokeFunction", message_id):
        _dead_letter(subscription, message_id, json.dumps(data), group_id, deduplication_id)
        return
    parts = subscription.endpoint.split(":")
    try:
        fn = lambda_backends[parts[4]][parts[3]].get_function(
            parts[6], parts[7] if len(parts) > 7 else None)
    except Exception:
        _hop(subscription, message_id, hops.FAILED, "the function does not exist")
        _dead_letter(subscription, message_id, json.dumps(data), group_id, deduplication_id)
        return
    event = {"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription.arn,
        "EventSource": "aws:sns",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": subscription.topic.arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": data["Timestamp"],
            "SignatureVersion": data["SignatureVersion"],
            "Signature": data["Signature"],
            "SigningCertUrl": data["SigningCertURL"],
            "UnsubscribeUrl": data["UnsubscribeURL"],
            "MessageAttributes": attributes,
        },
    }]}
    sandbox = service.current()
    if sandbox is None:
        return
    invocation = str(uuid.uuid4())
    sandbox.lambda_runtime.async_invoker.submit(
        fn, json.dumps(event).encode(), invocation, subscription.endpoint,
        source=subscription.topic.arn, parent=message_id)
    _hop(subscription, invocation, hops.DELIVERED, "queued for an asynchronous invocation",
         parent=message_id)


def _to_sqs(subscription: Any, message: str, message_id: str, subject: str | None,
            attributes: dict[str, Any], group_id: str | None,
            deduplication_id: str | None) -> None:
    from moto.sqs.models import sqs_backends

    _, _, _, region, owner, name = subscription.endpoint.split(":")
    if _raw(subscription):
        body, sqs_attributes = message, _sqs_attributes(attributes)
    else:
        body = json.dumps(_notification(subscription, message, message_id, subject, attributes))
        sqs_attributes = {}
    if not _admitted(subscription, "sqs:SendMessage", message_id):
        _dead_letter(subscription, message_id, body, group_id, deduplication_id)
        return
    try:
        sent = sqs_backends[owner][region].send_message(
            name, body, message_attributes=sqs_attributes, group_id=group_id,
            deduplication_id=deduplication_id)
    except Exception as e:  # the queue is gone, or refused the message
        _hop(subscription, message_id, hops.FAILED, f"the queue did not take it: {e}")
        _dead_letter(subscription, message_id, body, group_id, deduplication_id)
        return
    _hop(subscription, sent.id, hops.DELIVERED, "sent to the queue"
         + (" (raw message delivery)" if _raw(subscription) else ""), parent=message_id)


def _sqs_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SNS message attributes as SQS message attributes (raw message delivery)."""
    converted = {}
    for name, value in attributes.items():
        kind = str(value["Type"])
        field = "BinaryValue" if kind.startswith("Binary") else "StringValue"
        converted[name] = {"DataType": kind, field: str(value["Value"])
                           if field == "StringValue" else value["Value"]}
    return converted


def _to_http(subscription: Any, message: str, message_id: str, subject: str | None,
             attributes: dict[str, Any], group_id: str | None,
             deduplication_id: str | None) -> None:
    """Post the notification in a thread of its own, retrying as SNS does."""
    headers = {  # what SNS sends with every HTTP/S notification
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": subscription.topic.arn,
        "x-amz-sns-subscription-arn": subscription.arn,
    }
    if _raw(subscription):  # the message itself (SNS Developer Guide, "raw message delivery")
        body = message.encode()
        headers["x-amz-sns-rawdelivery"] = "true"
    else:
        body = json.dumps(_notification(subscription, message, message_id, subject,
                                        attributes)).encode()
    sns = _running_sns()
    release = sns.deliverer.hold() if sns is not None else (lambda: None)
    threading.Thread(target=_post_with_retries,
                     args=(subscription, message_id, body, headers, release),
                     name="sns-http-delivery", daemon=True).start()


_DELIVER: dict[str, Callable[..., None]] = {
    "lambda": _to_lambda, "sqs": _to_sqs, "http": _to_http, "https": _to_http}


def _post_with_retries(subscription: Any, message_id: str, body: bytes,
                       headers: dict[str, str], release: Callable[[], None]) -> None:
    try:
        _post(subscription, message_id, body, headers)
    finally:
        release()


def _dead_letter_notification(subscription: Any, message_id: str, body: bytes,
                              headers: dict[str, str]) -> None:
    if headers.get("x-amz-sns-message-type") == "Notification":  # not a confirmation request
        _dead_letter(subscription, message_id, body.decode())


def _post(subscription: Any, message_id: str, body: bytes, headers: dict[str, str]) -> None:
    from ..server import service

    endpoint = subscription.endpoint
    host = urlsplit(endpoint).hostname or ""
    if not is_loopback_host(host):
        log.warning("SNS did not deliver to %s: the sandbox delivers only to endpoints on this "
                    "machine (http://127.0.0.1:<port>/...)", endpoint)
        _hop(subscription, message_id, hops.FAILED, "the sandbox delivers only to endpoints on "
             "this machine (http://127.0.0.1:<port>/...)")
        _dead_letter_notification(subscription, message_id, body, headers)
        return
    running = service.current()
    parts = urlsplit(endpoint)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    attempts = len(HTTP_RETRY_DELAYS) + 1
    for attempt, delay in enumerate((0, *HTTP_RETRY_DELAYS), start=1):
        if delay and (running is None or not running.clock.sleep(delay)):
            return  # the sandbox was reset or stopped meanwhile
        connection = connection_class(parts.netloc, timeout=HTTP_TIMEOUT_SECONDS)
        try:
            connection.request("POST", path, body=body, headers=headers)  # names as SNS spells them
            status = connection.getresponse().status
        except OSError as e:
            status, problem = 0, f"no answer ({e})"
        else:
            problem = f"HTTP {status}"
        finally:
            connection.close()
        if 0 < status < 300:
            _hop(subscription, message_id, hops.DELIVERED, f"attempt {attempt}: HTTP {status}")
            return
        if 300 <= status < 500:  # a client error is not retried
            log.warning("SNS delivery to %s failed with HTTP %s", endpoint, status)
            _hop(subscription, message_id, hops.FAILED, f"attempt {attempt}: HTTP {status}, "
                 "which SNS does not retry")
            _dead_letter_notification(subscription, message_id, body, headers)
            return
        if attempt < attempts:
            _hop(subscription, message_id, hops.RETRYING, f"attempt {attempt}: {problem}: "
                 f"tried again in {HTTP_RETRY_DELAYS[attempt - 1]} s (sandbox clock)")
    log.warning("SNS gave up delivering to %s after %d attempts", endpoint, attempts)
    _hop(subscription, message_id, hops.FAILED, f"attempt {attempts}: {problem}: SNS gave up")
    _dead_letter_notification(subscription, message_id, body, headers)
