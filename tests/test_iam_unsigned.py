"""Unsigned requests, through boto3 with ``signature_version=UNSIGNED`` and plain HTTP.

AWS serves an unsigned request only as the anonymous principal of S3 and SQS, and only where a
resource policy grants ``"*"`` (or an S3 public-read ACL); the other services answer their
protocol's missing-authentication error. Recorded answers: DynamoDB HTTP 400
``MissingAuthenticationTokenException`` "Request is missing Authentication Token"; STS HTTP 403
``MissingAuthenticationToken`` with the same message; Lambda HTTP 403
``MissingAuthenticationTokenException`` "Missing Authentication Token"; S3 403 ``AccessDenied``
"Access Denied". moto's own ``/moto-api/`` is nobody's to call.
"""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.testing import deploy

ACCOUNT = "123456789012"


def anonymous(service: str):
    return boto3.client(service, config=Config(signature_version=UNSIGNED,
                                               retries={"max_attempts": 1}))


def error_of(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def code_status_message(error: ClientError) -> tuple[str, int, str]:
    return (error.response["Error"]["Code"],
            error.response["ResponseMetadata"]["HTTPStatusCode"],
            error.response["Error"]["Message"])


def everyone(action: str, resource: str) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# ---------------------------------------------------------------------- S3: the anonymous principal
def test_an_unsigned_caller_cannot_list_the_buckets(sb):
    boto3.client("s3").create_bucket(Bucket="private")
    error = error_of(anonymous("s3").list_buckets)
    assert code_status_message(error) == ("AccessDenied", 403, "Access Denied")
    raw = requests.get(sb.endpoint_url + "/")
    assert raw.status_code == 403 and "private" not in raw.text
    denial = sb.iam.denials()[0]
    assert (denial.principal, denial.action) == ("anonymous", "s3:ListAllMyBuckets")


def test_a_private_bucket_hides_its_keys_until_its_policy_allows_everyone(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="shop")
    s3.put_object(Bucket="shop", Key="secret.txt", Body=b"s")
    unsigned = anonymous("s3")
    error = error_of(unsigned.list_objects_v2, Bucket="shop")
    assert code_status_message(error) == ("AccessDenied", 403, "Access Denied")
    assert "secret.txt" not in requests.get(sb.endpoint_url + "/shop").text
    assert sb.iam.denials()[0].resource == "arn:aws:s3:::shop"
    s3.put_bucket_policy(Bucket="shop", Policy=policy(
        everyone("s3:ListBucket", "arn:aws:s3:::shop")))
    assert [o["Key"] for o in unsigned.list_objects_v2(Bucket="shop")["Contents"]] == [
        "secret.txt"]
    error = error_of(unsigned.get_object, Bucket="shop", Key="secret.txt")  # listing, not reading
    assert code_status_message(error)[:2] == ("AccessDenied", 403)


def test_a_public_read_object_is_readable_unsigned_unless_public_acls_are_ignored(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pics")
    s3.put_object(Bucket="pics", Key="cat.jpg", Body=b"meow", ACL="public-read")
    s3.put_object(Bucket="pics", Key="dog.jpg", Body=b"woof")
    unsigned = anonymous("s3")
    assert unsigned.get_object(Bucket="pics", Key="cat.jpg")["Body"].read() == b"meow"
    assert requests.get(f"{sb.endpoint_url}/pics/cat.jpg").content == b"meow"
    assert error_of(unsigned.get_object, Bucket="pics", Key="dog.jpg").response[
        "Error"]["Code"] == "AccessDenied"
    s3.put_public_access_block(Bucket="pics", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    assert requests.get(f"{sb.endpoint_url}/pics/cat.jpg").status_code == 403


def test_restrict_public_buckets_takes_a_policys_grant_to_everyone_away(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="open")
    s3.put_object(Bucket="open", Key="a.txt", Body=b"a")
    s3.put_bucket_policy(Bucket="open", Policy=policy(
        everyone("s3:GetObject", "arn:aws:s3:::open/*")))
    assert requests.get(f"{sb.endpoint_url}/open/a.txt").content == b"a"
    s3.put_public_access_block(Bucket="open", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True})
    assert requests.get(f"{sb.endpoint_url}/open/a.txt").status_code == 403


def test_presigned_urls_websites_and_api_gateway_still_answer_unsigned_callers(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>hi</h1>",
                  ContentType="text/html")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "site", "Key": "index.html"})
    assert requests.get(url).content == b"<h1>hi</h1>"  # signed in the query
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    assert requests.get(f"{sb.endpoint_url}/_website/site/").status_code == 403  # private
    s3.put_bucket_policy(Bucket="site", Policy=policy(
        everyone("s3:GetObject", "arn:aws:s3:::site/*")))
    assert requests.get(f"{sb.endpoint_url}/_website/site/").content == b"<h1>hi</h1>"
    arn = deploy("hello", "def handler(event, context):\n    return {'hi': event['rawPath']}\n")
    api = boto3.client("apigatewayv2").create_api(Name="q", ProtocolType="HTTP", Target=arn)
    boto3.client("lambda").add_permission(
        FunctionName="hello", StatementId="api", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com")
    assert requests.get(api["ApiEndpoint"] + "/x").json() == {"hi": "/x"}


def test_a_browser_upload_needs_the_signed_form_of_a_presigned_post(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads")
    post = s3.generate_presigned_post("uploads", "photo.jpg")
    sent = requests.post(post["url"], data=post["fields"], files={"file": b"jpeg"})
    assert sent.status_code in (200, 204)
    assert s3.get_object(Bucket="uploads", Key="photo.jpg")["Body"].read() == b"jpeg"
    forged = requests.post(post["url"], data={"key": "evil.jpg"}, files={"file": b"x"})
    assert forged.status_code == 403 and "AccessDenied" in forged.text
    assert "evil.jpg" not in [o["Key"] for o in s3.list_objects_v2(Bucket="uploads")["Contents"]]


def test_a_private_websites_refusal_is_a_denial_the_learner_can_read(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="hidden")
    s3.put_object(Bucket="hidden", Key="index.html", Body=b"x")
    s3.put_bucket_website(Bucket="hidden", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    assert requests.get(f"{sb.endpoint_url}/_website/hidden/").status_code == 403
    denial = sb.iam.denials()[0]
    assert (denial.principal, denial.action, denial.resource) == (
        "anonymous", "s3:GetObject", "arn:aws:s3:::hidden/index.html")
    assert denial.source == "S3 website endpoint of hidden"


# ---------------------------------------------------------------------- SQS: anonymous too
def test_a_queue_takes_unsigned_messages_only_when_its_policy_allows_everyone(sb):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    unsigned = anonymous("sqs")
    error = error_of(unsigned.send_message, QueueUrl=url, MessageBody="hi")
    assert code_status_message(error)[:2] == ("AccessDenied", 403)
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:inbox"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "Policy": policy(everyone("sqs:SendMessage", arn))})
    unsigned.send_message(QueueUrl=url, MessageBody="hi")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["hi"]
    assert code_status_message(error_of(unsigned.receive_message, QueueUrl=url))[:2] == (
        "AccessDenied", 403)


# ------------------------------------------------------------- services that need a signature
def test_an_unsigned_lambda_call_is_missing_its_authentication_token(sb):
    deploy("f", "def handler(e, c):\n    return 1\n")
    error = error_of(anonymous("lambda").invoke, FunctionName="f")
    assert code_status_message(error) == (
        "MissingAuthenticationTokenException", 403, "Missing Authentication Token")
    raw = requests.post(f"{sb.endpoint_url}/2015-03-31/functions/f/invocations", data=b"{}")
    assert raw.status_code == 403 and raw.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize("service, call, status", [
    ("dynamodb", lambda c: c.list_tables(), 400),
    ("stepfunctions", lambda c: c.list_state_machines(), 400),
    ("sts", lambda c: c.get_caller_identity(), 403),
    ("sns", lambda c: c.list_topics(), 403),
    ("iam", lambda c: c.list_users(), 403),
], ids=["dynamodb", "stepfunctions", "sts", "sns", "iam"])
def test_other_services_refuse_an_unsigned_call(sb, service, call, status):
    error = error_of(call, anonymous(service))
    code, got_status, message = code_status_message(error)
    assert code.startswith("MissingAuthenticationToken") and got_status == status
    assert message == "Request is missing Authentication Token"


def test_unsigned_web_identity_calls_reach_sts(sb):
    """AssumeRoleWithWebIdentity is unsigned by design: the token is its authentication."""
    try:
        anonymous("sts").assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/nobody", RoleSessionName="session",
            WebIdentityToken="token")
    except ClientError as error:  # STS judges the token and the role, not the signature
        assert not error.response["Error"]["Code"].startswith("MissingAuthenticationToken")


# ---------------------------------------------------------------------- moto's own API
@pytest.mark.parametrize("method, path", [("POST", "/moto-api/reset"), ("GET", "/moto-api/"),
                                          ("GET", "/moto-api/data.json"),
                                          ("POST", "/moto-api/seed?a=42")])
def test_motos_own_api_is_nobodys(sb, method, path):
    boto3.client("s3").create_bucket(Bucket="kept")
    assert requests.request(method, sb.endpoint_url + path).status_code == 404
    sb.iam.enforcing = False
    try:
        assert requests.request(method, sb.endpoint_url + path).status_code == 404
    finally:
        sb.iam.enforcing = True
    assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == ["kept"]


def test_with_iam_not_enforced_unsigned_callers_are_let_through(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="loose")
    s3.put_object(Bucket="loose", Key="index.html", Body=b"open")
    s3.put_bucket_website(Bucket="loose", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    decided = len(sb.iam.decisions(principal="anonymous"))
    sb.iam.enforcing = False  # README: allows everything, whatever the policies say
    try:
        listed = anonymous("s3").list_objects_v2(Bucket="loose")["Contents"]
        page = requests.get(f"{sb.endpoint_url}/_website/loose/")
    finally:
        sb.iam.enforcing = True
    assert [o["Key"] for o in listed] == ["index.html"]
    assert (page.status_code, page.content) == (200, b"open")
    assert len(sb.iam.decisions(principal="anonymous")) == decided
    assert requests.get(f"{sb.endpoint_url}/_website/loose/").status_code == 403
