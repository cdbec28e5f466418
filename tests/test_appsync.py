"""AppSync: GraphQL APIs that answer over real HTTP (sandbox/appsync).

Driven as a learner drives AppSync: boto3's ``appsync`` client for the management API, plain
``requests`` for the GraphQL endpoint. Each test cites the AppSync document it follows.
"""

from __future__ import annotations

import time

import boto3
import pytest
import requests

from sandbox.testing import deploy, role

SCHEMA = """
type Note { id: ID! title: String body: String }
type Query { getNote(id: ID!): Note  hello(name: String): String  now: AWSDateTime }
type Mutation { addNote(id: ID!, title: String!): Note }
schema { query: Query mutation: Mutation }
"""
APPSYNC_TRUST = "appsync.amazonaws.com"


def make_api(schema: str = SCHEMA, **kwargs) -> tuple[str, str]:
    """A GraphQL API with an API key and ``schema``; (api id, key)."""
    client = boto3.client("appsync")
    api = client.create_graphql_api(name="notes", authenticationType=kwargs.pop(
        "authenticationType", "API_KEY"), **kwargs)["graphqlApi"]
    key = client.create_api_key(apiId=api["apiId"])["apiKey"]["id"]
    client.start_schema_creation(apiId=api["apiId"], definition=schema.encode())
    assert client.get_schema_creation_status(apiId=api["apiId"])["status"] == "SUCCESS"
    return api["apiId"], key


def gql(sb, api_id: str, key: str | None, query: str, variables: dict | None = None,
        headers: dict | None = None) -> requests.Response:
    sent = dict(headers or {})
    if key is not None:
        sent["x-api-key"] = key
    return requests.post(sb.appsync_url(api_id), json={"query": query,
                                                       "variables": variables or {}},
                         headers=sent, timeout=30)


def none_resolver(api_id: str, field: str = "hello", type_name: str = "Query",
                  request: str = '{"version": "2018-05-29", "payload": '
                                 '"Hello, $ctx.args.name"}',
                  response: str = "$util.toJson($ctx.result)") -> None:
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(apiId=api_id, typeName=type_name, fieldName=field,
                           dataSourceName="nothing", requestMappingTemplate=request,
                           responseMappingTemplate=response)


def table(name: str = "notes") -> str:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id",
                                                 "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    return name


def dynamodb_source(api_id: str, actions: list[str], name: str = "notes") -> None:
    service_role = role("appsync-notes", {"Effect": "Allow", "Action": actions,
                                          "Resource": "*"}, service=APPSYNC_TRUST)
    boto3.client("appsync").create_data_source(
        apiId=api_id, name="notesTable", type="AMAZON_DYNAMODB", serviceRoleArn=service_role,
        dynamodbConfig={"tableName": name, "awsRegion": "us-east-1"})


# ---------------------------------------------------------------------- schema
def test_schema_with_appsync_scalars_and_directives_builds(sb):
    """"Scalar types in AWS AppSync" and the auth directives: a schema using AWSDateTime,
    AWSJSON and @aws_api_key is valid."""
    make_api("type Query { when: AWSDateTime meta: AWSJSON @aws_api_key }")


def test_schema_with_an_undefined_type_fails_with_details(sb):
    """GetSchemaCreationStatus (AppSync API Reference): status FAILED with details."""
    client = boto3.client("appsync")
    api_id = client.create_graphql_api(name="bad", authenticationType="API_KEY")[
        "graphqlApi"]["apiId"]
    client.start_schema_creation(apiId=api_id, definition=b"type Query { a: Missing }")
    status = client.get_schema_creation_status(apiId=api_id)
    assert status["status"] == "FAILED"
    assert "Missing" in status["details"]


# ---------------------------------------------------------------------- management
def test_data_source_resolver_and_function_are_managed(sb):
    """CreateDataSource, GetDataSource, ListDataSources, CreateResolver, GetResolver,
    ListResolvers, DeleteResolver (AppSync API Reference): the shapes boto3 reads."""
    api_id, _ = make_api()
    client = boto3.client("appsync")
    none_resolver(api_id)
    source = client.get_data_source(apiId=api_id, name="nothing")["dataSource"]
    assert source["type"] == "NONE"
    assert source["dataSourceArn"].endswith(f"apis/{api_id}/datasources/nothing")
    assert [s["name"] for s in client.list_data_sources(apiId=api_id)["dataSources"]] == [
        "nothing"]
    resolver = client.get_resolver(apiId=api_id, typeName="Query", fieldName="hello")[
        "resolver"]
    assert resolver["kind"] == "UNIT" and resolver["dataSourceName"] == "nothing"
    assert len(client.list_resolvers(apiId=api_id, typeName="Query")["resolvers"]) == 1
    client.delete_resolver(apiId=api_id, typeName="Query", fieldName="hello")
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_resolver(apiId=api_id, typeName="Query", fieldName="hello")


def test_resolver_on_a_field_not_in_the_schema_is_refused(sb):
    """CreateResolver: NotFoundException for a type or field the schema lacks."""
    api_id, _ = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    with pytest.raises(client.exceptions.NotFoundException, match="nope"):
        client.create_resolver(apiId=api_id, typeName="Query", fieldName="nope",
                               dataSourceName="nothing", requestMappingTemplate="{}",
                               responseMappingTemplate="{}")


# ---------------------------------------------------------------------- execution
def test_none_resolver_answers_over_http(sb):
    """"Resolver mapping template reference for None data source": the payload is the
    result; the answer is {"data": ...} with HTTP 200."""
    api_id, key = make_api()
    none_resolver(api_id)
    answer = gql(sb, api_id, key, 'query { hello(name: "Ada") }')
    assert answer.status_code == 200
    assert answer.json() == {"data": {"hello": "Hello, Ada"}}


def test_the_aws_url_reaches_the_api(sb):
    """The GraphQL endpoint is https://<id>.appsync-api.<region>.amazonaws.com/graphql
    (GetGraphqlApi uris.GRAPHQL): requests from the notebook reach the sandbox there."""
    api_id, key = make_api()
    none_resolver(api_id)
    uris = boto3.client("appsync").get_graphql_api(apiId=api_id)["graphqlApi"]
    url = f"https://{api_id}.appsync-api.us-east-1.amazonaws.com/graphql"
    answer = requests.post(url, json={"query": '{ hello(name: "Bo") }'},
                           headers={"x-api-key": key}, timeout=30)
    assert answer.json() == {"data": {"hello": "Hello, Bo"}}, uris


def test_a_wrong_api_key_is_401_unauthorized(sb):
    """"Configuring authorization": missing or invalid credentials are HTTP 401
    UnauthorizedException (AWS re:Post "Unauthorized errors" in AppSync)."""
    api_id, _ = make_api()
    answer = gql(sb, api_id, "da2-not-a-key", "{ hello }")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["errorType"] == "UnauthorizedException"
    assert gql(sb, api_id, None, "{ hello }").status_code == 401


def test_an_expired_api_key_is_refused():
    """API keys expire at ``expires`` (ApiKey, AppSync API Reference), then the request is
    refused (401). CreateApiKey refuses an expiry under a day, so the decision is tested on
    a key whose time has passed."""
    from types import SimpleNamespace

    from sandbox.appsync.auth import Authorizers, Refused, authenticate

    def api(expires: float) -> SimpleNamespace:
        return SimpleNamespace(authentication_type="API_KEY",
                               additional_authentication_providers=[],
                               lambda_authorizer_config=None,
                               api_keys={"da2-key": SimpleNamespace(expires=expires)})

    assert authenticate(api(time.time() + 3600), {"x-api-key": "da2-key"}, {}, "r",
                        Authorizers(), "127.0.0.1").mode == "API_KEY"
    with pytest.raises(Refused):
        authenticate(api(time.time() - 1), {"x-api-key": "da2-key"}, {}, "r", Authorizers(),
                     "127.0.0.1")


def test_validation_error_is_200_with_appsync_wording(sb):
    """The AppSync team's account of its HTTP behaviour (graphql/graphql-over-http#81): an
    undefined field is HTTP 200, data null, "Validation error of type FieldUndefined"."""
    api_id, key = make_api()
    answer = gql(sb, api_id, key, "{ badfield }")
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith(
        "Validation error of type FieldUndefined: Field 'badfield'")
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 3, "sourceName": None}]


def test_empty_body_is_400_malformed(sb):
    """graphql/graphql-over-http#81: an empty body is 400 MalformedHttpRequestException."""
    api_id, key = make_api()
    answer = requests.post(sb.appsync_url(api_id), data=b"", headers={"x-api-key": key},
                           timeout=30)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_util_error_gives_partial_data_and_appsync_error_shape(sb):
    """"Error handling" / $util.error(message, errorType, data, errorInfo): the field is null,
    its siblings keep their values, and the error carries errorType, data and errorInfo."""
    api_id, key = make_api()
    none_resolver(api_id)
    boto3.client("appsync").create_resolver(
        apiId=api_id, typeName="Query", fieldName="now", dataSourceName="nothing",
        requestMappingTemplate='$util.error("Clock stopped", "ClockError", {"a": 1}, '
                               '{"hint": "wind it"})',
        responseMappingTemplate="$util.toJson($ctx.result)")
    answer = gql(sb, api_id, key, '{ hello(name: "x") now }')
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"hello": "Hello, x", "now": None}
    error = body["errors"][0]
    assert error["errorType"] == "ClockError" and error["message"] == "Clock stopped"
    assert error["path"] == ["now"] and error["data"] == {"a": 1}
    assert error["errorInfo"] == {"hint": "wind it"}


def test_dynamodb_resolvers_put_and_get(sb):
    """"Resolver mapping template reference for DynamoDB": PutItem with
    $util.dynamodb.toDynamoDBJson and GetItem; the result is the item in plain JSON."""
    api_id, key = make_api()
    table()
    dynamodb_source(api_id, ["dynamodb:GetItem", "dynamodb:PutItem"])
    client = boto3.client("appsync")
    client.create_resolver(
        apiId=api_id, typeName="Mutation", fieldName="addNote", dataSourceName="notesTable",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "PutItem", '
                               '"key": {"id": $util.dynamodb.toDynamoDBJson($ctx.args.id)}, '
                               '"attributeValues": $util.dynamodb.toMapValuesJson('
                               '{"title": $ctx.args.title})}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    client.create_resolver(
        apiId=api_id, typeName="Query", fieldName="getNote", dataSourceName="notesTable",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "GetItem", '
                               '"key": {"id": $util.dynamodb.toDynamoDBJson($ctx.args.id)}}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    added = gql(sb, api_id, key, 'mutation { addNote(id: "n1", title: "Hi") { id title } }')
    assert added.json() == {"data": {"addNote": {"id": "n1", "title": "Hi"}}}
    stored = boto3.client("dynamodb").get_item(TableName="notes", Key={"id": {"S": "n1"}})
    assert stored["Item"]["title"] == {"S": "Hi"}
    got = gql(sb, api_id, key, 'query Q($id: ID!) { getNote(id: $id) { title } }',
              {"id": "n1"})
    assert got.json() == {"data": {"getNote": {"title": "Hi"}}}


def test_dynamodb_service_role_is_decided_by_iam(sb):
    """The data source's serviceRoleArn is what AppSync calls DynamoDB as ("Attaching a data
    source"): without dynamodb:GetItem, the field fails with an access error."""
    api_id, key = make_api()
    table()
    dynamodb_source(api_id, ["dynamodb:PutItem"])
    boto3.client("appsync").create_resolver(
        apiId=api_id, typeName="Query", fieldName="getNote", dataSourceName="notesTable",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "GetItem", '
                               '"key": {"id": {"S": "n1"}}}',
        responseMappingTemplate='#if($ctx.error)$util.error($ctx.error.message, '
                                '$ctx.error.type)#end$util.toJson($ctx.result)')
    body = gql(sb, api_id, key, '{ getNote(id: "n1") { id } }').json()
    assert body["data"] == {"getNote": None}
    assert body["errors"][0]["errorType"] == "AccessDeniedException"
    assert "dynamodb:GetItem" in body["errors"][0]["message"]


HANDLER = """
def handler(event, context):
    if event["arguments"].get("name") == "boom":
        raise ValueError("no booms")
    return "Hi " + event["arguments"]["name"] + " from " + event["info"]["parentTypeName"]
"""


def test_direct_lambda_resolver_gets_the_context_event(sb):
    """"Direct Lambda resolvers": with no mapping templates the function receives arguments,
    identity, source, request, info, prev and stash, and its answer is the field's value;
    the invocation is a hop of kind appsync."""
    api_id, key = make_api()
    function_arn = deploy("greeter", HANDLER)
    service_role = role("appsync-lambda", {"Effect": "Allow",
                                           "Action": "lambda:InvokeFunction",
                                           "Resource": function_arn}, service=APPSYNC_TRUST)
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="greeter", type="AWS_LAMBDA",
                              serviceRoleArn=service_role,
                              lambdaConfig={"lambdaFunctionArn": function_arn})
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="greeter")
    answer = gql(sb, api_id, key, '{ hello(name: "Ada") }')
    assert answer.json() == {"data": {"hello": "Hi Ada from Query"}}
    hops = [h for h in sb.admin.deliveries(since=0) if h["kind"] == "appsync"]
    assert hops and hops[-1]["outcome"] == "delivered"
    failed = gql(sb, api_id, key, '{ hello(name: "boom") }').json()
    assert failed["data"] == {"hello": None}
    assert failed["errors"][0]["errorType"] == "ValueError"
    assert failed["errors"][0]["message"] == "no booms"


def test_subscriptions_say_they_are_not_modelled(sb):
    """Subscriptions need AppSync's real-time WebSocket endpoint, which the sandbox does not
    serve: the error says so at the moment one is executed."""
    api_id, key = make_api(SCHEMA.replace("schema {", "type Subscription { onNote: Note "
                                                      "@aws_subscribe(mutations: [\"addNote\"]) }\n"
                                                      "schema { subscription: Subscription"))
    body = gql(sb, api_id, key, "subscription { onNote { id } }").json()
    assert body["errors"][0]["errorType"] == "Sandbox.UnsupportedOperation"
    assert "WebSocket" in body["errors"][0]["message"]
