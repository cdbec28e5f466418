"""S3 event notifications, checked as AWS checks them.

S3 is a service principal (``s3.amazonaws.com``) when it invokes a function or writes to a
queue or topic: only the destination's own policy can let it in, with the bucket's ARN and the
account as ``aws:SourceArn`` and ``aws:SourceAccount``. IAM decides (``sandbox.iam.service_may``).
At configuration time S3 tests each destination and refuses the whole configuration,
``InvalidArgument: Unable to validate the following destination configurations``
(``moto/s3/models.py`` ``S3Backend.put_bucket_notification_configuration`` checks nothing); a
destination that stops allowing it later is skipped (``moto/s3/notifications.py`` delivers to
every destination).
"""

from __future__ import annotations

from typing import Any

from .. import iam

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


def _bucket_of(event_body: Any) -> str:
    try:
        name: str = event_body["Records"][0]["s3"]["bucket"]["name"]
        return name
    except (KeyError, IndexError, TypeError):
        return event_body.get("Bucket", "") if isinstance(event_body, dict) else ""


def _delivery(original: Any, action: str, arn_of: Any) -> Any:
    def deliver(account_id: str, event_body: Any, target: str, region_name: str) -> None:
        bucket = _bucket_of(event_body)
        arn = arn_of(account_id, target, region_name)
        if iam.service_may(PRINCIPAL, action, arn, source_arn=_bucket_arn(bucket),
                           source_account=account_id,
                           source=f"S3 event notification of {bucket}"):
            original(account_id, event_body, target, region_name)

    return deliver


def _as_given(account: str, target: str, region: str) -> str:
    return target


def _queue_arn(account: str, target: str, region: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{target}"


# the registry's factories (sandbox/seams.py): each wraps one of moto's delivery functions
def invokes_lambda(original: Any) -> Any:
    return _delivery(original, "lambda:InvokeFunction", _as_given)


def sends_to_sqs(original: Any) -> Any:
    return _delivery(original, "sqs:SendMessage", _queue_arn)


def publishes_to_sns(original: Any) -> Any:
    return _delivery(original, "sns:Publish", _as_given)
