"""Function policies: what API Gateway (and S3, SNS, EventBridge) asks before invoking a
function, decided by IAM's evaluator. Statements are made with AddPermission, as learners make
them."""

from __future__ import annotations

import boto3
import pytest

from sandbox.awslambda.permissions import allows_invoke, evaluate
from sandbox.testing import deploy

APIGW = "apigateway.amazonaws.com"
API_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123"


def function(name: str = "f"):
    from moto.awslambda.models import lambda_backends

    return lambda_backends["123456789012"]["us-east-1"].get_function(name)


def add(name: str = "f", sid: str = "s", **kwargs) -> None:
    kwargs.setdefault("Action", "lambda:InvokeFunction")
    kwargs.setdefault("Principal", APIGW)
    boto3.client("lambda").add_permission(FunctionName=name, StatementId=sid, **kwargs)


@pytest.fixture(scope="module")
def service():
    """The server's side in this process: these tests read moto's function model."""
    from sandbox.testing import in_process_service

    with in_process_service() as service:
        yield service


@pytest.fixture
def fn(service):
    service.reset()
    deploy("f", "def handler(e, c):\n    return 1\n")
    return function


def test_no_policy_allows_nothing(fn):
    assert not allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/items", "123456789012")


def test_source_arn_is_matched_with_arn_like_wildcards(fn):
    add(SourceArn=f"{API_ARN}/*/GET/items/*")
    assert allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/items/{{id}}", "123456789012")
    assert allows_invoke(fn(), APIGW, f"{API_ARN}/dev/GET/items/a/b", "123456789012")
    assert not allows_invoke(fn(), APIGW, f"{API_ARN}/prod/POST/items/{{id}}", "123456789012")
    assert not allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/orders", "123456789012")
    other_api = "arn:aws:execute-api:us-east-1:123456789012:zzz999/prod/GET/items/1"
    assert not allows_invoke(fn(), APIGW, other_api, "123456789012")
    assert not allows_invoke(fn(), APIGW, None, "123456789012")  # no source: condition fails


def test_the_principal_and_the_action_must_match(fn):
    add(Principal="s3.amazonaws.com")
    assert not allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/", "123456789012")
    assert allows_invoke(fn(), "s3.amazonaws.com", "arn:aws:s3:::bucket", "123456789012")
    add(sid="get", Action="lambda:GetFunction")
    assert not allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/", "123456789012")
    add(sid="all", Action="lambda:*")
    assert allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/", "123456789012")


def test_source_account_condition(fn):
    add(SourceAccount="111122223333")
    assert not allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/", "123456789012")
    assert allows_invoke(fn(), APIGW, f"{API_ARN}/prod/GET/", "111122223333")


def test_a_permission_for_an_alias_covers_only_the_alias(fn):
    lam = boto3.client("lambda")
    version = lam.publish_version(FunctionName="f")["Version"]
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion=version)
    add(Qualifier="live")
    unqualified = fn().function_arn
    assert allows_invoke(fn(), APIGW, None, None, invoked_arn=f"{unqualified}:live")
    assert not allows_invoke(fn(), APIGW, None, None, invoked_arn=unqualified)


def test_an_explicit_deny_wins_and_a_key_the_request_lacks_never_allows():
    allow = {"Effect": "Allow", "Principal": {"Service": APIGW}, "Action": "lambda:*",
             "Resource": "*"}
    deny = {**allow, "Effect": "Deny",
            "Condition": {"ArnLike": {"AWS:SourceArn": f"{API_ARN}/*/DELETE/*"}}}
    context = {"aws:sourcearn": f"{API_ARN}/prod/DELETE/items", "aws:sourceaccount": None}
    kwargs = {"principal": APIGW, "action": "lambda:InvokeFunction", "resource": "arn:x"}
    assert not evaluate([allow, deny], context=context, **kwargs)
    get = {"aws:sourcearn": f"{API_ARN}/prod/GET/items", "aws:sourceaccount": None}
    assert evaluate([allow, deny], context=get, **kwargs)
    tagged = {**allow, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "shop"}}}
    assert not evaluate([tagged], context=get, **kwargs)  # a service principal has no tags
    negated = {**allow, "Condition": {"StringNotEquals": {"AWS:SourceAccount": "999"}}}
    assert evaluate([negated], context=get, **kwargs)  # absent key: a negated test holds
