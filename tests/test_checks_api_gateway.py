"""Exercise 06's checks, three ways: the solution passes, nothing done is not attempted, and each
common wrong answer fails with its own hint. The APIs are built with plain boto3, as a learner
builds them, and the checks call them over HTTP."""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.testing import check_fails, deploy

GET_BOOK = """
import json
import boto3
table = boto3.resource("dynamodb").Table("bookshop")
def handler(event, context):
    isbn = event["pathParameters"]["isbn"]
    book = table.get_item(Key={"isbn": isbn}).get("Item")
    if book is None:
        return {"statusCode": 404, "body": json.dumps({"message": "no such book"})}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(book)}
"""
ADD_BOOK = """
import json
import boto3
table = boto3.resource("dynamodb").Table("bookshop")
def handler(event, context):
    book = json.loads(event["body"])
    table.put_item(Item=book)
    return {"statusCode": 201, "body": json.dumps(book)}
"""
PREFIX = "arn:aws:execute-api:us-east-1:123456789012:"
NARROW = "{api}/*/GET/books/*"
ROLE = "arn:aws:iam::123456789012:role/bookshop-role"


@pytest.fixture
def shop(sb):
    """The exercise's first cell: the table, and bookshop-role, which may read and write it and
    write logs."""
    table_arn = boto3.client("dynamodb").create_table(
        TableName="bookshop", KeySchema=[{"AttributeName": "isbn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "isbn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")["TableDescription"]["TableArn"]
    iam = boto3.client("iam")
    iam.create_role(RoleName="bookshop-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName="bookshop-role", PolicyName="bookshop",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Resource": table_arn,
                             "Action": ["dynamodb:GetItem", "dynamodb:PutItem"]},
                            {"Effect": "Allow", "Resource": "*", "Action": [
                                "logs:CreateLogGroup", "logs:CreateLogStream",
                                "logs:PutLogEvents"]}]}))
    return sb


def _site(sb) -> str:
    return sb.website_url("bookshop-site").rstrip("/")


def rest_api(source: str = GET_BOOK, *, source_arn: str | None = NARROW,
             permission: bool = True, path: tuple[str, str] = ("books", "{isbn}"),
             integration: str = "AWS_PROXY", stage: str = "prod",
             deploy_last: bool = True, role: str | None = ROLE) -> str:
    """get-book behind the REST API bookshop, built as the task asks, with one thing changed
    (``role=None``: deployed without --role, so with a role that may only write logs)."""
    arn = deploy("get-book", source, Role=role)
    client = boto3.client("apigateway")
    api = client.create_rest_api(name="bookshop")["id"]
    root = client.get_resources(restApiId=api)["items"][0]["id"]
    parent = client.create_resource(restApiId=api, parentId=root, pathPart=path[0])["id"]
    resource = client.create_resource(restApiId=api, parentId=parent, pathPart=path[1])["id"]
    if not deploy_last:  # deployed while it had only GET /, and not since
        client.put_method(restApiId=api, resourceId=root, httpMethod="GET",
                          authorizationType="NONE")
        client.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        client.create_deployment(restApiId=api, stageName=stage)
    client.put_method(restApiId=api, resourceId=resource, httpMethod="GET",
                      authorizationType="NONE")
    client.put_integration(
        restApiId=api, resourceId=resource, httpMethod="GET", type=integration,
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    if permission:
        extra = {} if source_arn is None else {"SourceArn": PREFIX + source_arn.format(api=api)}
        boto3.client("lambda").add_permission(
            FunctionName="get-book", StatementId="apigw", Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com", **extra)
    if deploy_last:
        client.create_deployment(restApiId=api, stageName=stage)
    return api


def http_api(source: str = ADD_BOOK, *, route: str = "POST /books", stage: bool = True,
             permission: bool = True, cors: dict | None = None,
             role: str | None = ROLE) -> str:
    """add-book behind the HTTP API bookshop-http, built as the task asks."""
    arn = deploy("add-book", source, Role=role)
    client = boto3.client("apigatewayv2")
    api = client.create_api(Name="bookshop-http", ProtocolType="HTTP",
                            **({"CorsConfiguration": cors} if cors else {}))["ApiId"]
    integration = client.create_integration(
        ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=arn,
        PayloadFormatVersion="2.0")["IntegrationId"]
    client.create_route(ApiId=api, RouteKey=route, Target=f"integrations/{integration}")
    if stage:
        client.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    if permission:
        boto3.client("lambda").add_permission(
            FunctionName="add-book", StatementId="apigw", Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com", SourceArn=f"{PREFIX}{api}/*/POST/books")
    return api


def _cors(sb, **changes) -> dict:
    return {"AllowOrigins": [_site(sb)], "AllowMethods": ["POST"],
            "AllowHeaders": ["content-type"], **changes}


def _fails(check: str, hint: str, cls=CheckFailed) -> None:
    failure = check_fails(f"api_gateway.{check}", hint, cls)
    assert type(failure) is cls, failure  # a wrong answer is failed, not "not attempted"


CHECKS = ["rest_api_serves_books", "permission_names_the_method", "http_api_adds_books",
          "http_api_allows_the_site"]


def test_the_solution_passes_every_check(shop):
    rest_api()
    http_api(cors=_cors(shop))
    for name in CHECKS:
        find(f"api_gateway.{name}")()


@pytest.mark.parametrize("name, hint", [
    ("rest_api_serves_books", "no REST API named 'bookshop'"),
    ("permission_names_the_method", "no REST API named 'bookshop'"),
    ("http_api_adds_books", "no HTTP API named 'bookshop-http'"),
    ("http_api_allows_the_site", "no HTTP API named 'bookshop-http'"),
])
def test_nothing_done_is_not_attempted(shop, name, hint):
    # what a blank %%lambda get-book --role bookshop-role cell deploys
    deploy("get-book", "raise NotImplementedError()\n", Role=ROLE)
    _fails(name, hint, NotAttempted)


def test_a_near_name_gets_a_did_you_mean(shop):
    boto3.client("apigateway").create_rest_api(name="book-shop")
    _fails("rest_api_serves_books", "did you name it 'book-shop'", NotAttempted)


def test_no_table_is_not_attempted(sb):
    _fails("rest_api_serves_books", "no table 'bookshop'", NotAttempted)


def test_the_newest_api_of_that_name_is_checked(shop):
    boto3.client("apigateway").create_rest_api(name="bookshop")  # an earlier, empty attempt
    rest_api()
    find("api_gateway.rest_api_serves_books")()


MISSING_AS_KEY_ERROR = GET_BOOK.replace('.get("Item")', '["Item"]')
DICT_BODY = GET_BOOK.replace("json.dumps(book)", "book")
BARE_BOOK = GET_BOOK.replace(
    'return {"statusCode": 200, "headers": {"Content-Type": "application/json"},\n'
    '            "body": json.dumps(book)}', "return book")
EMPTY_200 = GET_BOOK.replace('"statusCode": 404', '"statusCode": 200')
WRONG_KEY = GET_BOOK.replace('Key={"isbn": isbn}', 'Key={"isbn": isbn.upper() + "x"}')


@pytest.mark.parametrize("kwargs, hint", [
    ({"stage": "dev"}, "no stage 'prod'"),
    ({"path": ("books", "{id}")}, r"no resource /books/\{isbn\}"),
    ({"integration": "AWS"}, "Lambda proxy integration"),
    ({"permission": False}, "may not invoke get-book"),
    ({"deploy_last": False}, "deploy again"),
    ({"source": DICT_BODY}, "body is not a string"),
    ({"source": BARE_BOOK}, "no statusCode"),
    ({"source": MISSING_AS_KEY_ERROR}, "raised KeyError"),
    ({"source": EMPTY_200}, "should get 404"),
    ({"source": WRONG_KEY}, "got 404"),
    ({"source": GET_BOOK.replace('{"message": "no such book"}', '"no such book"')},
     "404's body"),
    ({"role": None}, "execution role may not read the 'bookshop' table.*--role bookshop-role"),
])
def test_rest_api_serves_books_wrong_answers(shop, kwargs, hint):
    rest_api(**kwargs)
    _fails("rest_api_serves_books", hint)


@pytest.mark.parametrize("kwargs, hint", [
    ({"permission": False}, "may not invoke get-book"),
    ({"source_arn": None}, "no SourceArn"),
    ({"source_arn": "{api}/*"}, "more than GET /books/"),
    ({"source_arn": "*/*/GET/books/*"}, "other APIs"),
    ({"source_arn": "abcdefghij/*/GET/books/*"}, "does not cover"),
    ({"source_arn": "{api}/*/GET/books"}, "does not cover"),
])
def test_permission_names_the_method_wrong_answers(shop, kwargs, hint):
    rest_api(**kwargs)
    _fails("permission_names_the_method", hint)


@pytest.mark.parametrize("source_arn", ["{api}/prod/GET/books/*", "{api}/*/GET/books/*"])
def test_permission_for_the_prod_stage_only_is_narrow_enough(shop, source_arn):
    rest_api(source_arn=source_arn)
    find("api_gateway.permission_names_the_method")()


def test_permission_for_another_stage_only_does_not_cover_prod(shop):
    rest_api(source_arn="{api}/test/GET/books/*")
    _fails("permission_names_the_method", "from the stage prod")


@pytest.mark.parametrize("kwargs, hint", [
    ({"route": "POST /book"}, "did you name it 'POST /book'"),
    ({"stage": False}, r"no \$default stage"),
    ({"permission": False}, "may not invoke add-book"),
    ({"source": ADD_BOOK.replace('json.loads(event["body"])', 'event["body"]')},
     "is a string"),
    ({"source": ADD_BOOK.replace('json.loads(event["body"])', 'event')}, "DynamoDB refused"),
    ({"source": ADD_BOOK.replace('return {"statusCode": 201, "body": json.dumps(book)}',
                                 "return book")}, "answered 200"),
    ({"role": None}, "execution role may not write the 'bookshop' table.*dynamodb:PutItem"),
])
def test_http_api_adds_books_wrong_answers(shop, kwargs, hint):
    http_api(**kwargs)
    _fails("http_api_adds_books", hint)


@pytest.mark.parametrize("changes, hint", [
    (None, "no CORS configuration"),
    ({"AllowOrigins": ["*"]}, "every web site"),
    ({"AllowOrigins": ["{site}/"]}, "trailing slash"),
    ({"AllowOrigins": ["http://bookshop.example.com"]}, "does not allow it"),
    ({"AllowMethods": ["GET"]}, "POST in AllowMethods"),
    ({"AllowHeaders": ["x-api-key"]}, "content-type in AllowHeaders"),
])
def test_http_api_allows_the_site_wrong_answers(shop, changes, hint):
    if changes is None:
        cors = None
    else:
        changes = {key: [value.format(site=_site(shop)) for value in values]
                   for key, values in changes.items()}
        cors = _cors(shop, **changes)
    http_api(cors=cors)
    _fails("http_api_allows_the_site", hint)
