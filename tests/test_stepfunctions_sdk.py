"""aws-sdk service integrations fail with the error names AWS gives them, so that a Retry or
Catch written for AWS matches ("Learning to use AWS service SDK integrations in Step Functions",
Step Functions developer guide: ``ServiceName.ErrorName``, both in Pascal case, the error name
always ending in ``Exception``: ``S3.BucketAlreadyExistsException`` for S3's
``BucketAlreadyExists``)."""

from __future__ import annotations

import json

import boto3
import pytest
from test_stepfunctions import machine, run

from sandbox.stepfunctions.sdk import boto_service_name, service_error_name


def _caught(resource: str, parameters: dict, error: str, may: tuple[str, ...]) -> dict:
    """Run one aws-sdk task whose Catch names ``error``; the finished execution."""
    return run(machine({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": resource, "Parameters": parameters,
                 "Catch": [{"ErrorEquals": [error], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True}}}, may=may))


def test_a_catch_on_s3_nosuchkeyexception_catches_a_missing_object(sb):
    boto3.client("s3").create_bucket(Bucket="reports")
    done = _caught("arn:aws:states:::aws-sdk:s3:getObject",
                   {"Bucket": "reports", "Key": "missing.json"}, "S3.NoSuchKeyException",
                   may=("s3:GetObject",))
    assert done["status"] == "SUCCEEDED"
    caught = json.loads(done["output"])
    assert caught["Error"] == "S3.NoSuchKeyException"
    # the cause names the service as the error does, then the status code (the SDK's rendering)
    assert "(Service: S3, Status Code: 404, Request ID: " in caught["Cause"]


def test_a_failed_condition_is_dynamodb_conditionalcheckfailedexception(sb):
    boto3.client("dynamodb").create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    boto3.client("dynamodb").put_item(TableName="orders", Item={"id": {"S": "1"}})
    done = _caught("arn:aws:states:::aws-sdk:dynamodb:putItem",
                   {"TableName": "orders", "Item": {"id": {"S": "1"}},
                    "ConditionExpression": "attribute_not_exists(id)"},
                   "DynamoDb.ConditionalCheckFailedException", may=("dynamodb:PutItem",))
    assert done["status"] == "SUCCEEDED"


def test_a_missing_queue_is_sqs_queuedoesnotexistexception(sb):
    # SQS's error shape is QueueDoesNotExist: the Exception suffix is added, as for S3's
    done = _caught("arn:aws:states:::aws-sdk:sqs:getQueueUrl", {"QueueName": "nowhere"},
                   "Sqs.QueueDoesNotExistException", may=("sqs:GetQueueUrl",))
    assert done["status"] == "SUCCEEDED"


def test_a_missing_function_is_lambda_resourcenotfoundexception(sb):
    done = _caught("arn:aws:states:::aws-sdk:lambda:getFunction", {"FunctionName": "absent"},
                   "Lambda.ResourceNotFoundException", may=("lambda:GetFunction",))
    assert done["status"] == "SUCCEEDED"


def test_the_lower_case_name_moto_wrote_no_longer_matches(sb):
    boto3.client("s3").create_bucket(Bucket="reports")
    done = _caught("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": "reports", "Key": "x"},
                   "s3.NoSuchKeyException", may=("s3:GetObject",))
    assert (done["status"], done["error"]) == ("FAILED", "S3.NoSuchKeyException")


def test_an_error_the_service_does_not_model_is_its_base_exception(sb):
    # a denial is not in Secrets Manager's model: the Java SDK's base exception,
    # SecretsManager.SecretsManagerException, as AWS's Step Functions Local reports it
    done = _caught("arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
                   {"SecretId": "app/token"}, "SecretsManager.SecretsManagerException", may=())
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))


def test_eventbridge_is_called_by_its_step_functions_name(sb):
    # Step Functions names services as the Java SDK's modules do: eventbridge, not events
    done = run(machine({"StartAt": "Put", "States": {"Put": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:eventbridge:putEvents",
        "Parameters": {"Entries": [{"Source": "shop", "DetailType": "order",
                                    "Detail": "{}"}]}, "End": True}}},
        may=("events:PutEvents",)))
    assert done["status"] == "SUCCEEDED", done.get("cause")


@pytest.mark.parametrize("service, error_name", [
    ("s3", "S3"), ("dynamodb", "DynamoDb"), ("sqs", "Sqs"), ("sns", "Sns"),
    ("lambda", "Lambda"), ("sfn", "Sfn"), ("eventbridge", "EventBridge"),
    ("secretsmanager", "SecretsManager"), ("ssm", "Ssm"), ("kms", "Kms"),
    ("cloudwatchlogs", "CloudWatchLogs"), ("acmpca", "AcmPca"), ("ec2", "Ec2"),
    ("apigateway", "ApiGateway")])
def test_service_names_are_the_java_sdks(service, error_name):
    # AcmPca is the guide's own example; DynamoDb, Sfn, SecretsManager, Ssm as AWS reports them
    assert service_error_name(service) == error_name


def test_step_functions_service_names_map_to_botocores():
    assert [boto_service_name(name) for name in ("eventbridge", "cloudwatchlogs", "sfn", "s3")] \
        == ["events", "logs", "stepfunctions", "s3"]
