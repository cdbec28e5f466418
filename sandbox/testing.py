"""Helpers for testing with the sandbox: small deploy and invoke helpers.

Our own tests, the grader's checks and learners' own tests use them. The pytest fixtures
(``sandbox_fixture``, a fresh sandbox per test) come with the package's pytest plugin,
``sandbox.pytest_plugin``, which pytest loads by itself::

    def test_my_function(sandbox_fixture):
        arn = sandbox.testing.deploy("greet", "def handler(e, c): return 'hi'")
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .grading.checks import CheckFailed
    from .server.service import SandboxService

ROLE_NAME = "sandbox-test-role"


@contextlib.contextmanager
def in_process_service(*, enforce_iam: bool = True) -> Iterator[SandboxService]:
    """The sandbox's server side (``sandbox.server.service.SandboxService``) running in this
    process, with this process's boto3 pointed at it until it stops: for tests of the sandbox's
    own internals (its seams, the requests an extension sees). Course code never needs it: a
    notebook talks to its sandbox's server over loopback."""
    import secrets

    from .server.service import SandboxService

    service = SandboxService(clock_speed=10000, concurrency_limit=1000,
                             enforce_iam=enforce_iam, token=secrets.token_hex(16))
    service.start()
    try:
        yield service
    finally:
        service.stop()


def zip_files(files: Mapping[str, str | bytes], mode: int = 0o644) -> bytes:
    """A deployment package: a zip of ``{name: content}``; ``bootstrap`` is made executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name.endswith("bootstrap") else mode) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def role(name: str, *statements: dict[str, Any], service: str = "lambda.amazonaws.com",
         policy_name: str = "permissions") -> str:
    """A role ``service`` can assume (created when missing) whose inline policy
    ``policy_name`` holds ``statements``, as a course notebook makes one; its ARN."""
    import boto3

    iam = boto3.client("iam")
    try:
        arn: str = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        arn = iam.create_role(RoleName=name,
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return arn


def execution_role(name: str = ROLE_NAME, *actions: str,
                   service: str = "lambda.amazonaws.com") -> str:
    """A role ``service`` can assume (Lambda's execution role by default; pass
    ``service="states.amazonaws.com"`` for a state machine's), created when missing, allowed to
    write logs and to perform ``actions`` (``"dynamodb:PutItem"``, ``"sqs:*"``) on any
    resource; its ARN."""
    from .course.magic import BASIC_EXECUTION

    arn = role(name, *BASIC_EXECUTION["Statement"], service=service,
               policy_name="basic-execution")
    if actions:
        role(name, {"Effect": "Allow", "Action": list(actions), "Resource": "*"},
             policy_name="actions")
    return arn


def deploy(name: str, source: str | Mapping[str, str | bytes], *,
           handler: str = "app.handler", runtime: str = "python3.12", **config: Any) -> str:
    """Create a function from source code (``app.py``) or a dict of files; its ARN."""
    import boto3

    files = {"app.py": source} if isinstance(source, str) else source
    response = boto3.client("lambda").create_function(
        FunctionName=name, Runtime=runtime, Role=config.pop("Role", None) or execution_role(),
        Handler=handler, Code={"ZipFile": zip_files(files)}, **config)
    arn: str = response["FunctionArn"]
    return arn


def deploy_cell(name: str, source: str, **config: Any) -> str:
    """Deploy ``source`` as ``%%lambda`` does: lambda_function.py, handler
    lambda_function.lambda_handler; its ARN."""
    return deploy(name, {"lambda_function.py": source},
                  handler="lambda_function.lambda_handler", **config)


def check_fails(name: str, hint: str, kind: type[CheckFailed] | None = None) -> CheckFailed:
    """Assert that the check ``name`` fails (as ``kind``, CheckFailed by default) with a hint
    matching the regular expression ``hint``; the failure."""
    import re

    import pytest

    from .grading.checks import CheckFailed, find

    with pytest.raises(kind or CheckFailed) as caught:
        find(name)()
    assert re.search(hint, caught.value.hint), caught.value.hint
    return caught.value


def invoke(name: str, event: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Invoke synchronously; the response with ``Payload`` read and decoded from JSON where it
    is JSON, and ``Log`` decoded from the log tail."""
    import base64

    import boto3

    kwargs.setdefault("LogType", "Tail")
    response: dict[str, Any] = boto3.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps({} if event is None else event).encode(), **kwargs)
    raw = response["Payload"].read()
    try:
        response["Payload"] = json.loads(raw) if raw else None
    except ValueError:
        response["Payload"] = raw
    if "LogResult" in response:
        response["Log"] = base64.b64decode(response["LogResult"]).decode("utf-8", "replace")
    return response
