"""Custom runtimes: an executable ``bootstrap`` speaking Lambda's Runtime API, including AWS's own
Python runtime client (awslambdaric), which serves as the fidelity oracle for ours."""

from __future__ import annotations

import shutil
import sys

import boto3
import pytest

from sandbox.testing import deploy, execution_role, invoke

CURL_BOOTSTRAP = """#!/bin/sh
# The Runtime API loop from AWS's custom runtime tutorial, in shell and curl.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "init in $(pwd), handler ${_HANDLER}"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "handling $REQUEST_ID" >&2
  if [ "$EVENT" = '{"fail": true}' ]; then
    curl -sS -X POST "$API/invocation/$REQUEST_ID/error" \\
      -d '{"errorMessage": "asked to fail", "errorType": "ShellError"}' > /dev/null
  else
    curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\\"echo\\": $EVENT}" > /dev/null
  fi
done
"""

needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@needs_curl
def test_a_shell_script_runtime_serves_invocations(sb):
    deploy("shell", {"bootstrap": CURL_BOOTSTRAP}, runtime="provided.al2023",
           handler="function.handler")
    first = invoke("shell", {"n": 1})
    assert first["Payload"] == {"echo": {"n": 1}}
    rid = first["ResponseMetadata"]["RequestId"]
    assert f"handling {rid}\n" in first["Log"]
    assert invoke("shell", {"n": 2})["Payload"] == {"echo": {"n": 2}}
    failed = invoke("shell", {"fail": True})
    assert failed["FunctionError"] == "Unhandled"
    assert failed["Payload"] == {"errorMessage": "asked to fail", "errorType": "ShellError"}
    logs = boto3.client("logs")
    [stream] = logs.describe_log_streams(logGroupName="/aws/lambda/shell")["logStreams"]
    messages = [e["message"] for e in logs.get_log_events(
        logGroupName="/aws/lambda/shell", logStreamName=stream["logStreamName"])["events"]]
    assert messages[0].startswith("INIT_START Runtime Version: provided:al2023.v")
    assert messages[1].startswith("init in ") and messages[1].endswith("handler function.handler\n")


def test_missing_bootstrap(sb):
    deploy("nothing", {"README": "no bootstrap here"}, runtime="provided.al2023",
           handler="x.y")
    response = invoke("nothing")
    rid = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Runtime.InvalidEntrypoint"
    assert response["Payload"]["errorMessage"].startswith(f"RequestId: {rid} Error: ")
    assert response["Payload"]["errorMessage"] == (
        f"RequestId: {rid} Error: Couldn't find valid bootstrap(s): "
        "[/var/task/bootstrap /opt/bootstrap]")


def test_bootstrap_that_is_not_executable(sb):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\necho hi\n")  # writestr leaves no exec bit
    boto3.client("lambda").create_function(
        FunctionName="noexec", Runtime="provided.al2", Role=execution_role(), Handler="x.y",
        Code={"ZipFile": buffer.getvalue()})
    payload = invoke("noexec")["Payload"]
    assert payload["errorType"] == "Runtime.InvalidEntrypoint"
    assert payload["errorMessage"].endswith("fork/exec /var/task/bootstrap: permission denied")


# ---------------------------------------------------------------- awslambdaric as the oracle
ORACLE_CASES = {
    "ok": "def handler(event, context):\n    return {'got': event, 'caf\u00e9': 1.5}\n",
    "raise": "def helper():\n    raise KeyError('isbn')\n\n"
             "def handler(event, context):\n    return helper()\n",
    "marshal": "def handler(event, context):\n    return {1, 2}\n",
    "context": "def handler(event, context):\n"
               "    return [context.memory_limit_in_mb, context.function_version,\n"
               "            context.client_context, context.identity.cognito_identity_id,\n"
               "            type(context.get_remaining_time_in_millis()).__name__]\n",
    "missing": "def other(event, context):\n    pass\n",
}


def _oracle_bootstrap() -> str:
    return f'#!/bin/sh\nexec "{sys.executable}" -m awslambdaric "$_HANDLER"\n'


def _normalised(response: dict, rid: str) -> object:
    payload = response["Payload"]
    if isinstance(payload, dict):
        payload = dict(payload)
        if payload.get("requestId") == rid:
            payload["requestId"] = "<id>"
        payload["stackTrace"] = [
            line.replace("/var/task/", "<task>/").split('File "')[0] + 'File "<task>/' +
            line.split("/")[-1] if 'File "' in line else line
            for line in payload.get("stackTrace", [])] if "stackTrace" in payload else None
    return response.get("FunctionError"), payload


@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_our_python_runtime_answers_as_awslambdaric_does(sb, case):
    pytest.importorskip("awslambdaric")
    source = ORACLE_CASES[case]
    deploy("ours", source)
    deploy("oracle", {"app.py": source, "bootstrap": _oracle_bootstrap()},
           runtime="provided.al2023", Environment={"Variables": {"AWS_EXECUTION_ENV":
                                                                 "AWS_Lambda_python3.12"}})
    ours, oracle = invoke("ours", {"n": 1}), invoke("oracle", {"n": 1})
    if case == "context":
        assert ours["Payload"] == oracle["Payload"]
        return
    assert _normalised(ours, ours["ResponseMetadata"]["RequestId"]) == \
        _normalised(oracle, oracle["ResponseMetadata"]["RequestId"])


def test_error_log_line_matches_awslambdaric(sb):
    """awslambdaric writing to stdout joins an error's lines with \\r; on AWS the telemetry
    channel keeps them as one event joined with \\n, which is what the sandbox stores."""
    pytest.importorskip("awslambdaric")
    source = ORACLE_CASES["raise"]
    deploy("ours", source)
    deploy("oracle", {"app.py": source, "bootstrap": _oracle_bootstrap()},
           runtime="provided.al2023")

    def error_line(name: str) -> str:
        log = invoke(name)["Log"]
        line = next(part for part in log.split("END RequestId")[0].split("\n[")
                    if "KeyError" in part)
        return line.replace("\r", "\n").strip("\n[").rstrip("\n")

    ours, oracle = error_line("ours"), error_line("oracle")
    task = "/var/task/"
    assert ours.replace(task, "") == "\n".join(
        line if 'File "' not in line else line.split('File "')[0] + 'File "' +
        line.split('File "')[1].split("/")[-1] for line in oracle.split("\n"))
