"""The local Lambda runtime, pinned against what AWS Lambda's Python runtime does
(the AWS Lambda developer guide's Python pages; awslambdaric's source for payloads and
log lines)."""

from __future__ import annotations

import json
import re
import threading
import time

import boto3
import psutil
import pytest

from sandbox.testing import deploy, execution_role, invoke, zip_files

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REPORT = (rf"REPORT RequestId: (?P<id>{UUID})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
          r"Memory Size: 128 MB\tMax Memory Used: \d+ MB")


def log_events(name: str) -> list[dict]:
    logs = boto3.client("logs")
    events = []
    for stream in logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]:
        events += logs.get_log_events(logGroupName=f"/aws/lambda/{name}",
                                      logStreamName=stream["logStreamName"])["events"]
    return events


def streams(name: str) -> list[str]:
    response = boto3.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")
    return [stream["logStreamName"] for stream in response["logStreams"]]


# ---------------------------------------------------------------- context and environment
CONTEXT_HANDLER = """
import os
def handler(event, context):
    names = ["aws_request_id", "function_name", "function_version", "invoked_function_arn",
             "memory_limit_in_mb", "log_group_name", "log_stream_name", "client_context",
             "tenant_id"]
    found = {name: getattr(context, name) for name in names}
    found["identity"] = [context.identity.cognito_identity_id,
                         context.identity.cognito_identity_pool_id]
    found["remaining"] = context.get_remaining_time_in_millis()
    found["environ"] = dict(os.environ)
    found["cwd"] = os.getcwd()
    return found
"""


def test_context_object_matches_the_python_runtime(sb):
    arn = deploy("ctx", CONTEXT_HANDLER, Timeout=7)
    response = invoke("ctx")
    found = response["Payload"]
    assert re.fullmatch(UUID, found["aws_request_id"])
    assert found["function_name"] == "ctx"
    assert found["function_version"] == "$LATEST"
    assert found["invoked_function_arn"] == arn
    assert found["memory_limit_in_mb"] == "128"  # a str, read from the environment
    assert found["log_group_name"] == "/aws/lambda/ctx"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", found["log_stream_name"])
    assert found["log_stream_name"] in streams("ctx")
    assert found["client_context"] is None and found["tenant_id"] is None
    assert found["identity"] == [None, None]
    assert 6000 < found["remaining"] <= 7000
    assert found["aws_request_id"] in response["Log"]


def test_reserved_environment_variables(sb):
    deploy("env", CONTEXT_HANDLER, Environment={"Variables": {"TABLE": "users",
                                                               "AWS_REGION": "mars-1"}})
    env = invoke("env")["Payload"]["environ"]
    expected = {
        "_HANDLER": "app.handler", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_LAMBDA_FUNCTION_NAME": "env",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/env", "TZ": ":UTC", "TABLE": "users",
    }
    assert {k: env.get(k) for k in expected} == expected
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # the execution role's temporary keys
    assert env["AWS_SESSION_TOKEN"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["LAMBDA_TASK_ROOT"] and env["LAMBDA_RUNTIME_DIR"]


def test_client_context_reaches_the_handler(sb):
    import base64

    deploy("cc", "def handler(e, c):\n"
                 "    cc = c.client_context\n"
                 "    return [cc.custom, cc.env, cc.client.app_title, cc.client.installation_id,\n"
                 "            cc.client.app_package_name]\n")
    # the mobile SDKs' fields, as awslambdaric turns them into attributes
    sent = {"custom": {"tier": "gold"}, "env": {"locale": "en_GB"},
            "client": {"app_title": "Bookshop", "installation_id": "install-1"}}
    context = base64.b64encode(json.dumps(sent).encode()).decode()
    response = boto3.client("lambda").invoke(FunctionName="cc", ClientContext=context)
    assert json.loads(response["Payload"].read()) == [
        {"tier": "gold"}, {"locale": "en_GB"}, "Bookshop", "install-1", None]


def test_a_handler_cannot_reach_real_aws(sb):
    # the runtime guards botocore when the handler imports it, as the notebook's is guarded
    deploy("escape", """
import boto3
def handler(event, context):
    try:
        boto3.client("sts", endpoint_url="https://sts.amazonaws.com").get_caller_identity()
    except Exception as e:
        return [type(e).__name__, str(e)]
    return ["sent"]
""")
    name, message = invoke("escape", {})["Payload"]
    assert name == "RealAWSRefused"
    assert message.startswith("The sandbox refused to send a request to https://sts.amazonaws.com")


# ---------------------------------------------------------------- identity and shared state
def test_handler_writes_a_table_the_notebook_reads(sb):
    boto3.client("dynamodb").create_table(
        TableName="books", KeySchema=[{"AttributeName": "isbn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "isbn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    deploy("save-book", """
import boto3
table = boto3.resource("dynamodb").Table("books")
def handler(book, context):
    table.put_item(Item=book)
    return {"saved": book["isbn"],
            "caller": boto3.client("sts").get_caller_identity()["Arn"]}
""", Role=execution_role("books-writer", "dynamodb:PutItem"))
    result = invoke("save-book", {"isbn": "978-0", "title": "Serverless"})["Payload"]
    item = boto3.resource("dynamodb").Table("books").get_item(Key={"isbn": "978-0"})["Item"]
    assert item == {"isbn": "978-0", "title": "Serverless"}
    assert result["caller"] == "arn:aws:sts::123456789012:assumed-role/books-writer/save-book"


def test_a_handler_acts_only_as_its_role_allows(sb):
    boto3.client("dynamodb").create_table(
        TableName="books", KeySchema=[{"AttributeName": "isbn", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "isbn", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    deploy("save-book", "import boto3\n"
                        "def handler(book, context):\n"
                        "    boto3.resource('dynamodb').Table('books').put_item(Item=book)\n")
    payload = invoke("save-book", {"isbn": "978-0"})["Payload"]  # logs only: no PutItem
    assert payload["errorType"] == "ClientError"
    assert payload["errorMessage"] == (
        "An error occurred (AccessDeniedException) when calling the PutItem operation: User: "
        "arn:aws:sts::123456789012:assumed-role/sandbox-test-role/save-book is not authorized "
        "to perform: dynamodb:PutItem on resource: "
        "arn:aws:dynamodb:us-east-1:123456789012:table/books because no identity-based policy "
        "allows the dynamodb:PutItem action")
    assert "Item" not in boto3.client("dynamodb").get_item(
        TableName="books", Key={"isbn": {"S": "978-0"}})


def test_decimals_from_dynamodb_are_returned_as_numbers(sb):
    deploy("dec", "from decimal import Decimal\n"
                  "def handler(e, c):\n    return {'n': Decimal('3'), 'x': Decimal('1.5')}\n")
    assert invoke("dec")["Payload"] == {"n": 3, "x": 1.5}


# ---------------------------------------------------------------- logs
def test_cold_then_warm_log_lines(sb):
    deploy("logs", "print('init says hi')\n"
                   "def handler(e, c):\n    print('hello', e['n'])\n    return e['n']\n")
    cold = invoke("logs", {"n": 1})
    warm = invoke("logs", {"n": 2})
    events = [event["message"] for event in log_events("logs")]
    assert re.fullmatch(r"INIT_START Runtime Version: python:3\.12\.v\d+\tRuntime Version ARN: "
                        r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}\n", events[0])
    assert events[1] == "init says hi\n"
    rid = cold["ResponseMetadata"]["RequestId"]
    assert events[2] == f"START RequestId: {rid} Version: $LATEST\n"
    assert events[3] == "hello 1\n"
    assert events[4] == f"END RequestId: {rid}\n"
    cold_report = re.fullmatch(REPORT + r"\tInit Duration: (?P<init>\d+\.\d\d) ms\t\n", events[5])
    assert cold_report and cold_report["id"] == rid
    warm_report = re.fullmatch(REPORT + r"\t\n", events[9])  # no Init Duration when warm
    assert warm_report and warm_report["id"] == warm["ResponseMetadata"]["RequestId"]
    # the log tail holds this invocation's log, START to REPORT, not the INIT phase
    assert cold["Log"].startswith(f"START RequestId: {rid}")
    assert cold["Log"].endswith("\t\n") and "INIT_START" not in cold["Log"]


def test_billed_duration_rounds_up_and_includes_init_on_a_cold_start(sb):
    deploy("bill", "import time\ntime.sleep(0.05)\n"
                   "def handler(e, c):\n    time.sleep(0.02)\n")
    report = invoke("bill")["Log"].splitlines()[-1]
    fields = dict(re.findall(r"(\w[\w ]*): (\d+(?:\.\d+)?) ms", report))
    duration, init, billed = (float(fields[k]) for k in ("Duration", "Init Duration",
                                                          "Billed Duration"))
    assert duration >= 20 and init >= 50
    # on-demand functions are billed for INIT too since August 2025, rounded up to the 1 ms
    assert billed == pytest.approx(-(-(duration + init) // 1), abs=1)


def test_logging_follows_the_lambda_format(sb):
    deploy("lg", """
import logging
logger = logging.getLogger()
def handler(event, context):
    logger.info("not shown: the root logger stays at WARNING")
    logger.warning("two\\nlines")
    logger.setLevel(logging.INFO)
    logger.info("shown now")
""")
    response = invoke("lg")
    rid = response["ResponseMetadata"]["RequestId"]
    messages = [e["message"] for e in log_events("lg")]
    assert not any("not shown" in m for m in messages)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert any(re.fullmatch(rf"\[WARNING\]\t{stamp}\t{rid}\ttwo\nlines\n", m) for m in messages)
    assert any(re.fullmatch(rf"\[INFO\]\t{stamp}\t{rid}\tshown now\n", m) for m in messages)


def test_filter_log_events_finds_a_handlers_line(sb):
    deploy("grep", "def handler(e, c):\n    print('needle-42')\n")
    invoke("grep")
    found = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/grep",
                                                   filterPattern="needle")
    assert [e["message"] for e in found["events"]] == ["needle-42\n"]


def test_log_tail_is_the_last_4_kb(sb):
    deploy("chatty", "def handler(e, c):\n    for i in range(500):\n        print('line', i)\n")
    response = invoke("chatty")
    assert len(response["Log"].encode()) == 4096
    assert response["Log"].endswith("\t\n") and "line 499\n" in response["Log"]


def test_a_line_longer_than_a_log_event_becomes_several(sb):
    # CloudWatch Logs takes events of at most 256 KB (the UTF-8 message plus 26 bytes), and
    # Lambda sends a longer line as several events
    deploy("long", "def handler(e, c):\n    print('x' * 1_000_000)\n"
                   "    print('\u00e9' * 300_000)\n")
    invoke("long")
    messages = [e["message"] for e in log_events("long")]
    plain = [m for m in messages if m.strip("x\n") == ""]
    accented = [m for m in messages if m.strip("\u00e9\n") == ""]
    assert "".join(plain) == "x" * 1_000_000 + "\n" and len(plain) == 4
    assert "".join(accented) == "\u00e9" * 300_000 + "\n" and len(accented) == 3
    assert max(len(m.encode()) + 26 for m in plain + accented) <= 256 * 1024


# ---------------------------------------------------------------- errors
def test_unhandled_exception_payload_and_log(sb):
    deploy("boom", "def handler(event, context):\n    return 1/0\n")
    response = invoke("boom")
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorMessage": "division by zero", "errorType": "ZeroDivisionError", "requestId": rid,
        "stackTrace": ['  File "/var/task/app.py", line 2, in handler\n    return 1/0\n'],
    }
    nbsp = "\u00a0"
    error_line = ("[ERROR] ZeroDivisionError: division by zero\nTraceback (most recent call "
                  f'last):\n{nbsp * 2}File "/var/task/app.py", line 2, in handler\n'
                  f"{nbsp * 4}return 1/0")
    assert error_line in [e["message"] for e in log_events("boom")]
    assert "Status:" not in response["Log"]  # a handler's exception is not a platform error
    assert invoke("boom")["FunctionError"] == "Unhandled"  # and the environment lives on


@pytest.mark.parametrize("files, handler, error_type, message", [
    ({"app.py": "import requests_not_installed\ndef handler(e, c): pass\n"}, "app.handler",
     "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'requests_not_installed'"),
    ({"app.py": "def handler(e, c)\n    pass\n"}, "app.handler", "Runtime.UserCodeSyntaxError",
     "Syntax error in module 'app': expected ':' (app.py, line 1)"),
    ({"app.py": "def other(e, c): pass\n"}, "app.handler", "Runtime.HandlerNotFound",
     "Handler 'handler' missing on module 'app'"),
    ({"app.py": "x = 1\n"}, "nodots", "Runtime.MalformedHandlerName",
     "Bad handler 'nodots': not enough values to unpack (expected 2, got 1)"),
    ({"app.py": "x = 1\n"}, "missing.handler", "Runtime.ImportModuleError",
     "Unable to import module 'missing': No module named 'missing'"),
])
def test_init_errors(sb, files, handler, error_type, message):
    deploy("broken", files, handler=handler)
    response = invoke("broken")
    assert response["FunctionError"] == "Unhandled"
    payload = response["Payload"]
    assert (payload["errorType"], payload["errorMessage"], payload["requestId"]) == \
        (error_type, message, "")
    messages = [e["message"] for e in log_events("broken")]
    reports = [m for m in messages if m.startswith("INIT_REPORT")]
    # INIT fails, Lambda tries once more inside the invoke phase, then reports the invocation
    assert [r.split("\t")[1:] for r in reports] == [
        ["Phase: init", "Status: error", f"Error Type: {error_type}\n"],
        ["Phase: invoke", "Status: error", f"Error Type: {error_type}\n"]]
    assert messages[-1].endswith(f"\tStatus: error\tError Type: {error_type}\n")
    assert sum(m.startswith("[ERROR] " + error_type) for m in messages) == 2
    assert sum(m.startswith("INIT_START") for m in messages) == 1


def test_syntax_error_names_the_line(sb):
    deploy("syntax", "def handler(e, c)\n    pass\n")
    payload = invoke("syntax")["Payload"]
    assert payload["stackTrace"] == ['  File "/var/task/app.py" Line 1\n    def handler(e, c)\n']


def test_unserialisable_result(sb):
    deploy("marshal", "def handler(e, c):\n    return {1, 2}\n")
    payload = invoke("marshal")["Payload"]
    assert payload["errorType"] == "Runtime.MarshalError"
    assert payload["errorMessage"] == \
        "Unable to marshal response: Object of type set is not JSON serializable"


def test_timeout_kills_the_environment(sb):
    deploy("slow", "import time\ncount = 0\ndef handler(e, c):\n    global count\n"
                   "    count += 1\n    time.sleep(e.get('sleep', 0))\n    return count\n",
           Timeout=1)
    assert invoke("slow")["Payload"] == 1
    response = invoke("slow", {"sleep": 5})
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {"errorType": "Sandbox.Timedout", "errorMessage":
                                   f"RequestId: {rid} Error: Task timed out after 1.00 seconds"}
    assert re.search(r"\tDuration: 1000\.00 ms\t.*\tStatus: timeout\n$", response["Log"])
    again = invoke("slow")  # a new environment: module state starts over
    assert again["Payload"] == 1 and "Init Duration" in again["Log"]


def test_process_exit(sb):
    deploy("quit", "import sys\ndef handler(e, c):\n    sys.exit(e['code'])\n")
    response = invoke("quit", {"code": 3})
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["Payload"] == {"errorType": "Runtime.ExitError", "errorMessage":
                                   f"RequestId: {rid} Error: Runtime exited with error: "
                                   "exit status 3"}
    assert response["Log"].endswith("\tStatus: error\tError Type: Runtime.ExitError\n")
    assert invoke("quit", {"code": 0})["FunctionError"] == "Unhandled"


def test_memory_over_memory_size(sb):
    deploy("hog", "def handler(e, c):\n    block = bytearray(e['mb'] * 1024 * 1024)\n"
                  "    for i in range(0, len(block), 4096):\n        block[i] = 1\n"
                  "    return len(block)\n")
    assert invoke("hog", {"mb": 10})["Payload"] == 10 * 1024 * 1024
    response = invoke("hog", {"mb": 200})
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["Payload"] == {"errorType": "Runtime.OutOfMemory", "errorMessage":
                                   f"RequestId: {rid} Error: Runtime exited with error: "
                                   "signal: killed"}
    assert re.search(r"\tMax Memory Used: 128 MB\t.*Status: error\tError Type: "
                     r"Runtime.OutOfMemory\n$", response["Log"])
    assert invoke("hog", {"mb": 1})["Payload"] == 1024 * 1024


def test_response_over_6_mb(sb):
    deploy("huge", "def handler(e, c):\n    return 'x' * 7_000_000\n")
    response = invoke("huge")
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size "
                        "(6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge"}


def test_request_over_6_mb_is_refused_with_413(sb):
    deploy("echo", "def handler(e, c):\n    return e\n")
    with pytest.raises(boto3.client("lambda").exceptions.ClientError) as caught:
        boto3.client("lambda").invoke(FunctionName="echo",
                                      Payload=json.dumps("x" * 6_300_000).encode())
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == \
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    assert invoke("echo", {"ok": 1})["Payload"] == {"ok": 1}


def test_payload_that_is_not_json_is_refused(sb):
    deploy("echo", "def handler(e, c):\n    return e\n")
    with pytest.raises(boto3.client("lambda").exceptions.InvalidRequestContentException):
        boto3.client("lambda").invoke(FunctionName="echo", Payload=b"{not json")


def test_unsupported_runtime_says_what_runs_here(sb):
    boto3.client("lambda").create_function(
        FunctionName="node", Runtime="nodejs20.x", Role=execution_role(),
        Handler="index.handler", Code={"ZipFile": zip_files({"index.js": "exports.handler=1"})})
    response = invoke("node")
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Sandbox.UnsupportedRuntime"
    assert "nodejs20.x" in response["Payload"]["errorMessage"]
    assert "python3.12" in response["Payload"]["errorMessage"]


# ---------------------------------------------------------------- execution environments
STATEFUL = """
import os
count = 0
def handler(event, context):
    global count
    count += 1
    path = os.path.join("/tmp", f"sandbox-test-{context.log_stream_name[-32:]}")
    with open(path, "a") as f:
        f.write("x")
    with open(path) as f:
        written = len(f.read())
    import time
    time.sleep(event.get("sleep", 0))
    return {"count": count, "written": written, "stream": context.log_stream_name,
            "version": os.environ.get("VERSION")}
"""


def test_warm_invocations_reuse_the_environment(sb):
    deploy("state", STATEFUL)
    results = [invoke("state")["Payload"] for _ in range(3)]
    assert [r["count"] for r in results] == [1, 2, 3]
    assert [r["written"] for r in results] == [1, 2, 3]
    assert len({r["stream"] for r in results}) == 1
    assert len(streams("state")) == 1


def test_a_concurrent_invocation_gets_a_new_environment(sb):
    deploy("state", STATEFUL)
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(
        invoke("state", {"sleep": 0.5})["Payload"])) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r["count"] for r in results] == [1, 1]
    assert len({r["stream"] for r in results}) == 2
    assert len(streams("state")) == 2


def test_updating_code_or_configuration_retires_old_environments(sb):
    deploy("state", STATEFUL, Environment={"Variables": {"VERSION": "one"}})
    assert invoke("state")["Payload"]["version"] == "one"
    lam = boto3.client("lambda")
    lam.update_function_configuration(FunctionName="state",
                                      Environment={"Variables": {"VERSION": "two"}})
    second = invoke("state")
    assert second["Payload"] == {**second["Payload"], "version": "two", "count": 1}
    lam.update_function_code(FunctionName="state", ZipFile=zip_files(
        {"app.py": "def handler(e, c):\n    return 'new code'\n"}))
    assert invoke("state")["Payload"] == "new code"
    assert len(sb.admin.environments()) == 1


def test_idle_environments_are_retired(sb):
    deploy("state", STATEFUL)
    invoke("state")
    [described] = sb.admin.environments()
    pids = [described["pid"], described["supervisor_pid"], *described["runtime_pids"]]
    assert len(pids) >= 3 or not described["sandboxed"]
    assert sb.admin.retire_idle_environments(0) == 1
    assert sb.admin.environments() == []
    assert not [pid for pid in pids if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert invoke("state")["Payload"]["count"] == 1


def test_deleting_a_function_ends_its_environments(sb):
    deploy("state", STATEFUL)
    invoke("state")
    boto3.client("lambda").delete_function(FunctionName="state")
    deploy("state", "def handler(e, c):\n    return 'replaced'\n")
    assert invoke("state")["Payload"] == "replaced"


# ---------------------------------------------------------------- code, layers, path
def test_vendored_packages_and_layers_are_importable(sb):
    lam = boto3.client("lambda")
    layer = lam.publish_layer_version(LayerName="tools", Content={"ZipFile": zip_files({
        "python/layered.py": "WHERE = 'layer'\n"})}, CompatibleRuntimes=["python3.12"])
    deploy("paths", {
        "app.py": "import vendored, layered, boto3\n"
                  "def handler(e, c):\n    return [vendored.WHERE, layered.WHERE, "
                  "boto3.__name__]\n",
        "vendored/__init__.py": "WHERE = 'zip'\n",
    }, Layers=[layer["LayerVersionArn"]])
    assert invoke("paths")["Payload"] == ["zip", "layer", "boto3"]


# ---------------------------------------------------------------- every path runs real code
def test_an_sqs_event_source_mapping_runs_the_handler(sb):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    boto3.client("s3").create_bucket(Bucket="results-bucket")
    # the mapping polls the queue as the function's role; the handler writes to S3 as it too
    role = execution_role("worker-role", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                          "sqs:GetQueueAttributes", "s3:PutObject")
    deploy("worker", "import boto3\n"
                     "def handler(event, context):\n"
                     "    for record in event['Records']:\n"
                     "        boto3.client('s3').put_object(Bucket='results-bucket', "
                     "Key=record['body'], Body=b'done')\n", Role=role)
    boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=arn["Attributes"]["QueueArn"], FunctionName="worker")
    sqs.send_message(QueueUrl=queue, MessageBody="job-1")
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(
        Bucket="results-bucket").get("Contents", [])]
    assert keys == ["job-1"]


def test_an_s3_notification_runs_the_handler(sb):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads-bucket")
    s3.create_bucket(Bucket="thumbs-bucket")
    arn = deploy("thumb", "import boto3\n"
                          "def handler(event, context):\n"
                          "    key = event['Records'][0]['s3']['object']['key']\n"
                          "    boto3.client('s3').put_object(Bucket='thumbs-bucket', "
                          "Key='thumb-' + key, Body=b'small')\n",
                 Role=execution_role("thumb-role", "s3:PutObject"))
    boto3.client("lambda").add_permission(  # S3 may invoke it for this bucket only
        FunctionName="thumb", StatementId="uploads", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads-bucket",
        SourceAccount="123456789012")
    s3.put_bucket_notification_configuration(Bucket="uploads-bucket", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn,
                                          "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="uploads-bucket", Key="cat.png", Body=b"big")
    deadline = time.time() + 10
    while time.time() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="thumbs-bucket").get("Contents", [])]
        if keys:
            break
        time.sleep(0.05)
    assert keys == ["thumb-cat.png"]


def test_an_sns_subscription_runs_the_handler(sb):
    boto3.client("s3").create_bucket(Bucket="sns-results")
    arn = deploy("listener", "import boto3\n"
                             "def handler(event, context):\n"
                             "    message = event['Records'][0]['Sns']['Message']\n"
                             "    boto3.client('s3').put_object(Bucket='sns-results', Key=message,"
                             " Body=b'heard')\n",
                 Role=execution_role("listener-role", "s3:PutObject"))
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="news")["TopicArn"]
    boto3.client("lambda").add_permission(  # SNS may invoke it for this topic only
        FunctionName="listener", StatementId="news", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com", SourceArn=topic)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello-subscribers")
    assert sb.settle()  # SNS invokes the function asynchronously, after Publish has answered
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(
        Bucket="sns-results").get("Contents", [])]
    assert keys == ["hello-subscribers"]


def test_a_step_functions_task_runs_the_handler(sb):
    arn = deploy("double", "def handler(event, context):\n    return {'n': event['n'] * 2}\n")
    sfn = boto3.client("stepfunctions")
    definition = {"StartAt": "Double",
                  "States": {"Double": {"Type": "Task", "Resource": arn, "End": True}}}
    machine = sfn.create_state_machine(name="doubler", definition=json.dumps(definition),
                                       roleArn=execution_role(
                                           "doubler-role", "lambda:InvokeFunction",
                                           service="states.amazonaws.com"))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="run-1",
                                    input=json.dumps({"n": 21}))["executionArn"]
    deadline = time.time() + 10
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.time() < deadline
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"n": 42}


def test_only_the_runtimes_packages_are_importable(sb):
    # Lambda's Python runtime has the standard library and the AWS SDK; nothing else
    deploy("needs-requests", "import requests\ndef handler(e, c):\n    pass\n")
    payload = invoke("needs-requests")["Payload"]
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == \
        "Unable to import module 'app': No module named 'requests'"
    deploy("sdk", "import boto3, botocore, dateutil, jmespath, s3transfer, urllib3\n"
                  "def handler(e, c):\n    return boto3.__name__\n")
    assert invoke("sdk")["Payload"] == "boto3"


def test_the_deadline_counts_from_the_invocation_not_from_init(sb):
    deploy("slow-init", "import time\ntime.sleep(1)\n"
                        "def handler(e, c):\n    return c.get_remaining_time_in_millis()\n")
    remaining = invoke("slow-init")["Payload"]  # a cold start: INIT took a second
    assert remaining > 2500


def test_filter_log_events_interleaves_streams_in_time_order(sb):
    deploy("two-envs", "import time\ndef handler(e, c):\n    print('event', e['n'])\n"
                       "    time.sleep(e['sleep'])\n    print('done', e['n'])\n")
    threads = [threading.Thread(target=invoke, args=("two-envs", {"n": n, "sleep": s}))
               for n, s in ((1, 1.0), (2, 0.0))]
    threads[0].start()
    time.sleep(0.5)  # the second starts while the first sleeps, in a second environment
    threads[1].start()
    for thread in threads:
        thread.join()
    assert len(streams("two-envs")) == 2
    events = boto3.client("logs").filter_log_events(logGroupName="/aws/lambda/two-envs")
    stamps = [event["timestamp"] for event in events["events"]]
    assert stamps == sorted(stamps)
    printed = [e["message"] for e in events["events"] if e["message"][:5] in ("event", "done ")]
    assert printed == ["event 1\n", "event 2\n", "done 2\n", "done 1\n"]


def test_a_handler_that_answers_at_its_deadline_has_timed_out(sb):
    """Lambda enforces the timeout to the millisecond: a success never runs past it (a sleep
    of exactly the timeout used to succeed, reporting a Duration just over it)."""
    deploy("edge", "import time\ndef handler(e, c):\n    time.sleep(1.0)\n    return 'made it'\n",
           Timeout=1)
    answer = invoke("edge")
    assert answer.get("FunctionError") == "Unhandled"
    assert answer["Payload"]["errorType"] == "Sandbox.Timedout"
    assert "Status: timeout" in answer["Log"]
