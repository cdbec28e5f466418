"""The engine's own AWS calls, made as the state machine's role; its errors, with their codes.

moto's interpreter calls Lambda, SQS, SNS, DynamoDB, EventBridge and Step Functions itself with
boto3, through ``boto_client_for`` (moto/stepfunctions/parser/asl/utils/boto_client.py), which
signs with the fake keys ``ak``/``sk`` and aims at ``localhost:$MOTO_PORT``: with IAM enforcement
on, every call is refused. AWS makes these calls with the credentials of the state machine's
role (or of a Task's ``Credentials.RoleArn``), so the sandbox does too.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from botocore.config import Config

from .. import sts

if TYPE_CHECKING:
    from ..server.service import SandboxService

# moto's own setting for these clients: no retries (the state's Retry does that), long reads
_CONFIG = Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                 connect_timeout=99999999, read_timeout=99999999)


class SandboxResetting(RuntimeError):
    """The sandbox is resetting: executions end, and start no new work."""


class Clients:
    """The engine's clients: as a role, from ``sandbox.sts``; without one (the notebook's
    credentials), one per service and region, made once."""

    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, region: str, service: str, role_arn: str | None) -> Any:
        import boto3

        if role_arn:
            # the session's name is not documented; this one says who acts (not "lambda")
            return sts.client(service, role_arn=role_arn, session_name="StepFunctions",
                              region=region, endpoint_url=self.sandbox.endpoint_url,
                              config=_CONFIG)
        with self._lock:
            found = self._clients.get((service, region))
            if found is None:
                if self._session is None:
                    self._session = boto3.session.Session()
                found = self._session.client(service, region_name=region,
                                             endpoint_url=self.sandbox.endpoint_url,
                                             config=_CONFIG)
                self._clients[(service, region)] = found
            return found

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """A client of the sandbox, signed with temporary credentials of the task's role."""
    from . import running

    stepfunctions = running()
    if not stepfunctions.sandbox.clock.sleep(0):  # the clock is stopped only while it resets
        raise SandboxResetting("The sandbox is resetting; this execution is being stopped.")
    return stepfunctions.clients.client(region, service,
                                        getattr(state_credentials, "role_arn", None))


def error_codes() -> list[type]:
    """The parser's exceptions whose AWS error code moto never sends.

    They declare ``code`` (LocalStack's convention) but moto's ``AWSError`` reads ``TYPE``
    (moto/stepfunctions/parser/api.py), so clients get HTTP 400 with an empty code."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser import api

    return [cls for cls in vars(api).values()
            if isinstance(cls, type) and issubclass(cls, AWSError) and cls is not AWSError
            and isinstance(cls.__dict__.get("code"), str) and not cls.__dict__.get("TYPE")]


def error_code_seams(api: Any) -> list[tuple[type, str, str]]:
    """The row of ``sandbox.seams`` that gives each such error its code as ``TYPE``."""
    return [(cls, "TYPE", cls.__dict__["code"]) for cls in error_codes()]
