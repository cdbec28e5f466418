"""IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy) and whose policies
apply to a caller, through real boto3 calls against the sandbox."""

from __future__ import annotations

import inspect
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.iam import principals

A, B = "123456789012", "210987654321"
TABLE = f"arn:aws:dynamodb:us-east-1:{A}:table/books"
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]}
INLINE = ('{"Version": "2012-10-17",\n "Statement": [\n'
          '  {"Sid": "Write", "Effect": "Allow", "Action": "dynamodb:PutItem", '
          f'"Resource": "{TABLE}"}},\n'
          '  {"Sid": "NoScan", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}\n'
          ' ]}')


def line_column(text: str, snippet: str) -> dict[str, int]:
    offset = text.index(snippet)
    return {"Line": text.count("\n", 0, offset) + 1,
            "Column": offset - (text.rfind("\n", 0, offset) + 1) + 1}


@pytest.fixture(scope="module")
def service():
    from sandbox.testing import in_process_service

    with in_process_service() as service:
        yield service


@pytest.fixture
def sb(service):
    """These tests read whose policies apply (sandbox.iam.principals) from moto's own models:
    the server's side runs in this process."""
    service.reset()
    return service


@pytest.fixture
def role(sb):
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="book-writer",
                          AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName="book-writer", PolicyName="books", PolicyDocument=INLINE)
    iam.attach_role_policy(RoleName="book-writer",
                           PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
    return arn


def by_action(response) -> dict[str, dict]:
    return {r["EvalActionName"]: r for r in response["EvaluationResults"]}


def test_moto_still_lacks_the_simulator():
    from moto.iam import responses

    assert "def simulate_principal_policy" not in inspect.getsource(responses)


def test_a_role_with_inline_and_managed_policies(role):
    results = by_action(boto3.client("iam").simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["dynamodb:PutItem", "dynamodb:GetItem",
                                           "dynamodb:Scan", "s3:PutObject"],
        ResourceArns=[TABLE]))
    put, get = results["dynamodb:PutItem"], results["dynamodb:GetItem"]
    assert put["EvalDecision"] == "allowed" and put["EvalResourceName"] == TABLE
    assert put["MatchedStatements"] == [{
        "SourcePolicyId": "books", "SourcePolicyType": "role",
        "StartPosition": line_column(INLINE, '{"Sid": "Write"'),
        "EndPosition": line_column(INLINE, ',\n  {"Sid": "NoScan"')}]
    assert get["EvalDecision"] == "allowed"
    assert [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in get["MatchedStatements"]] == [
        ("AmazonDynamoDBReadOnlyAccess", "aws-managed")]
    scan = results["dynamodb:Scan"]  # the managed policy allows it; the inline Deny wins
    assert scan["EvalDecision"] == "explicitDeny"
    assert [m["SourcePolicyId"] for m in scan["MatchedStatements"]] == ["books"]
    assert scan["MatchedStatements"][0]["StartPosition"] == line_column(INLINE,
                                                                        '{"Sid": "NoScan"')
    assert results["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    assert results["s3:PutObject"]["MatchedStatements"] == []


def test_a_role_boundary_and_policy_input(role):
    iam = boto3.client("iam")
    boundary = iam.create_policy(PolicyName="only-s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="book-writer", PermissionsBoundary=boundary)
    extra = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    results = by_action(iam.simulate_principal_policy(
        PolicySourceArn=role, PolicyInputList=[extra],
        ActionNames=["dynamodb:PutItem", "s3:GetObject"], ResourceArns=["*"]))
    put, get = results["dynamodb:PutItem"], results["s3:GetObject"]
    assert put["EvalDecision"] == "implicitDeny"
    assert put["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert get["EvalDecision"] == "allowed"
    assert get["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert get["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"


def test_a_user_gets_its_groups_policies(sb):
    iam = boto3.client("iam")
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers",
                            PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    user = iam.create_user(UserName="mary")["User"]["Arn"]
    results = by_action(iam.simulate_principal_policy(
        PolicySourceArn=user, ActionNames=["s3:GetObject", "s3:PutObject"]))
    assert results["s3:GetObject"]["EvalDecision"] == "implicitDeny"
    iam.add_user_to_group(GroupName="readers", UserName="mary")
    results = by_action(iam.simulate_principal_policy(
        PolicySourceArn=user, ActionNames=["s3:GetObject", "s3:PutObject"]))
    assert results["s3:GetObject"]["EvalDecision"] == "allowed"
    assert results["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    group = iam.get_group(GroupName="readers")["Group"]["Arn"]
    results = by_action(iam.simulate_principal_policy(PolicySourceArn=group,
                                                      ActionNames=["s3:GetObject"]))
    assert results["s3:GetObject"]["EvalDecision"] == "allowed"


def test_a_custom_policy_with_context_entries(sb):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE,
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["u1", "u2"]},
                      "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]})
    iam = boto3.client("iam")

    def simulate(keys, ip=None):
        entries = [{"ContextKeyName": "dynamodb:LeadingKeys", "ContextKeyValues": keys,
                    "ContextKeyType": "stringList"}]
        if ip:
            entries.append({"ContextKeyName": "aws:SourceIp", "ContextKeyValues": [ip],
                            "ContextKeyType": "ip"})
        return iam.simulate_custom_policy(PolicyInputList=[policy],
                                          ActionNames=["dynamodb:GetItem"],
                                          ResourceArns=[TABLE],
                                          ContextEntries=entries)["EvaluationResults"][0]

    assert simulate(["u1"], "203.0.113.9")["EvalDecision"] == "allowed"
    assert simulate(["u1", "u3"], "203.0.113.9")["EvalDecision"] == "implicitDeny"
    assert simulate(["u1"], "198.51.100.1")["EvalDecision"] == "implicitDeny"
    missing = simulate(["u1"])
    assert missing["EvalDecision"] == "implicitDeny"
    assert missing["MissingContextValues"] == ["aws:SourceIp"]


def test_a_resource_policy_and_a_cross_account_caller(sb):
    caller = f"arn:aws:iam::{B}:user/partner"
    identity = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]})

    def resource_policy(principal):
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "dynamodb:GetItem",
            "Resource": TABLE}]})

    def simulate(document, action="dynamodb:GetItem"):
        return boto3.client("iam").simulate_custom_policy(
            PolicyInputList=[identity], ActionNames=[action], ResourceArns=[TABLE],
            ResourcePolicy=document, ResourceOwner=f"arn:aws:iam::{A}:root",
            CallerArn=caller)["EvaluationResults"][0]

    allowed = simulate(resource_policy(B))
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["EvalDecisionDetails"] == {"IAM Policy": "allowed",
                                              "Resource Policy": "allowed"}
    assert simulate(resource_policy(B), "dynamodb:PutItem")["EvalDecision"] == "implicitDeny"
    refused = simulate(resource_policy("999999999999"))
    assert refused["EvalDecision"] == "implicitDeny"
    assert refused["EvalDecisionDetails"]["Resource Policy"] == "implicitDeny"


def test_errors_as_iam_gives_them(role):
    iam = boto3.client("iam")
    with pytest.raises(ClientError) as error:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{A}:role/nobody",
                                      ActionNames=["s3:GetObject"])
    assert error.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as error:
        iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["s3:GetObject"],
                                      ResourcePolicy=json.dumps({"Statement": []}))
    assert error.value.response["Error"]["Code"] == "InvalidInput"
    with pytest.raises(ClientError) as error:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert error.value.response["Error"]["Code"] == "MalformedPolicyDocument"


# ---------------------------------------------------------------------- principals
def test_aws_managed_policies_resolve_on_first_use(sb):
    iam = boto3.client("iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    statements = version["PolicyVersion"]["Document"]["Statement"]
    assert any("logs:PutLogEvents" in s["Action"] for s in statements)
    with pytest.raises(ClientError) as error:
        iam.attach_role_policy(RoleName="nobody", PolicyArn="arn:aws:iam::aws:policy/NoSuch")
    assert error.value.response["Error"]["Code"] == "NoSuchEntity"


def test_principal_for_an_access_key(role):
    iam = boto3.client("iam")
    iam.create_user(UserName="mary")
    iam.put_user_policy(UserName="mary", PolicyName="own", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                "Resource": "*"}]}))
    key = iam.create_access_key(UserName="mary")["AccessKey"]["AccessKeyId"]
    user = principals.principal_for_access_key(key)
    assert (user.arn, user.kind, user.account) == (f"arn:aws:iam::{A}:user/mary", "user", A)
    assert [p.name for p in user.identity] == ["inline policy 'own' of user/mary"]
    session_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]})
    credentials = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="save-book",
                                                  Policy=session_policy)["Credentials"]
    session = principals.principal_for_access_key(credentials["AccessKeyId"])
    assert session.arn == f"arn:aws:sts::{A}:assumed-role/book-writer/save-book"
    assert (session.kind, session.role_arn) == ("assumed-role", role)
    assert {p.id for p in session.identity} == {
        "books", "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"}
    assert [p.kind for p in session.session] == ["session"]
    assert principals.principal_for_access_key("AKIAUNKNOWN000000000") is None


def test_policies_of_a_role_and_of_nobody(role):
    found = principals.policies_of(role)
    assert found.kind == "role" and found.boundary is None
    assert len(found.identity) == 2
    assert principals.policies_of(f"arn:aws:iam::{A}:role/nobody") is None
    assert principals.policies_of("s3.amazonaws.com") is None
