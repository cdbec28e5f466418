"""SNS deliveries, checked and made as AWS makes them.

SNS is a service principal (``sns.amazonaws.com``) when it delivers to a Lambda or SQS
subscription: a function or queue whose policy does not admit the topic (``aws:SourceArn``)
gets nothing, and the publisher never knows. IAM decides (``sandbox.iam.service_may``);
``moto/sns/models.py`` ``Subscription.publish`` delivers to every endpoint.

HTTP and HTTPS subscriptions: moto posts inside ``Publish`` with ``requests``, so a slow or
unreachable endpoint failed the publisher's call, and the post could go to any machine. SNS
delivers after ``Publish`` has answered, and on a server-side error (5xx, no answer) retries
as its default HTTP/S delivery policy says: three times, 20 seconds apart (on the sandbox's
clock). The sandbox delivers only to endpoints on this machine; any other endpoint is a failed
delivery, said in the server's log (``sb.admin.server_log()``).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

from .. import iam
from ..safety import is_loopback_host

PRINCIPAL = "sns.amazonaws.com"
HTTP_RETRY_DELAYS = (20, 20, 20)  # SNS's default HTTP/S delivery policy, in seconds
HTTP_TIMEOUT_SECONDS = 15  # how long SNS waits for an HTTP/S endpoint to answer
log = logging.getLogger(__name__)


def _subscription_publish(original: Any) -> Any:
    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if self.protocol in ("lambda", "sqs"):
            action = "lambda:InvokeFunction" if self.protocol == "lambda" else "sqs:SendMessage"
            if not iam.service_may(PRINCIPAL, action, self.endpoint,
                                   source_arn=self.topic.arn, source_account=self.account_id,
                                   source=f"SNS delivery from {self.topic.name}"):
                return
        if self.protocol in ("http", "https"):
            _deliver_over_http(self, message, message_id, *args, **kwargs)
            return
        original(self, message, message_id, *args, **kwargs)

    return publish


def _deliver_over_http(subscription: Any, message: str, message_id: str,
                       subject: str | None = None,
                       message_attributes: dict[str, Any] | None = None,
                       *args: Any, **kwargs: Any) -> None:
    """Post the notification after Publish has answered, retrying as SNS does."""
    body = json.dumps(subscription.get_post_data(
        message, message_id, subject, message_attributes=message_attributes)).encode()
    headers = {  # what SNS sends with every HTTP/S notification
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": subscription.topic.arn,
        "x-amz-sns-subscription-arn": subscription.arn,
    }
    threading.Thread(target=_post_with_retries, args=(subscription.endpoint, body, headers),
                     name="sns-http-delivery", daemon=True).start()


def _post_with_retries(endpoint: str, body: bytes, headers: dict[str, str]) -> None:
    from ..server import service

    host = urlsplit(endpoint).hostname or ""
    if not is_loopback_host(host):
        log.warning("SNS did not deliver to %s: the sandbox delivers only to endpoints on this "
                    "machine (http://127.0.0.1:<port>/...)", endpoint)
        return
    running = service.current()
    parts = urlsplit(endpoint)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for delay in (0, *HTTP_RETRY_DELAYS):
        if delay and (running is None or not running.clock.sleep(delay)):
            return  # the sandbox was reset or stopped meanwhile
        connection = connection_class(parts.netloc, timeout=HTTP_TIMEOUT_SECONDS)
        try:
            connection.request("POST", path, body=body, headers=headers)  # names as SNS spells them
            status = connection.getresponse().status
        except OSError:
            continue  # no answer: retried
        finally:
            connection.close()
        if status < 300:
            return
        if status < 500:  # a client error is not retried
            log.warning("SNS delivery to %s failed with HTTP %s", endpoint, status)
            return
    log.warning("SNS gave up delivering to %s after %d attempts", endpoint,
                len(HTTP_RETRY_DELAYS) + 1)
