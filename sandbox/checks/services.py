"""Checks for exercises/09-serverless-services.ipynb: a GraphQL API over a table (AWS AppSync)
and a report job run as a Fargate task (Amazon ECS). Each check finds the pieces with boto3,
drives them as a client would (GraphQL over HTTP with the API's key; ``run_task`` with an
override of its own), and reads the outcome: the GraphQL answer, the table's items, the report
in S3. What the check writes is its own (unique ids, its own report key) and is removed after,
so the learner's books and reports are left as they were."""

from __future__ import annotations

import json
import random
import time
from typing import Any, cast

from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import require_table, unique

API = "exercise-library"
TABLE = "exercise-books"
BUCKET = "exercise-reports"
CLUSTER = "exercise"
FAMILY = "exercise-report"
REPORT_KEY = "REPORT_KEY"
FIRST_CELL = "Run the exercise's first cell: it creates it."
TITLES = ("Serverless Patterns", "Event Storming", "Queues in Practice", "The Lambda Way",
          "Graphs for Clients", "Containers Without Servers", "Data at Any Scale")

ADD_BOOK = ("mutation AddBook($id: ID!, $title: String!, $pages: Int!) { "
            "addBook(id: $id, title: $title, pages: $pages) { id title pages } }")
GET_BOOK = "query GetBook($id: ID!) { getBook(id: $id) { id title pages } }"

NO_KEY = (
    "the API {api!r} uses API_KEY authorization but has no API key: a client could not call it. "
    "Create one with appsync create_api_key(apiId=...).")
NO_DATA_SOURCE = (
    "the API has no data source of type AMAZON_DYNAMODB for the table {table!r}: create one "
    "with appsync create_data_source(type='AMAZON_DYNAMODB', dynamodbConfig={{'tableName': "
    "{table!r}, 'awsRegion': ...}}, serviceRoleArn=<the role exercise-appsync>).")
NO_RESOLVER = (
    "the field {type}.{field} has no resolver: AppSync answers it with null, whatever the table "
    "holds. Attach one with appsync create_resolver(typeName={type!r}, fieldName={field!r}, "
    "dataSourceName=..., ...).")
NO_TASK_ROLE = (
    "the task definition has no taskRoleArn: the container gets no AWS credentials, so it cannot "
    "read the table or write the report. Give it the role exercise-report-task "
    "(taskRoleArn=...), and register the task definition again.")
NOT_PYTHON = (
    "the container's image {image!r} is not a Python image: the sandbox runs a container only "
    "when its image is a Python image (python:3.12, public.ecr.aws/docker/library/python:3.12"
    "-slim, ...); any other image moves through the task's lifecycle without running anything "
    "(on AWS it would run). Use a Python image and run your script with python.")


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service)


# ---------------------------------------------------------------- task 1: a GraphQL API
def _api() -> dict[str, Any]:
    appsync = _client("appsync")
    apis = [api for page in appsync.get_paginator("list_graphql_apis").paginate()
            for api in page["graphqlApis"]]
    for api in apis:
        if api["name"] == API:
            return cast("dict[str, Any]", api)
    near = ""
    if apis:
        import difflib

        close = difflib.get_close_matches(API, [api["name"] for api in apis], n=1)
        near = f" (did you name it {close[0]!r}?)" if close else ""
    raise NotAttempted(f"there is no GraphQL API named {API!r} yet{near} (appsync "
                       "create_graphql_api).")


def _graphql(url: str, key: str | None, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL request as a client sends it: POST the query and its variables as JSON."""
    import requests

    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    response = requests.post(url, json={"query": query, "variables": variables},
                             headers=headers, timeout=30)
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(f"the API answered HTTP {response.status_code} with a body that is not "
                          "JSON", found=response.text[:300]) from None
    if response.status_code != 200 and not body.get("errors"):
        raise CheckFailed(f"the API answered HTTP {response.status_code}", found=body)
    return cast("dict[str, Any]", body)


def _graphql_url(api: dict[str, Any]) -> str:
    """Where the API answers: the sandbox's endpoint for it (on AWS, ``uris["GRAPHQL"]``)."""
    from ..client import current

    running = current()
    if running is None:
        return cast(str, api["uris"]["GRAPHQL"])
    return running.appsync_url(api["apiId"])


def _errors(body: dict[str, Any]) -> str:
    return "; ".join(f"{error.get('errorType', 'error')}: {error.get('message', '')}"
                     for error in body.get("errors") or [])


def _has_resolver(api_id: str, type_name: str, field: str) -> bool:
    appsync = _client("appsync")
    try:
        appsync.get_resolver(apiId=api_id, typeName=type_name, fieldName=field)
    except appsync.exceptions.NotFoundException:
        return False
    return True


@check_function("services.graphql_books")
def graphql_books() -> None:
    """The GraphQL API exercise-library, called over HTTP with its API key: the mutation addBook
    stores a book in exercise-books and returns it; the query getBook reads it back."""
    table = require_table(TABLE)
    api = _api()
    api_id = api["apiId"]
    appsync = _client("appsync")
    try:
        status = appsync.get_schema_creation_status(apiId=api_id)
    except appsync.exceptions.ClientError:  # an API never given a schema
        status = {"status": None, "details": "no schema was ever started"}
    if status.get("status") != "SUCCESS":
        raise NotAttempted(f"the API {API!r} has no schema yet (appsync start_schema_creation; "
                           f"its status is {status.get('status')!r}: {status.get('details')}).")
    if not _has_resolver(api_id, "Mutation", "addBook") and \
            not _has_resolver(api_id, "Query", "getBook"):
        raise NotAttempted("the API has no resolvers yet: attach one to Mutation.addBook and "
                           "one to Query.getBook (appsync create_resolver).")
    sources = appsync.list_data_sources(apiId=api_id)["dataSources"]
    if not any(source.get("type") == "AMAZON_DYNAMODB" and
               (source.get("dynamodbConfig") or {}).get("tableName") == TABLE
               for source in sources):
        raise CheckFailed(NO_DATA_SOURCE.format(table=TABLE))
    key = None
    if api.get("authenticationType") == "API_KEY":
        keys = appsync.list_api_keys(apiId=api_id)["apiKeys"]
        if not keys:
            raise CheckFailed(NO_KEY.format(api=API))
        key = keys[0]["id"]
    for type_name, field in (("Mutation", "addBook"), ("Query", "getBook")):
        if not _has_resolver(api_id, type_name, field):
            raise CheckFailed(NO_RESOLVER.format(type=type_name, field=field))

    url = _graphql_url(api)
    book = {"id": unique("book"), "title": random.choice(TITLES),
            "pages": random.randint(40, 900)}
    try:
        added = _graphql(url, key, ADD_BOOK, book)
        stored = table.get_item(Key={"id": book["id"]}).get("Item")
        read = _graphql(url, key, GET_BOOK, {"id": book["id"]})
    finally:
        table.delete_item(Key={"id": book["id"]})
    if added.get("errors"):
        raise CheckFailed(
            f"the mutation addBook failed: {_errors(added)}. An error naming DynamoDB comes from "
            "the request your resolver built (is the key {'id': ...}, and are the attributes "
            "the arguments?); an authorization error from the data source's role.",
            found=added)
    if stored is None:
        raise CheckFailed(
            f"addBook answered without an error, but {TABLE!r} has no item with the book's id: "
            "does Mutation.addBook's resolver put an item (PutItem) keyed by 'id'? If it did "
            "and DynamoDB refused it, AppSync tells the client only if the response says so: "
            "begin it with if (ctx.error) { util.error(ctx.error.message, ctx.error.type); }.",
            expected=book, found=added.get("data"))
    found = {name: (int(value) if name == "pages" else value)
             for name, value in stored.items() if name in book}
    if found != book:
        raise CheckFailed("the item addBook stored is not the book it was given: store id, "
                          "title and pages, each under its own name.", expected=book,
                          found={name: str(value) for name, value in stored.items()})
    if (added.get("data") or {}).get("addBook") != book:
        raise CheckFailed("addBook stored the book but did not return it: the resolver's "
                          "response should be the item written (ctx.result), so that the client "
                          "gets back the fields it asked for.", expected={"addBook": book},
                          found=added.get("data"))
    if read.get("errors"):
        raise CheckFailed(f"the query getBook failed: {_errors(read)}", found=read)
    if (read.get("data") or {}).get("getBook") != book:
        raise CheckFailed("getBook did not return the book just stored: does Query.getBook's "
                          "resolver get the item (GetItem) whose key is {'id': ctx.args.id}, and "
                          "return ctx.result?", expected={"getBook": book}, found=read.get("data"))


# ---------------------------------------------------------------- task 2: a report job
def _task_definition() -> dict[str, Any]:
    ecs = _client("ecs")
    try:
        definition = ecs.describe_task_definition(taskDefinition=FAMILY)["taskDefinition"]
    except ecs.exceptions.ClientException:
        raise NotAttempted(f"there is no task definition {FAMILY!r} yet (ecs "
                           "register_task_definition).") from None
    return cast("dict[str, Any]", definition)


def _subnets() -> list[str]:
    subnets = _client("ec2").describe_subnets()["Subnets"]
    return [subnet["SubnetId"] for subnet in subnets[:1]]


def _wait_stopped(cluster: str, task_arn: str, timeout: float = 90.0) -> dict[str, Any]:
    """The task once STOPPED (its lifecycle runs on the sandbox clock; the container's own run
    takes what it takes)."""
    ecs = _client("ecs")
    deadline = time.monotonic() + timeout
    while True:
        task = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task.get("lastStatus") == "STOPPED":
            return cast("dict[str, Any]", task)
        if time.monotonic() > deadline:
            raise CheckFailed(f"the task was still {task.get('lastStatus')} after "
                              f"{timeout:.0f} s: does the script end (no loop waiting for "
                              "something)?")
        time.sleep(0.1)


def _log_tail(definition: dict[str, Any], task_arn: str) -> str:
    """The last lines the container wrote to CloudWatch Logs (awslogs), if it logs there."""
    container = definition["containerDefinitions"][0]
    options = (container.get("logConfiguration") or {}).get("options") or {}
    group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
    if not group or not prefix:
        return ""
    stream = f"{prefix}/{container['name']}/{task_arn.rsplit('/', 1)[-1]}"
    logs = _client("logs")
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return ""
    return "\n".join(event["message"] for event in events[-15:])


@check_function("services.report_job")
def report_job() -> None:
    """The Fargate task exercise-report, run on the cluster exercise with REPORT_KEY set to a key
    of the check's own, writes {"books": <how many>, "pages": <their total>} there, counted from
    exercise-books."""
    table = require_table(TABLE)
    definition = _task_definition()
    if "FARGATE" not in (definition.get("requiresCompatibilities") or []):
        raise CheckFailed("the task definition is not for Fargate: register it with "
                          "requiresCompatibilities=['FARGATE'] (and networkMode 'awsvpc', cpu "
                          "and memory at the task level).",
                          found=definition.get("requiresCompatibilities"))
    if not definition.get("taskRoleArn"):
        raise CheckFailed(NO_TASK_ROLE)
    container = definition["containerDefinitions"][0]
    image = str(container.get("image", ""))
    # the images the sandbox runs: python:3.X (Docker Hub, or its ECR Public mirror)
    if image.rsplit("/", 1)[-1].split(":")[0].split("@")[0] != "python":
        raise CheckFailed(NOT_PYTHON.format(image=image))
    ecs = _client("ecs")
    if not ecs.describe_clusters(clusters=[CLUSTER])["clusters"]:
        raise NotAttempted(f"there is no ECS cluster {CLUSTER!r}. {FIRST_CELL}")

    books = [{"id": unique("report"), "title": random.choice(TITLES),
              "pages": random.randint(10, 500)} for _ in range(random.randint(2, 5))]
    key = f"checks/{unique('report')}.json"
    s3 = _client("s3")
    try:
        for book in books:
            table.put_item(Item=book)
        items = [item for page in _scan(table) for item in page]
        expected = {"books": len(items), "pages": sum(int(item.get("pages", 0))
                                                      for item in items)}
        started = ecs.run_task(
            cluster=CLUSTER, taskDefinition=definition["taskDefinitionArn"],
            launchType="FARGATE", count=1,
            networkConfiguration={"awsvpcConfiguration": {"subnets": _subnets(),
                                                          "assignPublicIp": "DISABLED"}},
            overrides={"containerOverrides": [{"name": container["name"], "environment": [
                {"name": REPORT_KEY, "value": key}]}]})
        if started.get("failures"):
            raise CheckFailed("ECS could not start the task", found=started["failures"])
        task = _wait_stopped(CLUSTER, started["tasks"][0]["taskArn"])
        try:
            report = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            report = None
        except ValueError:
            report = "not JSON"
    finally:
        for book in books:
            table.delete_item(Key={"id": book["id"]})
        s3.delete_object(Bucket=BUCKET, Key=key)
    exit_code = next((c.get("exitCode") for c in task.get("containers", [])
                      if c.get("name") == container["name"]), None)
    if exit_code not in (0, None):
        tail = _log_tail(definition, task["taskArn"])
        raise CheckFailed(
            f"the container exited with code {exit_code} ({task.get('stoppedReason', '')}): its "
            "script failed. Its last lines in CloudWatch Logs are below (an AccessDenied names "
            "what the task role may not do).", details=tail)
    if report is None:
        raise CheckFailed(f"the task ended without writing s3://{BUCKET}/{key}: the check set "
                          f"the environment variable {REPORT_KEY} to that key (run_task "
                          "overrides), and the script should write its report there "
                          f"(os.environ['{REPORT_KEY}']), not to a key of its own.",
                          details=_log_tail(definition, task["taskArn"]))
    if not isinstance(report, dict) or \
            {name: report.get(name) for name in expected} != expected:
        raise CheckFailed("the report does not count the table's books as they were when the "
                          "task ran: 'books' is how many items exercise-books holds, 'pages' "
                          "the total of their pages (a Scan returns at most 1 MB at a time: "
                          "follow LastEvaluatedKey).", expected=expected, found=report)


def _scan(table: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    options: dict[str, Any] = {}
    while True:
        answer = table.scan(**options)
        pages.append(answer["Items"])
        if "LastEvaluatedKey" not in answer:
            return pages
        options = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}
