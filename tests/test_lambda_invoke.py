"""The Invoke API: invocation types, qualifiers, concurrency and limits, as Lambda answers."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import boto3
import pytest
from botocore.config import Config

from sandbox.testing import deploy, execution_role, invoke, zip_files

NO_RETRIES = Config(retries={"max_attempts": 0})
VERSIONED = """
import os
def handler(event, context):
    return {"version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "code": CODE,
            "arn": context.invoked_function_arn}
"""


def _publish(code: str) -> str:
    lam = boto3.client("lambda")
    lam.update_function_code(FunctionName="v", ZipFile=zip_files(
        {"app.py": f"CODE = {code!r}\n" + VERSIONED}))
    return lam.publish_version(FunctionName="v")["Version"]


def test_versions_and_aliases_are_honoured(sb):
    arn = deploy("v", "CODE = 'first'\n" + VERSIONED)
    assert _publish("one") == "1"
    assert _publish("two") == "2"
    lam = boto3.client("lambda")
    lam.create_alias(FunctionName="v", Name="live", FunctionVersion="1")

    def call(**kwargs):
        response = lam.invoke(FunctionName=kwargs.pop("name", "v"), **kwargs)
        return response["ExecutedVersion"], json.loads(response["Payload"].read())

    assert call(Qualifier="1") == ("1", {"version": "1", "code": "one", "arn": f"{arn}:1"})
    assert call(name="v:2") == ("2", {"version": "2", "code": "two", "arn": f"{arn}:2"})
    assert call(Qualifier="live") == ("1", {"version": "1", "code": "one", "arn": f"{arn}:live"})
    assert call(name=f"{arn}:live") == ("1", {"version": "1", "code": "one",
                                               "arn": f"{arn}:live"})
    assert call() == ("$LATEST", {"version": "$LATEST", "code": "two", "arn": arn})
    lam.update_alias(FunctionName="v", Name="live", FunctionVersion="2")
    assert call(Qualifier="live")[0] == "2"


def test_unknown_function_or_qualifier(sb):
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nope")
    deploy("v", "CODE = 'x'\n" + VERSIONED)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="v", Qualifier="7")


def test_dry_run_answers_204_and_runs_nothing(sb):
    deploy("dry", "print('ran')\ndef handler(e, c):\n    print('ran')\n")
    response = boto3.client("lambda").invoke(FunctionName="dry", InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    assert sb.admin.environments() == []
    groups = boto3.client("logs").describe_log_groups()["logGroups"]
    assert "/aws/lambda/dry" not in [g["logGroupName"] for g in groups]


def test_event_answers_202_at_once_and_runs_in_the_background(sb):
    deploy("later", "import time, boto3\n"
                    "def handler(e, c):\n    time.sleep(1)\n"
                    "    boto3.client('sqs').create_queue(QueueName='ran-' + e['n'])\n",
           Role=execution_role("queue-maker", "sqs:CreateQueue"))
    response = boto3.client("lambda").invoke(FunctionName="later", InvocationType="Event",
                                             Payload=b'{"n": "1"}')
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert "QueueUrls" not in boto3.client("sqs").list_queues()  # answered before it ran
    assert sb.admin.wait_for_async_invocations()
    assert boto3.client("sqs").list_queues()["QueueUrls"][0].endswith("/ran-1")


def test_event_payload_over_1_mb_is_refused(sb):
    deploy("later", "def handler(e, c):\n    pass\n")
    with pytest.raises(boto3.client("lambda").exceptions.ClientError) as caught:
        boto3.client("lambda").invoke(FunctionName="later", InvocationType="Event",
                                      Payload=json.dumps("x" * 1_100_000).encode())
    assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert caught.value.response["Error"]["Message"] == \
        "1100002 byte payload is too large for the Event invocation type (limit 1048576 bytes)"


def test_reserved_concurrency_zero_throttles_every_invoke(sb):
    deploy("off", "def handler(e, c):\n    return 1\n")
    lam = boto3.client("lambda", config=NO_RETRIES)
    assert invoke("off")["Payload"] == 1  # a warm environment does not help
    lam.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as caught:
        lam.invoke(FunctionName="off")
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Error"]["Message"] == "Rate Exceeded."
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.delete_function_concurrency(FunctionName="off")
    assert invoke("off")["Payload"] == 1


def _while_busy(sb, name: str, busy: int, lam) -> tuple[list[int], str]:
    """Keep ``busy`` invocations running, then invoke once more; what each answered."""
    import time

    statuses: list[int] = []
    threads = [threading.Thread(target=lambda: statuses.append(lam.invoke(
        FunctionName=name, Payload=b'{"sleep": 1.5}')["StatusCode"])) for _ in range(busy)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 10
    while sum(env["busy"] for env in sb.admin.environments()) < busy:
        assert time.time() < deadline, "the first invocations never started"
        time.sleep(0.01)
    try:
        lam.invoke(FunctionName=name, Payload=b"{}")
        last = "200"
    except lam.exceptions.TooManyRequestsException as e:
        last = e.response["Reason"]
    for thread in threads:
        thread.join()
    return statuses, last


def test_reserved_concurrency_caps_busy_environments(sb):
    deploy("one", "import time\ndef handler(e, c):\n    time.sleep(e.get('sleep', 0))\n")
    lam = boto3.client("lambda", config=NO_RETRIES)
    lam.put_function_concurrency(FunctionName="one", ReservedConcurrentExecutions=1)
    assert _while_busy(sb, "one", 1, lam) == (
        [200], "ReservedFunctionConcurrentInvocationLimitExceeded")


def test_account_concurrency_limit(sb, request):
    deploy("busy", "import time\ndef handler(e, c):\n    time.sleep(e.get('sleep', 0))\n")
    sb.admin.call("lambda.concurrency", {"limit": 2})
    request.addfinalizer(lambda: sb.admin.call("lambda.concurrency", {"limit": 1000}))
    lam = boto3.client("lambda", config=NO_RETRIES)
    assert _while_busy(sb, "busy", 2, lam) == ([200, 200], "ConcurrentInvocationLimitExceeded")


@pytest.mark.parametrize("config, message", [
    ({"Timeout": 901}, "Member must have value less than or equal to 900"),
    ({"MemorySize": 10241}, "Member must have value less than or equal to 10240"),
    ({"Environment": {"Variables": {"BIG": "x" * 5000}}}, "exceeded the 4KB limit"),
])
def test_configuration_limits(sb, config, message):
    with pytest.raises(boto3.client("lambda").exceptions.ClientError, match=message):
        deploy("limits", "def handler(e, c):\n    pass\n", **config)


def test_invoke_async_legacy_api(sb):
    deploy("legacy", "import boto3\ndef handler(e, c):\n"
                     "    boto3.client('sqs').create_queue(QueueName='legacy-ran')\n",
           Role=execution_role("queue-maker", "sqs:CreateQueue"))
    response = boto3.client("lambda").invoke_async(FunctionName="legacy", InvokeArgs=b"{}")
    assert response["Status"] == 202
    assert sb.admin.wait_for_async_invocations()
    assert boto3.client("sqs").list_queues()["QueueUrls"][0].endswith("/legacy-ran")


def test_simultaneous_invokes_never_exceed_reserved_concurrency(sb):
    deploy("capped", "import time\ndef handler(e, c):\n    time.sleep(3)\n")
    lam = boto3.client("lambda", config=NO_RETRIES)
    lam.put_function_concurrency(FunctionName="capped", ReservedConcurrentExecutions=2)
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def call() -> None:
        start.wait()
        try:
            lam.invoke(FunctionName="capped")
            outcomes.append("ran")
        except lam.exceptions.TooManyRequestsException:
            outcomes.append("throttled")

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ran") <= 2 and outcomes.count("throttled") >= 1


def test_an_alias_shifts_its_weighted_share_to_the_other_version(sb):
    deploy("v", "CODE = 'first'\n" + VERSIONED)
    _publish("one")
    _publish("two")
    lam = boto3.client("lambda")
    lam.create_alias(FunctionName="v", Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    executed = {lam.invoke(FunctionName="v", Qualifier="canary")["ExecutedVersion"]
                for _ in range(5)}
    assert executed == {"2"}
    lam.update_alias(FunctionName="v", Name="canary",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    executed = {lam.invoke(FunctionName="v", Qualifier="canary")["ExecutedVersion"]
                for _ in range(5)}
    assert executed == {"1"}


def test_update_function_code_can_move_a_function_to_arm64(sb):
    deploy("portable", "def handler(e, c):\n    return 1\n")
    lam = boto3.client("lambda")
    response = lam.update_function_code(FunctionName="portable", Architectures=["arm64"],
                                        ZipFile=zip_files({"app.py": "def handler(e, c):\n"
                                                                     "    return 2\n"}))
    assert response["Architectures"] == ["arm64"]
    assert lam.get_function_configuration(FunctionName="portable")["Architectures"] == ["arm64"]
    assert invoke("portable")["Payload"] == 2


# Lambda's quotas page: a deployment package is at most 50 MB zipped (direct upload) and 250 MB
# unzipped (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Lambda
# measures the direct upload as its request, the zip in base64: 69,905,067 bytes.
def _deflated(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_package_over_250_mb_unzipped_is_refused_on_create_and_on_update(sb):
    lam = boto3.client("lambda")
    # 250 MB of zeros deflates to a few hundred KB: only the unzipped size is over
    too_big = _deflated({"app.py": "def handler(e, c):\n    pass\n",
                         "zeros.bin": bytes(262144000)})
    assert len(too_big) < 1024 * 1024
    role = execution_role()
    with pytest.raises(lam.exceptions.InvalidParameterValueException,
                       match="Unzipped size must be smaller than 262144000 bytes"):
        lam.create_function(FunctionName="huge", Runtime="python3.12", Role=role,
                            Handler="app.handler", Code={"ZipFile": too_big})
    deploy("small", "def handler(e, c):\n    return 1\n")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="Unzipped size"):
        lam.update_function_code(FunctionName="small", ZipFile=too_big)
    just_under = _deflated({"app.py": "def handler(e, c):\n    return 2\n",
                            "zeros.bin": bytes(262144000 - 100)})
    # accepted (not invoked: that would unpack 250 MB onto this machine's disk)
    assert lam.update_function_code(FunctionName="small",
                                    ZipFile=just_under)["CodeSize"] == len(just_under)


def test_a_direct_upload_over_50_mb_zipped_is_refused_with_413(sb):
    import os

    lam = boto3.client("lambda", config=NO_RETRIES)
    # random bytes do not compress: the zip is just over 50 MB, its base64 over 69,905,067
    over = zip_files({"app.py": "def handler(e, c):\n    pass\n",
                      "noise.bin": os.urandom(50 * 1024 * 1024 + 4096)})
    with pytest.raises(lam.exceptions.ClientError) as refused:
        lam.create_function(FunctionName="big", Runtime="python3.12", Role=execution_role(),
                            Handler="app.handler", Code={"ZipFile": over})
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == ("Request must be smaller than 69905067 bytes for the "
                                         "CreateFunction operation")


# "You can reserve up to the Unreserved account concurrency value that is shown, minus 100 for
# functions that don't have reserved concurrency"
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)
def test_reserved_concurrency_leaves_the_account_100_unreserved(sb, request):
    deploy("first", "def handler(e, c):\n    pass\n")
    deploy("second", "def handler(e, c):\n    pass\n")
    lam = boto3.client("lambda")
    lam.put_function_concurrency(FunctionName="first", ReservedConcurrentExecutions=600)
    refused = "decreases account's UnreservedConcurrentExecution below its minimum value of"
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match=f"{refused} \\[100\\]"):
        lam.put_function_concurrency(FunctionName="second", ReservedConcurrentExecutions=301)
    lam.put_function_concurrency(FunctionName="second", ReservedConcurrentExecutions=300)
    # a function's own reservation is replaced, not added to the others
    lam.put_function_concurrency(FunctionName="second", ReservedConcurrentExecutions=250)
    lam.delete_function_concurrency(FunctionName="first")
    lam.put_function_concurrency(FunctionName="second", ReservedConcurrentExecutions=900)
    # an account whose limit is under 100 keeps all of it unreserved
    sb.admin.call("lambda.concurrency", {"limit": 10})
    request.addfinalizer(lambda: sb.admin.call("lambda.concurrency", {"limit": 1000}))
    lam.delete_function_concurrency(FunctionName="second")
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match=f"{refused} \\[10\\]"):
        lam.put_function_concurrency(FunctionName="first", ReservedConcurrentExecutions=1)
