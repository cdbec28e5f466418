"""Function policies: what API Gateway (and S3, SNS, EventBridge) asks before invoking a
function. IAM decides (``sb.iam.service_may``) and records each decision, so that
``sb.iam.denials()`` shows API Gateway's refusals too. Statements are made with AddPermission,
as learners make them."""

from __future__ import annotations

import boto3
import pytest
import requests

from sandbox.iam.policy import Policy, Request, evaluate
from sandbox.testing import deploy

APIGW = "apigateway.amazonaws.com"
ACCOUNT = "123456789012"
API_ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
HELLO = "def handler(event, context):\n    return {'hello': event['rawPath']}\n"


def add(name: str = "f", sid: str = "s", **kwargs) -> None:
    kwargs.setdefault("Action", "lambda:InvokeFunction")
    kwargs.setdefault("Principal", APIGW)
    boto3.client("lambda").add_permission(FunctionName=name, StatementId=sid, **kwargs)


@pytest.fixture
def may(sb):
    """Whether ``principal`` may invoke function f for ``source_arn`` in ``source_account``."""
    deploy("f", "def handler(e, c):\n    return 1\n")

    def may(principal, source_arn, source_account=ACCOUNT, *, arn=FUNCTION_ARN,
            action="lambda:InvokeFunction"):
        return sb.iam.service_may(principal, action, arn, source_arn=source_arn,
                                  source_account=source_account)

    return may


def test_no_policy_allows_nothing(may):
    assert not may(APIGW, f"{API_ARN}/prod/GET/items")


def test_source_arn_is_matched_with_arn_like_wildcards(may):
    add(SourceArn=f"{API_ARN}/*/GET/items/*")
    assert may(APIGW, f"{API_ARN}/prod/GET/items/{{id}}")
    assert may(APIGW, f"{API_ARN}/dev/GET/items/a/b")
    assert not may(APIGW, f"{API_ARN}/prod/POST/items/{{id}}")
    assert not may(APIGW, f"{API_ARN}/prod/GET/orders")
    assert not may(APIGW, f"arn:aws:execute-api:us-east-1:{ACCOUNT}:zzz999/prod/GET/items/1")
    assert not may(APIGW, None)  # no source: the condition fails


def test_the_principal_and_the_action_must_match(may):
    add(Principal="s3.amazonaws.com")
    assert not may(APIGW, f"{API_ARN}/prod/GET/")
    assert may("s3.amazonaws.com", "arn:aws:s3:::bucket")
    add(sid="get", Action="lambda:GetFunction")
    assert not may(APIGW, f"{API_ARN}/prod/GET/")
    add(sid="all", Action="lambda:*")
    assert may(APIGW, f"{API_ARN}/prod/GET/")


def test_source_account_condition(may):
    add(SourceAccount="111122223333")
    assert not may(APIGW, f"{API_ARN}/prod/GET/")
    assert may(APIGW, f"{API_ARN}/prod/GET/", "111122223333")


def test_a_permission_for_an_alias_covers_only_the_alias(may):
    lam = boto3.client("lambda")
    version = lam.publish_version(FunctionName="f")["Version"]
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion=version)
    add(Qualifier="live")
    assert may(APIGW, None, None, arn=f"{FUNCTION_ARN}:live")
    assert not may(APIGW, None, None, arn=FUNCTION_ARN)


def test_each_decision_is_on_the_trail_and_none_when_iam_is_not_enforced(sb, may):
    assert not may(APIGW, f"{API_ARN}/prod/GET/items")
    denial = sb.iam.denials()[0]
    assert (denial.principal, denial.action, denial.resource) == (
        APIGW, "lambda:InvokeFunction", FUNCTION_ARN)
    assert denial.deciding == "no statement allows it (implicit deny)"
    decided = len(sb.iam.decisions(principal=APIGW))
    sb.iam.enforcing = False
    try:
        assert may(APIGW, f"{API_ARN}/prod/GET/items")  # README: not enforced allows all
    finally:
        sb.iam.enforcing = True
    assert len(sb.iam.decisions(principal=APIGW)) == decided  # nothing decided meanwhile


def test_an_explicit_deny_wins_and_a_key_the_request_lacks_never_allows():
    allow = {"Effect": "Allow", "Principal": {"Service": APIGW}, "Action": "lambda:*",
             "Resource": "*"}
    deny = {**allow, "Effect": "Deny",
            "Condition": {"ArnLike": {"AWS:SourceArn": f"{API_ARN}/*/DELETE/*"}}}

    def allowed(statements, source_arn):
        request = Request(principal=APIGW, action="lambda:InvokeFunction", resource="arn:x",
                          context={"aws:sourcearn": source_arn})
        policy = Policy({"Version": "2012-10-17", "Statement": statements}, "resource", "f")
        return evaluate(request, resource=policy).allowed

    assert not allowed([allow, deny], f"{API_ARN}/prod/DELETE/items")
    assert allowed([allow, deny], f"{API_ARN}/prod/GET/items")
    tagged = {**allow, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "shop"}}}
    assert not allowed([tagged], f"{API_ARN}/prod/GET/items")  # a service has no tags
    negated = {**allow, "Condition": {"StringNotEquals": {"AWS:SourceAccount": "999"}}}
    assert allowed([negated], f"{API_ARN}/prod/GET/items")  # absent key: a negated test holds


# ---------------------------------------------------------------------- through API Gateway
def quick_api(name: str) -> dict:
    arn = deploy(name, HELLO)
    return boto3.client("apigatewayv2").create_api(Name=name, ProtocolType="HTTP", Target=arn)


def test_api_gateways_refusal_is_a_denial_the_learner_can_read(sb):
    api = quick_api("hidden")
    response = requests.get(api["ApiEndpoint"] + "/x")
    assert response.status_code == 500
    assert "Invalid permissions on Lambda function" in response.headers["x-sandbox-reason"]
    denial = sb.iam.denials()[0]
    assert denial.principal == APIGW and denial.action == "lambda:InvokeFunction"
    assert denial.resource.endswith(":function:hidden")
    assert denial.source == "API Gateway invoking hidden"
    assert "DENIED lambda:InvokeFunction" in repr(sb.iam.denials())


def test_api_gateway_invokes_without_a_permission_when_iam_is_not_enforced(sb):
    api = quick_api("open")
    sb.iam.enforcing = False
    try:
        response = requests.get(api["ApiEndpoint"] + "/x")
    finally:
        sb.iam.enforcing = True
    assert response.status_code == 200 and response.json() == {"hello": "/x"}
    assert requests.get(api["ApiEndpoint"] + "/x").status_code == 500  # enforced again
