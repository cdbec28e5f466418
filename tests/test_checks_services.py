"""Exercise 09's checks, three ways: the solution passes, a blank exercise is not attempted, and
each common wrong answer fails with its own hint."""

from __future__ import annotations

import boto3
import pytest

from sandbox.grading.checks import NotAttempted, find
from sandbox.testing import check_fails, role

ACCOUNT, REGION = "123456789012", "us-east-1"
BOOKS_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/exercise-books"
JS = {"name": "APPSYNC_JS", "runtimeVersion": "1.0.0"}
SCHEMA = """
type Book {
  id: ID!
  title: String!
  pages: Int!
}
type Query {
  getBook(id: ID!): Book
}
type Mutation {
  addBook(id: ID!, title: String!, pages: Int!): Book
}
schema {
  query: Query
  mutation: Mutation
}
"""
ADD_BOOK = """
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const { id, ...values } = ctx.args;
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues({ id }),
    attributeValues: util.dynamodb.toMapValues(values),
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
"""
GET_BOOK = """
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: ctx.args.id }) };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
"""
SCRIPT = """
import json
import os

import boto3

table = boto3.resource("dynamodb").Table("exercise-books")
books = pages = 0
options = {}
while True:
    answer = table.scan(**options)
    books += len(answer["Items"])
    pages += sum(int(item.get("pages", 0)) for item in answer["Items"])
    if "LastEvaluatedKey" not in answer:
        break
    options["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
key = os.environ.get("REPORT_KEY", "reports/latest.json")
boto3.client("s3").put_object(Bucket="exercise-reports", Key=key,
                              Body=json.dumps({"books": books, "pages": pages}))
"""


def first_cell() -> dict[str, str]:
    """The exercise's first cell: the table, the bucket, the cluster, the log group, the roles."""
    boto3.client("dynamodb").create_table(
        TableName="exercise-books", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    boto3.client("s3").create_bucket(Bucket="exercise-reports")
    boto3.client("ecs").create_cluster(clusterName="exercise")
    boto3.client("logs").create_log_group(logGroupName="/ecs/exercise-report")
    return {
        "appsync": role("exercise-appsync", {
            "Effect": "Allow", "Resource": BOOKS_ARN,
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"]},
            service="appsync.amazonaws.com"),
        "task": role("exercise-report-task",
                     {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": BOOKS_ARN},
                     {"Effect": "Allow", "Action": "s3:PutObject",
                      "Resource": "arn:aws:s3:::exercise-reports/*"},
                     service="ecs-tasks.amazonaws.com"),
        "execution": role("exercise-report-execution", {
            "Effect": "Allow", "Resource": "*",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"]},
            service="ecs-tasks.amazonaws.com"),
    }


# ---------------------------------------------------------------- task 1
def library(roles: dict[str, str], *, key: bool = True, data_source: bool = True,
            add_book: str | None = ADD_BOOK, get_book: str | None = GET_BOOK,
            data_role: str | None = None) -> str:
    appsync = boto3.client("appsync")
    api_id = appsync.create_graphql_api(name="exercise-library",
                                        authenticationType="API_KEY")["graphqlApi"]["apiId"]
    if key:
        appsync.create_api_key(apiId=api_id)
    appsync.start_schema_creation(apiId=api_id, definition=SCHEMA.encode())
    if data_source:
        appsync.create_data_source(
            apiId=api_id, name="books", type="AMAZON_DYNAMODB",
            serviceRoleArn=data_role or roles["appsync"],
            dynamodbConfig={"tableName": "exercise-books", "awsRegion": REGION})
    else:
        appsync.create_data_source(apiId=api_id, name="nothing", type="NONE")
    for type_name, field, code in (("Mutation", "addBook", add_book),
                                   ("Query", "getBook", get_book)):
        if code:
            appsync.create_resolver(apiId=api_id, typeName=type_name, fieldName=field,
                                    dataSourceName="books" if data_source else "nothing",
                                    runtime=JS, code=code)
    return api_id


def test_task1_the_solution_passes(sb):
    library(first_cell())
    find("services.graphql_books")()
    # the check's book is gone, and the learner's table is as it was
    assert boto3.client("dynamodb").scan(TableName="exercise-books")["Count"] == 0


def test_task1_without_an_api_key(sb):
    library(first_cell(), key=False)
    check_fails("services.graphql_books", "has no API key")


def test_task1_without_a_dynamodb_data_source(sb):
    library(first_cell(), data_source=False)
    check_fails("services.graphql_books", "no data source of type AMAZON_DYNAMODB")


def test_task1_without_the_query_resolver(sb):
    # a field with no resolver answers null ("Missing resolver", AppSync's troubleshooting guide)
    library(first_cell(), get_book=None)
    check_fails("services.graphql_books", r"Query\.getBook has no resolver")


def test_task1_a_response_that_does_not_return_the_result(sb):
    library(first_cell(), add_book=ADD_BOOK.replace("return ctx.result;", "return null;"))
    check_fails("services.graphql_books", "did not return it")


def test_task1_a_response_that_hides_the_data_sources_error(sb):
    # AppSync raises a data source's error only if the response does (util.error); without it,
    # the field is null and errors[] is empty ("Resolver context: ctx.error", AppSync's
    # JavaScript resolver reference)
    hides = ADD_BOOK.replace("toMapValues({ id })", "toMapValues({ bookId: id })").replace(
        "if (ctx.error) {", "if (false) {")
    library(first_cell(), add_book=hides)
    check_fails("services.graphql_books", r"ctx\.error")


def test_task1_a_key_under_another_name(sb):
    # the table's key is id: a PutItem keyed by bookId is refused by DynamoDB, and AppSync
    # reports it in errors[] (partial data: addBook is null; "Incorrect DynamoDB key mapping",
    # AppSync's troubleshooting guide)
    library(first_cell(), add_book=ADD_BOOK.replace("toMapValues({ id })",
                                                    "toMapValues({ bookId: id })"))
    check_fails("services.graphql_books", "the mutation addBook failed")


def test_task1_a_data_source_role_that_may_not_put(sb):
    roles = first_cell()
    reader = role("reader", {"Effect": "Allow", "Action": "dynamodb:GetItem",
                             "Resource": BOOKS_ARN}, service="appsync.amazonaws.com")
    library(roles, data_role=reader)
    check_fails("services.graphql_books", "the mutation addBook failed")


# ---------------------------------------------------------------- task 2
def report(roles: dict[str, str], *, task_role: bool = True, image: str = "python:3.12-slim",
           script: str = SCRIPT, cpu: str = "256", memory: str = "512") -> None:
    options = {"taskRoleArn": roles["task"]} if task_role else {}
    boto3.client("ecs").register_task_definition(
        family="exercise-report", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        cpu=cpu, memory=memory, executionRoleArn=roles["execution"], **options,
        containerDefinitions=[{
            "name": "report", "image": image, "essential": True,
            "command": ["python", "-c", script],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/exercise-report", "awslogs-region": REGION,
                "awslogs-stream-prefix": "report"}}}])


def test_task2_the_solution_passes(sb):
    roles = first_cell()
    boto3.resource("dynamodb").Table("exercise-books").put_item(
        Item={"id": "mine", "title": "The learner's own", "pages": 100})
    report(roles)
    find("services.report_job")()
    # the learner's book is still there; the check's books and report are gone
    items = boto3.client("dynamodb").scan(TableName="exercise-books")["Items"]
    assert [item["id"]["S"] for item in items] == ["mine"]
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="exercise-reports")


def test_task2_fargate_refuses_a_cpu_memory_combination_it_does_not_offer(sb):
    # AWS: 256 CPU units take 512, 1024 or 2048 MiB; RegisterTaskDefinition refuses others
    # ("Troubleshoot Amazon ECS task definition invalid CPU or memory errors")
    with pytest.raises(boto3.client("ecs").exceptions.ClientException):
        report(first_cell(), memory="4096")
    check_fails("services.report_job", "no task definition", NotAttempted)


def test_task2_without_a_task_role(sb):
    # the task role is where a container's AWS credentials come from ("Amazon ECS task IAM role")
    report(first_cell(), task_role=False)
    check_fails("services.report_job", "no taskRoleArn")


def test_task2_an_image_that_is_not_python(sb):
    report(first_cell(), image="node:22")
    check_fails("services.report_job", "not a Python image")


def test_task2_a_script_that_ignores_report_key(sb):
    report(first_cell(), script=SCRIPT.replace('os.environ.get("REPORT_KEY", '
                                               '"reports/latest.json")', '"reports/latest.json"'))
    check_fails("services.report_job", "REPORT_KEY")


def test_task2_a_script_that_fails_shows_its_log(sb):
    report(first_cell(), script=SCRIPT.replace('"exercise-reports"', '"someone-elses-bucket"'))
    failure = check_fails("services.report_job", "exited with code 1")
    assert "AccessDenied" in failure.details or "NoSuchBucket" in failure.details


def test_task2_a_report_with_the_wrong_total(sb):
    # the books counted twice over, in place of their pages
    report(first_cell(), script=SCRIPT.replace('"pages": pages', '"pages": books'))
    failure = check_fails("services.report_job", "does not count the table's books")
    assert failure.expected != failure.found


# ---------------------------------------------------------------- nothing done
@pytest.mark.parametrize("name", ["graphql_books", "report_job"])
def test_nothing_done_is_not_attempted(sb, name):
    check_fails(f"services.{name}", "", NotAttempted)


@pytest.mark.parametrize("name", ["graphql_books", "report_job"])
def test_only_the_first_cell_is_not_attempted(sb, name):
    first_cell()
    check_fails(f"services.{name}", "", NotAttempted)


def test_an_api_without_schema_or_resolvers_is_not_attempted_yet(sb):
    first_cell()
    boto3.client("appsync").create_graphql_api(name="exercise-library",
                                               authenticationType="API_KEY")
    check_fails("services.graphql_books", "no schema yet", NotAttempted)


def test_a_near_name_is_pointed_out(sb):
    first_cell()
    boto3.client("appsync").create_graphql_api(name="exercise-libary",
                                               authenticationType="API_KEY")
    check_fails("services.graphql_books", "did you name it 'exercise-libary'", NotAttempted)

