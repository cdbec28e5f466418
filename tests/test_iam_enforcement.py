"""IAM enforced end to end: handlers, IAM users, services and a second account, through boto3.

Each denial is checked for the code, status and message AWS gives for the same policies
(message forms: IAM User Guide, "Troubleshoot access denied error messages"; per-service codes
recorded from AWS: DynamoDB/Step Functions AccessDeniedException, SQS AccessDenied with the
action in lower case, SNS AuthorizationError with "SNS:", S3 AccessDenied with the resource in
quotes, Lambda AccessDeniedException with HTTP 403).
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from sandbox.iam import SECOND_ACCOUNT_ID
from sandbox.testing import deploy, execution_role

ACCOUNT = "123456789012"
REGION = "us-east-1"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def user_client(service: str, name: str, *statements: dict):
    """A client acting as IAM user ``name`` with an inline policy of ``statements``."""
    iam = boto3.client("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client(service, aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)


def error_of(call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def make_table(name: str = "books") -> None:
    boto3.client("dynamodb").create_table(
        TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")


SAVE_BOOK = """
import boto3
def handler(event, context):
    boto3.client("dynamodb").put_item(TableName="books", Item={"id": {"S": event["id"]}})
    return "saved"
"""


# ---------------------------------------------------------------------- a handler's role
def test_a_handler_is_denied_with_awss_message_then_allowed_once_its_role_is(sb):
    make_table()
    role = execution_role("book-writer")
    deploy("save-book", SAVE_BOOK, Role=role)
    lam = boto3.client("lambda")
    out = lam.invoke(FunctionName="save-book", Payload=b'{"id": "1"}')
    error = json.loads(out["Payload"].read())
    assert out["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ClientError"
    assert error["errorMessage"] == (
        "An error occurred (AccessDeniedException) when calling the PutItem operation: "
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/book-writer/save-book is not authorized to "
        f"perform: dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/books"
        " because no identity-based policy allows the dynamodb:PutItem action")

    boto3.client("iam").put_role_policy(
        RoleName="book-writer", PolicyName="write-books",
        PolicyDocument=policy(allow("dynamodb:PutItem",
                                    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/books")))
    out = lam.invoke(FunctionName="save-book", Payload=b'{"id": "1"}')
    assert json.loads(out["Payload"].read()) == "saved"
    assert "FunctionError" not in out


def test_an_allow_on_another_table_does_not_reach_this_one(sb):
    make_table()
    make_table("other")
    execution_role("book-writer")
    boto3.client("iam").put_role_policy(
        RoleName="book-writer", PolicyName="write-other",
        PolicyDocument=policy(allow("dynamodb:PutItem",
                                    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other")))
    deploy("save-book", SAVE_BOOK, Role=execution_role("book-writer"))
    out = boto3.client("lambda").invoke(FunctionName="save-book", Payload=b'{"id": "1"}')
    assert "table/books because no identity-based policy allows" in out["Payload"].read().decode()


def test_aws_managed_policies_attach_by_arn_and_grant_what_they_grant(sb):
    make_table()
    iam = boto3.client("iam")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    for name in ("service-role/AWSLambdaBasicExecutionRole", "AmazonDynamoDBReadOnlyAccess"):
        iam.attach_role_policy(RoleName="reader", PolicyArn=f"arn:aws:iam::aws:policy/{name}")
    deploy("read-then-write", """
import boto3
def handler(event, context):
    db = boto3.client("dynamodb")
    db.get_item(TableName="books", Key={"id": {"S": "1"}})
    print("read ok")
    db.put_item(TableName="books", Item={"id": {"S": "1"}})
""", Role=iam.get_role(RoleName="reader")["Role"]["Arn"])
    out = boto3.client("lambda").invoke(FunctionName="read-then-write", LogType="Tail")
    payload = out["Payload"].read().decode()
    assert "dynamodb:PutItem" in payload and "no identity-based policy allows" in payload
    import base64

    assert "read ok" in base64.b64decode(out["LogResult"]).decode()


def test_an_explicit_deny_wins_and_the_trail_names_the_statement(sb):
    make_table()
    execution_role("book-writer", "dynamodb:*")
    boto3.client("iam").put_role_policy(
        RoleName="book-writer", PolicyName="no-books",
        PolicyDocument=policy(dict(deny("dynamodb:PutItem"), Sid="NoWrites")))
    deploy("save-book", SAVE_BOOK, Role=execution_role("book-writer"))
    out = boto3.client("lambda").invoke(FunctionName="save-book", Payload=b'{"id": "1"}')
    assert ("on resource: arn:aws:dynamodb:us-east-1:123456789012:table/books with an explicit "
            "deny in an identity-based policy") in out["Payload"].read().decode()

    latest = sb.iam.denials()[0]
    assert latest.action == "dynamodb:PutItem"
    assert latest.principal == f"arn:aws:sts::{ACCOUNT}:assumed-role/book-writer/save-book"
    assert latest.statement.sid == "NoWrites" and latest.statement.effect == "Deny"
    assert "no-books" in latest.statement.policy.name
    shown = repr(sb.iam.denials())
    assert "DENIED dynamodb:PutItem" in shown and "NoWrites" in shown
    assert "<table>" in sb.iam.denials()._repr_html_()
    event = latest.event()
    assert event["errorCode"] == "AccessDenied" and event["eventSource"] == \
        "dynamodb.amazonaws.com"


def test_a_permissions_boundary_caps_what_the_role_policies_grant(sb):
    make_table()
    iam = boto3.client("iam")
    boundary = iam.create_policy(PolicyName="read-only-boundary", PolicyDocument=policy(
        allow(["dynamodb:GetItem", "logs:*"])))["Policy"]["Arn"]
    iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
                    PermissionsBoundary=boundary)
    iam.put_role_policy(RoleName="bounded", PolicyName="all",
                        PolicyDocument=policy(allow(["dynamodb:*", "logs:*"])))
    deploy("save-book", SAVE_BOOK, Role=iam.get_role(RoleName="bounded")["Role"]["Arn"])
    out = boto3.client("lambda").invoke(FunctionName="save-book", Payload=b'{"id": "1"}')
    assert "because no permissions boundary allows the dynamodb:PutItem action" in \
        out["Payload"].read().decode()


# ---------------------------------------------------------------------- each protocol's refusal
def test_each_service_refuses_in_its_own_protocol(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"meow")
    queue = boto3.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    topic = boto3.client("sns").create_topic(Name="news")["TopicArn"]
    deploy("f", "def handler(e, c):\n    return 1\n")
    user = f"arn:aws:iam::{ACCOUNT}:user/"

    e = error_of(user_client("s3", "s3-user").get_object, Bucket="photos", Key="cat.jpg")
    assert e.response["Error"]["Code"] == "AccessDenied"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.response["Error"]["Message"] == (
        f'User: {user}s3-user is not authorized to perform: s3:GetObject on resource: '
        '"arn:aws:s3:::photos/cat.jpg" because no identity-based policy allows the '
        "s3:GetObject action")

    e = error_of(user_client("sqs", "sqs-user").send_message, QueueUrl=queue, MessageBody="x")
    assert e.response["Error"]["Code"] == "AccessDenied"
    assert e.response["Error"]["Message"] == (
        f"User: {user}sqs-user is not authorized to perform: sqs:sendmessage on resource: "
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs because no identity-based policy allows the "
        "sqs:sendmessage action")

    e = error_of(user_client("sns", "sns-user").publish, TopicArn=topic, Message="x")
    assert e.response["Error"]["Code"] == "AuthorizationError"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.response["Error"]["Message"] == (
        f"User: {user}sns-user is not authorized to perform: SNS:Publish on resource: {topic} "
        "because no identity-based policy allows the SNS:Publish action")

    e = error_of(user_client("lambda", "lambda-user").invoke, FunctionName="f")
    assert e.response["Error"]["Code"] == "AccessDeniedException"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.response["Error"]["Message"] == (
        f"User: {user}lambda-user is not authorized to perform: lambda:InvokeFunction on "
        f"resource: arn:aws:lambda:{REGION}:{ACCOUNT}:function:f because no identity-based "
        "policy allows the lambda:InvokeFunction action")

    e = error_of(user_client("dynamodb", "db-user").list_tables)
    assert e.response["Error"]["Code"] == "AccessDeniedException"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    e = error_of(user_client("sts", "sts-user").assume_role,
                 RoleArn=execution_role(), RoleSessionName="session")
    assert e.response["Error"]["Code"] == "AccessDenied"


def test_an_allowed_user_is_served(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="photos")
    s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"meow")
    reader = user_client("s3", "reader", allow("s3:GetObject", "arn:aws:s3:::photos/*"))
    assert reader.get_object(Bucket="photos", Key="cat.jpg")["Body"].read() == b"meow"
    e = error_of(reader.list_objects_v2, Bucket="photos")
    assert "s3:ListBucket" in e.response["Error"]["Message"]


def test_a_key_nobody_issued_is_refused(sb):
    strangers = {service: boto3.client(service, aws_access_key_id="AKIANOBODYISSUEDTHIS",
                                       aws_secret_access_key="x", region_name=REGION)
                 for service in ("s3", "dynamodb", "sqs", "lambda")}
    assert error_of(strangers["s3"].list_buckets).response["Error"]["Code"] == \
        "InvalidAccessKeyId"
    for service, call, expected in (
            ("dynamodb", "list_tables", "UnrecognizedClientException"),
            ("lambda", "list_functions", "UnrecognizedClientException"),
            ("sqs", "list_queues", "InvalidClientTokenId")):
        code = error_of(getattr(strangers[service], call)).response["Error"]["Code"]
        assert code == expected, service


# ---------------------------------------------------------------------- the notebook
def test_the_notebook_is_the_accounts_administrator_but_an_explicit_deny_still_binds(sb):
    identity = boto3.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/learner"
    assert identity["Account"] == ACCOUNT
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="locked")
    s3.put_bucket_policy(Bucket="locked", Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::locked/*"}))
    e = error_of(s3.put_object, Bucket="locked", Key="k", Body=b"x")
    assert e.response["Error"]["Message"].endswith(
        "with an explicit deny in a resource-based policy")


def test_enforcement_can_be_turned_off_and_back_on(sb):
    make_table()
    deploy("save-book", SAVE_BOOK)
    sb.iam.enforcing = False
    try:
        assert "IAM not enforced" in repr(sb)
        out = boto3.client("lambda").invoke(FunctionName="save-book", Payload=b'{"id": "1"}')
        assert json.loads(out["Payload"].read()) == "saved"
    finally:
        sb.iam.enforcing = True
    out = boto3.client("lambda").invoke(FunctionName="save-book", Payload=b'{"id": "2"}')
    assert out["FunctionError"] == "Unhandled"


# ---------------------------------------------------------------------- Lambda's own checks
def test_lambda_refuses_a_role_that_does_not_trust_it(sb):
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="for-ec2", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    e = error_of(deploy, "f", "def handler(e, c):\n    return 1\n", Role=arn)
    assert e.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.response["Error"]["Message"] == \
        "The role defined for the function cannot be assumed by Lambda."
    assert boto3.client("lambda").list_functions()["Functions"] == []


def test_a_role_without_log_permissions_loses_the_functions_logs(sb):
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="mute", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))[
        "Role"]["Arn"]
    deploy("quiet", "def handler(e, c):\n    print('hello')\n", Role=arn)
    deploy("loud", "def handler(e, c):\n    print('hello')\n")
    for name in ("quiet", "loud"):
        boto3.client("lambda").invoke(FunctionName=name)
    groups = [g["logGroupName"] for g in boto3.client("logs").describe_log_groups()["logGroups"]]
    assert "/aws/lambda/loud" in groups and "/aws/lambda/quiet" not in groups
    denied = sb.iam.denials(principal="role/mute")
    assert denied and denied[0].action == "logs:CreateLogGroup"
    assert denied[0].principal == f"arn:aws:sts::{ACCOUNT}:assumed-role/mute/quiet"
    assert denied[0].source == "Lambda log delivery for quiet"


def test_an_sqs_event_source_mapping_needs_a_role_that_can_read_the_queue(sb):
    queue = boto3.client("sqs").create_queue(QueueName="work")["QueueUrl"]
    arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deploy("worker", "def handler(e, c):\n    return 1\n")
    lam = boto3.client("lambda")
    e = error_of(lam.create_event_source_mapping, EventSourceArn=arn, FunctionName="worker")
    assert e.response["Error"]["Code"] == "InvalidParameterValueException"
    assert e.response["Error"]["Message"] == (
        "The provided execution role does not have permissions to call ReceiveMessage on SQS")
    execution_role("sandbox-test-role", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                   "sqs:GetQueueAttributes")
    assert lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="worker")["UUID"]


# ---------------------------------------------------------------------- services acting
RECORD = """
import boto3, json
def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=QUEUE, MessageBody=json.dumps(event))
"""


def _recorder(sb) -> str:
    """A function that forwards its events to a queue; the queue's URL."""
    queue = boto3.client("sqs").create_queue(QueueName="seen")["QueueUrl"]
    deploy("recorder", f"QUEUE = {queue!r}\n" + RECORD,
           Role=execution_role("recorder-role", "sqs:SendMessage"))
    return queue


def _received(queue: str, wait: float = 5.0) -> list[dict]:
    sqs = boto3.client("sqs")
    end = time.monotonic() + wait
    found: list[dict] = []
    while time.monotonic() < end and not found:
        found = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=0).get("Messages", [])
        time.sleep(0.05)
    return [json.loads(m["Body"]) for m in found]


def test_s3_must_be_allowed_by_the_function_policy_before_it_can_notify(sb):
    queue = _recorder(sb)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads")
    config = {"LambdaFunctionConfigurations": [{
        "LambdaFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:recorder",
        "Events": ["s3:ObjectCreated:*"]}]}
    e = error_of(s3.put_bucket_notification_configuration, Bucket="uploads",
                 NotificationConfiguration=config)
    assert e.response["Error"]["Code"] == "InvalidArgument"
    assert e.response["Error"]["Message"] == \
        "Unable to validate the following destination configurations"

    boto3.client("lambda").add_permission(
        FunctionName="recorder", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads", SourceAccount=ACCOUNT)
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration=config)
    s3.put_object(Bucket="uploads", Key="a.txt", Body=b"a")
    events = _received(queue)
    assert events and events[0]["Records"][0]["s3"]["object"]["key"] == "a.txt"


def test_sns_delivers_to_a_queue_only_when_the_queue_policy_admits_the_topic(sb):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    queue = sqs.create_queue(QueueName="billing")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:billing"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="first")
    assert sb.settle()  # SNS delivers after Publish has answered
    assert _received(queue, wait=0.3) == []
    denied = sb.iam.denials()[0]
    assert (denied.principal, denied.action, denied.resource) == (
        "sns.amazonaws.com", "sqs:SendMessage", queue_arn)

    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": policy({
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}})})
    sns.publish(TopicArn=topic, Message="second")
    assert [m["Message"] for m in _received(queue)] == ["second"]


def test_eventbridge_invokes_a_function_target_when_its_policy_admits_the_rule(sb):
    queue = _recorder(sb)
    events = boto3.client("events")
    rule = events.put_rule(Name="new-orders", EventPattern=json.dumps(
        {"source": ["shop"]}))["RuleArn"]
    events.put_targets(Rule="new-orders", Targets=[{
        "Id": "1", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:recorder"}])
    entry = {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"n": 1})}
    events.put_events(Entries=[entry])
    assert _received(queue, wait=0.5) == []
    assert sb.iam.denials()[0].principal == "events.amazonaws.com"

    boto3.client("lambda").add_permission(
        FunctionName="recorder", StatementId="events", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=rule)
    events.put_events(Entries=[entry])
    seen = _received(queue)
    assert seen and seen[0]["detail"] == {"n": 1} and seen[0]["source"] == "shop"


# ---------------------------------------------------------------------- two accounts
def test_a_role_in_the_second_account_is_assumed_only_when_its_trust_policy_says_so(sb):
    partner_iam = sb.iam.session(SECOND_ACCOUNT_ID).client("iam")
    trusting = partner_iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    aloof = partner_iam.create_role(RoleName="private", AssumeRolePolicyDocument=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SECOND_ACCOUNT_ID}:root"},
        "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    assert trusting.startswith(f"arn:aws:iam::{SECOND_ACCOUNT_ID}:role/")

    sts = boto3.client("sts")
    credentials = sts.assume_role(RoleArn=trusting, RoleSessionName="me")["Credentials"]
    who = boto3.client("sts", aws_access_key_id=credentials["AccessKeyId"],
                       aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{SECOND_ACCOUNT_ID}:assumed-role/auditor/me"

    e = error_of(sts.assume_role, RoleArn=aloof, RoleSessionName="me")
    assert e.response["Error"]["Code"] == "AccessDenied"
    assert e.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/learner is not authorized to perform: "
        f"sts:AssumeRole on resource: {aloof}")


def test_a_cross_account_invoke_needs_the_function_policy_and_the_callers_policy(sb):
    deploy("shared", "def handler(e, c):\n    return 'from 123456789012'\n")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shared"
    partner = sb.iam.session(SECOND_ACCOUNT_ID).client("lambda")
    e = error_of(partner.invoke, FunctionName=arn)
    assert e.response["Error"]["Code"] == "AccessDeniedException"
    assert e.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{SECOND_ACCOUNT_ID}:user/administrator is not authorized to "
        f"perform: lambda:InvokeFunction on resource: {arn} because no resource-based policy "
        "allows the lambda:InvokeFunction action")

    boto3.client("lambda").add_permission(
        FunctionName="shared", StatementId="partner", Action="lambda:InvokeFunction",
        Principal=SECOND_ACCOUNT_ID)
    statement = json.loads(boto3.client("lambda").get_policy(FunctionName="shared")["Policy"])[
        "Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{SECOND_ACCOUNT_ID}:root"}
    out = partner.invoke(FunctionName=arn)
    assert json.loads(out["Payload"].read()) == "from 123456789012"
    assert partner.list_functions()["Functions"] == []  # its own account has none


def test_step_functions_refuses_a_role_it_may_not_assume(sb):
    sfn = boto3.client("stepfunctions")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    e = error_of(sfn.create_state_machine, name="m", definition=definition,
                 roleArn=execution_role("lambdas-only"))
    assert e.response["Error"]["Code"] == "AccessDeniedException"
    assert e.response["Error"]["Message"] == (
        "Neither the global service principal states.amazonaws.com, nor the regional one is "
        "authorized to assume the provided role.")
    arn = sfn.create_state_machine(name="m", definition=definition, roleArn=execution_role(
        "for-states", service="states.amazonaws.com"))["stateMachineArn"]
    e = error_of(sfn.update_state_machine, stateMachineArn=arn,
                 roleArn=execution_role("lambdas-only"))
    assert e.response["Error"]["Code"] == "AccessDeniedException"


def _signed_get(url: str, access_key: str, secret_key: str):
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(access_key, secret_key), "execute-api", REGION).add_auth(request)
    return requests.get(url, headers=dict(request.headers))


def _outsider_and_analyst(arn: str) -> dict[str, dict]:
    """Access keys of two IAM users: "outsider" with no policy, "analyst" allowed
    execute-api:Invoke on ``arn``."""
    iam = boto3.client("iam")
    keys = {}
    for name, statements in (("outsider", []), ("analyst", [allow("execute-api:Invoke", arn)])):
        iam.create_user(UserName=name)
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
        keys[name] = iam.create_access_key(UserName=name)["AccessKey"]
    return keys


def test_an_aws_iam_method_admits_only_callers_allowed_to_invoke_it(sb):
    apigw = boto3.client("apigateway")
    api = apigw.create_rest_api(name="private")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    resource = apigw.create_resource(restApiId=api, parentId=root, pathPart="report")["id"]
    apigw.put_method(restApiId=api, resourceId=resource, httpMethod="GET",
                     authorizationType="AWS_IAM")
    apigw.put_integration(restApiId=api, resourceId=resource, httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api, resourceId=resource, httpMethod="GET",
                              statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=resource, httpMethod="GET",
                                   statusCode="200",
                                   responseTemplates={"application/json": '{"ok": true}'})
    apigw.create_deployment(restApiId=api, stageName="prod")
    url = f"https://{api}.execute-api.{REGION}.amazonaws.com/prod/report"
    method = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/prod/GET/report"

    keys = _outsider_and_analyst(method)

    refused = _signed_get(url, keys["outsider"]["AccessKeyId"],
                          keys["outsider"]["SecretAccessKey"])
    assert refused.status_code == 403
    assert refused.json() == {"Message": (
        f"User: arn:aws:iam::{ACCOUNT}:user/outsider is not authorized to perform: "
        f"execute-api:Invoke on resource: arn:aws:execute-api:{REGION}:********9012:{api}/prod/"
        "GET/report")}
    admitted = _signed_get(url, keys["analyst"]["AccessKeyId"], keys["analyst"]["SecretAccessKey"])
    assert admitted.status_code == 200 and admitted.json() == {"ok": True}


def test_sns_invokes_a_subscribed_function_only_when_its_policy_admits_the_topic(sb):
    queue = _recorder(sb)
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:recorder"
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    sns.publish(TopicArn=topic, Message="unheard")
    assert sb.settle()  # SNS delivers after Publish has answered
    assert _received(queue, wait=0.5) == []
    denied = sb.iam.denials()[0]
    assert (denied.principal, denied.action, denied.resource, denied.source) == (
        "sns.amazonaws.com", "lambda:InvokeFunction", function, "SNS delivery from alerts")

    boto3.client("lambda").add_permission(
        FunctionName="recorder", StatementId="sns", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com", SourceArn=topic)
    sns.publish(TopicArn=topic, Message="heard")
    seen = _received(queue)
    assert seen and seen[0]["Records"][0]["Sns"]["Message"] == "heard"


def test_another_account_reads_a_bucket_only_through_its_bucket_policy(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="shared-reports")
    s3.put_object(Bucket="shared-reports", Key="q3.csv", Body=b"revenue,42")
    partner = sb.iam.session(SECOND_ACCOUNT_ID).client("s3")
    e = error_of(partner.get_object, Bucket="shared-reports", Key="q3.csv")
    # S3 explains a denial only within an account or organization (S3 User Guide,
    # "Troubleshoot access denied (403 Forbidden) errors"); the trail still says why
    assert e.response["Error"]["Code"] == "AccessDenied"
    assert e.response["Error"]["Message"] == "Access Denied"
    assert sb.iam.denials()[0].message.endswith(
        "because no resource-based policy allows the s3:GetObject action")

    s3.put_bucket_policy(Bucket="shared-reports", Policy=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SECOND_ACCOUNT_ID}:root"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-reports/*"}))
    assert partner.get_object(Bucket="shared-reports", Key="q3.csv")["Body"].read() == \
        b"revenue,42"
    error_of(partner.put_object, Bucket="shared-reports", Key="x", Body=b"x")
    assert sb.iam.denials()[0].action == "s3:PutObject"


def test_a_services_request_carries_the_keys_every_request_has(sb):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="dated")["TopicArn"]
    queue = sqs.create_queue(QueueName="dated")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dated"
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": policy({
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                      "Bool": {"aws:SecureTransport": "true"},
                      "StringEquals": {"aws:PrincipalServiceName": "sns.amazonaws.com"}}})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="on time")
    assert [m["Message"] for m in _received(queue)] == ["on time"]


def test_a_state_machine_role_refused_a_nested_start_fails_with_the_sdks_error_name(sb):
    sfn = boto3.client("stepfunctions")
    child = sfn.create_state_machine(
        name="child", roleArn=execution_role("child-role", service="states.amazonaws.com"),
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    )["stateMachineArn"]
    parent = sfn.create_state_machine(
        name="parent", roleArn=execution_role("parent-role", service="states.amazonaws.com"),
        definition=json.dumps({"StartAt": "Start", "States": {"Start": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
            "Parameters": {"StateMachineArn": child}, "End": True}}}))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=parent)["executionArn"]
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert described["status"] == "FAILED"
    assert described["error"] == "StepFunctions.AccessDeniedException"
    assert "is not authorized to perform: states:StartExecution on resource: " + child in \
        described["cause"]


def test_an_aws_iam_http_api_route_admits_allowed_callers_and_says_who_they_are(sb):
    import requests

    arn = deploy("who", "def handler(event, context):\n"
                        "    return event['requestContext']['authorizer']['iam']\n")
    v2 = boto3.client("apigatewayv2")
    api = v2.create_api(Name="reports", ProtocolType="HTTP")["ApiId"]
    integration = v2.create_integration(ApiId=api, IntegrationType="AWS_PROXY",
                                        IntegrationUri=arn, PayloadFormatVersion="2.0")
    v2.create_route(ApiId=api, RouteKey="GET /report", AuthorizationType="AWS_IAM",
                    Target=f"integrations/{integration['IntegrationId']}")
    v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    boto3.client("lambda").add_permission(
        FunctionName="who", StatementId="api", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/*")
    url = f"https://{api}.execute-api.{REGION}.amazonaws.com/report"
    route = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/$default/GET/report"

    keys = _outsider_and_analyst(route)

    assert requests.get(url).status_code == 403
    refused = _signed_get(url, keys["outsider"]["AccessKeyId"],
                          keys["outsider"]["SecretAccessKey"])
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    admitted = _signed_get(url, keys["analyst"]["AccessKeyId"], keys["analyst"]["SecretAccessKey"])
    assert admitted.status_code == 200
    identity = admitted.json()
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:user/analyst"
    assert identity["accessKey"] == keys["analyst"]["AccessKeyId"]
    assert identity["accountId"] == ACCOUNT


def test_a_sandbox_started_without_enforcement_says_so_and_allows_everything():
    import subprocess
    import sys

    script = """
import boto3, sandbox
sb = sandbox.start(enforce_iam=False)
iam = boto3.client("iam")
iam.create_user(UserName="nobody")
key = iam.create_access_key(UserName="nobody")["AccessKey"]
sqs = boto3.client("sqs", aws_access_key_id=key["AccessKeyId"],
                   aws_secret_access_key=key["SecretAccessKey"])
print(sqs.create_queue(QueueName="q")["QueueUrl"].rsplit("/", 1)[1], repr(sb))
sb.stop()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("q <Sandbox running") and "IAM not enforced" in done.stdout
    assert "IAM enforcement is off: every request is allowed" in done.stderr


def test_a_role_is_assumed_only_as_its_trust_policy_says_even_by_an_administrator(sb):
    iam, sts = boto3.client("iam"), boto3.client("sts")
    lambdas_only = execution_role("lambdas-only")
    for arn in (lambdas_only, f"arn:aws:iam::{ACCOUNT}:role/no-such-role"):
        e = error_of(sts.assume_role, RoleArn=arn, RoleSessionName="me")
        assert e.response["Error"]["Code"] == "AccessDenied"
        assert e.response["Error"]["Message"] == (
            f"User: arn:aws:iam::{ACCOUNT}:user/learner is not authorized to perform: "
            f"sts:AssumeRole on resource: {arn}")
    account_trusted = iam.create_role(RoleName="ops", AssumeRolePolicyDocument=policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    assert sts.assume_role(RoleArn=account_trusted, RoleSessionName="me")["Credentials"]
    # the account's trust delegates to identity policies: a user without one is refused
    e = error_of(user_client("sts", "no-assume").assume_role, RoleArn=account_trusted,
                 RoleSessionName="me")
    assert e.response["Error"]["Code"] == "AccessDenied"


def test_step_functions_accepts_the_trust_policies_aws_recommends(sb):
    sfn = boto3.client("stepfunctions")
    iam = boto3.client("iam")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    for name, statement in [
        ("confused-deputy-safe", {
            "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole", "Condition": {"ArnLike": {
                "aws:SourceArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:*"}}}),
        ("regional", {"Effect": "Allow", "Principal": {"Service": f"states.{REGION}.amazonaws.com"},
                      "Action": "sts:AssumeRole"})]:
        arn = iam.create_role(RoleName=name,
                              AssumeRolePolicyDocument=policy(statement))["Role"]["Arn"]
        assert sfn.create_state_machine(name=name, definition=definition, roleArn=arn)[
            "stateMachineArn"]


def test_a_role_that_may_not_create_its_log_stream_has_no_logs(sb):
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="half-logs", AssumeRolePolicyDocument=json.dumps(
        LAMBDA_TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName="half-logs", PolicyName="p", PolicyDocument=policy(
        allow(["logs:CreateLogGroup", "logs:PutLogEvents"])))
    deploy("half", "def handler(e, c):\n    print('hello')\n", Role=arn)
    boto3.client("lambda").invoke(FunctionName="half")
    groups = boto3.client("logs").describe_log_groups()["logGroups"]
    assert "/aws/lambda/half" not in [g["logGroupName"] for g in groups]
    assert sb.iam.denials(principal="half-logs")[0].action == "logs:CreateLogStream"


def test_partiql_statements_are_authorized_as_their_own_actions():
    from sandbox.iam.actions import Call, accesses

    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Books"
    for statement, action, resource in [
            ("UPDATE \"Books\" SET p = 5 WHERE id = '1'", "dynamodb:PartiQLUpdate", table),
            ("SELECT * FROM \"Books\".\"by-author\"", "dynamodb:PartiQLSelect",
             table + "/index/by-author"),
            ("DELETE FROM Books WHERE id = '1'", "dynamodb:PartiQLDelete", table)]:
        found = accesses(Call("dynamodb", "ExecuteStatement", REGION, "AKIA",
                              {"Statement": statement}), ACCOUNT)
        assert [(a.action, a.resource) for a in found] == [(action, resource)], statement


def test_a_presigned_url_acts_as_the_principal_who_signed_it(sb):
    import requests
    from botocore.config import Config

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="private-reports")
    s3.put_object(Bucket="private-reports", Key="q3.csv", Body=b"revenue,42")
    iam = boto3.client("iam")
    iam.create_user(UserName="lister")
    iam.put_user_policy(UserName="lister", PolicyName="p", PolicyDocument=policy(
        allow("s3:ListBucket", "arn:aws:s3:::private-reports")))
    key = iam.create_access_key(UserName="lister")["AccessKey"]
    keys = {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"]}
    sigv2 = boto3.client("s3", **keys)  # botocore presigns with SigV2 in us-east-1
    sigv4 = boto3.client("s3", config=Config(signature_version="s3v4"), **keys)
    for client in (sigv2, sigv4):
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "private-reports", "Key": "q3.csv"})
        refused = requests.get(url)
        assert refused.status_code == 403, url
        assert "s3:GetObject" in refused.text
    url = s3.generate_presigned_url("get_object",
                                    Params={"Bucket": "private-reports", "Key": "q3.csv"})
    assert requests.get(url).content == b"revenue,42"  # the administrator's URL works


def test_http_api_management_calls_name_their_own_paths(sb):
    v2 = boto3.client("apigatewayv2")
    api = v2.create_api(Name="paths", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=api, StageName="beta")
    v1 = boto3.client("apigateway")
    v1.create_rest_api(name="paths")
    recent = [(e.action, e.resource) for e in sb.iam.decisions()[-4:]]
    assert ("apigateway:POST", f"arn:aws:apigateway:{REGION}::/apis/{api}/stages") in recent
    assert ("apigateway:POST", f"arn:aws:apigateway:{REGION}::/restapis") in recent
