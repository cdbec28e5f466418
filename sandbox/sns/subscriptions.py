"""SNS deliveries, checked as AWS checks them.

SNS is a service principal (``sns.amazonaws.com``) when it delivers to a Lambda or SQS
subscription: a function or queue whose policy does not admit the topic (``aws:SourceArn``)
gets nothing, and the publisher never knows. IAM decides (``sandbox.iam.service_may``);
``moto/sns/models.py`` ``Subscription.publish`` delivers to every endpoint.
"""

from __future__ import annotations

from typing import Any

from .. import iam

PRINCIPAL = "sns.amazonaws.com"


def _subscription_publish(original: Any) -> Any:
    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        if self.protocol in ("lambda", "sqs"):
            action = "lambda:InvokeFunction" if self.protocol == "lambda" else "sqs:SendMessage"
            if not iam.service_may(PRINCIPAL, action, self.endpoint,
                                   source_arn=self.topic.arn, source_account=self.account_id,
                                   source=f"SNS delivery from {self.topic.name}"):
                return
        original(self, message, message_id, *args, **kwargs)

    return publish
