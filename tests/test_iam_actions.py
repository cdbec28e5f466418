"""Which IAM action on which resource each request needs (sandbox.iam.actions).

Each row makes a real boto3 call through the sandbox; a route in front of moto keeps the raw
request, and identify() + accesses() must name the operation and the actions and ARNs of the
Service Authorization Reference. Then the URL forms and the requests that are not API calls.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.iam.actions import Access, Call, accesses, function_arn, identify, queue_arn
from sandbox.testing import in_process_service

A, R = "123456789012", "us-east-1"
KEY = "AKIAEXAMPLEKEY000001"
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
ROLE = f"arn:aws:iam::{A}:role/course/runner"


class Recorder:
    """A route that keeps every request as (method, path, query, headers, body) and lets
    moto serve it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str, dict[str, str], bytes]] = []

    def __call__(self, environ: dict[str, Any]) -> None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        headers = {name[5:].replace("_", "-").lower(): value
                   for name, value in environ.items() if name.startswith("HTTP_")}
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"),
                              environ.get("QUERY_STRING", ""), headers, body))


@pytest.fixture(scope="module")
def world():
    """The resources the rows name, and the recorder; made once for the module, in a sandbox
    whose server side runs in this process, where the recorder sees each request as IAM does."""
    context = in_process_service()
    service = context.__enter__()
    recorder = Recorder()
    decide = service.router.authorizer
    service.router.authorize_with(lambda environ: recorder(environ) or decide(environ))
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
         "Action": "sts:AssumeRole"},
        # the notebook assumes it too (with session tags), so the trust policy must say so
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
         "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    iam.create_role(RoleName="runner", Path="/course/",
                    AssumeRolePolicyDocument=json.dumps(trust))
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName="books", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "isbn", "AttributeType": "S"},
                              {"AttributeName": "author", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "isbn", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-author", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "author", "KeyType": "HASH"}]}])
    ddb.create_table(
        TableName="authors", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}])
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>hi</h1>")
    queue = boto3.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    topic = boto3.client("sns").create_topic(Name="news")["TopicArn"]
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/books")
    logs.create_log_stream(logGroupName="/aws/lambda/books", logStreamName="s1")
    machine = boto3.client("stepfunctions").create_state_machine(
        name="flow", roleArn=ROLE,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    apigw = boto3.client("apigateway")
    api = apigw.create_rest_api(name="shop")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    yield {"queue": queue, "topic": topic, "machine": machine, "api": api, "root": root,
           "recorder": recorder}
    context.__exit__(None, None, None)


def client(service: str) -> Any:
    return boto3.client(service, config=NO_RETRIES)


def made(world: dict[str, Any], call: Callable[[dict[str, Any]], Any]) -> list[Call]:
    """The signed calls that ``call`` made, as identify() reads them."""
    recorder = world["recorder"]
    recorder.requests.clear()
    try:
        call(world)
    except ClientError:
        pass  # the request was made; whether moto liked it is not this test's business
    return [c for c in (identify(*r) for r in recorder.requests) if c is not None]


FN = f"arn:aws:lambda:{R}:{A}:function:books"
TABLE = f"arn:aws:dynamodb:{R}:{A}:table/books"
AUTHORS = f"arn:aws:dynamodb:{R}:{A}:table/authors"
GROUP = f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/books"
ZIP = {"ZipFile": b"PK\x05\x06" + b"\x00" * 18}
ITEM = {"isbn": {"S": "978-1"}, "title": {"S": "Dune"}}

# id, service, call, operation, [(action, resource, context subset)]
ROWS: list[tuple[str, str, Callable[[dict[str, Any]], Any], str,
                 list[tuple[str, str, dict[str, Any]]]]] = [
    # Lambda
    ("lambda-invoke", "lambda", lambda w: client("lambda").invoke(FunctionName="books"),
     "Invoke", [("lambda:InvokeFunction", FN, {})]),
    ("lambda-invoke-event", "lambda",
     lambda w: client("lambda").invoke(FunctionName="books", InvocationType="Event"),
     "Invoke", [("lambda:InvokeFunction", FN, {})]),
    ("lambda-invoke-qualified", "lambda",
     lambda w: client("lambda").invoke(FunctionName="books", Qualifier="live"),
     "Invoke", [("lambda:InvokeFunction", f"{FN}:live", {})]),
    ("lambda-invoke-alias-in-name", "lambda",
     lambda w: client("lambda").invoke(FunctionName="books:3"),
     "Invoke", [("lambda:InvokeFunction", f"{FN}:3", {})]),
    ("lambda-invoke-async", "lambda",
     lambda w: client("lambda").invoke_async(FunctionName="books", InvokeArgs=b"{}"),
     "InvokeAsync", [("lambda:InvokeAsync", FN, {})]),
    ("lambda-get-function", "lambda", lambda w: client("lambda").get_function(
        FunctionName=FN), "GetFunction", [("lambda:GetFunction", FN, {})]),
    ("lambda-create-function", "lambda", lambda w: client("lambda").create_function(
        FunctionName="books", Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code=ZIP, Layers=[f"arn:aws:lambda:{R}:{A}:layer:utils:1"]),
     "CreateFunction", [("lambda:CreateFunction", FN,
                         {"lambda:Layer": [f"arn:aws:lambda:{R}:{A}:layer:utils:1"]}),
                        ("iam:PassRole", ROLE, {"iam:PassedToService": "lambda.amazonaws.com"})]),
    ("lambda-update-code", "lambda", lambda w: client("lambda").update_function_code(
        FunctionName="books", ZipFile=ZIP["ZipFile"]),
     "UpdateFunctionCode", [("lambda:UpdateFunctionCode", FN, {})]),
    ("lambda-add-permission", "lambda", lambda w: client("lambda").add_permission(
        FunctionName="books", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com"),
     "AddPermission", [("lambda:AddPermission", FN, {"lambda:Principal": "s3.amazonaws.com"})]),
    ("lambda-list-functions", "lambda", lambda w: client("lambda").list_functions(),
     "ListFunctions", [("lambda:ListFunctions", "*", {})]),
    ("lambda-create-esm", "lambda", lambda w: client("lambda").create_event_source_mapping(
        FunctionName="books", EventSourceArn=f"arn:aws:sqs:{R}:{A}:jobs"),
     "CreateEventSourceMapping",
     [("lambda:CreateEventSourceMapping", "*", {"lambda:FunctionArn": FN})]),
    ("lambda-delete-esm", "lambda", lambda w: client("lambda").delete_event_source_mapping(
        UUID="a1b2c3d4-0000-4000-8000-000000000001"), "DeleteEventSourceMapping",
     [("lambda:DeleteEventSourceMapping", f"arn:aws:lambda:{R}:{A}:event-source-mapping:"
       "a1b2c3d4-0000-4000-8000-000000000001",
       {})]),
    # DynamoDB
    ("ddb-put", "dynamodb", lambda w: client("dynamodb").put_item(TableName="books", Item=ITEM),
     "PutItem", [("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["978-1"],
                                             "dynamodb:Attributes": ["isbn", "title"]})]),
    ("ddb-get", "dynamodb", lambda w: client("dynamodb").get_item(
        TableName="books", Key={"isbn": {"S": "978-1"}}),
     "GetItem", [("dynamodb:GetItem", TABLE, {"dynamodb:LeadingKeys": ["978-1"]})]),
    ("ddb-query", "dynamodb", lambda w: client("dynamodb").query(
        TableName="books", KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": "isbn"},
        ExpressionAttributeValues={":v": {"S": "978-2"}}),
     "Query", [("dynamodb:Query", TABLE, {"dynamodb:LeadingKeys": ["978-2"]})]),
    ("ddb-query-index", "dynamodb", lambda w: client("dynamodb").query(
        TableName="books", IndexName="by-author", KeyConditionExpression="author = :a",
        ExpressionAttributeValues={":a": {"S": "Herbert"}}),
     "Query", [("dynamodb:Query", f"{TABLE}/index/by-author", {})]),
    ("ddb-scan", "dynamodb", lambda w: client("dynamodb").scan(TableName="books"),
     "Scan", [("dynamodb:Scan", TABLE, {})]),
    ("ddb-update", "dynamodb", lambda w: client("dynamodb").update_item(
        TableName="books", Key={"isbn": {"S": "978-1"}}, UpdateExpression="SET t = :t",
        ExpressionAttributeValues={":t": {"S": "x"}}, ReturnValues="ALL_NEW"),
     "UpdateItem", [("dynamodb:UpdateItem", TABLE, {"dynamodb:LeadingKeys": ["978-1"],
                                                   "dynamodb:ReturnValues": "ALL_NEW"})]),
    ("ddb-delete", "dynamodb", lambda w: client("dynamodb").delete_item(
        TableName="books", Key={"isbn": {"S": "978-9"}}),
     "DeleteItem", [("dynamodb:DeleteItem", TABLE, {"dynamodb:LeadingKeys": ["978-9"]})]),
    ("ddb-batch-write", "dynamodb", lambda w: client("dynamodb").batch_write_item(RequestItems={
        "books": [{"PutRequest": {"Item": ITEM}},
                  {"DeleteRequest": {"Key": {"isbn": {"S": "978-0"}}}}],
        "authors": [{"PutRequest": {"Item": {"name": {"S": "Herbert"}}}}]}),
     "BatchWriteItem", [
         ("dynamodb:BatchWriteItem", TABLE, {"dynamodb:LeadingKeys": ["978-0", "978-1"]}),
         ("dynamodb:BatchWriteItem", AUTHORS, {"dynamodb:LeadingKeys": ["Herbert"]})]),
    ("ddb-transact-write", "dynamodb", lambda w: client("dynamodb").transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "books", "Item": ITEM}},
            {"ConditionCheck": {"TableName": "authors", "Key": {"name": {"S": "Herbert"}},
                                "ConditionExpression": "attribute_exists(#n)",
                                "ExpressionAttributeNames": {"#n": "name"}}},
            {"Delete": {"TableName": "books", "Key": {"isbn": {"S": "978-0"}}}}]),
     "TransactWriteItems", [
         ("dynamodb:PutItem", TABLE, {"dynamodb:EnclosingOperation": "TransactWriteItems"}),
         ("dynamodb:ConditionCheckItem", AUTHORS, {"dynamodb:LeadingKeys": ["Herbert"]}),
         ("dynamodb:DeleteItem", TABLE, {"dynamodb:LeadingKeys": ["978-0"]})]),
    ("ddb-create-table", "dynamodb", lambda w: client("dynamodb").create_table(
        TableName="loans", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}]),
     "CreateTable", [("dynamodb:CreateTable", f"arn:aws:dynamodb:{R}:{A}:table/loans", {})]),
    ("ddb-describe-table", "dynamodb", lambda w: client("dynamodb").describe_table(
        TableName="books"), "DescribeTable", [("dynamodb:DescribeTable", TABLE, {})]),
    ("ddb-list-tables", "dynamodb", lambda w: client("dynamodb").list_tables(),
     "ListTables", [("dynamodb:ListTables", "*", {})]),
    # S3
    ("s3-put", "s3", lambda w: client("s3").put_object(Bucket="site", Key="a b/ü.txt", Body=b"x",
                                                       ACL="public-read"),
     "PutObject", [("s3:PutObject", "arn:aws:s3:::site/a b/ü.txt",
                    {"s3:x-amz-acl": "public-read"})]),
    ("s3-get", "s3", lambda w: client("s3").get_object(Bucket="site", Key="index.html"),
     "GetObject", [("s3:GetObject", "arn:aws:s3:::site/index.html", {})]),
    ("s3-head", "s3", lambda w: client("s3").head_object(Bucket="site", Key="index.html"),
     "HeadObject", [("s3:GetObject", "arn:aws:s3:::site/index.html", {})]),
    ("s3-list-v2", "s3", lambda w: client("s3").list_objects_v2(Bucket="site", Prefix="img/"),
     "ListObjectsV2", [("s3:ListBucket", "arn:aws:s3:::site", {"s3:prefix": "img/"})]),
    ("s3-head-bucket", "s3", lambda w: client("s3").head_bucket(Bucket="site"),
     "HeadBucket", [("s3:ListBucket", "arn:aws:s3:::site", {})]),
    ("s3-copy", "s3", lambda w: client("s3").copy_object(
        Bucket="site", Key="copy.html", CopySource={"Bucket": "site", "Key": "index.html"}),
     "CopyObject", [("s3:GetObject", "arn:aws:s3:::site/index.html", {}),
                    ("s3:PutObject", "arn:aws:s3:::site/copy.html", {})]),
    ("s3-delete", "s3", lambda w: client("s3").delete_object(Bucket="site", Key="copy.html"),
     "DeleteObject", [("s3:DeleteObject", "arn:aws:s3:::site/copy.html", {})]),
    ("s3-delete-many", "s3", lambda w: client("s3").delete_objects(
        Bucket="site", Delete={"Objects": [{"Key": "a.txt"}, {"Key": "b&c.txt"}]}),
     "DeleteObjects", [("s3:DeleteObject", "arn:aws:s3:::site/a.txt", {}),
                       ("s3:DeleteObject", "arn:aws:s3:::site/b&c.txt", {})]),
    ("s3-put-policy", "s3", lambda w: client("s3").put_bucket_policy(Bucket="site", Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
        '"Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}')),
     "PutBucketPolicy", [("s3:PutBucketPolicy", "arn:aws:s3:::site", {})]),
    ("s3-put-notification", "s3", lambda w: client("s3").put_bucket_notification_configuration(
        Bucket="site", NotificationConfiguration={}),
     "PutBucketNotificationConfiguration",
     [("s3:PutBucketNotification", "arn:aws:s3:::site", {})]),
    ("s3-create-bucket", "s3", lambda w: client("s3").create_bucket(Bucket="uploads"),
     "CreateBucket", [("s3:CreateBucket", "arn:aws:s3:::uploads", {})]),
    ("s3-list-buckets", "s3", lambda w: client("s3").list_buckets(),
     "ListBuckets", [("s3:ListAllMyBuckets", "arn:aws:s3:::*", {})]),
    ("s3-put-website", "s3", lambda w: client("s3").put_bucket_website(
        Bucket="site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}),
     "PutBucketWebsite", [("s3:PutBucketWebsite", "arn:aws:s3:::site", {})]),
    ("s3-get-tagging", "s3", lambda w: client("s3").get_object_tagging(
        Bucket="site", Key="index.html"),
     "GetObjectTagging", [("s3:GetObjectTagging", "arn:aws:s3:::site/index.html", {})]),
    # SQS
    ("sqs-send", "sqs", lambda w: client("sqs").send_message(QueueUrl=w["queue"],
                                                             MessageBody="hi"),
     "SendMessage", [("sqs:SendMessage", f"arn:aws:sqs:{R}:{A}:jobs", {})]),
    ("sqs-send-batch", "sqs", lambda w: client("sqs").send_message_batch(
        QueueUrl=w["queue"], Entries=[{"Id": "1", "MessageBody": "hi"}]),
     "SendMessageBatch", [("sqs:SendMessage", f"arn:aws:sqs:{R}:{A}:jobs", {})]),
    ("sqs-receive", "sqs", lambda w: client("sqs").receive_message(QueueUrl=w["queue"]),
     "ReceiveMessage", [("sqs:ReceiveMessage", f"arn:aws:sqs:{R}:{A}:jobs", {})]),
    ("sqs-delete", "sqs", lambda w: client("sqs").delete_message(QueueUrl=w["queue"],
                                                                 ReceiptHandle="r"),
     "DeleteMessage", [("sqs:DeleteMessage", f"arn:aws:sqs:{R}:{A}:jobs", {})]),
    ("sqs-get-url", "sqs", lambda w: client("sqs").get_queue_url(QueueName="jobs"),
     "GetQueueUrl", [("sqs:GetQueueUrl", f"arn:aws:sqs:{R}:{A}:jobs", {})]),
    ("sqs-get-attributes", "sqs", lambda w: client("sqs").get_queue_attributes(
        QueueUrl=w["queue"], AttributeNames=["All"]),
     "GetQueueAttributes", [("sqs:GetQueueAttributes", f"arn:aws:sqs:{R}:{A}:jobs", {})]),
    ("sqs-create", "sqs", lambda w: client("sqs").create_queue(QueueName="jobs-dlq"),
     "CreateQueue", [("sqs:CreateQueue", f"arn:aws:sqs:{R}:{A}:jobs-dlq", {})]),
    ("sqs-list", "sqs", lambda w: client("sqs").list_queues(),
     "ListQueues", [("sqs:ListQueues", "*", {})]),
    # SNS
    ("sns-publish", "sns", lambda w: client("sns").publish(TopicArn=w["topic"], Message="hi"),
     "Publish", [("sns:Publish", f"arn:aws:sns:{R}:{A}:news", {})]),
    ("sns-subscribe", "sns", lambda w: client("sns").subscribe(
        TopicArn=w["topic"], Protocol="sqs", Endpoint=f"arn:aws:sqs:{R}:{A}:jobs"),
     "Subscribe", [("sns:Subscribe", f"arn:aws:sns:{R}:{A}:news",
                    {"sns:Protocol": "sqs", "sns:Endpoint": f"arn:aws:sqs:{R}:{A}:jobs"})]),
    ("sns-create-topic", "sns", lambda w: client("sns").create_topic(Name="alerts"),
     "CreateTopic", [("sns:CreateTopic", f"arn:aws:sns:{R}:{A}:alerts", {})]),
    # CloudWatch Logs
    ("logs-create-group", "logs", lambda w: client("logs").create_log_group(
        logGroupName="/aws/lambda/other"), "CreateLogGroup",
     [("logs:CreateLogGroup", f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/other:log-stream:",
       {})]),
    ("logs-create-stream", "logs", lambda w: client("logs").create_log_stream(
        logGroupName="/aws/lambda/books", logStreamName="s2"), "CreateLogStream",
     [("logs:CreateLogStream", f"{GROUP}:log-stream:s2", {})]),
    ("logs-put-events", "logs", lambda w: client("logs").put_log_events(
        logGroupName="/aws/lambda/books", logStreamName="s1",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "hi"}]), "PutLogEvents",
     [("logs:PutLogEvents", f"{GROUP}:log-stream:s1", {})]),
    ("logs-filter", "logs", lambda w: client("logs").filter_log_events(
        logGroupName="/aws/lambda/books"), "FilterLogEvents",
     [("logs:FilterLogEvents", f"{GROUP}:log-stream:", {})]),
    ("logs-get-events", "logs", lambda w: client("logs").get_log_events(
        logGroupName="/aws/lambda/books", logStreamName="s1"), "GetLogEvents",
     [("logs:GetLogEvents", f"{GROUP}:log-stream:s1", {})]),
    # Step Functions
    ("states-start", "states", lambda w: client("stepfunctions").start_execution(
        stateMachineArn=w["machine"]), "StartExecution",
     [("states:StartExecution", f"arn:aws:states:{R}:{A}:stateMachine:flow", {})]),
    ("states-start-sync", "states", lambda w: client("stepfunctions").start_sync_execution(
        stateMachineArn=w["machine"]), "StartSyncExecution",
     [("states:StartSyncExecution", f"arn:aws:states:{R}:{A}:stateMachine:flow", {})]),
    ("states-describe-execution", "states",
     lambda w: client("stepfunctions").describe_execution(
         executionArn=f"arn:aws:states:{R}:{A}:execution:flow:run-1"), "DescribeExecution",
     [("states:DescribeExecution", f"arn:aws:states:{R}:{A}:execution:flow:run-1", {})]),
    ("states-task-success", "states", lambda w: client("stepfunctions").send_task_success(
        taskToken="token", output="{}"), "SendTaskSuccess",
     [("states:SendTaskSuccess", "*", {})]),
    ("states-create", "states", lambda w: client("stepfunctions").create_state_machine(
        name="flow2", roleArn=ROLE,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})),
     "CreateStateMachine",
     [("states:CreateStateMachine", f"arn:aws:states:{R}:{A}:stateMachine:flow2", {}),
      ("iam:PassRole", ROLE, {"iam:PassedToService": "states.amazonaws.com"})]),
    # EventBridge
    ("events-put", "events", lambda w: client("events").put_events(Entries=[
        {"Source": "shop", "DetailType": "order", "Detail": "{}"},
        {"Source": "shop", "DetailType": "order", "Detail": "{}", "EventBusName": "orders"}]),
     "PutEvents", [("events:PutEvents", f"arn:aws:events:{R}:{A}:event-bus/default",
                    {"events:source": ["shop"], "events:detail-type": ["order"]}),
                   ("events:PutEvents", f"arn:aws:events:{R}:{A}:event-bus/orders", {})]),
    ("events-put-rule", "events", lambda w: client("events").put_rule(
        Name="orders", EventPattern='{"source":["shop"]}'), "PutRule",
     [("events:PutRule", f"arn:aws:events:{R}:{A}:rule/orders", {})]),
    ("events-put-rule-custom-bus", "events", lambda w: client("events").put_rule(
        Name="big", EventBusName="orders", EventPattern='{"source":["shop"]}'), "PutRule",
     [("events:PutRule", f"arn:aws:events:{R}:{A}:rule/orders/big", {})]),
    ("events-put-targets", "events", lambda w: client("events").put_targets(
        Rule="orders", Targets=[{"Id": "1", "Arn": FN}]), "PutTargets",
     [("events:PutTargets", f"arn:aws:events:{R}:{A}:rule/orders", {})]),
    # API Gateway (REST APIs, then HTTP APIs)
    ("apigw-create-api", "apigateway", lambda w: client("apigateway").create_rest_api(
        name="shop2"), "CreateRestApi",
     [("apigateway:POST", f"arn:aws:apigateway:{R}::/restapis", {})]),
    ("apigw-get-resources", "apigateway", lambda w: client("apigateway").get_resources(
        restApiId=w["api"]), "GetResources",
     [("apigateway:GET", f"arn:aws:apigateway:{R}::/restapis/{{api}}/resources", {})]),
    ("apigw-put-integration", "apigateway", lambda w: client("apigateway").put_integration(
        restApiId=w["api"], resourceId=w["root"], httpMethod="GET", type="MOCK"),
     "PutIntegration",
     [("apigateway:PUT",
       f"arn:aws:apigateway:{R}::/restapis/{{api}}/resources/{{root}}/methods/GET/integration",
       {})]),
    ("apigw-create-deployment", "apigateway", lambda w: client("apigateway").create_deployment(
        restApiId=w["api"], stageName="prod"), "CreateDeployment",
     [("apigateway:POST", f"arn:aws:apigateway:{R}::/restapis/{{api}}/deployments", {})]),
    ("apigwv2-create-api", "apigateway", lambda w: client("apigatewayv2").create_api(
        Name="http", ProtocolType="HTTP"), "CreateApi",
     [("apigateway:POST", f"arn:aws:apigateway:{R}::/apis", {})]),
    # STS and IAM
    ("sts-assume-role", "sts", lambda w: client("sts").assume_role(
        RoleArn=ROLE, RoleSessionName="learner", Tags=[{"Key": "team", "Value": "a"}]),
     "AssumeRole", [("sts:AssumeRole", ROLE, {"sts:RoleSessionName": "learner"}),
                    ("sts:TagSession", ROLE, {})]),
    ("sts-caller-identity", "sts", lambda w: client("sts").get_caller_identity(),
     "GetCallerIdentity", []),
    ("iam-create-role", "iam", lambda w: client("iam").create_role(
        RoleName="uploader", Path="/service-role/", AssumeRolePolicyDocument="{}"),
     "CreateRole", [("iam:CreateRole", f"arn:aws:iam::{A}:role/service-role/uploader", {})]),
    ("iam-put-role-policy", "iam", lambda w: client("iam").put_role_policy(
        RoleName="runner", PolicyName="p", PolicyDocument='{"Version":"2012-10-17",'
        '"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'),
     "PutRolePolicy", [("iam:PutRolePolicy", ROLE, {})]),
    ("iam-attach-role-policy", "iam", lambda w: client("iam").attach_role_policy(
        RoleName="runner", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
     "AttachRolePolicy", [("iam:AttachRolePolicy", ROLE, {
         "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"})]),
]


@pytest.mark.parametrize("service, call, operation, expected",
                         [pytest.param(*row[1:], id=row[0]) for row in ROWS])
def test_each_operation_needs_its_documented_action_and_resource(
        world, service, call, operation, expected):
    calls = [c for c in made(world, call) if c.operation == operation]
    assert calls, f"no {operation} request seen"
    found = accesses(calls[-1], A)
    assert calls[-1].service == service and calls[-1].region == R
    wanted = [(action, resource.format(**world)) for action, resource, _ in expected]
    assert [(a.action, a.resource) for a in found] == wanted
    for access, (_, _, context) in zip(found, expected, strict=True):
        assert {k: access.context.get(k) for k in context} == context


# ---------------------------------------------------------------------- URL forms
def signed(service: str, region: str = R) -> dict[str, str]:
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={KEY}/20261127/{region}/{service}/"
                             "aws4_request, SignedHeaders=host, Signature=abc"}


@pytest.mark.parametrize("name, qualifier, arn", [
    ("books", None, FN),
    ("books:live", None, f"{FN}:live"),
    ("books", "7", f"{FN}:7"),
    (f"{A}:function:books", None, FN),
    ("arn:aws:lambda:eu-west-1:210987654321:function:books:prod", None,
     "arn:aws:lambda:eu-west-1:210987654321:function:books:prod"),
])
def test_function_names_in_every_form(name, qualifier, arn):
    assert function_arn(name, R, A, qualifier) == arn


@pytest.mark.parametrize("url, arn", [
    (f"http://127.0.0.1:5000/{A}/jobs", f"arn:aws:sqs:{R}:{A}:jobs"),
    ("https://sqs.eu-west-1.amazonaws.com/210987654321/jobs.fifo",
     "arn:aws:sqs:eu-west-1:210987654321:jobs.fifo"),
    ("https://eu-west-1.queue.amazonaws.com/210987654321/jobs",
     "arn:aws:sqs:eu-west-1:210987654321:jobs"),
    (f"/{A}/jobs", f"arn:aws:sqs:{R}:{A}:jobs"),
])
def test_queue_urls_in_every_form(url, arn):
    assert queue_arn(url, R, A) == arn


def test_sqs_query_protocol_names_the_queue_by_its_path():
    headers = {**signed("sqs"), "Content-Type": "application/x-www-form-urlencoded"}
    call = identify("POST", f"/{A}/jobs", "", headers, b"Action=SendMessage&MessageBody=hi")
    assert call is not None and call.operation == "SendMessage"
    assert accesses(call, A) == [Access("sqs:SendMessage", f"arn:aws:sqs:{R}:{A}:jobs", {})]


def test_a_presigned_url_is_a_signed_call():
    query = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={KEY}%2F20261127%2F{R}%2Fs3"
             "%2Faws4_request&X-Amz-Date=20261127T000000Z&X-Amz-Expires=60&X-Amz-Signature=ab")
    call = identify("GET", "/site/index.html", query, {"Host": "127.0.0.1"}, b"")
    assert call is not None and (call.access_key, call.operation) == (KEY, "GetObject")
    assert [a.resource for a in accesses(call, A)] == ["arn:aws:s3:::site/index.html"]


def test_a_virtual_hosted_s3_request_names_its_bucket_by_host():
    call = identify("GET", "/", "list-type=2", {**signed("s3"), "Host": "site.s3.amazonaws.com"},
                    b"")
    assert call is not None and call.operation == "ListObjectsV2"
    assert accesses(call, A)[0].resource == "arn:aws:s3:::site"


def test_a_versioned_get_is_get_object_version():
    call = identify("GET", "/site/a.txt", "versionId=v1", signed("s3"), b"")
    assert call is not None
    assert accesses(call, A) == [Access("s3:GetObjectVersion", "arn:aws:s3:::site/a.txt",
                                        {"s3:versionid": "v1"})]


def test_delete_objects_without_its_body_asks_for_every_key():
    call = identify("POST", "/site", "delete", signed("s3"), b"")
    assert call is not None and call.operation == "DeleteObjects"
    assert accesses(call, A) == [Access("s3:DeleteObject", "arn:aws:s3:::site/*", {})]


def test_an_arn_of_another_account_keeps_its_account():
    body = json.dumps({"TableName": "arn:aws:dynamodb:us-east-1:210987654321:table/shared",
                       "Key": {"id": {"S": "1"}}}).encode()
    call = identify("POST", "/", "", {**signed("dynamodb"),
                                      "X-Amz-Target": "DynamoDB_20120810.GetItem"}, body)
    assert call is not None
    assert accesses(call, A)[0].resource == "arn:aws:dynamodb:us-east-1:210987654321:table/shared"


def test_partiql_needs_the_partiql_action_on_the_table():
    body = json.dumps({"Statement": 'SELECT * FROM "books" WHERE isbn = ?'}).encode()
    call = identify("POST", "/", "", {**signed("dynamodb"),
                                      "X-Amz-Target": "DynamoDB_20120810.ExecuteStatement"}, body)
    assert call is not None and accesses(call, A) == [Access("dynamodb:PartiQLSelect", TABLE, {})]


def test_an_unknown_operation_is_checked_on_every_resource():
    call = identify("POST", "/", "", {**signed("kinesis"),
                                      "X-Amz-Target": "Kinesis_20131202.PutRecord"}, b"{}")
    assert call is not None and accesses(call, A) == [Access("kinesis:PutRecord", "*", {})]
    call = identify("GET", "/2099-01-01/nothing-here", "", signed("lambda"), b"")
    assert call is not None and accesses(call, A) == [Access("lambda:Unknown", "*", {})]


@pytest.mark.parametrize("method, path, query, headers", [
    ("GET", "/site/index.html", "", {"Host": "site.s3-website.localhost"}),  # unsigned website
    ("GET", "/restapis/abc123/prod/_user_request_/books", "", {}),  # an API Gateway invoke
    ("GET", "/restapis/abc123/prod/_user_request_/books", "", signed("execute-api")),
    ("POST", "/moto-api/reset", "", signed("s3")),
    ("GET", "/", "", {"Authorization": "Bearer abc"}),
    ("GET", "/2018-06-01/runtime/invocation/next", "", {}),  # the Lambda Runtime API
])
def test_what_is_not_an_api_call_is_none(method, path, query, headers):
    assert identify(method, path, query, headers, b"") is None


# ---------------------------------------------------------------------- cost
def test_identifying_a_request_costs_well_under_a_fifth_of_a_millisecond(world, capsys):
    rows = {row[0]: row[2] for row in ROWS}
    requests = []
    for name in ("lambda-invoke", "ddb-put", "ddb-query", "s3-get", "s3-list-v2", "sqs-send",
                 "logs-put-events", "states-start", "events-put", "apigw-put-integration"):
        world["recorder"].requests.clear()
        try:
            rows[name](world)
        except ClientError:
            pass
        requests += [r for r in world["recorder"].requests if identify(*r) is not None]
    timings = []
    for _ in range(30):
        for request in requests:
            start = time.perf_counter()
            accesses(identify(*request), A)  # type: ignore[arg-type]
            timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    with capsys.disabled():
        print(f"\nidentify()+accesses(): median {median * 1e6:.1f} µs over {len(timings)} "
              f"requests, p90 {statistics.quantiles(timings, n=10)[-1] * 1e6:.1f} µs")
    assert median < 0.0002
