"""``%%lambda``: deploy a notebook cell as a Lambda function.

    %%lambda greet --timeout 10 --env GREETING=hello
    def lambda_handler(event, context):
        return {"message": f"hello {event['name']}"}

The cell becomes ``lambda_function.py`` in the function's zip, as in the Lambda console. The
function is created, or updated when it exists, with plain boto3 calls, and waited on until it is
Active; a default execution role is made when ``--role`` is not given.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import shlex
import zipfile
from dataclasses import dataclass
from typing import Any, cast

from ..errors import DeployError

DEFAULT_RUNTIME = "python3.12"  # the course's runtime, whatever interpreter runs the sandbox
MODULE = "lambda_function"  # the file name the Lambda console gives a new function's code
DEFAULT_ROLE = "sandbox-lambda-role"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
# What AWS's managed policy AWSLambdaBasicExecutionRole grants: writing the function's logs.
BASIC_EXECUTION: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]}],
}
USAGE = ("%%lambda NAME [--role ROLE] [--timeout S] [--memory MB] [--handler module.function] "
         "[--runtime RUNTIME] [--env K=V ...]")


@dataclass
class Deployment:
    name: str
    arn: str
    runtime: str
    handler: str
    timeout: int
    memory: int
    created: bool

    def __str__(self) -> str:
        verb = "Created" if self.created else "Updated"
        return (f"{verb} function '{self.name}' ({self.runtime}, handler {self.handler}, "
                f"{self.memory} MB, timeout {self.timeout} s).")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise DeployError(f"%%lambda: {message}. Usage: {USAGE}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%%lambda", add_help=False)
    parser.add_argument("name")
    parser.add_argument("--role")
    parser.add_argument("--timeout", type=int, default=3)
    parser.add_argument("--memory", type=int, default=128)
    parser.add_argument("--handler")
    parser.add_argument("--runtime", default=default_runtime())
    parser.add_argument("--env", nargs="+", action="extend", default=[], metavar="K=V")
    return parser


def default_runtime() -> str:
    return DEFAULT_RUNTIME


def _handler_for(source: str, asked: str | None) -> str:
    """The handler setting: the one asked for, else the cell's ``lambda_handler`` or ``handler``,
    else its only function."""
    if asked:
        return asked if "." in asked else f"{MODULE}.{asked}"
    tree = ast.parse(source)
    functions = [node.name for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for name in ("lambda_handler", "handler"):
        if name in functions:
            return f"{MODULE}.{name}"
    if len(functions) == 1:
        return f"{MODULE}.{functions[0]}"
    if not functions and "NotImplementedError" in source:
        raise DeployError("%%lambda: nothing deployed yet: this cell still holds the exercise's "
                          "placeholder. Write your handler where it says # YOUR CODE HERE, "
                          "delete the raise NotImplementedError() line, and run the cell again.")
    found = ", ".join(functions) or "none"
    raise DeployError(
        "%%lambda: which function is the handler? The cell defines "
        f"{found}. Name it lambda_handler, or say --handler NAME.")


def _environment(pairs: list[str]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DeployError(f"%%lambda: --env expects KEY=VALUE, got {pair!r}.")
        variables[key] = value
    return variables


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{MODULE}.py", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


def default_role() -> str:
    """The ARN of a basic execution role (logs only), created the first time it is needed."""
    import boto3

    iam = boto3.client("iam")
    try:
        return cast(str, iam.get_role(RoleName=DEFAULT_ROLE)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=DEFAULT_ROLE,
                              AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))["Role"]["Arn"]
        iam.put_role_policy(RoleName=DEFAULT_ROLE, PolicyName="basic-execution",
                            PolicyDocument=json.dumps(BASIC_EXECUTION))
        return cast(str, arn)


def deploy(line: str, source: str) -> Deployment:
    """Create or update the function a ``%%lambda`` cell describes."""
    args = _parser().parse_args(shlex.split(line))
    try:
        compile(source, f"{MODULE}.py", "exec")
    except SyntaxError as e:
        raise DeployError(
            f"%%lambda: nothing deployed, the cell has a syntax error on line {e.lineno}: "
            f"{e.msg}\n    {(e.text or '').rstrip()}") from None
    handler = _handler_for(source, args.handler)
    import boto3

    lam = boto3.client("lambda")
    role = args.role or default_role()
    if not role.startswith("arn:"):
        role = boto3.client("iam").get_role(RoleName=role)["Role"]["Arn"]
    config: dict[str, Any] = {
        "Role": role, "Handler": handler, "Runtime": args.runtime, "Timeout": args.timeout,
        "MemorySize": args.memory, "Environment": {"Variables": _environment(args.env)},
    }
    code = _zip(source)
    try:
        lam.get_function(FunctionName=args.name)
    except lam.exceptions.ResourceNotFoundException:
        fn = lam.create_function(FunctionName=args.name, Code={"ZipFile": code}, **config)
        lam.get_waiter("function_active_v2").wait(FunctionName=args.name)
        created = True
    else:
        lam.update_function_code(FunctionName=args.name, ZipFile=code)
        lam.get_waiter("function_updated_v2").wait(FunctionName=args.name)
        fn = lam.update_function_configuration(FunctionName=args.name, **config)
        lam.get_waiter("function_updated_v2").wait(FunctionName=args.name)
        created = False
    return Deployment(args.name, fn["FunctionArn"], args.runtime, handler, args.timeout,
                      args.memory, created)


def register(ipython: Any) -> None:
    from IPython.core.magic import Magics, cell_magic, magics_class

    @magics_class
    class LambdaMagics(Magics):
        # IPython annotates cell_magic(name) as _F | Callable[[_F], _F], which mypy cannot call
        @cell_magic("lambda")  # type: ignore[arg-type]
        def lambda_cell(self, line: str, cell: str) -> None:
            """Deploy this cell as a Lambda function. Usage: %%lambda NAME [options]"""
            from IPython.core.error import UsageError

            from ..client import start

            start()
            try:
                print(deploy(line, cell))
            except DeployError as e:
                raise UsageError(str(e)) from None  # the message alone, no traceback

    ipython.register_magics(LambdaMagics)
