"""The error names of ``aws-sdk`` integrations, as Step Functions writes them.

"If an AWS SDK integration encounters an error, the resulting Error field will be composed of
the service name and the error name, separated by a period character: ServiceName.ErrorName.
Both the service name and error name are in Pascal case" and the error name always ends in
``Exception`` (``S3.BucketAlreadyExistsException`` for S3's ``BucketAlreadyExists``;
``AcmPca.ResourceNotFoundException`` for ``arn:aws:states:::aws-sdk:acmpca:...``): "Learning to
use AWS service SDK integrations in Step Functions", Step Functions developer guide.

The service name is the one AWS's Java SDK (v2) gives the service: its ``serviceId`` split into
words and each word capitalised (``DynamoDB`` -> ``DynamoDb``, ``ACM PCA`` -> ``AcmPca``,
``CloudWatch Logs`` -> ``CloudWatchLogs``, ``SFN`` -> ``Sfn``); an error the service does not
model is that SDK's base exception (``Ssm.SsmException`` for an access denial, as AWS's Step
Functions Local answers). moto (``state_task_service_aws_sdk.py``) knows two such names
(``DynamoDb``, ``Sfn``) and writes every other service in lower case, ``s3.NoSuchKeyException``,
which no Catch written for AWS matches. The same name appears in the cause, ``(Service: S3,
Status Code: 404, Request ID: ...)``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# Step Functions names a service as the Java SDK's module does (``pascal_case(serviceId)`` in
# lower case); where botocore's name differs, the common ones are here and the rest are found by
# reading every service's model once (slow, so only for a name neither knows)
_BOTO_NAMES = {"sfn": "stepfunctions", "states": "stepfunctions", "eventbridge": "events",
               "cloudwatchlogs": "logs", "acmpca": "acm-pca", "cloudwatchevents": "events",
               "cognitoidentityprovider": "cognito-idp", "elasticloadbalancingv2": "elbv2"}


@functools.cache
def boto_service_name(service_name: str) -> str:
    """The botocore name of the service an ``aws-sdk:<service>:<action>`` resource names:
    ``eventbridge`` -> ``events``, ``cloudwatchlogs`` -> ``logs``, ``s3`` -> ``s3``."""
    import botocore.session

    name = service_name.lower()
    if name in _BOTO_NAMES:
        return _BOTO_NAMES[name]
    session = botocore.session.get_session()
    available = session.get_available_services()
    if name in available:
        return name
    for candidate in available:  # a Java SDK name botocore spells otherwise
        model = session.get_service_model(candidate)
        if pascal_case(str(model.service_id)).lower() == name:
            return str(candidate)
    return name  # no such service: the call fails as an unknown service


@functools.cache
def service_error_name(service_name: str) -> str:
    """``StateTaskServiceAwsSdk._normalise_service_error_name``: ``s3`` -> ``S3``,
    ``dynamodb`` -> ``DynamoDb``, ``eventbridge`` -> ``EventBridge``."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        model = botocore.session.get_session().get_service_model(
            boto_service_name(service_name))
        service_id = str(model.service_id)
    except UnknownServiceError:
        service_id = service_name  # the call fails anyway: the SDK has no such service
    return pascal_case(service_id)


def get_boto_service_name(original: Any) -> Any:
    """Wrap ``StateTaskServiceAwsSdk._get_boto_service_name``: the client for a Java SDK name
    (moto makes ``boto3.client("eventbridge")``, which botocore does not know)."""

    @functools.wraps(original)
    def _get_boto_service_name(self: Any, boto_service_name_: str | None = None) -> str:
        return boto_service_name(original(self, boto_service_name_))

    return _get_boto_service_name


def pascal_case(text: str) -> str:
    """A name the way the Java SDK's code generator writes a service's: split on word
    boundaries, each word in lower case with a capital first letter."""
    return "".join(word[:1].upper() + word[1:].lower() for word in words(text))


def words(text: str) -> list[str]:
    """The Java SDK's ``splitOnWordBoundaries``: ``ApiGatewayV2`` -> Api Gateway V2,
    ``DynamoDB`` -> Dynamo DB, ``ACM PCA`` -> ACM PCA, ``EC2`` -> EC2."""
    text = re.sub(r"[^A-Za-z0-9]+", " ", text)
    text = re.sub(r"([^a-z]{2,})v([0-9]+)", r"\1 v\2 ", text)
    text = re.sub(r"([^A-Z]{2,})V([0-9]+)", r"\1 V\2 ", text)
    text = re.sub(r"(?<=[a-z])(?=[A-Z]([a-zA-Z]|[0-9]))", " ", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    text = re.sub(r"([0-9])([a-zA-Z])", r"\1 \2", text)
    return text.split()
