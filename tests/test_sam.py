"""SAM and CloudFormation templates deployed into the sandbox (sandbox.deploy, course deploy,
boto3's CloudFormation), and driven: each template in tests/templates/ has the shape of a public
SAM sample (written for these tests), and runs as it would on AWS.

AWS references: "AWS SAM template anatomy" and "AWS::Serverless::Function"
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/), "sam deploy"
(change sets; "No changes to deploy"), CloudFormation's "Stack status codes" and
"Troubleshooting" (CREATE_FAILED, ROLLBACK_COMPLETE), "Parameters" (AllowedValues, MinValue).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

import sandbox
from sandbox.deployment import (
    ARTIFACT_BUCKET,
    StackDeployError,
    TemplateValidationError,
    zip_folders,
)
from sandbox.errors import DeployError

TEMPLATES = Path(__file__).parent / "templates"


def _copy(name: str, tmp_path: Path) -> Path:
    """A template's folder copied where a test may change it."""
    return Path(shutil.copytree(TEMPLATES / name, tmp_path / name))


def _http(url: str, body: bytes | None = None, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _stack_names() -> list[str]:
    return [s["StackName"] for s in boto3.client("cloudformation").describe_stacks()["Stacks"]]


def _wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# ---------------------------------------------------------------------- an API, a function, a table
def test_an_api_backed_by_a_function_and_a_table_answers_at_its_output_url(sb):
    deployment = sandbox.deploy(TEMPLATES / "api-table")
    assert deployment.status == "CREATE_COMPLETE"
    # the output as AWS shows it, and the sandbox URL the notebook calls: the same API and stage
    aws = deployment.aws_outputs["ItemsApi"]
    api_id = aws.split("//")[1].split(".")[0]
    assert aws == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod/items/"
    assert deployment["ItemsApi"] == sb.api_url(api_id, "Prod") + "/items/"

    status, body = _http(deployment["ItemsApi"] + "42", b'{"name": "lamp"}', "PUT")
    assert (status, body) == (201, {"id": "42"})
    # the function wrote with its role's DynamoDBCrudPolicy (IAM enforced), and reads it back
    assert _http(deployment["ItemsApi"] + "42") == (200, {"id": "42", "name": "lamp"})
    assert _http(deployment["ItemsApi"] + "7")[0] == 404

    function = boto3.client("lambda").get_function_configuration(
        FunctionName=deployment["ItemsFunctionName"])
    assert (function["Runtime"], function["Timeout"], function["MemorySize"]) == (
        "python3.12", 10, 128)  # from Globals
    exports = boto3.client("cloudformation").list_exports()["Exports"]
    assert {e["Name"]: e["Value"] for e in exports} == {
        "api-table-table": deployment["TableName"]}


def test_a_redeploy_is_a_change_set_and_an_unchanged_one_changes_nothing(sb, tmp_path):
    folder = _copy("api-table", tmp_path)
    first = sandbox.deploy(folder, stack_name="shop")
    assert {c["Action"] for c in first.changes} == {"Add"}

    again = sandbox.deploy(folder, stack_name="shop")
    assert again.changes == [] and not again.changed  # sam deploy: "No changes to deploy"
    assert again.outputs == first.outputs

    code = folder / "src" / "app.py"
    code.write_text(code.read_text().replace('"statusCode": 201', '"statusCode": 202'))
    updated = sandbox.deploy(folder, stack_name="shop")
    assert updated.status == "UPDATE_COMPLETE"
    assert updated.changes == [{"Action": "Modify", "LogicalResourceId": "ItemsFunction",
                                "ResourceType": "AWS::Lambda::Function"}]
    assert _http(updated["ItemsApi"] + "1", b"{}", "PUT")[0] == 202  # the new code runs


def test_the_package_is_the_same_zip_for_the_same_files(tmp_path):
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-312.pyc").write_bytes(b"\0")
    first = zip_folders((tmp_path, ""))
    time.sleep(0.01)
    (tmp_path / "a.py").touch()  # a new modification time, the same contents
    assert zip_folders((tmp_path, "")) == first
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["a.py"]


def test_hello_world_with_an_alias_and_cors_as_sam_init_makes_it(sb, tmp_path):
    folder = _copy("hello-world", tmp_path)
    deployment = sandbox.deploy(folder)
    # the API invokes the alias AutoPublishAlias made (the permission is the alias's)
    assert _http(deployment["HelloWorldApi"]) == (200, {"message": "hello world",
                                                        "alias": "live"})
    preflight = urllib.request.Request(deployment["HelloWorldApi"], method="OPTIONS", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
    with urllib.request.urlopen(preflight, timeout=30) as answer:  # SAM's MOCK integration
        assert answer.headers["Access-Control-Allow-Origin"] == "https://example.com"
        assert answer.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    lam = boto3.client("lambda")
    (alias,) = lam.list_aliases(FunctionName=deployment["HelloWorldFunction"])["Aliases"]
    assert (alias["Name"], alias["FunctionVersion"]) == ("live", "1")

    code = folder / "hello_world" / "app.py"
    code.write_text(code.read_text().replace('"hello world"', '"hello again"'))
    sandbox.deploy(folder)  # new code: a new version, and the alias moves to it
    (alias,) = lam.list_aliases(FunctionName=deployment["HelloWorldFunction"])["Aliases"]
    assert alias["FunctionVersion"] == "2"
    assert _http(deployment["HelloWorldApi"])[1]["message"] == "hello again"


# ---------------------------------------------------------------------- event sources
def test_an_s3_triggered_pipeline_processes_an_upload(sb):
    deployment = sandbox.deploy(TEMPLATES / "s3-pipeline")
    s3 = boto3.client("s3")
    s3.put_object(Bucket=deployment["InputBucketName"], Key="notes.txt", Body=b"hello")
    s3.put_object(Bucket=deployment["InputBucketName"], Key="table.csv", Body=b"skip")
    assert sb.settle()
    out = deployment["OutputBucketName"]
    # the Filter's suffix rule let notes.txt through, not table.csv
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=out).get("Contents", [])] == [
        "notes.txt"]
    assert s3.get_object(Bucket=out, Key="notes.txt")["Body"].read() == b"HELLO"


def test_an_sqs_worker_processes_its_queue(sb):
    deployment = sandbox.deploy(TEMPLATES / "sqs-worker")
    boto3.client("sqs").send_message(QueueUrl=deployment["WorkQueueUrl"],
                                     MessageBody=json.dumps({"id": "job-1"}))
    table = boto3.resource("dynamodb").Table(deployment["ResultsTableName"])
    assert _wait_for(lambda: table.get_item(Key={"id": "job-1"}).get("Item"),
                     "the worker to record job-1") == {"id": "job-1", "done": True}
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=deployment["WorkQueueUrl"], AttributeNames=["RedrivePolicy"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(deployment["DeadLetterQueueUrl"].split("/")[-1])
    assert int(redrive["maxReceiveCount"]) == 2  # the parameter's default


def test_an_sqs_worker_s_poison_message_reaches_the_dead_letter_queue(sb):
    deployment = sandbox.deploy(TEMPLATES / "sqs-worker")
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=deployment["WorkQueueUrl"],
                     MessageBody=json.dumps({"id": "bad", "poison": True}))
    _wait_for(lambda: sqs.receive_message(QueueUrl=deployment["DeadLetterQueueUrl"]).get(
        "Messages"), "the poison message in the DLQ", timeout=10)


def test_a_scheduled_function_has_its_rule_schedule_and_permission(sb):
    deployment = sandbox.deploy(TEMPLATES / "scheduled")
    function_arn = deployment["FunctionArn"]
    events = boto3.client("events")
    (rule,) = events.list_rules()["Rules"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"  # Conditions: IsProd is false
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == function_arn
    # the function's policy admits EventBridge for this rule only, as SAM's permission says
    assert sb.iam.service_may("events.amazonaws.com", "lambda:InvokeFunction", function_arn,
                              source_arn=rule["Arn"])
    assert not sb.iam.service_may("events.amazonaws.com", "lambda:InvokeFunction",
                                  function_arn, source_arn=rule["Arn"] + "-other")
    (schedule,) = boto3.client("scheduler").list_schedules()["Schedules"]
    detail = boto3.client("scheduler").get_schedule(Name=schedule["Name"])
    assert detail["ScheduleExpression"] == "rate(1 hour)"
    assert detail["Target"]["Arn"] == function_arn

    prod = sandbox.deploy(TEMPLATES / "scheduled", parameters={"Environment": "prod"})
    assert [c["LogicalResourceId"] for c in prod.changes] == ["CleanupFunctionNightly"]
    assert events.list_rules()["Rules"][0]["ScheduleExpression"] == "cron(0 3 * * ? *)"


def test_a_state_machine_calls_its_functions(sb):
    deployment = sandbox.deploy(TEMPLATES / "state-machine")
    sfn = boto3.client("stepfunctions")

    def run(order: dict) -> dict:
        arn = sfn.start_execution(stateMachineArn=deployment["StateMachineArn"],
                                  input=json.dumps(order))["executionArn"]
        return _wait_for(lambda: (d := sfn.describe_execution(executionArn=arn))["status"]
                         != "RUNNING" and d, "the execution to end")

    done = run({"quantity": 2})
    # DefinitionSubstitutions named the functions; the role from LambdaInvokePolicy called them
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"quantity": 2, "valid": True, "total": 6}
    refused = run({"quantity": 0})
    assert (refused["status"], refused.get("error")) == ("FAILED", "InvalidOrder")

    # a function with StepFunctionsExecutionPolicy and SQSSendMessagePolicy starts one
    answer = boto3.client("lambda").invoke(FunctionName=deployment["StarterFunctionName"],
                                           Payload=json.dumps({"quantity": 5}))
    assert "FunctionError" not in answer, answer["Payload"].read()
    started = json.loads(answer["Payload"].read())
    (receipt,) = boto3.client("sqs").receive_message(QueueUrl=deployment["ReceiptsUrl"])[
        "Messages"]
    assert json.loads(receipt["Body"]) == {"executionArn": started}
    assert json.loads(_wait_for(lambda: (d := sfn.describe_execution(executionArn=started))[
        "status"] != "RUNNING" and d, "the started execution")["output"])["total"] == 15
    # the state machine's Schedule event: a rule whose target is the machine, with a role
    (rule,) = boto3.client("events").list_rules()["Rules"]
    (target,) = boto3.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert (rule["ScheduleExpression"], target["Arn"]) == ("rate(1 day)",
                                                           deployment["StateMachineArn"])
    assert target["RoleArn"].startswith("arn:aws:iam::123456789012:role/")


def test_http_api_sns_and_eventbridge_events_reach_a_function_with_a_layer(sb):
    deployment = sandbox.deploy(TEMPLATES / "events")
    # an HTTP API's $default stage: no stage in its URL
    api_id = deployment.aws_outputs["HttpApiUrl"].split("//")[1].split(".")[0]
    assert deployment["HttpApiUrl"] == sb.api_url(api_id, "$default") + "/hello"
    assert _http(deployment["HttpApiUrl"]) == (200, {"message": "hello from http:/hello"})
    boto3.client("sns").publish(TopicArn=deployment["TopicArn"], Message="m1")
    boto3.client("events").put_events(Entries=[
        {"Source": "course.sam", "DetailType": "Tick", "Detail": "{}"}])
    assert sb.settle()
    table = boto3.resource("dynamodb").Table(deployment["TableName"])
    assert _wait_for(lambda: {item["id"] for item in table.scan()["Items"]} >= {
        "http:/hello", "sns:m1", "events:Tick"}, "every event recorded")
    mappings = boto3.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert sorted(m["EventSourceArn"].split(":")[2] for m in mappings) == ["dynamodb",
                                                                           "kinesis"]


# ---------------------------------------------------------------------- packaging with pip
def _wheel(folder: Path, name: str, version: str, code: str) -> None:
    """A pure-Python wheel (PEP 427) of one module, for pip to install from a local folder."""
    files = {f"{name}/__init__.py": code,
             f"{name}-{version}.dist-info/METADATA":
                 f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{name}-{version}.dist-info/WHEEL":
                 "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                 "Tag: py3-none-any\n"}
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        writer.writerow([path, f"sha256={digest.decode()}", len(text.encode())])
    writer.writerow([f"{name}-{version}.dist-info/RECORD", "", ""])
    files[f"{name}-{version}.dist-info/RECORD"] = record.getvalue()
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip reads a folder of wheels instead of its index (no network in tests), and caches in
    tmp_path."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return wheels


def _app_with_requirements(tmp_path: Path, requirements: str) -> Path:
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "src" / "requirements.txt").write_text(requirements)
    (app / "src" / "app.py").write_text(
        "import sandboxdemo\n\ndef handler(event, context):\n    return sandboxdemo.VALUE\n")
    (app / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n"
        "Outputs:\n  Name:\n    Value: !Ref Fn\n")
    return app


def test_requirements_are_installed_into_the_package_and_cached(sb, tmp_path, local_index):
    _wheel(local_index, "sandboxdemo", "1.0", "VALUE = 'from a wheel'\n")
    app = _app_with_requirements(tmp_path, "sandboxdemo==1.0\n")
    deployment = sandbox.deploy(app)
    answer = boto3.client("lambda").invoke(FunctionName=deployment["Name"])
    assert json.loads(answer["Payload"].read()) == "from a wheel"
    # cached: the next package needs no index (the wheel is gone) and is the same zip
    shutil.rmtree(local_index)
    local_index.mkdir()
    assert sandbox.deploy(app).changes == []


def test_a_requirement_pip_cannot_install_fails_the_deploy_and_makes_nothing(sb, tmp_path,
                                                                             local_index):
    app = _app_with_requirements(tmp_path, "sandboxdemo-missing==9.9\n")
    with pytest.raises(DeployError) as raised:
        sandbox.deploy(app)
    message = str(raised.value)
    assert "sandboxdemo-missing" in message and "Nothing was deployed" in message
    assert "No matching distribution" in message  # pip's own words
    assert _stack_names() == []
    assert ARTIFACT_BUCKET not in [b["Name"] for b in boto3.client("s3").list_buckets()[
        "Buckets"]]


# ---------------------------------------------------------------------- template errors
def _template(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def test_an_unsupported_resource_type_fails_before_anything_is_made(sb, tmp_path):
    path = _template(tmp_path, "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
                               "  Cluster:\n    Type: AWS::Redshift::ServerlessWorkgroup\n")
    with pytest.raises(TemplateValidationError, match=r"ValidationError.*Unrecognized resource "
                       r"types: \[AWS::Redshift::ServerlessWorkgroup\]"):
        sandbox.deploy(path, stack_name="unsupported")
    assert _stack_names() == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_serverless_application_is_refused_with_the_reason(sb, tmp_path):
    path = _template(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n  App:\n"
                               "    Type: AWS::Serverless::Application\n    Properties:\n"
                               "      Location: https://example.com/app.yaml\n")
    with pytest.raises(TemplateValidationError, match="Serverless Application Repository"):
        sandbox.deploy(path, stack_name="app")
    assert _stack_names() == []


def test_parameters_are_checked_against_their_constraints(sb):
    with pytest.raises(TemplateValidationError,
                       match="Parameter 'Stage' must be one of AllowedValues"):
        sandbox.deploy(TEMPLATES / "api-table", parameters={"Stage": "Test"})
    with pytest.raises(TemplateValidationError,
                       match="Parameter 'MaxReceiveCount' must be a number not greater than 10"):
        sandbox.deploy(TEMPLATES / "sqs-worker", parameters={"MaxReceiveCount": 11})
    with pytest.raises(TemplateValidationError, match=r"Parameters: \[Nope\] do not exist"):
        sandbox.deploy(TEMPLATES / "sqs-worker", parameters={"Nope": 1})
    assert _stack_names() == []


def test_a_local_code_uri_sent_to_cloudformation_is_refused_by_the_transform(sb):
    # boto3's create_stack with a template that was not packaged: AWS's transform refuses it
    cfn = boto3.client("cloudformation")
    with pytest.raises(ClientError) as raised:
        cfn.create_stack(StackName="raw", TemplateBody=(TEMPLATES / "api-table" /
                                                        "template.yaml").read_text(),
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"].startswith("Transform AWS::Serverless-2016-10-31 failed with: "
                                       "Invalid Serverless Application Specification document.")
    assert "'CodeUri' is not a valid S3 Uri" in error["Message"]
    assert _stack_names() == []


AUTHORIZED = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.12, Handler: index.handler}
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: TokenCheck
        Authorizers:
          TokenCheck:
            FunctionArn: !GetAtt Check.Arn
            Identity: {ValidationExpression: "^Bearer .+$", ReauthorizeEvery: 0}
          QueryCheck:
            FunctionPayloadType: REQUEST
            FunctionArn: !GetAtt Check.Arn
            Identity: {QueryStrings: [token], ReauthorizeEvery: 0}
  Check:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        def handler(event, context):
            token = event.get("authorizationToken") or event["queryStringParameters"]["token"]
            effect = "Allow" if token.endswith("friend") else "Deny"
            return {"principalId": "user-1", "context": {"kind": event["type"]},
                    "policyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Action": "execute-api:Invoke", "Effect": effect,
                         "Resource": event["methodArn"]}]}}
  Secret:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        import json
        def handler(event, context):
            return {"statusCode": 200,
                    "body": json.dumps(event["requestContext"].get("authorizer"))}
      Events:
        Token: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /token, Method: get}}
        Query:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /query, Method: get,
                       Auth: {Authorizer: QueryCheck}}
        Keyed:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /keyed, Method: get,
                       Auth: {Authorizer: NONE, ApiKeyRequired: true}}
        Signed:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /signed, Method: get,
                       Auth: {Authorizer: AWS_IAM}}
Outputs:
  Url: {Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/Prod"}
"""


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_sam_api_s_authorizers_are_imported_and_enforced(sb, tmp_path):
    """SAM writes an Api's Auth into its OpenAPI body (x-amazon-apigateway-authorizer,
    x-amazon-apigateway-authtype, each operation's security); API Gateway's import makes the
    authorizers and sets each method's authorization from them ("Use API Gateway extensions to
    OpenAPI"). Each method then answers as API Gateway answers: 401 without the identity, 403
    for a Deny, the integration for an Allow."""
    outputs = sandbox.deploy(_template(tmp_path, AUTHORIZED), stack_name="authorized")
    api_id = boto3.client("apigateway").get_rest_apis()["items"][0]["id"]
    made = {a["name"]: a for a in
            boto3.client("apigateway").get_authorizers(restApiId=api_id)["items"]}
    assert made["TokenCheck"]["type"] == "TOKEN"
    assert made["TokenCheck"]["identitySource"] == "method.request.header.Authorization"
    assert made["QueryCheck"]["type"] == "REQUEST"
    assert made["QueryCheck"]["identitySource"] == "method.request.querystring.token"
    url = outputs["Url"].rstrip("/")  # deploy answers the local URL of an execute-api one
    assert url == sb.api_url(api_id, "Prod")
    # TOKEN: no header → 401; a token the expression refuses → 401; Deny → 403; Allow → 200
    assert _get(url + "/token")[0] == 401
    assert _get(url + "/token", {"Authorization": "friend"})[0] == 401
    assert _get(url + "/token", {"Authorization": "Bearer stranger"})[0] == 403
    status, body = _get(url + "/token", {"Authorization": "Bearer friend"})
    assert (status, body["principalId"], body["kind"]) == (200, "user-1", "TOKEN")
    # REQUEST, from the query string
    assert _get(url + "/query")[0] == 401
    status, body = _get(url + "/query?token=friend")
    assert (status, body["kind"]) == (200, "REQUEST")
    # ApiKeyRequired: no key → 403 Forbidden
    assert _get(url + "/keyed") == (403, {"message": "Forbidden"})
    # AWS_IAM: an unsigned request → 403 "Missing Authentication Token"
    assert _get(url + "/signed")[0] == 403


HTTP_AUTHORIZED = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.12, Handler: index.handler}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Simple
        Authorizers:
          Simple:
            FunctionArn: !GetAtt Check.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            EnableFunctionDefaultPermissions: true  # without it, API Gateway may not call it
            Identity: {Headers: [Authorization], ReauthorizeEvery: 0}
          Tokens:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example
              audience: [client-1]
  Check:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        def handler(event, context):
            return {"isAuthorized": event["headers"]["authorization"] == "friend",
                    "context": {"who": "friend"}}
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        import json
        def handler(event, context):
            return {"statusCode": 200,
                    "body": json.dumps(event["requestContext"].get("authorizer"))}
      Events:
        Simple: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /simple, Method: get}}
        Jwt:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /jwt, Method: get, Auth: {Authorizer: Tokens}}
        Open:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /open, Method: get, Auth: {Authorizer: NONE}}
"""


def test_a_sam_http_api_s_authorizers_are_imported_and_enforced(sb, tmp_path):
    """An HttpApi's Auth, imported from its OpenAPI body: a Lambda authorizer with simple
    responses, a JWT authorizer, and a route SAM leaves open (``NONE``)."""
    sandbox.deploy(_template(tmp_path, HTTP_AUTHORIZED), stack_name="http-authorized")
    v2 = boto3.client("apigatewayv2")
    api_id = v2.get_apis()["Items"][0]["ApiId"]
    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
    assert routes["GET /simple"]["AuthorizationType"] == "CUSTOM"
    assert routes["GET /jwt"]["AuthorizationType"] == "JWT"
    simple, tokens = (v2.get_authorizer(ApiId=api_id, AuthorizerId=routes[key]["AuthorizerId"])
                      for key in ("GET /simple", "GET /jwt"))
    assert (simple["Name"], simple["AuthorizerType"]) == ("Simple", "REQUEST")
    assert simple["IdentitySource"] == ["$request.header.Authorization"]
    assert (tokens["Name"], tokens["AuthorizerType"]) == ("Tokens", "JWT")
    assert tokens["JwtConfiguration"]["Audience"] == ["client-1"]
    listed = v2.get_authorizers(ApiId=api_id)["Items"]
    assert sorted(a["Name"] for a in listed) == ["Simple", "Tokens"]
    assert routes["GET /open"].get("AuthorizationType", "NONE") == "NONE"
    url = sb.api_url(api_id, "$default")
    assert _get(url + "/simple")[0] == 401  # no identity: the authorizer is not called
    assert _get(url + "/simple", {"Authorization": "stranger"})[0] == 403
    status, body = _get(url + "/simple", {"Authorization": "friend"})
    assert (status, body) == (200, {"lambda": {"who": "friend"}})
    assert _get(url + "/jwt")[0] == 401  # no token
    assert _get(url + "/open")[0] == 200


FAILING = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Queue:
    Type: AWS::SQS::Queue
  Slow:
    Type: AWS::Lambda::Function
    DependsOn: Queue
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Timeout: 901
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context): return 1"
"""


def test_a_resource_that_fails_rolls_the_stack_back_with_its_events(sb, tmp_path):
    with pytest.raises(StackDeployError) as raised:
        sandbox.deploy(_template(tmp_path, FAILING), stack_name="broken")
    assert raised.value.status == "ROLLBACK_COMPLETE"
    # the resource's reason is Lambda's own validation error
    assert "Slow: 1 validation error detected: Value '901' at 'timeout'" in str(raised.value)
    cfn = boto3.client("cloudformation")
    events = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(
        cfn.describe_stack_events(StackName="broken")["StackEvents"])]
    assert events.index(("Slow", "CREATE_FAILED")) < events.index(
        ("broken", "ROLLBACK_IN_PROGRESS")) < events.index(("Queue", "DELETE_COMPLETE"))
    assert events[-1] == ("broken", "ROLLBACK_COMPLETE")
    (stack,) = cfn.describe_stacks(StackName="broken")["Stacks"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE" and "Outputs" not in stack
    # nothing the stack made is left
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert [r for r in boto3.client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith("broken-")] == []
    # the next deploy replaces the failed stack, as one must on AWS (delete, then create)
    fixed = _template(tmp_path, FAILING.replace("Timeout: 901", "Timeout: 30"))
    assert sandbox.deploy(fixed, stack_name="broken").status == "CREATE_COMPLETE"


def test_a_failed_update_is_reported_with_the_resource_s_reason(sb, tmp_path):
    path = _template(tmp_path, FAILING.replace("Timeout: 901", "Timeout: 30"))
    sandbox.deploy(path, stack_name="updated")
    path.write_text(FAILING)
    with pytest.raises(StackDeployError) as raised:
        sandbox.deploy(path, stack_name="updated")
    assert raised.value.status == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in raised.value.events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Slow"]
    assert "Value '901' at 'timeout'" in failed[0]["ResourceStatusReason"]
    function = boto3.client("lambda").list_functions()["Functions"][0]
    assert function["Timeout"] == 30  # the update did not happen


STABLE = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 30}
  Old:
    Type: AWS::SQS::Queue
  Slow:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Timeout: 30
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context): return 1"
Outputs:
  JobsUrl: {Value: !Ref Jobs}
"""
# the next version: Jobs changed, Old dropped, New added, and Slow's update fails
BROKEN = (STABLE.replace("VisibilityTimeout: 30", "VisibilityTimeout: 60")
          .replace("  Old:\n    Type: AWS::SQS::Queue\n", "  New:\n    Type: AWS::SQS::Queue\n")
          .replace("Timeout: 30\n", "Timeout: 901\n")
          .replace("  JobsUrl: {Value: !Ref Jobs}\n", "  NewUrl: {Value: !Ref New}\n"))


def test_a_failed_update_is_undone_resource_by_resource(sb, tmp_path):
    """"Monitor stack progress": a failed update rolls back (UPDATE_ROLLBACK_IN_PROGRESS) to the
    last known stable state: a resource the update changed is updated back, one it made is
    deleted, one the new template dropped is still there (it would have gone in the clean-up,
    after every update had succeeded), and the stack keeps its previous template and outputs."""
    path = _template(tmp_path, STABLE)
    sandbox.deploy(path, stack_name="undone")
    sqs = boto3.client("sqs")
    names = {url.rsplit("/", 1)[1].split("-")[1]: url for url in sqs.list_queues()["QueueUrls"]}
    assert sorted(names) == ["Jobs", "Old"]
    path.write_text(BROKEN)
    with pytest.raises(StackDeployError) as raised:
        sandbox.deploy(path, stack_name="undone")
    assert raised.value.status == "UPDATE_ROLLBACK_COMPLETE"
    after = {url.rsplit("/", 1)[1].split("-")[1]: url for url in sqs.list_queues()["QueueUrls"]}
    assert sorted(after) == ["Jobs", "Old"]  # New deleted, Old kept
    attributes = sqs.get_queue_attributes(QueueUrl=after["Jobs"],
                                          AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"  # changed to 60, then back
    cfn = boto3.client("cloudformation")
    (stack,) = cfn.describe_stacks(StackName="undone")["Stacks"]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert [o["OutputKey"] for o in stack["Outputs"]] == ["JobsUrl"]
    assert "Old" in cfn.get_template(StackName="undone")["TemplateBody"]["Resources"]
    events = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
              for e in reversed(cfn.describe_stack_events(StackName="undone")["StackEvents"])]
    statuses = [(logical_id, status) for logical_id, status, _ in events]
    rollback = statuses.index(("undone", "UPDATE_ROLLBACK_IN_PROGRESS"))
    assert events[rollback][2] == "The following resource(s) failed to update: [Slow]."
    assert statuses.index(("Slow", "UPDATE_FAILED")) < rollback
    assert ("New", "DELETE_COMPLETE") in statuses[rollback:]
    assert statuses[rollback:].count(("Jobs", "UPDATE_COMPLETE")) == 1  # put back
    assert statuses[-2:] == [("undone", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
                             ("undone", "UPDATE_ROLLBACK_COMPLETE")]
    # the stack can be updated again, and then the dropped queue goes, in the clean-up
    path.write_text(BROKEN.replace("Timeout: 901", "Timeout: 60"))
    assert sandbox.deploy(path, stack_name="undone").status == "UPDATE_COMPLETE"
    final = {url.rsplit("/", 1)[1].split("-")[1] for url in sqs.list_queues()["QueueUrls"]}
    assert sorted(final) == ["Jobs", "New"]
    events = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(
        cfn.describe_stack_events(StackName="undone")["StackEvents"])]
    assert events.index(("Old", "DELETE_COMPLETE")) > events.index(("New", "CREATE_COMPLETE"))


def test_update_stack_rolls_back_the_same_way(sb, tmp_path):
    """UpdateStack (without a change set) answers with the stack's id; the failure shows in the
    stack's status, and the update is undone as with a change set."""
    cfn = boto3.client("cloudformation")
    cfn.create_stack(StackName="direct", TemplateBody=STABLE, Capabilities=["CAPABILITY_IAM"])
    answer = cfn.update_stack(StackName="direct", TemplateBody=BROKEN,
                              Capabilities=["CAPABILITY_IAM"])
    assert answer["StackId"].startswith("arn:aws:cloudformation:")
    (stack,) = cfn.describe_stacks(StackName="direct")["Stacks"]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    sqs = boto3.client("sqs")
    names = sorted(url.rsplit("/", 1)[1].split("-")[1] for url in sqs.list_queues()["QueueUrls"])
    assert names == ["Jobs", "Old"]
    assert boto3.client("lambda").list_functions()["Functions"][0]["Timeout"] == 30
    assert "  Old:\n" in cfn.get_template(StackName="direct")["TemplateBody"]  # the YAML given


def test_a_function_without_the_policy_is_denied_by_iam(sb, tmp_path):
    folder = _copy("api-table", tmp_path)
    template = folder / "template.yaml"
    text = template.read_text()
    template.write_text(text.replace(
        "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref ItemsTable\n",
        ""))
    assert "DynamoDBCrudPolicy" not in template.read_text()
    deployment = sandbox.deploy(folder)
    status, _ = _http(deployment["ItemsApi"] + "1", b"{}", "PUT")
    assert status == 502  # the function failed: its role may not write to the table
    denial = sb.iam.decisions(denied=True)[-1]
    assert "dynamodb:PutItem" in str(denial)


def test_delete_stack_removes_everything_it_made(sb):
    deployment = sandbox.deploy(TEMPLATES / "api-table", stack_name="gone")
    cfn = boto3.client("cloudformation")
    cfn.delete_stack(StackName="gone")
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []
    assert boto3.client("apigateway").get_rest_apis()["items"] == []
    assert [r for r in boto3.client("iam").list_roles()["Roles"]
            if r["RoleName"].startswith("gone-")] == []
    assert cfn.list_exports()["Exports"] == []
    assert _http(deployment["ItemsApi"] + "1")[0] in (403, 404)


def test_a_bucket_with_objects_fails_the_deletion_until_it_is_emptied(sb):
    deployment = sandbox.deploy(TEMPLATES / "s3-pipeline", stack_name="kept")
    s3 = boto3.client("s3")
    s3.put_object(Bucket=deployment["OutputBucketName"], Key="left.txt", Body=b"x")
    cfn = boto3.client("cloudformation")
    cfn.delete_stack(StackName="kept")  # accepted, as on AWS; the stack then fails
    (stack,) = cfn.describe_stacks(StackName="kept")["Stacks"]
    assert stack["StackStatus"] == "DELETE_FAILED"
    reason = cfn.describe_stack_events(StackName="kept")["StackEvents"][0][
        "ResourceStatusReason"]
    assert "The bucket you tried to delete is not empty" in reason
    s3.delete_object(Bucket=deployment["OutputBucketName"], Key="left.txt")
    cfn.delete_stack(StackName="kept")
    assert _stack_names() == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [ARTIFACT_BUCKET]


INTRINSICS = """\
Parameters:
  Names:
    Type: CommaDelimitedList
    Default: "alpha,beta"
Mappings:
  Sizes:
    us-east-1: {Retention: 120}
Conditions:
  Never: !Equals [!Ref "AWS::Region", mars-1]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Select [1, !Ref Names], !Ref "AWS::AccountId"]]
      MessageRetentionPeriod: !FindInMap [Sizes, !Ref "AWS::Region", Retention]
  Skipped:
    Type: AWS::SQS::Queue
    Condition: Never
Outputs:
  Url:
    Value: !Ref Queue
    Export: {Name: !Sub "${AWS::StackName}-url"}
  Where:
    Value: !Sub "${AWS::Region}/${AWS::Partition}/${Queue.QueueName}"
"""


def test_intrinsics_conditions_and_exports(sb, tmp_path):
    deployment = sandbox.deploy(_template(tmp_path, INTRINSICS), stack_name="intrinsic")
    assert deployment["Url"].endswith("/123456789012/beta-123456789012")
    assert deployment["Where"] == "us-east-1/aws/beta-123456789012"
    (url,) = boto3.client("sqs").list_queues()["QueueUrls"]  # the false Condition made none
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "120"
    (tmp_path / "consumer").mkdir()
    consumer = _template(tmp_path / "consumer",
                         "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
                         "    Properties:\n      TopicName: !Select [4, !Split ['/', "
                         "!ImportValue intrinsic-url]]\n")
    sandbox.deploy(consumer, stack_name="consumer")
    topics = boto3.client("sns").list_topics()["Topics"]
    assert [t["TopicArn"].split(":")[-1] for t in topics] == ["beta-123456789012"]


# ---------------------------------------------------------------------- course deploy
def test_course_deploy_deploys_into_the_served_sandbox(sb, monkeypatch, capsys):
    from sandbox import cli, client

    monkeypatch.setenv("SANDBOX_ENDPOINT", sb.endpoint_url)
    monkeypatch.setenv("SANDBOX_TOKEN", sb.admin._token)
    monkeypatch.setattr(client, "_current", sb)  # the running one, as start() would attach
    assert cli.main(["deploy", str(TEMPLATES / "scheduled"), "--param", "Environment=prod",
                     "--stack-name", "nightly"]) == 0
    printed = capsys.readouterr().out
    assert "Add      AWS::Lambda::Function" in printed
    assert "Stack nightly: CREATE_COMPLETE" in printed
    assert "FunctionArn = arn:aws:lambda:us-east-1:123456789012:function:nightly-" in printed
    assert cli.main(["deploy", str(TEMPLATES / "scheduled"), "--param", "Environment=prod",
                     "--stack-name", "nightly"]) == 0
    assert "No changes to deploy" in capsys.readouterr().out
    assert cli.main(["deploy", str(TEMPLATES / "scheduled"), "--param", "Environment"]) == 2
    assert "--param expects KEY=VALUE" in capsys.readouterr().err
    monkeypatch.delenv("SANDBOX_ENDPOINT")
    assert cli.main(["deploy", str(TEMPLATES / "scheduled")]) == 2
    assert "Run 'course serve' in another terminal" in capsys.readouterr().err


def test_deploying_keeps_moto_and_the_translator_out_of_the_notebook():
    # the notebook packages and calls CloudFormation's API; the server transforms and deploys
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", (
        "import sys, sandbox.deployment\n"
        "print([m for m in ('moto', 'samtranslator') if m in sys.modules])")],
        capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stderr


SECRET_AND_GROUP = """\
Resources:
  Credentials:
    Type: AWS::SecretsManager::Secret
    Properties:
      Description: the database's master user
      GenerateSecretString:
        SecretStringTemplate: '{"username": "admin"}'
        GenerateStringKey: password
        PasswordLength: 20
        ExcludeCharacters: '"@/\\\\'
  Plain:
    Type: AWS::SecretsManager::Secret
    Properties: {Name: plain-secret, SecretString: s3cret}
  Group:
    Type: AWS::Scheduler::ScheduleGroup
    Properties: {Name: nightly}
Outputs:
  SecretArn: {Value: !Ref Credentials}
  GroupName: {Value: !Ref Group}
  GroupArn: {Value: !GetAtt Group.Arn}
"""


def test_secrets_and_schedule_groups_are_made_and_removed(sb, tmp_path):
    """AWS::SecretsManager::Secret (Ref: its ARN; GenerateSecretString as GetRandomPassword, in
    the template's JSON) and AWS::Scheduler::ScheduleGroup (Ref: its name; GetAtt Arn), as the
    CloudFormation template reference describes them."""
    outputs = sandbox.deploy(_template(tmp_path, SECRET_AND_GROUP), stack_name="secrets")
    secrets = boto3.client("secretsmanager")
    generated = json.loads(secrets.get_secret_value(SecretId=outputs["SecretArn"])["SecretString"])
    assert generated["username"] == "admin"
    assert len(generated["password"]) == 20 and not set(generated["password"]) & set('"@/\\')
    assert secrets.get_secret_value(SecretId="plain-secret")["SecretString"] == "s3cret"
    assert outputs["GroupName"] == "nightly"
    assert outputs["GroupArn"] == boto3.client("scheduler").get_schedule_group(
        Name="nightly")["Arn"]
    boto3.client("cloudformation").delete_stack(StackName="secrets")
    assert secrets.list_secrets()["SecretList"] == []
    names = [g["Name"] for g in boto3.client("scheduler").list_schedule_groups()["ScheduleGroups"]]
    assert "nightly" not in names
