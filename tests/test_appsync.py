"""AppSync: GraphQL APIs that answer over real HTTP (sandbox/appsync).

Driven as a learner drives AppSync: boto3's ``appsync`` client for the management API, plain
``requests`` for the GraphQL endpoint. Each test cites the AppSync document it follows.
"""

from __future__ import annotations

import json
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
    uris = boto3.client("appsync").get_graphql_api(apiId=api_id)["graphqlApi"]["uris"]
    url = f"https://{api_id}.appsync-api.us-east-1.amazonaws.com/graphql"
    assert uris["GRAPHQL"] == url
    answer = requests.post(url, json={"query": '{ hello(name: "Bo") }'},
                           headers={"x-api-key": key}, timeout=30)
    assert answer.json() == {"data": {"hello": "Hello, Bo"}}


def test_ids_and_keys_look_like_appsync_s(sb):
    """AppSync API ids are 26 lowercase letters and digits, API keys da2-... (GraphqlApi and
    ApiKey, AppSync API Reference; the id names the endpoint's host)."""
    import re

    api_id, key = make_api()
    assert re.fullmatch(r"[a-z0-9]{26}", api_id)
    assert re.fullmatch(r"da2-[a-z0-9]{26}", key)
    listed = boto3.client("appsync").list_graphql_apis()["graphqlApis"]
    assert listed[0]["uris"]["GRAPHQL"].startswith(f"https://{api_id}.appsync-api.")


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


def test_other_validation_errors_use_appsync_s_wording(sb):
    """AppSync words validation errors as graphql-java does ("Validation error of type <kind>:
    ... @ '<field path>'", graphql/graphql-over-http#81): a missing argument, a missing or a
    forbidden sub-selection, an undefined field below the top."""
    api_id, key = make_api()
    cases = {
        "{ getNote { id } }": "Validation error of type MissingFieldArgument: Missing field "
                              "argument id @ 'getNote'",
        '{ getNote(id: "1") }': "Validation error of type SubSelectionRequired: Sub selection "
                                "required for type Note of field getNote @ 'getNote'",
        '{ getNote(id: "1") { title { x } } }': "Validation error of type "
                                                "SubSelectionNotAllowed: Sub selection not "
                                                "allowed on leaf type String of field title @ "
                                                "'getNote/title'",
        '{ getNote(id: "1") { nope } }': "Validation error of type FieldUndefined: Field "
                                         "'nope' in type 'Note' is undefined @ 'getNote/nope'",
    }
    for query, message in cases.items():
        body = gql(sb, api_id, key, query).json()
        assert body["data"] is None
        assert [e["message"] for e in body["errors"]] == [message], query


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
    # AppSync names a function's failure by Lambda's X-Amz-Function-Error, whatever the
    # function's own errorType ("Returning errors", Lambda resolvers tutorial; the AppSync
    # team's aws-appsync-community#209: "The value of errorType is fixed to Lambda:Unhandled")
    assert failed["errors"][0]["errorType"] == "Lambda:Unhandled"
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


# ---------------------------------------------------------------------- APPSYNC_JS
JS_GET_PUT = """
import { util } from '@aws-appsync/utils';
import * as ddb from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  if (ctx.info.fieldName === 'addNote') {
    return ddb.put({ key: { id: ctx.args.id }, item: { title: ctx.args.title } });
  }
  return ddb.get({ key: { id: ctx.args.id } });
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
"""
JS_RUNTIME = {"name": "APPSYNC_JS", "runtimeVersion": "1.0.0"}


def test_js_resolver_with_dynamodb_helpers(sb):
    """"JavaScript resolvers overview" and the @aws-appsync/utils/dynamodb helpers (put, get):
    an APPSYNC_JS unit resolver writes and reads the table."""
    api_id, key = make_api()
    table()
    dynamodb_source(api_id, ["dynamodb:GetItem", "dynamodb:PutItem"])
    client = boto3.client("appsync")
    for type_name, field in (("Mutation", "addNote"), ("Query", "getNote")):
        client.create_resolver(apiId=api_id, typeName=type_name, fieldName=field,
                               dataSourceName="notesTable", runtime=JS_RUNTIME, code=JS_GET_PUT)
    added = gql(sb, api_id, key, 'mutation { addNote(id: "j1", title: "From JS") { id } }')
    assert added.json() == {"data": {"addNote": {"id": "j1"}}}
    got = gql(sb, api_id, key, '{ getNote(id: "j1") { id title } }')
    assert got.json() == {"data": {"getNote": {"id": "j1", "title": "From JS"}}}


def test_js_util_error_append_error_and_auto_id(sb):
    """"Built-in utilities" (util.autoId, util.appendError, util.error): appendError adds an
    error and keeps the value; util.error nulls the field with its errorType."""
    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    code = """
export function request(ctx) {
  if (ctx.args.name === 'bad') { util.error('Bad name', 'NameError', null, { n: 1 }); }
  return { payload: util.autoId() };
}
export function response(ctx) {
  util.appendError('just so you know', 'Notice');
  return ctx.result;
}
"""
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code=code)
    body = gql(sb, api_id, key, '{ hello(name: "ok") }').json()
    assert len(body["data"]["hello"]) == 36  # a UUID
    assert body["errors"][0]["errorType"] == "Notice"
    assert body["errors"][0]["path"] == ["hello"]
    bad = gql(sb, api_id, key, '{ hello(name: "bad") }').json()
    assert bad["data"] == {"hello": None}
    assert bad["errors"][0]["errorType"] == "NameError"
    assert bad["errors"][0]["errorInfo"] == {"n": 1}


def test_js_early_return_skips_the_data_source(sb):
    """runtime.earlyReturn (JavaScript runtime utilities): the data source and the response
    handler are skipped; the value is the field's."""
    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    code = """
import { runtime } from '@aws-appsync/utils';
export function request(ctx) { runtime.earlyReturn('early ' + ctx.args.name); }
export function response(ctx) { return 'never'; }
"""
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code=code)
    assert gql(sb, api_id, key, '{ hello(name: "x") }').json() == {"data": {"hello": "early x"}}


@pytest.mark.parametrize("statement", [
    "try { x(); } catch (e) { }", "throw new Error('x');", "while (true) { }",
    "for (let i = 0; i < 3; i++) { }", "let i = 0; i++;"])
def test_js_unsupported_statements_are_refused_at_creation(sb, statement):
    """"Supported runtime features": try, catch, throw, while, C-style for and ++ are not
    supported; CreateResolver refuses the code (BadRequestException)."""
    api_id, _ = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    code = ("export function request(ctx) { " + statement + " return {}; }\n"
            "export function response(ctx) { return ctx.result; }")
    with pytest.raises(client.exceptions.BadRequestException, match="does not support"):
        client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                               dataSourceName="nothing", runtime=JS_RUNTIME, code=code)


def test_js_syntax_error_is_refused_at_creation(sb):
    """CreateResolver refuses code that does not parse ("The code contains one or more
    errors")."""
    api_id, _ = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    with pytest.raises(client.exceptions.BadRequestException, match="one or more errors"):
        client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                               dataSourceName="nothing", runtime=JS_RUNTIME,
                               code="export function request(ctx) { return { ; }")


# ---------------------------------------------------------------------- pipelines
def test_js_pipeline_passes_prev_result_and_stash(sb):
    """"Pipeline resolvers": the functions run in order, each sees ctx.prev.result and the
    shared ctx.stash; the resolver's response handler sees the last result."""
    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    first = client.create_function(apiId=api_id, name="first", dataSourceName="nothing",
                                   runtime=JS_RUNTIME, code="""
export function request(ctx) { ctx.stash.seen = ['first']; return { payload: ctx.args.name }; }
export function response(ctx) { return ctx.result.toUpperCase(); }
""")["functionConfiguration"]["functionId"]
    second = client.create_function(apiId=api_id, name="second", dataSourceName="nothing",
                                    runtime=JS_RUNTIME, code="""
export function request(ctx) {
  ctx.stash.seen.push('second');
  return { payload: ctx.prev.result + '!' };
}
export function response(ctx) { return ctx.result; }
""")["functionConfiguration"]["functionId"]
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello", kind="PIPELINE",
                           pipelineConfig={"functions": [first, second]}, runtime=JS_RUNTIME,
                           code="""
export function request(ctx) { return {}; }
export function response(ctx) { return ctx.prev.result + ' ' + ctx.stash.seen.join(','); }
""")
    body = gql(sb, api_id, key, '{ hello(name: "ada") }').json()
    assert body == {"data": {"hello": "ADA! first,second"}}
    used = client.list_resolvers_by_function(apiId=api_id, functionId=first)["resolvers"]
    assert [r["fieldName"] for r in used] == ["hello"]


def test_vtl_pipeline(sb):
    """Pipeline resolvers with VTL: the before template, the functions' templates with
    $ctx.prev.result, the after template."""
    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    function_id = client.create_function(
        apiId=api_id, name="shout", dataSourceName="nothing", functionVersion="2018-05-29",
        requestMappingTemplate='{"version": "2018-05-29", "payload": '
                               '"$ctx.args.name.toUpperCase()"}',
        responseMappingTemplate="$util.toJson($ctx.result)")["functionConfiguration"][
            "functionId"]
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello", kind="PIPELINE",
                           pipelineConfig={"functions": [function_id]},
                           requestMappingTemplate="{}",
                           responseMappingTemplate='$util.toJson("$ctx.prev.result!")')
    assert gql(sb, api_id, key, '{ hello(name: "bo") }').json() == {"data": {"hello": "BO!"}}


# ---------------------------------------------------------------------- authorization
def signed_gql(sb, api_id: str, keys: dict, query: str) -> requests.Response:
    """A SigV4-signed GraphQL request (service appsync), as an IAM caller sends it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = sb.appsync_url(api_id)
    request = AWSRequest(method="POST", url=url, data=json.dumps({"query": query}),
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(keys["AccessKeyId"], keys["SecretAccessKey"]), "appsync",
              "us-east-1").add_auth(request)
    return requests.post(url, data=request.body, headers=dict(request.headers), timeout=30)


def iam_user(name: str, *statements: dict) -> dict:
    iam = boto3.client("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_aws_iam_authorization_decides_each_field_with_iam(sb):
    """"AWS_IAM authorization": the caller's policy must allow appsync:GraphQL on
    arn:aws:appsync:<region>:<account>:apis/<id>/types/<Type>/fields/<field>; a field it does
    not allow is null with an Unauthorized error (HTTP 200); an unknown key is HTTP 401."""
    api_id, _ = make_api(authenticationType="AWS_IAM")
    none_resolver(api_id)
    none_resolver_now = boto3.client("appsync")
    none_resolver_now.create_resolver(
        apiId=api_id, typeName="Query", fieldName="now", dataSourceName="nothing",
        requestMappingTemplate='{"version": "2018-05-29", "payload": "2026-01-01T00:00:00Z"}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    api_arn = boto3.client("appsync").get_graphql_api(apiId=api_id)["graphqlApi"]["arn"]
    keys = iam_user("reader", {"Effect": "Allow", "Action": "appsync:GraphQL",
                               "Resource": f"{api_arn}/types/Query/fields/hello"})
    answer = signed_gql(sb, api_id, keys, '{ hello(name: "iam") now }')
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"hello": "Hello, iam", "now": None}
    assert body["errors"][0]["errorType"] == "Unauthorized"
    assert body["errors"][0]["message"] == "Not Authorized to access now on type Query"
    unknown = signed_gql(sb, api_id, {"AccessKeyId": "AKIAUNKNOWN0000000000",
                                      "SecretAccessKey": "x"}, "{ hello }")
    assert unknown.status_code == 401
    # an API key is no credential for an AWS_IAM API
    assert gql(sb, api_id, "da2-anything", "{ hello }").status_code == 401


def test_directives_choose_the_modes_a_field_admits(sb):
    """"Using additional authorization modes": with API_KEY default and AWS_IAM additional,
    a field marked @aws_iam admits IAM callers only; unmarked fields the default mode only."""
    schema = ("type Query { hello(name: String): String\n"
              "  secret: String @aws_iam }")
    api_id, key = make_api(schema, additionalAuthenticationProviders=[
        {"authenticationType": "AWS_IAM"}])
    none_resolver(api_id)
    boto3.client("appsync").create_resolver(
        apiId=api_id, typeName="Query", fieldName="secret", dataSourceName="nothing",
        requestMappingTemplate='{"version": "2018-05-29", "payload": "s3cret"}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    with_key = gql(sb, api_id, key, '{ hello(name: "k") secret }').json()
    assert with_key["data"] == {"hello": "Hello, k", "secret": None}
    assert with_key["errors"][0]["errorType"] == "Unauthorized"
    keys = iam_user("admin", {"Effect": "Allow", "Action": "appsync:GraphQL",
                              "Resource": "*"})
    with_iam = signed_gql(sb, api_id, keys, '{ hello(name: "i") secret }').json()
    assert with_iam["data"] == {"hello": None, "secret": "s3cret"}


AUTHORIZER = """
def handler(event, context):
    token = event["authorizationToken"]
    return {"isAuthorized": token.startswith("ok-"),
            "resolverContext": {"user": token[3:],
                                "api": event["requestContext"]["apiId"]},
            "deniedFields": ["Query.now"], "ttlOverride": 0}
"""


def test_lambda_authorizer_decides_and_passes_its_context(sb):
    """"AWS_LAMBDA authorization": the authorizer gets authorizationToken and requestContext,
    answers isAuthorized, resolverContext (ctx.identity.resolverContext) and deniedFields;
    isAuthorized false is HTTP 401. AppSync must be allowed to invoke it (its function
    policy)."""
    function_arn = deploy("authorizer", AUTHORIZER)
    boto3.client("lambda").add_permission(
        FunctionName="authorizer", StatementId="appsync", Action="lambda:InvokeFunction",
        Principal="appsync.amazonaws.com")
    api_id, _ = make_api(authenticationType="AWS_LAMBDA", lambdaAuthorizerConfig={
        "authorizerUri": function_arn, "authorizerResultTtlInSeconds": 0})
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code="""
export function request(ctx) { return { payload: ctx.identity.resolverContext }; }
export function response(ctx) { return ctx.result.user + '@' + ctx.result.api; }
""")
    answer = requests.post(sb.appsync_url(api_id), json={"query": "{ hello now }"},
                           headers={"Authorization": "ok-ada"}, timeout=30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"hello": f"ada@{api_id}", "now": None}
    assert body["errors"][0]["errorType"] == "Unauthorized"
    refused = requests.post(sb.appsync_url(api_id), json={"query": "{ hello }"},
                            headers={"Authorization": "nope"}, timeout=30)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["errorType"] == "UnauthorizedException"


def test_lambda_authorizer_without_permission_refuses(sb):
    """AppSync invokes the authorizer as appsync.amazonaws.com: without a function policy
    allowing it, IAM refuses and every request is 401."""
    function_arn = deploy("authorizer", AUTHORIZER)
    api_id, _ = make_api(authenticationType="AWS_LAMBDA", lambdaAuthorizerConfig={
        "authorizerUri": function_arn, "authorizerResultTtlInSeconds": 0})
    none_resolver(api_id)
    answer = requests.post(sb.appsync_url(api_id), json={"query": "{ hello }"},
                           headers={"Authorization": "ok-ada"}, timeout=30)
    assert answer.status_code == 401


# ---------------------------------------------------------------------- more data sources
def test_management_calls_are_decided_by_iam(sb):
    """CreateDataSource is appsync:CreateDataSource for IAM ("Actions, resources, and
    condition keys for AWS AppSync"): a user without it is refused."""
    api_id, _ = make_api()
    keys = iam_user("nobody")
    client = boto3.client("appsync", aws_access_key_id=keys["AccessKeyId"],
                          aws_secret_access_key=keys["SecretAccessKey"])
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        client.create_data_source(apiId=api_id, name="nothing", type="NONE")


def test_lambda_data_source_with_vtl_invoke(sb):
    """"Resolver mapping template reference for Lambda": the Invoke request's payload is the
    function's event; the response template reads $ctx.result."""
    api_id, key = make_api()
    function_arn = deploy("echo", "def handler(event, context):\n"
                                  "    return {'said': event['name'] * 2}\n")
    service_role = role("appsync-echo", {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                         "Resource": function_arn}, service=APPSYNC_TRUST)
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="echo", type="AWS_LAMBDA",
                              serviceRoleArn=service_role,
                              lambdaConfig={"lambdaFunctionArn": function_arn})
    client.create_resolver(
        apiId=api_id, typeName="Query", fieldName="hello", dataSourceName="echo",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "Invoke", '
                               '"payload": {"name": $util.toJson($ctx.args.name)}}',
        responseMappingTemplate="$util.toJson($ctx.result.said)")
    assert gql(sb, api_id, key, '{ hello(name: "ab") }').json() == {"data": {"hello": "abab"}}


def test_http_data_source_calls_a_loopback_endpoint(sb):
    """"Resolver mapping template reference for HTTP": method, resourcePath and params go to
    the endpoint; the result is {statusCode, headers, body}."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api_id, key = make_api()
        client = boto3.client("appsync")
        client.create_data_source(apiId=api_id, name="web", type="HTTP", httpConfig={
            "endpoint": f"http://127.0.0.1:{server.server_port}"})
        client.create_resolver(
            apiId=api_id, typeName="Query", fieldName="hello", dataSourceName="web",
            requestMappingTemplate='{"version": "2018-05-29", "method": "GET", '
                                   '"resourcePath": "/greet", '
                                   '"params": {"query": {"name": "$ctx.args.name"}}}',
            responseMappingTemplate="$util.toJson($util.parseJson($ctx.result.body).path)")
        body = gql(sb, api_id, key, '{ hello(name: "zoe") }').json()
        assert body == {"data": {"hello": "/greet?name=zoe"}}
    finally:
        server.shutdown()
        server.server_close()


def test_dynamodb_query_scan_batch_and_transactions(sb):
    """The DynamoDB resolver reference's Query (items, nextToken, scannedCount),
    BatchGetItem (data per table, in key order, null for a missing key) and
    TransactWriteItems (keys), through APPSYNC_JS ddb.query and JSON requests."""
    schema = """
type Note { id: ID! title: String }
type Page { items: [Note] scannedCount: Int }
type Query { byId(id: ID!): Page  many(ids: [ID!]!): [Note]  all: Page }
type Mutation { two(a: ID!, b: ID!): [ID] }
"""
    api_id, key = make_api(schema)
    table()
    dynamodb_source(api_id, ["dynamodb:*"])
    client = boto3.client("appsync")
    resolvers = {
        ("Query", "byId"): """
import * as ddb from '@aws-appsync/utils/dynamodb';
export function request(ctx) { return ddb.query({ query: { id: { eq: ctx.args.id } } }); }
export function response(ctx) { return ctx.result; }
""",
        ("Query", "all"): """
import { scan } from '@aws-appsync/utils/dynamodb';
export function request(ctx) { return scan({ filter: { title: { beginsWith: 'T' } } }); }
export function response(ctx) { return ctx.result; }
""",
        ("Query", "many"): """
import { util } from '@aws-appsync/utils';
export function request(ctx) {
  return { operation: 'BatchGetItem', tables: { notes: {
    keys: ctx.args.ids.map((id) => util.dynamodb.toMapValues({ id })) } } };
}
export function response(ctx) { return ctx.result.data.notes; }
""",
        ("Mutation", "two"): """
import { util } from '@aws-appsync/utils';
export function request(ctx) {
  return { operation: 'TransactWriteItems', transactItems: [ctx.args.a, ctx.args.b].map((id) => ({
    table: 'notes', operation: 'PutItem', key: util.dynamodb.toMapValues({ id }),
    attributeValues: util.dynamodb.toMapValues({ title: 'T' + id }) })) };
}
export function response(ctx) { return ctx.result.keys.map((k) => k.id); }
""",
    }
    for (type_name, field), code in resolvers.items():
        client.create_resolver(apiId=api_id, typeName=type_name, fieldName=field,
                               dataSourceName="notesTable", runtime=JS_RUNTIME, code=code)
    assert gql(sb, api_id, key, 'mutation { two(a: "x", b: "y") }').json() == {
        "data": {"two": ["x", "y"]}}
    assert gql(sb, api_id, key, '{ byId(id: "x") { items { id title } scannedCount } }'
               ).json() == {"data": {"byId": {"items": [{"id": "x", "title": "Tx"}],
                                              "scannedCount": 1}}}
    assert gql(sb, api_id, key, '{ many(ids: ["y", "missing", "x"]) { id } }').json() == {
        "data": {"many": [{"id": "y"}, None, {"id": "x"}]}}
    found = gql(sb, api_id, key, "{ all { items { id } } }").json()
    assert sorted(i["id"] for i in found["data"]["all"]["items"]) == ["x", "y"]


def test_js_module_state_does_not_survive_between_requests(sb):
    """Each request evaluates the code afresh: a module-level variable starts over, and the
    runtime's util cannot be changed by one request for the next (AppSync gives no shared
    state between requests; "JavaScript resolvers overview")."""
    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code="""
let calls = 0;
export function request(ctx) { calls = calls + 1; return { payload: String(calls) }; }
export function response(ctx) { return ctx.result; }
""")
    for _ in range(3):
        assert gql(sb, api_id, key, "{ hello }").json() == {"data": {"hello": "1"}}
    client.update_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code="""
export function request(ctx) { util.autoId = () => 'mine'; return { payload: 'x' }; }
export function response(ctx) { return ctx.result; }
""")
    changed = gql(sb, api_id, key, "{ hello }").json()
    assert changed["data"] == {"hello": None}
    assert "read-only" in changed["errors"][0]["message"]


def test_mapping_template_without_operation_is_a_mapping_template_error(sb):
    """"Troubleshooting and common mistakes": a request template without an operation fails
    the field with errorType MappingTemplate, "Value for field '$[operation]' not found."."""
    api_id, key = make_api()
    table()
    dynamodb_source(api_id, ["dynamodb:GetItem"])
    boto3.client("appsync").create_resolver(
        apiId=api_id, typeName="Query", fieldName="getNote", dataSourceName="notesTable",
        requestMappingTemplate='{"version": "2018-05-29", "key": {"id": {"S": "x"}}}',
        responseMappingTemplate='#if($ctx.error)$util.error($ctx.error.message, '
                                '$ctx.error.type)#end$util.toJson($ctx.result)')
    body = gql(sb, api_id, key, '{ getNote(id: "x") { id } }').json()
    assert body["errors"][0]["errorType"] == "MappingTemplate"
    assert body["errors"][0]["message"] == "Value for field '$[operation]' not found."


def test_lambda_event_invocation_type_queues_the_event(sb):
    """"Resolver mapping template reference for Lambda": invocationType Event invokes the
    function asynchronously; the field's result is null, the function still runs."""
    api_id, key = make_api()
    function_arn = deploy("later", "def handler(event, context):\n"
                                   "    print('GOT', event['name'])\n")
    service_role = role("appsync-later", {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                          "Resource": function_arn}, service=APPSYNC_TRUST)
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="later", type="AWS_LAMBDA",
                              serviceRoleArn=service_role,
                              lambdaConfig={"lambdaFunctionArn": function_arn})
    client.create_resolver(
        apiId=api_id, typeName="Query", fieldName="hello", dataSourceName="later",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "Invoke", '
                               '"invocationType": "Event", '
                               '"payload": {"name": $util.toJson($ctx.args.name)}}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    assert gql(sb, api_id, key, '{ hello(name: "async") }').json() == {
        "data": {"hello": None}}
    assert sb.settle()
    logs = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/later")
    assert any("GOT async" in e["message"] for e in logs["events"])


def test_nested_resolver_reads_its_parent_as_source(sb):
    """"Resolver context reference": a resolver on a type's field gets the parent object as
    ctx.source; fields without a resolver read the parent's value of the same name."""
    schema = """
type Note { id: ID! title: String shout: String meta: AWSJSON }
type Query { getNote(id: ID!): Note }
"""
    api_id, key = make_api(schema)
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="getNote",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code="""
export function request(ctx) {
  return { payload: { id: ctx.args.id, title: 'quiet', meta: { tags: ['a'] } } };
}
export function response(ctx) { return ctx.result; }
""")
    client.create_resolver(
        apiId=api_id, typeName="Note", fieldName="shout", dataSourceName="nothing",
        requestMappingTemplate='{"version": "2018-05-29", '
                               '"payload": "${ctx.source.title.toUpperCase()}!"}',
        responseMappingTemplate="$util.toJson($ctx.result)")
    body = gql(sb, api_id, key, '{ getNote(id: "1") { id title shout meta } }').json()
    # AWSJSON is sent as a JSON string ("Scalar types in AWS AppSync")
    assert body == {"data": {"getNote": {"id": "1", "title": "quiet", "shout": "QUIET!",
                                         "meta": '{"tags":["a"]}'}}}


def test_get_with_query_parameters_is_served(sb):
    """graphql/graphql-over-http#81: AppSync serves queries by GET too, the query and
    variables as query parameters."""
    api_id, key = make_api()
    none_resolver(api_id)
    answer = requests.get(sb.appsync_url(api_id), params={
        "query": "query Q($n: String) { hello(name: $n) }", "variables": '{"n": "get"}'},
        headers={"x-api-key": key}, timeout=30)
    assert answer.json() == {"data": {"hello": "Hello, get"}}


def test_invalid_awsemail_variable_is_refused(sb):
    """"Scalar types in AWS AppSync": AWSEmail must be an email address; a variable that is
    not one fails validation (data null, HTTP 200)."""
    api_id, key = make_api("type Query { echo(to: AWSEmail): String }")
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="echo",
                           dataSourceName="nothing",
                           requestMappingTemplate='{"version": "2018-05-29", '
                                                  '"payload": $util.toJson($ctx.args.to)}',
                           responseMappingTemplate="$util.toJson($ctx.result)")
    query = "query Q($to: AWSEmail) { echo(to: $to) }"
    ok = gql(sb, api_id, key, query, {"to": "ada@example.com"}).json()
    assert ok == {"data": {"echo": "ada@example.com"}}
    bad = gql(sb, api_id, key, query, {"to": "not-an-email"})
    assert bad.status_code == 200
    assert bad.json()["data"] is None and "AWSEmail" in bad.json()["errors"][0]["message"]


def test_evaluate_mapping_template_and_code(sb):
    """EvaluateMappingTemplate and EvaluateCode (AppSync API Reference): a template or a JS
    handler run against a given context, without an API; util.error is reported in error."""
    client = boto3.client("appsync")
    context = json.dumps({"arguments": {"id": "n1"}, "info": {"fieldName": "getNote"}})
    template = client.evaluate_mapping_template(
        template='{"operation": "GetItem", "key": {"id": '
                 '$util.dynamodb.toDynamoDBJson($ctx.args.id)}}', context=context)
    assert json.loads(template["evaluationResult"]) == {"operation": "GetItem",
                                                        "key": {"id": {"S": "n1"}}}
    code = client.evaluate_code(runtime=JS_RUNTIME, function="request", context=context,
                                code=JS_GET_PUT)
    assert json.loads(code["evaluationResult"]) == {"operation": "GetItem",
                                                    "key": {"id": {"S": "n1"}}}
    failing = client.evaluate_code(
        runtime=JS_RUNTIME, function="request", context=context,
        code="export function request(ctx) { console.log('about to', { id: ctx.args.id });\n"
             "  util.error('nope', 'E'); }\n"
             "export function response(ctx) { return ctx.result; }")
    assert failing["error"]["message"] == "nope"
    assert failing["logs"] == ['about to {"id":"n1"}']


def test_a_service_role_that_does_not_trust_appsync_is_refused(sb):
    """AppSync assumes the data source's service role ("Attaching a data source"; the role's
    trust policy names appsync.amazonaws.com): a role trusting only Lambda fails the field."""
    api_id, key = make_api()
    table()
    lambda_role = role("lambda-only", {"Effect": "Allow", "Action": "dynamodb:*",
                                       "Resource": "*"})  # trusts lambda.amazonaws.com
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="notesTable", type="AMAZON_DYNAMODB",
                              serviceRoleArn=lambda_role,
                              dynamodbConfig={"tableName": "notes", "awsRegion": "us-east-1"})
    client.create_resolver(
        apiId=api_id, typeName="Query", fieldName="getNote", dataSourceName="notesTable",
        requestMappingTemplate='{"version": "2018-05-29", "operation": "GetItem", '
                               '"key": {"id": {"S": "n1"}}}',
        responseMappingTemplate='#if($ctx.error)$util.error($ctx.error.message, '
                                '$ctx.error.type)#end$util.toJson($ctx.result)')
    body = gql(sb, api_id, key, '{ getNote(id: "n1") { id } }').json()
    assert body["data"] == {"getNote": None}
    assert "appsync.amazonaws.com" in body["errors"][0]["message"]


def test_deleted_api_and_reset_leave_nothing_behind(sb):
    """DeleteGraphqlApi removes the API and what it ran: its endpoint answers 404; after
    sb.reset() no API, data source or resolver is left."""
    api_id, key = make_api()
    none_resolver(api_id)
    client = boto3.client("appsync")
    client.delete_graphql_api(apiId=api_id)
    gone = gql(sb, api_id, key, "{ hello }")
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["errorType"] == "NotFoundException"
    other, _ = make_api()
    none_resolver(other)
    sb.reset()
    assert boto3.client("appsync").list_graphql_apis()["graphqlApis"] == []


def test_dynamodb_batch_put_delete_and_transact_get(sb):
    """The DynamoDB resolver reference's BatchPutItem (data per table), BatchDeleteItem and
    TransactGetItems (items in the order of the request, null for a missing key), through VTL
    request templates."""
    schema = """
type Note { id: ID! title: String }
type Query { pair(a: ID!, b: ID!): [Note] }
type Mutation { putTwo: [Note]  dropOne(id: ID!): [Note] }
"""
    api_id, key = make_api(schema)
    table()
    dynamodb_source(api_id, ["dynamodb:*"])
    client = boto3.client("appsync")
    templates = {
        ("Mutation", "putTwo"): ('{"version": "2018-05-29", "operation": "BatchPutItem", '
                                 '"tables": {"notes": [{"id": {"S": "p"}, "title": {"S": "P"}}, '
                                 '{"id": {"S": "q"}, "title": {"S": "Q"}}]}}',
                                 "$util.toJson($ctx.result.data.notes)"),
        ("Mutation", "dropOne"): ('{"version": "2018-05-29", "operation": "BatchDeleteItem", '
                                  '"tables": {"notes": [{"id": '
                                  '$util.dynamodb.toDynamoDBJson($ctx.args.id)}]}}',
                                  "$util.toJson($ctx.result.data.notes)"),
        ("Query", "pair"): ('{"version": "2018-05-29", "operation": "TransactGetItems", '
                            '"transactItems": [{"table": "notes", "key": {"id": '
                            '$util.dynamodb.toDynamoDBJson($ctx.args.a)}}, {"table": "notes", '
                            '"key": {"id": $util.dynamodb.toDynamoDBJson($ctx.args.b)}}]}',
                            "$util.toJson($ctx.result.items)"),
    }
    for (type_name, field), (request, response) in templates.items():
        client.create_resolver(apiId=api_id, typeName=type_name, fieldName=field,
                               dataSourceName="notesTable", requestMappingTemplate=request,
                               responseMappingTemplate=response)
    put = gql(sb, api_id, key, "mutation { putTwo { id title } }").json()
    assert put == {"data": {"putTwo": [{"id": "p", "title": "P"}, {"id": "q", "title": "Q"}]}}
    assert gql(sb, api_id, key, 'mutation { dropOne(id: "p") { id } }').json() == {
        "data": {"dropOne": [{"id": "p"}]}}
    pair = gql(sb, api_id, key, '{ pair(a: "q", b: "p") { id title } }').json()
    assert pair == {"data": {"pair": [{"id": "q", "title": "Q"}, None]}}


def test_concurrent_requests_each_get_their_own_answer(sb):
    """AppSync serves requests concurrently: twenty at once through an APPSYNC_JS resolver
    each get the answer for their own arguments (the engine's contexts are not shared by two
    requests at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(apiId=api_id, typeName="Query", fieldName="hello",
                           dataSourceName="nothing", runtime=JS_RUNTIME, code="""
export function request(ctx) { return { payload: 'hi ' + ctx.args.name }; }
export function response(ctx) { return ctx.result; }
""")

    def ask(n: int) -> dict:
        return gql(sb, api_id, key, "query Q($n: String) { hello(name: $n) }",
                   {"n": str(n)}).json()

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(ask, range(20)))
    assert answers == [{"data": {"hello": f"hi {n}"}} for n in range(20)]


def test_vtl_return_directive(sb):
    """"Resolver mapping template programming guide", #return(data): a request template
    returns at once (the data source is skipped); in a pipeline function it ends that function
    and the pipeline goes on."""
    api_id, key = make_api()
    client = boto3.client("appsync")
    client.create_data_source(apiId=api_id, name="nothing", type="NONE")
    client.create_resolver(
        apiId=api_id, typeName="Query", fieldName="hello", dataSourceName="nothing",
        requestMappingTemplate='#if($ctx.args.name == "cached")#return("from cache")#end\n'
                               '{"version": "2018-05-29", "payload": "fresh"}',
        responseMappingTemplate='$util.toJson("$ctx.result!")')
    assert gql(sb, api_id, key, '{ hello(name: "cached") }').json() == {
        "data": {"hello": "from cache"}}
    assert gql(sb, api_id, key, '{ hello(name: "x") }').json() == {"data": {"hello": "fresh!"}}
    skipper = client.create_function(
        apiId=api_id, name="skipper", dataSourceName="nothing", functionVersion="2018-05-29",
        requestMappingTemplate='#return("skipped")',
        responseMappingTemplate="$util.toJson($ctx.result)")["functionConfiguration"][
            "functionId"]
    shout = client.create_function(
        apiId=api_id, name="shout", dataSourceName="nothing", functionVersion="2018-05-29",
        requestMappingTemplate='{"version": "2018-05-29", '
                               '"payload": "${ctx.prev.result.toUpperCase()}"}',
        responseMappingTemplate="$util.toJson($ctx.result)")["functionConfiguration"][
            "functionId"]
    client.update_resolver(apiId=api_id, typeName="Query", fieldName="hello", kind="PIPELINE",
                           pipelineConfig={"functions": [skipper, shout]},
                           requestMappingTemplate="{}",
                           responseMappingTemplate="$util.toJson($ctx.prev.result)")
    assert gql(sb, api_id, key, "{ hello }").json() == {"data": {"hello": "SKIPPED"}}
