"""Checks for exercises/06-api-gateway.ipynb: a REST API that serves books, the permission
API Gateway needs (and no more), an HTTP API route that adds books, and CORS for the shop's
web site. Each check finds the API by name with boto3 and calls it over real HTTP."""

from __future__ import annotations

import difflib
import fnmatch
import json
from typing import TYPE_CHECKING, Any, cast

from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import answered, invoke, require_function, require_table, unique

if TYPE_CHECKING:
    from ..client import Sandbox

TABLE = "bookshop"
REST_API = "bookshop"
HTTP_API = "bookshop-http"
STAGE = "prod"
RESOURCE = "/books/{isbn}"
ROUTE = "POST /books"
SITE_BUCKET = "bookshop-site"
NOT_FOUND = {"message": "no such book"}
REASON = "x-sandbox-reason"  # the sandbox's own explanation of an API Gateway error

NO_PERMISSION = ("API Gateway may not invoke {function}: add a permission with lambda "
                 "add_permission(FunctionName={function!r}, Action='lambda:InvokeFunction', "
                 "Principal='apigateway.amazonaws.com', SourceArn=...) naming the API.")
NOT_A_PROXY_RESPONSE = ("API Gateway answered 502: {function}'s answer is not a Lambda proxy "
                        "response. {why}")
NO_TABLE_ACCESS = ("{function}'s execution role may not {verb} the {table!r} table: Lambda runs "
                   "the handler as that role. Deploy it with %%lambda {function} --role "
                   "bookshop-role (the first cell made that role), or allow {action} on the "
                   "table in its role's policy.")


# ---------------------------------------------------------------------------------- finding
def _sandbox() -> Sandbox:
    from ..client import current

    running = current()
    if running is None:
        raise NotAttempted("the sandbox is not running: run the exercise's first cell.")
    return running


def _near(name: str, names: list[str]) -> str:
    if not names:
        return ""
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you name it {close[0]!r}?)" if close else \
        f" (the sandbox has {', '.join(sorted(set(names)))})"


def _newest(items: list[dict[str, Any]], name: str, key_name: str, key_date: str,
            kind: str) -> dict[str, Any]:
    named = [item for item in items if item.get(key_name) == name]
    if not named:
        others = [item.get(key_name, "") for item in items]
        raise NotAttempted(f"there is no {kind} named {name!r} yet{_near(name, others)}.")
    # the last one created (dates are to the second; the listing is in order of creation)
    order = {id(item): index for index, item in enumerate(named)}
    return max(named, key=lambda item: (item.get(key_date) or 0, order[id(item)]))


def rest_api() -> dict[str, Any]:
    """The newest REST API named bookshop, or NotAttempted."""
    import boto3

    items = boto3.client("apigateway").get_rest_apis(limit=500)["items"]
    return _newest(items, REST_API, "name", "createdDate", "REST API")


def http_api() -> dict[str, Any]:
    """The newest HTTP API named bookshop-http, or NotAttempted."""
    import boto3

    items = boto3.client("apigatewayv2").get_apis()["Items"]
    return _newest([item for item in items if item.get("ProtocolType") == "HTTP"], HTTP_API,
                   "Name", "CreatedDate", "HTTP API")


def _reason(response: Any) -> str:
    reason = response.headers.get(REASON)
    return f"The sandbox says: {reason}" if reason else ""


def _details(response: Any) -> str:
    lines = [f"HTTP {response.status_code}: {response.text[:300]}"]
    reason = _reason(response)
    return "\n".join(lines + [reason] if reason else lines)


def _request(method: str, url: str, **kwargs: Any) -> Any:
    import requests

    return requests.request(method, url, timeout=30, **kwargs)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


# ---------------------------------------------------------------------------------- REST API
def _rest_route(api: dict[str, Any]) -> None:
    """The API has a deployed stage prod and a GET /books/{isbn} Lambda proxy method."""
    import boto3

    client = boto3.client("apigateway")
    stages = [stage["stageName"] for stage in client.get_stages(restApiId=api["id"])["item"]]
    if STAGE not in stages:
        raise CheckFailed(f"the API has no stage {STAGE!r}: deploy it with "
                          f"create_deployment(restApiId=..., stageName={STAGE!r}).",
                          expected=[STAGE], found=stages)
    resources = {resource["path"]: resource
                 for resource in client.get_resources(restApiId=api["id"], limit=500)["items"]}
    if RESOURCE not in resources:
        raise CheckFailed(f"the API has no resource {RESOURCE}{_near(RESOURCE, list(resources))}: "
                          "create the resource books under the root, then {isbn} under it "
                          "(the braces make it a path parameter).",
                          expected=RESOURCE, found=sorted(resources))
    methods = resources[RESOURCE].get("resourceMethods") or {}
    if "GET" not in methods:
        raise CheckFailed(f"{RESOURCE} has no GET method: put_method(..., httpMethod='GET', "
                          "authorizationType='NONE').", expected=["GET"], found=sorted(methods))
    try:
        integration = client.get_integration(restApiId=api["id"],
                                             resourceId=resources[RESOURCE]["id"],
                                             httpMethod="GET")
    except client.exceptions.NotFoundException:
        raise CheckFailed(f"GET {RESOURCE} has no integration: put_integration(..., "
                          "type='AWS_PROXY', integrationHttpMethod='POST', uri=...) with the "
                          "URI of get-book.") from None
    if integration.get("type") != "AWS_PROXY":
        raise CheckFailed("GET /books/{isbn} should use the Lambda proxy integration, which "
                          "sends the whole request to the function: type='AWS_PROXY'.",
                          expected="AWS_PROXY", found=integration.get("type"))
    if ":function:get-book" not in integration.get("uri", ""):
        raise CheckFailed("the integration should invoke the function get-book.",
                          expected="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/"
                                   "functions/<get-book's ARN>/invocations",
                          found=integration.get("uri"))


def _answered(function: str, event: dict[str, Any], action: str, *, expected: Any,
              hints: dict[str, str]) -> Any:
    """Invoke the function as API Gateway did: ``answered``, except that a function whose role
    DynamoDB refused (AccessDeniedException, in the function's error) is told so."""
    error = invoke(function, event).error or {}
    if "AccessDeniedException" in str(error.get("errorMessage", "")):
        verb = "read" if action == "dynamodb:GetItem" else "write"
        raise CheckFailed(NO_TABLE_ACCESS.format(function=function, verb=verb, table=TABLE,
                                                 action=action),
                          expected=f"a role allowed {action} on the table",
                          found=error["errorMessage"])
    return answered(function, event, hints=hints, expected=expected)


def _explain_502(function: str, event: dict[str, Any], expected: Any) -> CheckFailed:
    """Invoke the function as API Gateway did, and say what is wrong with its answer."""
    result = _answered(function, event, "dynamodb:GetItem", hints={
        "KeyError": f"{function} raised KeyError: a missing book has no 'Item' in get_item's "
                    "answer, and the event's path parameter is in "
                    "event['pathParameters']['isbn']. Use .get('Item') and answer 404."},
        expected=expected).payload
    if not isinstance(result, dict):
        why = "Return a dict with statusCode, headers and body, not the bare data."
    elif "statusCode" not in result:
        why = "It has no statusCode: wrap the data as {'statusCode': 200, 'body': ...}."
    elif not isinstance(result.get("body", ""), str):
        why = "Its body is not a string: json.dumps the book."
    else:
        extra = sorted(set(result) - {"statusCode", "headers", "multiValueHeaders", "body",
                                      "isBase64Encoded"})
        why = f"It has keys a proxy response may not have: {extra}." if extra else \
            "Return statusCode (an int), headers and body (a string)."
    return CheckFailed(NOT_A_PROXY_RESPONSE.format(function=function, why=why),
                       expected=expected, found=result)


def _rest_get(api: dict[str, Any], isbn: str) -> Any:
    url = f"{_sandbox().api_url(api['id'], STAGE)}/books/{isbn}"
    response = _request("GET", url)
    if response.status_code == 403:
        raise CheckFailed(f"stage {STAGE!r} does not serve GET {RESOURCE}: after adding "
                          "resources or methods, deploy again with create_deployment(restApiId="
                          f"..., stageName={STAGE!r}).", details=_details(response))
    if response.status_code == 500 and "permission" in response.headers.get(REASON, ""):
        raise CheckFailed(NO_PERMISSION.format(function="get-book"), details=_details(response))
    return response


def _rest_event(api: dict[str, Any], isbn: str) -> dict[str, Any]:
    return {"resource": RESOURCE, "path": f"/books/{isbn}", "httpMethod": "GET",
            "headers": None, "queryStringParameters": None,
            "pathParameters": {"isbn": isbn}, "body": None, "isBase64Encoded": False,
            "requestContext": {"apiId": api["id"], "stage": STAGE, "resourcePath": RESOURCE}}


@check_function("api_gateway.rest_api_serves_books")
def rest_api_serves_books() -> None:
    """GET /books/{isbn} on stage prod of the REST API bookshop: 200 and the book as JSON, 404
    for a book that is not in the table."""
    table = require_table(TABLE)
    api = rest_api()
    require_function("get-book", "Deploy it with the %%lambda cell of task 1.")
    _rest_route(api)
    book = {"isbn": unique("978"), "title": unique("Dune"), "author": "Frank Herbert"}
    table.put_item(Item=book)
    response = _rest_get(api, book["isbn"])
    if response.status_code == 502:
        raise _explain_502("get-book", _rest_event(api, book["isbn"]), book)
    if response.status_code == 404:
        raise CheckFailed("a book that is in the table got 404: read the ISBN from "
                          "event['pathParameters']['isbn'] and get_item it from the "
                          f"{TABLE!r} table.", expected=200, found=_details(response))
    if response.status_code != 200:
        raise CheckFailed("GET /books/<isbn> of a book in the table should answer 200.",
                          expected=200, found=response.status_code,
                          details=_details(response))
    if _json(response) != book:
        raise CheckFailed("the body should be the book, as JSON: json.dumps(item).",
                          expected=book, found=_json(response))
    missing = unique("979")
    response = _rest_get(api, missing)
    if response.status_code == 502:
        raise _explain_502("get-book", _rest_event(api, missing), 404)
    if response.status_code != 404:
        raise CheckFailed("a book that is not in the table should get 404 (get_item's answer "
                          "then has no 'Item').", expected=404, found=response.status_code,
                          details=_details(response))
    if _json(response) != NOT_FOUND:
        raise CheckFailed("the 404's body should say why, as JSON: "
                          "json.dumps({'message': 'no such book'}).",
                          expected=NOT_FOUND, found=_json(response))


# ---------------------------------------------------------------------------------- permission
def _arn_like(pattern: str, arn: str) -> bool:
    return fnmatch.fnmatchcase(arn, pattern)  # ArnLike: * and ? wildcards


def _apigateway_statements(function: str) -> list[dict[str, Any]]:
    import boto3

    lam = boto3.client("lambda")
    try:
        policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return []
    statements = []
    for statement in policy.get("Statement", []):
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        if statement.get("Effect") == "Allow" and service in ("apigateway.amazonaws.com", "*"):
            statements.append(statement)
    return statements


def _source_arn(statement: dict[str, Any]) -> str | None:
    for operator in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
        found = (statement.get("Condition") or {}).get(operator, {})
        for key, value in found.items():
            if key.lower() == "aws:sourcearn":
                return value if isinstance(value, str) else value[0]
    return None


@check_function("api_gateway.permission_names_the_method")
def permission_names_the_method() -> None:
    """get-book's policy lets API Gateway invoke it for GET /books/* of bookshop, nothing
    else."""
    api = rest_api()
    require_function("get-book", "Deploy it with the %%lambda cell of task 1.")
    statements = _apigateway_statements("get-book")
    if not statements:
        raise CheckFailed(NO_PERMISSION.format(function="get-book"))
    sandbox = _sandbox()
    prefix = f"arn:aws:execute-api:{sandbox.region}:{sandbox.account_id}:"
    wanted = f"{prefix}{api['id']}/*/GET/books/*"
    arns = [_source_arn(statement) for statement in statements]
    if None in arns:
        raise CheckFailed("a statement with no SourceArn lets any API Gateway API, in any "
                          "account, invoke get-book: give add_permission a SourceArn naming "
                          "bookshop's method.", expected=wanted, found="no SourceArn")

    def allowed(source: str) -> bool:  # no arn is None: refused above
        return any(_arn_like(cast(str, arn), prefix + source) for arn in arns)

    api_id = api["id"]
    # the stage prod is what the API serves from; naming it rather than * is narrower still,
    # which a least-privilege task must accept
    if not allowed(f"{api_id}/{STAGE}/GET/books/0-00-1"):
        raise CheckFailed(f"the permission does not cover GET /books/<isbn> of the API "
                          f"bookshop from the stage {STAGE} (or from any stage).",
                          expected=wanted, found=arns)
    if allowed(f"{'x' * len(api_id)}/{STAGE}/GET/books/1"):
        raise CheckFailed("the permission lets other APIs invoke get-book: put bookshop's API "
                          "id in the SourceArn.", expected=wanted, found=arns)
    if allowed(f"{api_id}/{STAGE}/DELETE/books/1") or allowed(f"{api_id}/{STAGE}/GET/authors"):
        raise CheckFailed("the permission allows more than GET /books/*: name the method and "
                          "the path in the SourceArn, <api id>/*/GET/books/*.",
                          expected=wanted, found=arns)


# ---------------------------------------------------------------------------------- HTTP API
def _http_event(book: dict[str, Any]) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": ROUTE, "rawPath": "/books", "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"http": {"method": "POST", "path": "/books"},
                               "routeKey": ROUTE, "stage": "$default"},
            "body": json.dumps(book), "isBase64Encoded": False}


def _http_route(api: dict[str, Any]) -> None:
    import boto3

    client = boto3.client("apigatewayv2")
    routes = [route["RouteKey"] for route in client.get_routes(ApiId=api["ApiId"])["Items"]]
    if ROUTE not in routes:
        raise CheckFailed(f"the HTTP API has no route {ROUTE!r}{_near(ROUTE, routes)}: "
                          "create_route(ApiId=..., RouteKey='POST /books', "
                          "Target='integrations/<integration id>').",
                          expected=ROUTE, found=routes)
    stages = [stage["StageName"] for stage in client.get_stages(ApiId=api["ApiId"])["Items"]]
    if "$default" not in stages:
        raise CheckFailed("the HTTP API has no $default stage: create_stage(ApiId=..., "
                          "StageName='$default', AutoDeploy=True).",
                          expected=["$default"], found=stages)


@check_function("api_gateway.http_api_adds_books")
def http_api_adds_books() -> None:
    """POST /books on the HTTP API bookshop-http stores the JSON body in the table and answers
    201 with the book."""
    table = require_table(TABLE)
    api = http_api()
    require_function("add-book", "Deploy it with the %%lambda cell of task 3.")
    _http_route(api)
    book = {"isbn": unique("978"), "title": unique("Emma"), "author": "Jane Austen"}
    response = _request("POST", _sandbox().api_url(api["ApiId"], "$default") + "/books",
                        json=book)
    if response.status_code == 500 and "permission" in response.headers.get(REASON, ""):
        raise CheckFailed(NO_PERMISSION.format(function="add-book"), details=_details(response))
    if response.status_code >= 500:
        _answered("add-book", _http_event(book), "dynamodb:PutItem", expected=book, hints={
            "ParamValidationError": "event['body'] is a string, not a dict: json.loads it "
                                    "before put_item.",
            "TypeError": "event['body'] is a string, not a dict: json.loads it first.",
            "ClientError": "DynamoDB refused the item (it has no isbn): the book is the JSON "
                           "string in event['body']; json.loads it and put that.",
            "KeyError": "the book is not a key of the event: it is the JSON string in "
                        "event['body'] (json.loads it)."})
        raise CheckFailed("POST /books failed on the API's side.", details=_details(response))
    stored = table.get_item(Key={"isbn": book["isbn"]}).get("Item")
    if stored != book:
        raise CheckFailed("the book posted is not in the table as it was sent: put_item the "
                          "JSON body, json.loads(event['body']).",
                          expected=book, found=stored or "no item with that isbn")
    if response.status_code == 200:
        raise CheckFailed("POST /books answered 200: answer 201 Created, "
                          "{'statusCode': 201, 'body': json.dumps(book)} (a bare dict is sent "
                          "as a 200).", expected=201, found=200)
    if response.status_code != 201:
        raise CheckFailed("POST /books should answer 201 Created.", expected=201,
                          found=response.status_code, details=_details(response))
    if _json(response) != book:
        raise CheckFailed("the body of the 201 should be the book, as JSON.", expected=book,
                          found=_json(response))


# ---------------------------------------------------------------------------------- CORS
def site_origin() -> str:
    """The origin of the shop's web site: its website URL without the trailing slash."""
    return _sandbox().website_url(SITE_BUCKET).rstrip("/")


@check_function("api_gateway.http_api_allows_the_site")
def http_api_allows_the_site() -> None:
    """bookshop-http answers the site's preflight for POST with content-type, for the site's
    origin only."""
    api = http_api()
    origin = site_origin()
    cors = api.get("CorsConfiguration")
    if not cors:
        raise CheckFailed("the HTTP API has no CORS configuration: update_api(ApiId=..., "
                          "CorsConfiguration={'AllowOrigins': [...], 'AllowMethods': [...], "
                          "'AllowHeaders': [...]}).", expected={"AllowOrigins": [origin]},
                          found=None)
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        raise CheckFailed("'*' lets every web site's scripts call the API: allow the shop's "
                          "origin only.", expected=[origin], found=origins)
    if origin + "/" in origins:
        raise CheckFailed("an origin is scheme, host and port, with no path: drop the trailing "
                          "slash.", expected=[origin], found=origins)
    url = _sandbox().api_url(api["ApiId"], "$default") + "/books"
    preflight = _request("OPTIONS", url, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    allow_origin = preflight.headers.get("Access-Control-Allow-Origin")
    if allow_origin != origin:
        raise CheckFailed("the preflight from the site's origin does not allow it: put that "
                          "origin in AllowOrigins (site_url without the trailing slash).",
                          expected=[origin], found=origins)
    methods = [m.strip().upper()
               for m in preflight.headers.get("Access-Control-Allow-Methods", "").split(",")]
    if "POST" not in methods and "*" not in methods:
        raise CheckFailed("the site's script posts books: put POST in AllowMethods.",
                          expected="POST", found=cors.get("AllowMethods"))
    headers = [h.strip().lower()
               for h in preflight.headers.get("Access-Control-Allow-Headers", "").split(",")]
    if "content-type" not in headers and "*" not in headers:
        raise CheckFailed("the site's script sends a content-type header with its JSON: put "
                          "content-type in AllowHeaders.", expected="content-type",
                          found=cors.get("AllowHeaders"))
