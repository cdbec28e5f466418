"""``course samples``: folders deployed unchanged and driven by a drive file's steps.

The samples here are the project's own sample-shaped templates (tests/templates/, written for
these tests), copied into a temporary folder with a samples.json beside them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sandbox import cli
from sandbox.samples import find_samples, run_samples, table

TEMPLATES = Path(__file__).parent / "templates"


def _samples(tmp_path: Path, names: list[str], drive: dict | None = None) -> Path:
    for name in names:
        shutil.copytree(TEMPLATES / name, tmp_path / name)
    if drive is not None:
        (tmp_path / "samples.json").write_text(json.dumps(drive))
    return tmp_path


def test_samples_are_the_folders_holding_a_template(tmp_path):
    root = _samples(tmp_path, ["sqs-worker", "state-machine"])
    (root / "notes").mkdir()
    (root / "notes" / "README.md").write_text("not a sample")
    assert [p.name for p in find_samples(root)] == ["sqs-worker", "state-machine"]
    assert find_samples(root / "sqs-worker") == [root / "sqs-worker"]


def test_steps_drive_a_sample_as_its_readme_does(sb, tmp_path):
    root = _samples(tmp_path, ["sqs-worker", "state-machine"], {
        "sqs-worker": {"parameters": {"MaxReceiveCount": 3}, "steps": [
            {"send_message": "WorkQueue", "body": {"id": "job-1"}},
            {"settle": True},
            {"expect_items": "ResultsTable", "min": 1},
            {"expect_logs": "WorkerFunction", "contains": "REPORT RequestId"},
        ]},
        "state-machine": {"steps": [
            {"start_execution": "${Output:StateMachineArn}", "input": {"quantity": 2}},
            {"start_execution": "OrderStateMachine", "input": {"quantity": 0},
             "expect_status": "FAILED"},
            {"wait_executions": "OrderStateMachine"},
        ]},
    })
    results = run_samples(root)
    assert [(r.name, r.status) for r in results] == [("sqs-worker", "passed"),
                                                      ("state-machine", "passed")], \
        table(results)
    assert [s.ok for s in results[0].steps] == [True] * 4


def test_a_failing_step_makes_the_sample_partly_and_says_why(sb, tmp_path):
    root = _samples(tmp_path, ["state-machine"], {"state-machine": {"steps": [
        {"start_execution": "OrderStateMachine", "input": {"quantity": 0}},
        {"invoke": "NoSuchFunction", "event": {}},
    ]}})
    [result] = run_samples(root)
    assert result.status == "partly"
    first, second = result.steps
    assert not first.ok and "FAILED" in first.detail and "InvalidOrder" in first.detail
    assert not second.ok and "ResourceNotFoundException" in second.detail
    assert "| state-machine | partly |" in table([result])


def test_a_sample_that_does_not_deploy_failed_with_the_stacks_reason(sb, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "template.yaml").write_text(
        "Resources:\n  Thing:\n    Type: AWS::Nonexistent::Thing\n")
    [result] = run_samples(tmp_path)
    assert result.status == "failed"
    assert result.detail.startswith("deploy:") and "AWS::Nonexistent::Thing" in result.detail


def test_without_steps_state_machines_run_and_api_urls_answer(sb, tmp_path):
    root = _samples(tmp_path, ["api-table"])
    [result] = run_samples(root)
    # GET on the items URL answers (the function's own 4xx for a missing id is an answer)
    assert result.status == "passed", table([result])
    assert any(step.name == "http GET" and step.ok for step in result.steps)


def test_the_command_prints_the_table_and_writes_json(sb, tmp_path, capsys):
    root = _samples(tmp_path / "samples", ["sqs-worker"], {"sqs-worker": {"steps": [
        {"invoke": "WorkerFunction", "event": {"Records": []}}]}})
    out = tmp_path / "results.json"
    assert cli.main(["samples", str(root), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| sqs-worker | passed |" in printed and "1 passed, 0 partly, 0 failed" in printed
    assert json.loads(out.read_text())[0]["status"] == "passed"


# ---------------------------------------------------------------- what running public samples fixed
def test_an_aws_include_of_a_local_file_is_put_in_place(sb, tmp_path):
    # CloudFormation User Guide, "AWS::Include transform": the snippet at Location replaces the
    # Fn::Transform; sam package uploads a local Location first
    import sandbox

    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.1\ninfo: {title: included, version: '1'}\npaths:\n  /:\n    get:\n"
        "      x-amazon-apigateway-integration:\n        type: mock\n"
        "        requestTemplates: {application/json: '{\"statusCode\": 200}'}\n"
        "        responses: {default: {statusCode: '200'}}\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Api:\n"
        "    Type: AWS::Serverless::Api\n    Properties:\n      StageName: dev\n"
        "      DefinitionBody:\n        Fn::Transform:\n          Name: AWS::Include\n"
        "          Parameters: {Location: ./api.yaml}\n")
    sandbox.deploy(tmp_path, stack_name="included")
    import boto3

    [api] = boto3.client("apigateway").get_rest_apis()["items"]
    assert api["name"] == "included"


def test_a_rules_event_bus_name_may_be_a_ref_to_the_bus(sb, tmp_path):
    # AWS::Events::EventBus, "Return values": Ref returns the bus's name
    import boto3

    import sandbox

    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Bus:\n    Type: AWS::Events::EventBus\n    Properties: {Name: bank}\n"
        "  Rule:\n    Type: AWS::Events::Rule\n    Properties:\n      EventBusName: !Ref Bus\n"
        "      EventPattern: {source: [atm.events]}\n"
        "Outputs:\n  BusName:\n    Value: !Ref Bus\n")
    deployment = sandbox.deploy(tmp_path, stack_name="bus")
    assert deployment["BusName"] == "bank"
    [rule] = boto3.client("events").list_rules(EventBusName="bank")["Rules"]
    assert rule["EventBusName"] == "bank"


def test_an_http_api_event_without_path_is_the_default_route(sb, tmp_path):
    # SAM, "HttpApi" event: without Path and Method the route is $default, which API Gateway
    # matches for any request no other route matches ("Working with routes for HTTP APIs")
    import urllib.request

    import boto3

    import sandbox

    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: index.handler\n"
        "      Runtime: python3.12\n      InlineCode: |\n        def handler(event, context):\n"
        "            return {'statusCode': 200, 'body': event['routeKey']}\n"
        "      Events:\n        Any:\n          Type: HttpApi\n")
    sandbox.deploy(tmp_path, stack_name="catchall")
    [api] = boto3.client("apigatewayv2").get_apis()["Items"]
    [route] = boto3.client("apigatewayv2").get_routes(ApiId=api["ApiId"])["Items"]
    assert route["RouteKey"] == "$default"
    with urllib.request.urlopen(sb.api_url(api["ApiId"], "$default") + "/any/path") as answer:
        assert (answer.status, answer.read()) == (200, b"$default")


def test_an_openapi_sqs_send_message_integration_keeps_its_subtype_and_parameters(sb, tmp_path):
    # "x-amazon-apigateway-integration object": integrationSubtype, credentials and
    # requestParameters make a first-class SQS-SendMessage integration
    import urllib.request

    import boto3

    import sandbox

    (tmp_path / "template.yaml").write_text("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Queue:
    Type: AWS::SQS::Queue
  ApiRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: apigateway.amazonaws.com},
                     Action: sts:AssumeRole}]
      Policies:
        - PolicyName: send
          PolicyDocument:
            Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}]
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionBody:
        openapi: 3.0.1
        info: {title: storage-first}
        paths:
          /:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                integrationSubtype: SQS-SendMessage
                credentials: !GetAtt ApiRole.Arn
                payloadFormatVersion: '1.0'
                requestParameters:
                  MessageBody: $request.body
                  QueueUrl: !Ref Queue
Outputs:
  QueueUrl:
    Value: !Ref Queue
""")
    deployment = sandbox.deploy(tmp_path, stack_name="storage-first")
    [api] = boto3.client("apigatewayv2").get_apis()["Items"]
    [integration] = boto3.client("apigatewayv2").get_integrations(ApiId=api["ApiId"])["Items"]
    assert (integration["IntegrationType"], integration["IntegrationSubtype"]) == \
        ("AWS_PROXY", "SQS-SendMessage")
    request = urllib.request.Request(sb.api_url(api["ApiId"], "$default") + "/",
                                     data=b'{"order": 1}', method="POST")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    [message] = boto3.client("sqs").receive_message(QueueUrl=deployment["QueueUrl"])["Messages"]
    assert message["Body"] == '{"order": 1}'


def test_a_templates_boolean_environment_variable_reaches_the_function_as_text(sb, tmp_path):
    # CloudFormation passes YAML scalars to string properties as strings: `false` is "false"
    import sandbox
    from sandbox.testing import invoke

    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Handler: index.handler\n"
        "      Runtime: python3.12\n      FunctionName: flags\n"
        "      Environment: {Variables: {SIMULATE_FAILURE: false, RETRIES: 3}}\n"
        "      InlineCode: |\n        import os\n        def handler(event, context):\n"
        "            return [os.environ['SIMULATE_FAILURE'], os.environ['RETRIES']]\n")
    sandbox.deploy(tmp_path, stack_name="flags")
    assert invoke("flags")["Payload"] == ["false", "3"]


def test_a_method_resource_keeps_its_integration_responses_and_a_mock_needs_no_verb(sb, tmp_path):
    # AWS::ApiGateway::Method: Integration.IntegrationResponses (a response without
    # SelectionPattern is the default) and MethodResponses; a MOCK integration has no
    # IntegrationHttpMethod
    import urllib.request

    import sandbox

    (tmp_path / "template.yaml").write_text("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: plain}
  Hello:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: hello}
  Get:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Hello
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: AWS
        IntegrationHttpMethod: POST
        Uri: !Sub
          - arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${F}/invocations
          - {F: !GetAtt Fn.Arn}
        IntegrationResponses:
          - StatusCode: '200'
            ResponseParameters: {method.response.header.Access-Control-Allow-Origin: "'*'"}
      MethodResponses:
        - StatusCode: '200'
          ResponseParameters: {method.response.header.Access-Control-Allow-Origin: true}
  Options:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Hello
      HttpMethod: OPTIONS
      AuthorizationType: NONE
      Integration:
        Type: MOCK
        RequestTemplates: {application/json: '{"statusCode": 200}'}
        IntegrationResponses: [{StatusCode: '204'}]
      MethodResponses: [{StatusCode: '204'}]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      InlineCode: |
        def handler(event, context):
            return {"message": "hello"}
  Permission:
    Type: AWS::Lambda::Permission
    Properties: {Action: lambda:InvokeFunction, FunctionName: !Ref Fn,
                 Principal: apigateway.amazonaws.com}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: [Get, Options]
    Properties: {RestApiId: !Ref Api, StageName: prod}
""")
    sandbox.deploy(tmp_path, stack_name="plain")
    import boto3

    [api] = boto3.client("apigateway").get_rest_apis()["items"]
    with urllib.request.urlopen(sb.api_url(api["id"], "prod") + "/hello") as answer:
        assert answer.status == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.read() == b'{"message": "hello"}'
    preflight = urllib.request.Request(sb.api_url(api["id"], "prod") + "/hello",
                                       method="OPTIONS")
    with urllib.request.urlopen(preflight) as answer:
        assert answer.status == 204
