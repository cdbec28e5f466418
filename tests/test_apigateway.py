"""API Gateway over real HTTP: deployed REST and HTTP APIs answer as AWS's do.

The event shapes are pinned against AWS's developer guide and against events recorded on AWS
(REST: header casing, raw paths, decoded query strings, no Content-Length; HTTP API: 2.0 keys,
comma-joined duplicates, cookies apart, absent parts left out)."""

from __future__ import annotations

import base64
import json
import re
import time

import boto3
import pytest
import requests

from sandbox.testing import deploy, execution_role

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(event)}
"""
ANSWER_FROM_BODY = """
import json
def handler(event, context):
    return json.loads(event["body"])
"""

REST_EVENT_KEYS = {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
                   "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                   "stageVariables", "requestContext", "body", "isBase64Encoded"}
REST_CONTEXT_KEYS = {"resourceId", "resourcePath", "httpMethod", "extendedRequestId",
                     "requestTime", "path", "accountId", "protocol", "stage", "domainPrefix",
                     "requestTimeEpoch", "requestId", "identity", "domainName", "deploymentId",
                     "apiId"}
IDENTITY_KEYS = {"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "sourceIp",
                 "principalOrgId", "accessKey", "cognitoAuthenticationType",
                 "cognitoAuthenticationProvider", "userArn", "userAgent", "user"}


def lambda_uri(arn: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


def allow_apigateway(function: str, api_id: str, pattern: str = "*", sid: str = "apigw") -> None:
    boto3.client("lambda").add_permission(
        FunctionName=function, StatementId=sid, Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/{pattern}")


class RestApi:
    """A small REST API built with plain boto3 calls, as a learner builds one."""

    def __init__(self, name: str = "shop", **kwargs):
        self.client = boto3.client("apigateway")
        self.id = self.client.create_rest_api(name=name, **kwargs)["id"]
        self.root = self.client.get_resources(restApiId=self.id)["items"][0]["id"]
        self.resources = {"/": self.root}

    def resource(self, path: str) -> str:
        parent = "/"
        for part in path.strip("/").split("/"):
            here = parent.rstrip("/") + "/" + part
            if here not in self.resources:
                self.resources[here] = self.client.create_resource(
                    restApiId=self.id, parentId=self.resources[parent], pathPart=part)["id"]
            parent = here
        return self.resources[parent]

    def proxy(self, path: str, method: str, function_arn: str, **integration) -> None:
        resource = self.resources["/"] if path == "/" else self.resource(path)
        self.client.put_method(restApiId=self.id, resourceId=resource, httpMethod=method,
                               authorizationType="NONE")
        self.client.put_integration(restApiId=self.id, resourceId=resource, httpMethod=method,
                                    type="AWS_PROXY", integrationHttpMethod="POST",
                                    uri=lambda_uri(function_arn), **integration)

    def deploy(self, stage: str = "prod", **kwargs) -> None:
        self.client.create_deployment(restApiId=self.id, stageName=stage, **kwargs)


@pytest.fixture
def echo_api(sb):
    arn = deploy("echo", ECHO)
    api = RestApi(binaryMediaTypes=["image/png"])
    api.proxy("/items/{id}", "GET", arn)
    api.proxy("/items/{id}", "POST", arn)
    api.proxy("/{proxy+}", "ANY", arn)
    allow_apigateway("echo", api.id)
    api.deploy("prod", variables={"table": "items-prod"})
    return api


# ---------------------------------------------------------------------------------- REST: events
def test_rest_event_1_0_for_path_parameters_multi_valued_query_cookies_and_binary_body(
        sb, echo_api):
    png = b"\x89PNG\r\n\x1a\n\x00\xff binary"
    response = requests.post(
        sb.api_url(echo_api.id, "prod") + "/items/a%2Bb?color=red&color=blue&q=x+y&flag",
        data=png, headers={"Content-Type": "image/png", "Cookie": "session=abc; theme=dark",
                           "authorization": "Bearer t", "X-Custom": "one"})
    assert response.status_code == 200
    event = response.json()
    assert set(event) == REST_EVENT_KEYS
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/a%2Bb"  # as sent: API Gateway does not decode the path
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"id": "a%2Bb"}
    assert event["queryStringParameters"] == {"color": "blue", "q": "x y", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {
        "color": ["red", "blue"], "q": ["x y"], "flag": [""]}
    assert event["stageVariables"] == {"table": "items-prod"}
    assert event["isBase64Encoded"] is True  # image/png is one of the API's binary media types
    assert base64.b64decode(event["body"]) == png
    headers = event["headers"]
    assert headers["Cookie"] == "session=abc; theme=dark"  # format 1.0 keeps the cookie header
    assert headers["Authorization"] == "Bearer t"  # CloudFront's casing
    assert headers["X-Custom"] == "one" and event["multiValueHeaders"]["X-Custom"] == ["one"]
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert "Content-Length" not in headers and "Connection" not in headers
    context = event["requestContext"]
    assert set(context) == REST_CONTEXT_KEYS
    assert set(context["identity"]) == IDENTITY_KEYS
    assert context["resourcePath"] == "/items/{id}"
    assert context["resourceId"] == echo_api.resources["/items/{id}"]
    assert context["path"] == "/prod/items/a%2Bb"
    assert context["stage"] == "prod" and context["apiId"] == echo_api.id
    assert context["accountId"] == "123456789012" and context["protocol"] == "HTTP/1.1"
    assert context["domainName"] == f"{echo_api.id}.execute-api.us-east-1.amazonaws.com"
    assert context["domainPrefix"] == echo_api.id
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == response.request.headers["User-Agent"]
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    stages = boto3.client("apigateway").get_stage(restApiId=echo_api.id, stageName="prod")
    assert context["deploymentId"] == stages["deploymentId"]


def test_rest_event_absent_parts_are_null_and_text_bodies_stay_text(sb, echo_api):
    event = requests.get(sb.api_url(echo_api.id, "prod") + "/items/7").json()
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    event = requests.post(sb.api_url(echo_api.id, "prod") + "/items/7",
                          json={"name": "lamp"}).json()
    assert event["body"] == '{"name": "lamp"}' and event["isBase64Encoded"] is False


def test_greedy_proxy_any_method_and_the_most_specific_resource(sb, echo_api):
    base = sb.api_url(echo_api.id, "prod")
    event = requests.delete(base + "/items/7").json()  # /items/{id} has no DELETE: {proxy+}
    assert event["resource"] == "/{proxy+}" and event["pathParameters"] == {"proxy": "items/7"}
    event = requests.put(base + "/a/b//c/").json()
    assert event["pathParameters"] == {"proxy": "a/b//c"} and event["path"] == "/a/b//c/"
    event = requests.get(base + "/items/7").json()
    assert event["resource"] == "/items/{id}"


def test_unknown_routes_and_stages_answer_as_aws_does(sb, echo_api):
    response = requests.get(sb.api_url(echo_api.id, "prod") + "/")  # root has no method
    assert response.status_code == 403
    assert response.text == '{"message":"Missing Authentication Token"}'
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    response = requests.get(sb.api_url(echo_api.id, "staging") + "/items/1")
    assert response.status_code == 403 and response.json() == {"message": "Forbidden"}
    response = requests.get(sb.api_url("nosuchapi", "prod") + "/items/1")
    assert response.status_code == 404 and "nosuchapi" in response.json()["message"]


def test_a_stage_serves_its_deployment_until_the_api_is_redeployed(sb):
    arn = deploy("echo", ECHO)
    api = RestApi()
    api.proxy("/old", "GET", arn)
    allow_apigateway("echo", api.id)
    api.deploy("prod", variables={"v": "1"})
    api.proxy("/new", "GET", arn)
    base = sb.api_url(api.id, "prod")
    assert requests.get(base + "/new").status_code == 403  # not deployed yet
    api.deploy("prod")
    assert requests.get(base + "/new").status_code == 200
    # redeploying keeps the stage's own settings (moto would replace the stage)
    assert requests.get(base + "/new").json()["stageVariables"] == {"v": "1"}


def test_stage_variables_can_name_the_function(sb):
    deploy("hello-blue", "def handler(e, c):\n    return {'statusCode': 200, 'body': 'blue'}\n")
    deploy("hello-green", "def handler(e, c):\n    return {'statusCode': 200, 'body': 'green'}\n")
    api = RestApi()
    resource = api.resource("/hello")
    api.client.put_method(restApiId=api.id, resourceId=resource, httpMethod="GET",
                          authorizationType="NONE")
    api.client.put_integration(
        restApiId=api.id, resourceId=resource, httpMethod="GET", type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=lambda_uri("arn:aws:lambda:us-east-1:123456789012:function:"
                       "hello-${stageVariables.color}"))
    for color in ("blue", "green"):
        allow_apigateway(f"hello-{color}", api.id)
        api.deploy(color, variables={"color": color})
    assert requests.get(sb.api_url(api.id, "blue") + "/hello").text == "blue"
    assert requests.get(sb.api_url(api.id, "green") + "/hello").text == "green"


def test_the_aws_url_reaches_the_same_api_through_requests(sb, echo_api):
    response = requests.get(
        f"https://{echo_api.id}.execute-api.us-east-1.amazonaws.com/prod/items/9?x=1")
    assert response.status_code == 200
    event = response.json()
    assert event["pathParameters"] == {"id": "9"}
    assert event["headers"]["Host"] == f"{echo_api.id}.execute-api.us-east-1.amazonaws.com"
    assert event["headers"]["X-Forwarded-Proto"] == "https"
    assert event["headers"]["X-Forwarded-Port"] == "443"
    assert event["requestContext"]["path"] == "/prod/items/9"


# ---------------------------------------------------------------------------------- REST: responses
@pytest.fixture
def answer_api(sb):
    arn = deploy("answer", ANSWER_FROM_BODY)
    api = RestApi()
    api.proxy("/{proxy+}", "ANY", arn)
    allow_apigateway("answer", api.id)
    api.deploy("test")
    return sb.api_url(api.id, "test") + "/answer"


def answer(url: str, body, **kwargs) -> requests.Response:
    return requests.post(url, json=body, **kwargs)


def test_the_1_0_response_contract(answer_api):
    response = answer(answer_api, {"statusCode": 201, "body": "made",
                                   "headers": {"X-Bool": True, "Location": "/items/1"}})
    assert (response.status_code, response.text) == (201, "made")
    assert response.headers["X-Bool"] == "true" and response.headers["Location"] == "/items/1"
    assert response.headers["Content-Type"] == "application/json"  # the default
    response = answer(answer_api, {"statusCode": "202"})
    assert (response.status_code, response.text) == (202, "")
    response = answer(answer_api, {"headers": {"X-Only": "yes"}})
    assert response.status_code == 200  # statusCode defaults to 200
    response = answer(answer_api, {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": [
        "a=1", "b=2"], "X-Multi": ["m"]}, "headers": {"X-Multi": "solo"}})
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["X-Multi"] == "m, solo"  # both sent, multi-value first


def test_a_base64_body_is_decoded_only_for_binary_media_types(sb):
    arn = deploy("answer", ANSWER_FROM_BODY)
    api = RestApi(binaryMediaTypes=["image/*"])
    api.proxy("/{proxy+}", "ANY", arn)
    allow_apigateway("answer", api.id)
    api.deploy("test")
    url = sb.api_url(api.id, "test") + "/img"
    png = base64.b64encode(b"\x89PNG data").decode()
    reply = {"statusCode": 200, "body": png, "isBase64Encoded": True,
             "headers": {"Content-Type": "image/png"}}
    assert answer(url, reply, headers={"Accept": "image/png"}).content == b"\x89PNG data"
    reply["headers"] = {"Content-Type": "text/plain"}
    assert answer(url, reply, headers={"Accept": "text/plain"}).text == png  # left as text


@pytest.mark.parametrize("reply", [
    {"statusCode": 200, "wrongValue": "value"},
    {},
    "justAString",
    {"statusCode": "test"},
    {"statusCode": 200, "multiValueHeaders": {"X-Multi": "not-a-list"}},
    {"statusCode": 200, "body": {"not": "a string"}},
], ids=["unknown-key", "empty", "string", "bad-status", "multi-not-list", "body-not-string"])
def test_a_malformed_proxy_response_is_502(answer_api, reply):
    response = answer(answer_api, reply)
    assert response.status_code == 502
    assert response.text == '{"message": "Internal server error"}'
    assert "Malformed Lambda proxy response" in response.headers["x-sandbox-reason"]


def test_a_function_error_is_502(sb):
    arn = deploy("boom", "def handler(e, c):\n    return 1 / 0\n")
    api = RestApi()
    api.proxy("/boom", "GET", arn)
    allow_apigateway("boom", api.id)
    api.deploy()
    response = requests.get(sb.api_url(api.id, "prod") + "/boom")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert "ZeroDivisionError" in response.headers["x-sandbox-reason"]


def test_without_invoke_permission_api_gateway_answers_500(sb):
    arn = deploy("private", ECHO)
    api = RestApi()
    api.proxy("/items/{id}", "GET", arn)
    api.deploy()
    url = sb.api_url(api.id, "prod") + "/items/1"
    response = requests.get(url)
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
    assert "Invalid permissions on Lambda function" in response.headers["x-sandbox-reason"]
    allow_apigateway("private", api.id, "*/POST/items/{id}", sid="post-only")
    assert requests.get(url).status_code == 500  # the statement covers POST, not GET
    allow_apigateway("private", api.id, "prod/GET/items/{id}", sid="get")
    assert requests.get(url).status_code == 200


def test_an_integration_slower_than_the_limit_answers_504(sb):
    arn = deploy("slow", "import time\ndef handler(e, c):\n    time.sleep(3)\n"
                         "    return {'statusCode': 200}\n", Timeout=10)
    api = RestApi()
    api.proxy("/slow", "GET", arn, timeoutInMillis=500)  # below the 29 s default, as AWS allows
    allow_apigateway("slow", api.id)
    api.deploy()
    response = requests.get(sb.api_url(api.id, "prod") + "/slow")
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}


# ---------------------------------------------------------------------------------- HTTP APIs
HTTP_EVENT_KEYS = {"version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers",
                   "queryStringParameters", "requestContext", "body", "pathParameters",
                   "isBase64Encoded", "stageVariables"}
HTTP_CONTEXT_KEYS = {"accountId", "apiId", "domainName", "domainPrefix", "http", "requestId",
                     "routeKey", "stage", "time", "timeEpoch"}


class HttpApi:
    def __init__(self, name: str = "shop", **kwargs):
        self.client = boto3.client("apigatewayv2")
        self.id = self.client.create_api(Name=name, ProtocolType="HTTP", **kwargs)["ApiId"]

    def lambda_route(self, route_key: str, function_arn: str, version: str = "2.0",
                     **integration_settings) -> None:
        integration = self.client.create_integration(
            ApiId=self.id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn,
            PayloadFormatVersion=version, **integration_settings)["IntegrationId"]
        self.client.create_route(ApiId=self.id, RouteKey=route_key,
                                 Target=f"integrations/{integration}")

    def stage(self, name: str = "$default", **kwargs) -> None:
        self.client.create_stage(ApiId=self.id, StageName=name, AutoDeploy=True, **kwargs)


@pytest.fixture
def echo_http_api(sb):
    arn = deploy("echo", ECHO)
    api = HttpApi()
    api.lambda_route("GET /items/{id}", arn)
    api.lambda_route("POST /items/{id}", arn)
    api.lambda_route("ANY /{proxy+}", arn)
    allow_apigateway("echo", api.id)
    api.stage("$default", StageVariables={"table": "items"})
    return api


def send(method: str, url: str, headers: list[tuple[str, str]], body: bytes = b""):
    """A request with repeated headers, which ``requests`` cannot send; (status, headers,
    body)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.putrequest(method, parts.path + ("?" + parts.query if parts.query else ""))
    for name, value in headers + [("User-Agent", "test-agent"),
                                  ("Content-Length", str(len(body)))]:
        connection.putheader(name, value)
    connection.endheaders(body)
    answer = connection.getresponse()
    try:
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def test_http_api_event_2_0(sb, echo_http_api):
    blob = b"\x00\x01binary\xff"
    status, headers, body = send(
        "POST", sb.api_url(echo_http_api.id, "$default") + "/items/42?color=red&color=blue&q=x+y",
        [("Content-Type", "application/octet-stream"), ("Cookie", "session=abc; theme=dark"),
         ("X-Dup", "a"), ("X-Dup", "b")], blob)
    assert status == 200 and headers["apigw-requestid"]
    event = json.loads(body)
    assert set(event) == HTTP_EVENT_KEYS
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "color=red&color=blue&q=x+y"
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-dup"] == "a,b"  # lower-cased, duplicates comma-joined
    assert event["headers"]["content-type"] == "application/octet-stream"
    assert event["headers"]["content-length"] == str(len(blob))
    assert event["queryStringParameters"] == {"color": "red,blue", "q": "x y"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"table": "items"}
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == blob
    context = event["requestContext"]
    assert set(context) == HTTP_CONTEXT_KEYS
    assert context["http"] == {"method": "POST", "path": "/items/42", "protocol": "HTTP/1.1",
                               "sourceIp": "127.0.0.1", "userAgent": "test-agent"}
    assert context["routeKey"] == "POST /items/{id}" and context["stage"] == "$default"
    assert context["requestId"] == headers["apigw-requestid"]
    assert context["domainName"] == f"{echo_http_api.id}.execute-api.us-east-1.amazonaws.com"


def test_http_api_event_leaves_out_what_the_request_lacks(sb, echo_http_api):
    event = requests.get(sb.api_url(echo_http_api.id, "$default") + "/items/1").json()
    assert set(event) == HTTP_EVENT_KEYS - {"cookies", "queryStringParameters", "body"}
    assert event["rawQueryString"] == "" and event["isBase64Encoded"] is False
    event = requests.post(sb.api_url(echo_http_api.id, "$default") + "/items/1",
                          json={"a": 1}).json()
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False


def test_http_api_routes_by_aws_priorities(sb, echo_http_api):
    base = sb.api_url(echo_http_api.id, "$default")
    assert requests.get(base + "/items/1").json()["routeKey"] == "GET /items/{id}"
    event = requests.delete(base + "/items/1").json()
    assert event["routeKey"] == "ANY /{proxy+}"
    assert event["pathParameters"] == {"proxy": "items/1"}
    response = requests.get(f"https://{echo_http_api.id}.execute-api.us-east-1.amazonaws.com"
                            "/items/5")
    assert response.json()["routeKey"] == "GET /items/{id}"


def test_http_api_named_stage_and_default_route(sb):
    arn = deploy("echo", ECHO)
    api = HttpApi()
    api.lambda_route("$default", arn)
    allow_apigateway("echo", api.id)
    api.stage("dev")
    event = requests.get(
        f"https://{api.id}.execute-api.us-east-1.amazonaws.com/dev/any/path").json()
    assert event["routeKey"] == "$default" and event["rawPath"] == "/dev/any/path"
    assert event["requestContext"]["stage"] == "dev"
    assert "pathParameters" not in event
    response = requests.get(f"https://{api.id}.execute-api.us-east-1.amazonaws.com/any/path")
    assert response.status_code == 404 and response.json() == {"message": "Not Found"}


def test_http_api_payload_1_0_when_configured(sb):
    arn = deploy("echo", ECHO)
    api = HttpApi()
    api.lambda_route("GET /items/{id}", arn, version="1.0")
    allow_apigateway("echo", api.id)
    api.stage()
    event = requests.get(sb.api_url(api.id, "$default") + "/items/3?a=1&a=2",
                         headers={"X-Mixed-Case": "v"}).json()
    assert event["version"] == "1.0"
    assert event["headers"]["x-mixed-case"] == "v"  # HTTP APIs lower-case header names
    assert event["multiValueHeaders"]["x-mixed-case"] == ["v"]
    assert event["resource"] == "/items/{id}" and event["path"] == "/items/3"
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["pathParameters"] == {"id": "3"}
    assert event["requestContext"]["stage"] == "$default"


def test_http_api_2_0_response_inference_and_cookies(sb):
    deploy("answer", ANSWER_FROM_BODY)
    api = HttpApi()
    api.lambda_route("POST /answer", "arn:aws:lambda:us-east-1:123456789012:function:answer")
    allow_apigateway("answer", api.id)
    api.stage()
    url = sb.api_url(api.id, "$default") + "/answer"
    response = answer(url, {"message": "hi"})  # no statusCode: the answer is the body
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": "hi"}
    response = answer(url, "Hello from Lambda!")
    assert (response.status_code, response.text) == (200, "Hello from Lambda!")
    response = answer(url, {"statusCode": 201, "body": "made", "cookies": ["a=1", "b=2"],
                            "headers": {"X-Kind": "new"}})
    assert (response.status_code, response.text) == (201, "made")
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.headers["X-Kind"] == "new"


def test_http_api_failures(sb):
    deploy("boom", "import time\ndef handler(e, c):\n    if e['rawPath'] == '/slow':\n"
                   "        time.sleep(3)\n    return 1 / 0\n", Timeout=10)
    deploy("private", ECHO)
    api = HttpApi()
    api.lambda_route("GET /boom", "arn:aws:lambda:us-east-1:123456789012:function:boom")
    api.lambda_route("GET /slow", "arn:aws:lambda:us-east-1:123456789012:function:boom",
                     TimeoutInMillis=500)  # below the 30 s default, as AWS allows
    api.lambda_route("GET /private", "arn:aws:lambda:us-east-1:123456789012:function:private")
    allow_apigateway("boom", api.id)
    api.stage()
    base = sb.api_url(api.id, "$default")
    response = requests.get(base + "/boom")
    assert (response.status_code, response.text) == (500,
                                                     '{"message":"Internal Server Error"}')
    assert requests.get(base + "/private").status_code == 500
    assert requests.get(base + "/nowhere").json() == {"message": "Not Found"}
    response = requests.get(base + "/slow")
    assert (response.status_code, response.json()) == (503, {"message": "Service Unavailable"})


def test_http_api_cors_configuration(sb):
    arn = deploy("echo", ECHO)
    api = HttpApi(CorsConfiguration={"AllowOrigins": ["http://localhost:8000"],
                                     "AllowMethods": ["GET", "POST"],
                                     "AllowHeaders": ["content-type"], "MaxAge": 300})
    api.lambda_route("GET /items", arn)
    allow_apigateway("echo", api.id)
    api.stage()
    url = sb.api_url(api.id, "$default") + "/items"
    preflight = requests.options(url, headers={
        "Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:8000"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    assert preflight.headers["access-control-max-age"] == "300"
    response = requests.get(url, headers={"Origin": "http://localhost:8000"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:8000"
    other = requests.get(url, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_api_url_names_the_loopback_server(sb):
    assert sb.api_url("abc123", "prod") == f"{sb.endpoint_url}/restapis/abc123/prod/_user_request_"
    assert sb.api_url("abc123", "prod").startswith("http://127.0.0.1:")


# ---------------------------------------------------------------------------------- REST: other
def test_mapping_templates():
    from sandbox.apigateway.templates import Input, Util, render

    body = json.dumps({"name": "lamp", "tags": ["a", "b"], "price": 12}).encode()
    variables = {"input": Input(body, {"path": {"id": "7"}, "querystring": {"q": "x"},
                                       "header": {"X-Key": "k"}}),
                 "context": {"requestId": "r-1", "identity": {"sourceIp": "1.2.3.4"}},
                 "stageVariables": {"table": "t"}, "util": Util()}
    template = """{"all": $input.json('$'), "name": "$input.path('$.name')",
#set($n = $input.path('$.price') + 1)
"next": $n, "id": "$input.params('id')", "q": "$input.params().querystring.q",
"key": "$input.params('x-key')", "ip": "$context.identity.sourceIp",
"req": "${context.requestId}", "table": "$stageVariables.table", "missing": "$!nothing",
"tags": [#foreach($t in $input.path('$.tags'))"$t"#if($foreach.hasNext),#end#end],
#if($input.path('$.price') > 10)"dear": true#else"dear": false#end,
"escaped": "$util.escapeJavaScript('say "hi"')"}"""
    rendered = json.loads(render(template, variables))
    assert rendered == {"all": {"name": "lamp", "tags": ["a", "b"], "price": 12},
                        "name": "lamp", "next": 13, "id": "7", "q": "x", "key": "k",
                        "ip": "1.2.3.4", "req": "r-1", "table": "t", "missing": "",
                        "tags": ["a", "b"], "dear": True, "escaped": 'say "hi"'}


@pytest.mark.parametrize(("template", "expected"), [
    # directives: #if / #elseif / #else, #foreach with $foreach, #break, #set into a map
    ("#if($n > 5)big#elseif($n > 2)middle#{else}small#end", "middle"),
    ("#foreach($x in [1, 2, 3])$foreach.index/$foreach.count:$x#if($foreach.hasNext),#end#end",
     "0/1:1,1/2:2,2/3:3"),
    ("#foreach($x in [1, 2, 3])#if($x == 2)#break#end$x#end", "1"),
    ("#set($m = {'a': 1})\n#set($m.b = $m.a + 1)\n$m.b $m.size()", "2 2"),
    # comments (a line comment takes its line end with it) and escapes
    ("a## to the end of the line\nb#* a block\ncomment *#c \\$n \\#if", "abc $n #if"),
    # literals: single quotes are literal, double quotes interpolate
    ("#set($s = 'n is $n')#set($d = \"n is $n\")$s / $d", "n is $n / n is 3"),
    ("#set($l = [1, 'two', true])$l $l.size() $l.get(1)", "[1, two, true] 3 two"),
    # operators: integer division, precedence, unary minus, word forms, == across types
    ("#set($x = 7 / 2 + 2 * 3 - -1)$x", "10"),
    ("#if($n == '3' && !($n != 3) and not false || $missing)yes#end", "yes"),
    ("#if($missing)yes#{else}no#end$!missing", "no"),
    # methods on strings and maps
    ("#set($t = ' Hi ')$t.trim().toUpperCase() $t.length() $t.contains('i')", "HI 4 true"),
    ("#set($m = {'k': 'v'})#foreach($key in $m.keySet())$key=$m.get($key)#end", "k=v"),
    ("#set($m = {'a': 1, 'b': 2})#foreach($value in $m)$value#end", "12"),  # a map: its values
])
def test_mapping_template_language(template, expected):
    from sandbox.apigateway.templates import render

    assert render(template, {"n": 3}) == expected


@pytest.mark.parametrize(("template", "error"), [
    ("#if($n)yes", "line 1: #end missing"),
    ("\n#else", "line 2: #else without #if"),
    ("#set($n = )", "line 1: unexpected ')'"),
    ("'$n' #foreach($x $list)#end", "line 1: #foreach($item in $list) expected"),
])
def test_mapping_template_errors(template, error):
    from sandbox.apigateway.templates import TemplateError, render

    with pytest.raises(TemplateError, match=re.escape(f"Invalid mapping template, {error}")):
        render(template, {"n": 3})


def _mock_method(api: RestApi, path: str, method: str, *, request_template: str | None,
                 status: str, response_template: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
    resource = api.resources["/"] if path == "/" else api.resource(path)
    c = api.client
    c.put_method(restApiId=api.id, resourceId=resource, httpMethod=method,
                 authorizationType="NONE")
    c.put_integration(restApiId=api.id, resourceId=resource, httpMethod=method, type="MOCK",
                      requestTemplates={"application/json": request_template}
                      if request_template else {})
    c.put_method_response(restApiId=api.id, resourceId=resource, httpMethod=method,
                          statusCode=status,
                          responseParameters={f"method.response.header.{h}": False
                                              for h in headers or {}})
    c.put_integration_response(
        restApiId=api.id, resourceId=resource, httpMethod=method, statusCode=status,
        responseTemplates={"application/json": response_template} if response_template else {},
        responseParameters={f"method.response.header.{h}": v
                            for h, v in (headers or {}).items()})


def test_mock_integration_and_a_cors_options_method(sb):
    api = RestApi()
    _mock_method(api, "/health", "GET", request_template='{"statusCode": 200}', status="200",
                 response_template='{"status": "ok", "stage": "$context.stage"}')
    _mock_method(api, "/health", "OPTIONS", request_template='{"statusCode": 200}',
                 status="200", headers={
                     "Access-Control-Allow-Origin": "'*'",
                     "Access-Control-Allow-Methods": "'GET,OPTIONS'",
                     "Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'"})
    api.deploy()
    url = sb.api_url(api.id, "prod") + "/health"
    response = requests.get(url)
    assert (response.status_code, response.json()) == (200, {"status": "ok", "stage": "prod"})
    preflight = requests.options(url, headers={"Origin": "http://localhost:8000",
                                               "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type,X-Api-Key"



def test_a_mapping_template_divides_by_zero_into_nothing():
    from sandbox.apigateway.templates import render

    # Velocity's ASTDivNode and ASTModNode: a zero right side gives null, not an error
    assert render("#set($x = 1 / 0)#set($y = 1 % 0)[$!x$!y]", {}) == "[]"


def test_a_method_that_fails_fails_the_transformation(sb):
    from sandbox.apigateway.templates import TemplateError, Util, render

    with pytest.raises(TemplateError, match=r"parseJson\(\) failed: JSONDecodeError"):
        render("$util.parseJson('not json')", {"util": Util()})
    api = RestApi()
    _mock_method(api, "/broken", "GET", request_template='{"statusCode": 200}', status="200",
                 response_template="$util.parseJson('not json')")
    api.deploy()
    response = requests.get(sb.api_url(api.id, "prod") + "/broken")
    # AWS: "Execution failed due to configuration error: Unable to transform response"
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
    assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert "parseJson() failed" in response.headers["x-sandbox-reason"]


def test_lambda_non_proxy_integration_with_mapping_templates(sb):
    arn = deploy("add", "def handler(event, context):\n"
                        "    if event['b'] == 0:\n"
                        "        raise ValueError('Bad input: b is 0')\n"
                        "    return {'sum': event['a'] + event['b'], 'who': event['who']}\n")
    api = RestApi()
    resource = api.resource("/add/{a}")
    c = api.client
    c.put_method(restApiId=api.id, resourceId=resource, httpMethod="GET",
                 authorizationType="NONE")
    c.put_integration(
        restApiId=api.id, resourceId=resource, httpMethod="GET", type="AWS",
        integrationHttpMethod="POST", uri=lambda_uri(arn),
        requestTemplates={"application/json": '{"a": $input.params(\'a\'), '
                                              '"b": $input.params(\'b\'), '
                                              '"who": "$context.identity.sourceIp"}'})
    for status, pattern in (("200", None), ("400", "Bad input.*")):
        c.put_method_response(restApiId=api.id, resourceId=resource, httpMethod="GET",
                              statusCode=status)
        c.put_integration_response(
            restApiId=api.id, resourceId=resource, httpMethod="GET", statusCode=status,
            **({"selectionPattern": pattern} if pattern else {}),
            responseTemplates={"application/json": "$input.json('$')" if status == "200"
                               else '{"error": "$input.path(\'$.errorMessage\')"}'})
    allow_apigateway("add", api.id)
    api.deploy()
    base = sb.api_url(api.id, "prod")
    response = requests.get(base + "/add/2?b=3")
    assert (response.status_code, response.json()) == (200, {"sum": 5, "who": "127.0.0.1"})
    response = requests.get(base + "/add/2?b=0")
    assert (response.status_code, response.json()) == (400, {"error": "Bad input: b is 0"})


@pytest.fixture
def backend():
    """An HTTP endpoint on loopback that answers with what it received."""
    import http.server
    import threading

    class Echo(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            data = json.dumps({"method": self.command, "path": self.path, "body": body,
                               "headers": dict(self.headers)}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Backend", "yes")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_proxy_forwards_method_path_query_headers_and_body(sb, backend):
    api = RestApi()
    resource = api.resource("/shop/{proxy+}")
    api.client.put_method(restApiId=api.id, resourceId=resource, httpMethod="ANY",
                          authorizationType="NONE")
    api.client.put_integration(restApiId=api.id, resourceId=resource, httpMethod="ANY",
                               type="HTTP_PROXY", integrationHttpMethod="ANY",
                               uri=backend + "/store/{proxy}")
    api.deploy()
    response = requests.put(sb.api_url(api.id, "prod") + "/shop/cart/1?x=1&x=2",
                            data="hello", headers={"X-Token": "t"})
    assert response.status_code == 201 and response.headers["X-Backend"] == "yes"
    seen = response.json()
    assert seen["method"] == "PUT" and seen["path"] == "/store/cart/1?x=1&x=2"
    assert seen["body"] == "hello" and seen["headers"]["X-Token"] == "t"


def test_http_integration_with_templates(sb, backend):
    api = RestApi()
    resource = api.resource("/orders")
    c = api.client
    c.put_method(restApiId=api.id, resourceId=resource, httpMethod="POST",
                 authorizationType="NONE")
    c.put_integration(restApiId=api.id, resourceId=resource, httpMethod="POST", type="HTTP",
                      integrationHttpMethod="POST", uri=backend + "/v1/orders",
                      requestTemplates={"application/json":
                                        '{"item": $input.json(\'$.item\'), "via": "apigw"}'})
    c.put_method_response(restApiId=api.id, resourceId=resource, httpMethod="POST",
                          statusCode="200")
    c.put_integration_response(
        restApiId=api.id, resourceId=resource, httpMethod="POST", statusCode="200",
        selectionPattern="2\\d\\d",
        responseTemplates={"application/json": '{"sent": $input.json(\'$.body\')}'},
        responseParameters={"method.response.header.X-From": "integration.response.header."
                                                             "X-Backend"})
    api.deploy()
    response = requests.post(sb.api_url(api.id, "prod") + "/orders", json={"item": "lamp"})
    assert response.status_code == 200 and response.headers["X-From"] == "yes"
    assert json.loads(response.json()["sent"]) == {"item": "lamp", "via": "apigw"}


def test_http_api_http_proxy_integration(sb, backend):
    api = HttpApi()
    integration = api.client.create_integration(
        ApiId=api.id, IntegrationType="HTTP_PROXY", IntegrationUri=backend,
        IntegrationMethod="ANY", PayloadFormatVersion="1.0")["IntegrationId"]
    api.client.create_route(ApiId=api.id, RouteKey="$default",
                            Target=f"integrations/{integration}")
    api.stage()
    response = requests.post(sb.api_url(api.id, "$default") + "/any/where?q=1", data="hi")
    assert response.status_code == 201
    seen = response.json()
    assert seen["method"] == "POST" and seen["path"] == "/any/where?q=1"
    assert seen["body"] == "hi"


def test_api_keys_and_usage_plans(sb):
    arn = deploy("echo", ECHO)
    api = RestApi()
    resource = api.resource("/items")
    c = api.client
    c.put_method(restApiId=api.id, resourceId=resource, httpMethod="GET",
                 authorizationType="NONE", apiKeyRequired=True)
    c.put_integration(restApiId=api.id, resourceId=resource, httpMethod="GET",
                      type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri(arn))
    allow_apigateway("echo", api.id)
    api.deploy()
    url = sb.api_url(api.id, "prod") + "/items"
    assert requests.get(url).status_code == 403  # no key
    key = c.create_api_key(name="student", enabled=True, value="k" * 30)
    orphan = c.create_api_key(name="no-plan", enabled=True, value="o" * 30)
    disabled = c.create_api_key(name="off", value="d" * 30)  # enabled defaults to false
    plan = c.create_usage_plan(name="basic", apiStages=[{"apiId": api.id, "stage": "prod"}],
                               throttle={"rateLimit": 0.01, "burstLimit": 2},
                               quota={"limit": 3, "period": "DAY"})
    for k in (key, disabled):
        c.create_usage_plan_key(usagePlanId=plan["id"], keyId=k["id"], keyType="API_KEY")
    forbidden = requests.get(url, headers={"x-api-key": orphan["value"]})
    assert (forbidden.status_code, forbidden.json()) == (403, {"message": "Forbidden"})
    assert requests.get(url, headers={"x-api-key": disabled["value"]}).status_code == 403
    answered = requests.get(url, headers={"x-api-key": key["value"]})
    assert answered.status_code == 200
    identity = answered.json()["requestContext"]["identity"]
    assert (identity["apiKey"], identity["apiKeyId"]) == (key["value"], key["id"])
    assert requests.get(url, headers={"x-api-key": key["value"]}).status_code == 200
    throttled = requests.get(url, headers={"x-api-key": key["value"]})  # burst of 2 used up
    assert (throttled.status_code, throttled.json()) == (429, {"message": "Too Many Requests"})
    c.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "replace", "path": "/throttle/burstLimit", "value": "100"},
        {"op": "replace", "path": "/throttle/rateLimit", "value": "1000"}])
    time.sleep(0.05)  # the bucket refills at the new rate
    assert requests.get(url, headers={"x-api-key": key["value"]}).status_code == 200
    over = requests.get(url, headers={"x-api-key": key["value"]})  # 4th of a quota of 3
    assert (over.status_code, over.json()) == (429, {"message": "Limit Exceeded"})


TOKEN_AUTHORIZER = """
def handler(event, context):
    token = event["authorizationToken"]
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "broken":
        return {"nothing": "useful"}
    effect = "Allow" if token.startswith("allow") else "Deny"
    api = event["methodArn"].split("/")[0]
    return {"principalId": "user-" + token,
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": effect, "Resource": api + "/*"}]},
            "context": {"tier": "gold", "level": 3, "admin": False}}
"""


def _authorized_api(sb, authorizer_kind: str, **authorizer):
    arn = deploy("echo", ECHO)
    auth_arn = deploy("auth", TOKEN_AUTHORIZER if authorizer_kind == "TOKEN" else """
def handler(event, context):
    allowed = event["queryStringParameters"].get("user") == "ada"
    return {"principalId": "ada", "context": {"path": event["path"], "type": event["type"]},
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow" if allowed else "Deny",
                "Resource": event["methodArn"]}]}}
""")
    api = RestApi()
    c = api.client
    authorizer_id = c.create_authorizer(
        restApiId=api.id, name="auth", type=authorizer_kind, authorizerUri=lambda_uri(auth_arn),
        **authorizer)["id"]
    resource = api.resource("/items")
    c.put_method(restApiId=api.id, resourceId=resource, httpMethod="GET",
                 authorizationType="CUSTOM", authorizerId=authorizer_id)
    c.put_integration(restApiId=api.id, resourceId=resource, httpMethod="GET",
                      type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri(arn))
    allow_apigateway("echo", api.id)
    boto3.client("lambda").add_permission(
        FunctionName="auth", StatementId="apigw", Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api.id}/authorizers/"
                  f"{authorizer_id}")
    api.deploy()
    return sb.api_url(api.id, "prod") + "/items"


def test_token_authorizer_policy_is_enforced_and_its_context_passed_on(sb):
    url = _authorized_api(sb, "TOKEN", identitySource="method.request.header.Authorization",
                          authorizerResultTtlInSeconds=0)
    missing = requests.get(url)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    event = requests.get(url, headers={"Authorization": "allow-me"}).json()
    assert event["requestContext"]["authorizer"]["principalId"] == "user-allow-me"
    assert event["requestContext"]["authorizer"]["tier"] == "gold"
    assert event["requestContext"]["authorizer"]["level"] == "3"  # values are stringified
    denied = requests.get(url, headers={"Authorization": "nope"})
    assert denied.status_code == 403
    assert denied.json() == {"Message": "User is not authorized to access this resource with "
                                        "an explicit deny"}
    [refusal] = sb.iam.denials(1)  # decided by IAM's one evaluator, so the trail shows it
    assert (refusal.principal, refusal.action, refusal.source) == (
        "user-nope", "execute-api:Invoke", "API Gateway Lambda authorizer")
    assert refusal.statement.effect == "Deny"
    unauthorized = requests.get(url, headers={"Authorization": "unauthorized"})
    assert unauthorized.status_code == 401
    broken = requests.get(url, headers={"Authorization": "broken"})
    assert (broken.status_code, broken.json()) == (500, {"message": None})
    assert broken.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_request_authorizer_and_its_cached_answer(sb):
    url = _authorized_api(sb, "REQUEST", identitySource="method.request.querystring.user")
    assert requests.get(url).status_code == 401  # identity source missing
    event = requests.get(url + "?user=ada").json()
    assert event["requestContext"]["authorizer"]["type"] == "REQUEST"
    assert event["requestContext"]["authorizer"]["path"] == "/items"
    assert requests.get(url + "?user=bob").status_code == 403
    boto3.client("lambda").delete_function(FunctionName="auth")
    assert requests.get(url + "?user=ada").status_code == 200  # the cached policy (300 s)


def test_iam_authorization_needs_a_signed_request(sb):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    arn = deploy("echo", ECHO)
    api = RestApi()
    resource = api.resource("/private")
    api.client.put_method(restApiId=api.id, resourceId=resource, httpMethod="GET",
                          authorizationType="AWS_IAM")
    api.client.put_integration(restApiId=api.id, resourceId=resource, httpMethod="GET",
                               type="AWS_PROXY", integrationHttpMethod="POST",
                               uri=lambda_uri(arn))
    allow_apigateway("echo", api.id)
    api.deploy()
    url = f"https://{api.id}.execute-api.us-east-1.amazonaws.com/prod/private"
    unsigned = requests.get(url)
    assert unsigned.status_code == 403
    assert unsigned.json() == {"message": "Missing Authentication Token"}
    signed = AWSRequest(method="GET", url=url)
    SigV4Auth(boto3.Session().get_credentials(), "execute-api", "us-east-1").add_auth(signed)
    response = requests.get(url, headers=dict(signed.headers))
    assert response.status_code == 200
    identity = response.json()["requestContext"]["identity"]
    assert identity["accessKey"] == boto3.Session().get_credentials().access_key


def _log_lines(group: str) -> list[str]:
    logs = boto3.client("logs")
    lines = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        lines += [e["message"] for e in logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"])["events"]]
    return lines


def test_access_logs_in_the_stage_format(sb, echo_api):
    boto3.client("logs").create_log_group(logGroupName="api-access")
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:api-access"
    boto3.client("apigateway").update_stage(
        restApiId=echo_api.id, stageName="prod", patchOperations=[
            {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": group_arn},
            {"op": "replace", "path": "/accessLogSettings/format",
             "value": '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
                      '"method":"$context.httpMethod","resource":"$context.resourcePath",'
                      '"status":"$context.status","error":"$context.error.message",'
                      '"user":"$context.identity.user"}'}])
    ok = requests.get(sb.api_url(echo_api.id, "prod") + "/items/1")
    requests.get(sb.api_url(echo_api.id, "prod") + "/")
    lines = [json.loads(line) for line in _log_lines("api-access")]
    assert lines == [
        {"requestId": ok.headers["x-amzn-RequestId"], "ip": "127.0.0.1", "method": "GET",
         "resource": "/items/{id}", "status": "200", "error": "-", "user": "-"},
        {"requestId": lines[1]["requestId"], "ip": "127.0.0.1", "method": "GET",
         "resource": "-", "status": "403", "error": "Missing Authentication Token", "user": "-"},
    ]


def test_http_api_access_logs(sb):
    boto3.client("logs").create_log_group(logGroupName="http-access")
    arn = deploy("echo", ECHO)
    api = HttpApi()
    api.lambda_route("GET /items", arn)
    allow_apigateway("echo", api.id)
    api.stage(AccessLogSettings={
        "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:http-access",
        "Format": "$context.requestId $context.routeKey $context.status "
                  "$context.integrationErrorMessage"})
    response = requests.get(sb.api_url(api.id, "$default") + "/items")
    requests.get(sb.api_url(api.id, "$default") + "/nothing")
    first, second = _log_lines("http-access")
    assert first == f"{response.headers['apigw-requestid']} GET /items 200 -"
    assert second.split(" ", 1)[1] == "- 404 -"  # no route matched


# ---------------------------------------------------------------------------------- the web app
ITEMS_FUNCTION = """
import json, os
import boto3
table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
def handler(event, context):
    if event["requestContext"]["http"]["method"] == "POST":
        item = json.loads(event["body"])
        table.put_item(Item=item)
        return {"statusCode": 201, "body": json.dumps(item)}
    return {"items": sorted(i["name"] for i in table.scan()["Items"])}
"""
INDEX_HTML = """<!doctype html><html><head><script src="app.js"></script></head>
<body><ul id="items"></ul></body></html>"""


def _public_site(bucket: str, files: dict[str, tuple[str, str]], public: bool = True) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    if public:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    for key, (body, content_type) in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType=content_type)


def test_s3_website_hosting(sb):
    _public_site("site", {"index.html": (INDEX_HTML, "text/html"),
                          "docs/index.html": ("<h1>docs</h1>", "text/html"),
                          "app.js": ("console.log(1)", "application/javascript"),
                          "error.html": ("<h1>nothing here</h1>", "text/html")})
    base = f"{sb.endpoint_url}/_website/site"
    page = requests.get(base + "/")
    assert (page.status_code, page.text) == (200, INDEX_HTML)
    assert page.headers["Content-Type"] == "text/html"
    assert requests.get(base + "/app.js").headers["Content-Type"] == "application/javascript"
    folder = requests.get(base + "/docs", allow_redirects=False)
    assert (folder.status_code, folder.headers["Location"]) == (302, "/docs/")
    missing = requests.get(base + "/nope.html")
    assert (missing.status_code, missing.text) == (404, "<h1>nothing here</h1>")
    assert requests.post(base + "/").status_code == 405
    aws_form = requests.get("http://site.s3-website-us-east-1.amazonaws.com/")
    assert (aws_form.status_code, aws_form.text) == (200, INDEX_HTML)
    url = sb.website_url("site")
    assert url == f"http://site.s3-website.localhost:{sb.endpoint_url.rsplit(':', 1)[1]}/"


def test_a_private_bucket_website_answers_403(sb):
    _public_site("secret", {"index.html": (INDEX_HTML, "text/html")}, public=False)
    response = requests.get(f"{sb.endpoint_url}/_website/secret/")
    assert response.status_code == 403 and "AccessDenied" in response.text
    boto3.client("s3").delete_bucket_website(Bucket="secret")
    response = requests.get(f"{sb.endpoint_url}/_website/secret/")
    assert response.status_code == 404 and "NoSuchWebsiteConfiguration" in response.text


def test_the_serverless_web_application(sb):
    """Static site in S3 -> its JavaScript calls the API (CORS) -> Lambda -> DynamoDB; the
    browser's requests are made here as a browser makes them."""
    boto3.client("dynamodb").create_table(
        TableName="items", KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    role = execution_role("items-role", "dynamodb:PutItem", "dynamodb:Scan")
    arn = deploy("items", ITEMS_FUNCTION, Role=role, Environment={"Variables": {"TABLE": "items"}})
    origin = "http://webapp.s3-website.localhost:" + sb.endpoint_url.rsplit(":", 1)[1]
    api = HttpApi(CorsConfiguration={"AllowOrigins": [origin], "AllowMethods": ["GET", "POST"],
                                     "AllowHeaders": ["content-type"]})
    api.lambda_route("GET /items", arn)
    api.lambda_route("POST /items", arn)
    allow_apigateway("items", api.id)
    api.stage()
    api_url = sb.api_url(api.id, "$default")
    _public_site("webapp", {"index.html": (INDEX_HTML, "text/html"), "app.js": (
        f"fetch('{api_url}/items').then(r => r.json())", "application/javascript")})
    # what a browser opening the site's URL sends: *.localhost resolves to loopback
    page = requests.get(sb.endpoint_url + "/", headers={"Host": origin[len("http://"):]})
    assert page.status_code == 200 and "app.js" in page.text
    script = requests.get(f"{sb.endpoint_url}/_website/webapp/app.js").text
    assert api_url in script
    preflight = requests.options(api_url + "/items", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    created = requests.post(api_url + "/items", json={"name": "lamp"},
                            headers={"Origin": origin})
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == origin
    listed = requests.get(api_url + "/items", headers={"Origin": origin})
    assert listed.json() == {"items": ["lamp"]}
    item = boto3.resource("dynamodb").Table("items").get_item(Key={"name": "lamp"})["Item"]
    assert item == {"name": "lamp"}


@pytest.fixture
def issuer():
    """An OpenID issuer on loopback: its configuration, its JWKS, and a way to sign tokens."""
    import http.server
    import threading
    import time

    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
    documents = {}

    class Issuer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            data = json.dumps(documents[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Issuer)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    documents["/.well-known/openid-configuration"] = {"issuer": url, "jwks_uri": url + "/jwks"}
    documents["/jwks"] = {"keys": [key.as_dict(private=False)]}
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def sign(signing_key=key, **claims):
        now = int(time.time())
        claims = {"iss": url, "aud": "shop-app", "sub": "ada", "iat": now, "exp": now + 600,
                  **claims}
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, signing_key)

    yield url, sign
    server.shutdown()
    server.server_close()


def test_http_api_jwt_authorizer(sb, issuer):
    from joserfc.jwk import RSAKey

    url, sign = issuer
    arn = deploy("echo", ECHO)
    api = HttpApi()
    authorizer = api.client.create_authorizer(
        ApiId=api.id, AuthorizerType="JWT", Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": url, "Audience": ["shop-app"]})["AuthorizerId"]
    api.lambda_route("GET /items", arn)
    api.lambda_route("POST /items", arn)
    for route in api.client.get_routes(ApiId=api.id)["Items"]:
        scopes = ["items/write"] if route["RouteKey"].startswith("POST") else []
        api.client.update_route(ApiId=api.id, RouteId=route["RouteId"], AuthorizationType="JWT",
                                AuthorizerId=authorizer, AuthorizationScopes=scopes)
    allow_apigateway("echo", api.id)
    api.stage()
    items = sb.api_url(api.id, "$default") + "/items"
    missing = requests.get(items)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    event = requests.get(items, headers={"Authorization": "Bearer " + sign()}).json()
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "ada"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["aud"] == "shop-app"
    forged = sign(signing_key=RSAKey.generate_key(2048, parameters={"kid": "test-key"}))
    for bad in (forged, sign(aud="other-app"), sign(exp=1), sign(iss="http://elsewhere")):
        response = requests.get(items, headers={"Authorization": bad})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    no_scope = requests.post(items, headers={"Authorization": sign(scope="items/read")})
    assert (no_scope.status_code, no_scope.json()) == (403, {"message": "Forbidden"})
    allowed = requests.post(items, headers={"Authorization": sign(scope="items/write")})
    assert allowed.status_code == 200
    assert allowed.json()["requestContext"]["authorizer"]["jwt"]["scopes"] == ["items/write"]


def test_a_jwt_issuer_off_this_machine_is_refused_with_the_reason(sb, issuer):
    _, sign = issuer
    arn = deploy("echo", ECHO)
    api = HttpApi()
    remote = "https://login.example.com/"
    authorizer = api.client.create_authorizer(
        ApiId=api.id, AuthorizerType="JWT", Name="jwt",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": remote, "Audience": ["shop-app"]})["AuthorizerId"]
    api.lambda_route("GET /items", arn)
    route = api.client.get_routes(ApiId=api.id)["Items"][0]
    api.client.update_route(ApiId=api.id, RouteId=route["RouteId"], AuthorizationType="JWT",
                            AuthorizerId=authorizer)
    allow_apigateway("echo", api.id)
    api.stage()
    response = requests.get(sb.api_url(api.id, "$default") + "/items",
                            headers={"Authorization": sign(iss=remote)})
    assert response.status_code == 401  # as for any token the sandbox cannot check
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    assert f"the sandbox has no network: it cannot fetch the keys of {remote}" in challenge


def test_http_api_quick_create(sb):
    arn = deploy("hello", "def handler(event, context):\n    return {'hello': event['rawPath']}\n")
    created = boto3.client("apigatewayv2").create_api(Name="quick", ProtocolType="HTTP",
                                                       Target=arn)
    allow_apigateway("hello", created["ApiId"])
    stages = boto3.client("apigatewayv2").get_stages(ApiId=created["ApiId"])["Items"]
    assert [(s["StageName"], s["AutoDeploy"]) for s in stages] == [("$default", True)]
    response = requests.get(created["ApiEndpoint"] + "/any/path")  # the AWS URL it gives
    assert response.json() == {"hello": "/any/path"}


def test_moto_still_cannot_run_apis():
    """If moto learns one of these, the sandbox's patch for it can go."""
    import inspect

    from moto.apigateway import models, responses
    from moto.apigatewayv2 import responses as v2_responses

    models_source, responses_source = inspect.getsource(models), inspect.getsource(responses)
    assert 'integration_parsers["AWS_PROXY"]' not in models_source  # no Lambda proxy
    assert "_user_request_" not in inspect.getsource(__import__("moto.apigateway.urls",
                                                                fromlist=["url_paths"]))
    create_rest_api = responses_source.split("def create_rest_api(")[1].split("\n    def ")[0]
    assert "binaryMediaTypes" not in create_rest_api
    create_api = inspect.getsource(v2_responses).split("def create_api(")[1].split("\n    def ")[0]
    assert '"target"' not in create_api
    assert "deployments" not in inspect.getsource(__import__("moto.apigatewayv2.urls",
                                                             fromlist=["url_paths"]))


def test_gateway_responses_customize_errors_once_deployed(sb, echo_api):
    c = boto3.client("apigateway")
    c.put_gateway_response(
        restApiId=echo_api.id, responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
                            "gatewayresponse.header.X-Origin": "method.request.header.origin"})
    c.put_gateway_response(
        restApiId=echo_api.id, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="404",
        responseTemplates={"application/json": '{"error": $context.error.messageString, '
                                               '"type": "$context.error.responseType"}'})
    keyed = echo_api.resource("/keyed")
    c.put_method(restApiId=echo_api.id, resourceId=keyed, httpMethod="GET",
                 authorizationType="NONE", apiKeyRequired=True)
    c.put_integration(restApiId=echo_api.id, resourceId=keyed, httpMethod="GET", type="MOCK")
    url = sb.api_url(echo_api.id, "prod") + "/"
    assert requests.get(url).status_code == 403  # not deployed yet
    echo_api.deploy("prod")
    no_key = requests.get(sb.api_url(echo_api.id, "prod") + "/keyed",
                          headers={"Origin": "http://site.example"})
    assert (no_key.status_code, no_key.json()) == (403, {"message": "Forbidden"})
    assert no_key.headers["Access-Control-Allow-Origin"] == "*"  # from DEFAULT_4XX
    assert no_key.headers["X-Origin"] == "http://site.example"
    response = requests.get(url, headers={"Origin": "http://site.example"})
    assert response.status_code == 404
    assert response.json() == {"error": "Missing Authentication Token",
                               "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert "Access-Control-Allow-Origin" not in response.headers  # its own type wins


def test_a_lambda_integration_must_use_post(sb):
    arn = deploy("echo", ECHO)
    api = RestApi()
    api.proxy("/items", "GET", arn)
    api.client.put_integration(restApiId=api.id, resourceId=api.resources["/items"],
                               httpMethod="GET", type="AWS_PROXY", integrationHttpMethod="GET",
                               uri=lambda_uri(arn))
    allow_apigateway("echo", api.id)
    api.deploy()
    response = requests.get(sb.api_url(api.id, "prod") + "/items")
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
    assert "integrationHttpMethod POST" in response.headers["x-sandbox-reason"]


def test_stages_can_point_at_earlier_deployments(sb):
    arn = deploy("echo", ECHO)
    api = RestApi()
    api.proxy("/v1", "GET", arn)
    allow_apigateway("echo", api.id)
    first = api.client.create_deployment(restApiId=api.id)["id"]  # no stage yet
    api.client.create_stage(restApiId=api.id, stageName="live", deploymentId=first)
    api.proxy("/v2", "GET", arn)
    second = api.client.create_deployment(restApiId=api.id, stageName="live")["id"]
    base = sb.api_url(api.id, "live")
    assert requests.get(base + "/v2").status_code == 200
    api.client.update_stage(restApiId=api.id, stageName="live", patchOperations=[
        {"op": "replace", "path": "/deploymentId", "value": first}])  # roll back
    assert requests.get(base + "/v2").status_code == 403
    assert requests.get(base + "/v1").json()["requestContext"]["deploymentId"] == first
    assert first != second


def test_http_api_lambda_authorizer_simple_responses(sb):
    arn = deploy("echo", ECHO)
    deploy("gate", """
def handler(event, context):
    return {"isAuthorized": event["identitySource"] == ["let-me-in"],
            "context": {"user": "ada", "route": event["routeArn"].split("/", 1)[1]}}
""")
    api = HttpApi()
    authorizer = api.client.create_authorizer(
        ApiId=api.id, AuthorizerType="REQUEST", Name="gate",
        AuthorizerUri=lambda_uri("arn:aws:lambda:us-east-1:123456789012:function:gate"),
        AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
        IdentitySource=["$request.header.X-Pass"])["AuthorizerId"]
    api.lambda_route("GET /items/{id}", arn)
    route = api.client.get_routes(ApiId=api.id)["Items"][0]
    api.client.update_route(ApiId=api.id, RouteId=route["RouteId"], AuthorizationType="CUSTOM",
                            AuthorizerId=authorizer)
    allow_apigateway("echo", api.id)
    allow_apigateway("gate", api.id, f"authorizers/{authorizer}", sid="gate")
    api.stage()
    url = sb.api_url(api.id, "$default") + "/items/7"
    assert requests.get(url).json() == {"message": "Unauthorized"}
    refused = requests.get(url, headers={"X-Pass": "wrong"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    event = requests.get(url, headers={"X-Pass": "let-me-in"}).json()
    assert event["requestContext"]["authorizer"] == {
        "lambda": {"user": "ada", "route": "$default/GET/items/7"}}


def test_http_api_lambda_authorizer_payload_1_0_and_policy_answers(sb):
    arn = deploy("echo", ECHO)
    deploy("gate", """
def handler(event, context):
    if event["identitySource"] == "broken":
        return {"principalId": "ada"}
    effect = "Allow" if event["identitySource"] == "let-me-in" else "Deny"
    return {"principalId": "ada",
            "context": {"version": event["version"], "type": event["type"],
                        "token": event["authorizationToken"], "method": event["httpMethod"]},
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": effect,
                "Resource": event["methodArn"]}]}}
""")
    api = HttpApi()
    authorizer = api.client.create_authorizer(
        ApiId=api.id, AuthorizerType="REQUEST", Name="gate",
        AuthorizerUri=lambda_uri("arn:aws:lambda:us-east-1:123456789012:function:gate"),
        AuthorizerPayloadFormatVersion="1.0", AuthorizerResultTtlInSeconds=300,
        IdentitySource=["$request.header.X-Pass"])["AuthorizerId"]
    api.lambda_route("GET /items/{id}", arn)
    route = api.client.get_routes(ApiId=api.id)["Items"][0]
    api.client.update_route(ApiId=api.id, RouteId=route["RouteId"], AuthorizationType="CUSTOM",
                            AuthorizerId=authorizer)
    allow_apigateway("echo", api.id)
    allow_apigateway("gate", api.id, f"authorizers/{authorizer}", sid="gate")
    api.stage()
    url = sb.api_url(api.id, "$default") + "/items/7"
    event = requests.get(url, headers={"X-Pass": "let-me-in"}).json()
    assert event["requestContext"]["authorizer"]["lambda"] == {
        "version": "1.0", "type": "REQUEST", "token": "let-me-in", "method": "GET"}
    refused = requests.get(url, headers={"X-Pass": "wrong"})
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    broken = requests.get(url, headers={"X-Pass": "broken"})  # no policyDocument
    assert (broken.status_code, broken.json()) == (500, {"message": "Internal Server Error"})
    boto3.client("lambda").delete_function(FunctionName="gate")
    assert requests.get(url, headers={"X-Pass": "let-me-in"}).status_code == 200  # cached
    assert requests.get(url, headers={"X-Pass": "new"}).status_code == 500  # not cached


def test_the_sandbox_says_why_it_answered_403(sb, echo_api):
    base = sb.api_url(echo_api.id, "prod")
    reason = requests.get(base + "/").headers["x-sandbox-reason"]
    assert "No method answers GET /" in reason and "GET /items/{id}" in reason
    assert "Deploy it again" in reason
    reason = requests.get(sb.api_url(echo_api.id, "prdo") + "/items/1").headers[
        "x-sandbox-reason"]
    assert "no deployed stage 'prdo'" in reason and "Did you mean 'prod'?" in reason


def test_starting_the_sandbox_does_not_import_moto_api_gateway():
    """moto.apigateway.models costs more than a second to import: it is patched when moto
    first needs it, not at sandbox.start()."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom sandbox.testing import in_process_service\n"
            "with in_process_service():\n"  # the server's side, where moto is
            "    print('moto.apigateway.models' in sys.modules)\n"
            "    import boto3\n    boto3.client('apigateway').get_rest_apis()\n"
            "    from moto.apigateway.models import RestAPI\n"
            "    print(RestAPI.create_deployment.__module__)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=120).stdout.split()
    assert out == ["False", "sandbox.apigateway.rest"]
