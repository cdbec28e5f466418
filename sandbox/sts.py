"""Role credentials: what a service gets from STS AssumeRole to act as a learner's role.

AWS services act with temporary credentials of the role they are given: Lambda runs a function
(and delivers its asynchronous results) as a session of the execution role named after the
function (``arn:aws:sts::<acct>:assumed-role/<role>/<function>``), and Step Functions calls other
services as a session of the state machine's role. This module is the one place that assumes a
role for a service (with moto's STS, ``moto/sts/models.py`` ``STSBackend.assume_role``, so that
IAM recognises the session's access key) and the one cache of those credentials and of the
boto3 clients that use them. ``reset()`` forgets both; a session that moto's reset dropped is
assumed again.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.sts.models import sts_backends

DURATION_SECONDS = 43200  # the longest a role session may last (a role's MaxSessionDuration cap)

_lock = threading.Lock()
_credentials: dict[tuple[str, str], dict[str, str]] = {}
_clients: dict[tuple[Any, ...], Any] = {}
_boto_session: Any = None


def credentials(role_arn: str, session_name: str, *, region: str) -> dict[str, str]:
    """Temporary credentials of a session of ``role_arn`` named ``session_name``
    (``AccessKeyId``, ``SecretAccessKey``, ``SessionToken``), assumed once and kept."""
    account = _account_of(role_arn)
    backend = sts_backends[account]["aws"]
    with _lock:
        found = _credentials.get((role_arn, session_name))
        if found is not None and backend.get_assumed_role_from_access_key(
                found["AccessKeyId"]) is not None:
            return found
        session = backend.assume_role(
            region_name=region, role_session_name=session_name, role_arn=role_arn,
            policy=None,  # type: ignore[arg-type]  # moto's signature says str; None is no policy
            duration=DURATION_SECONDS,
            external_id=None)  # type: ignore[arg-type]  # moto's says str; it is optional
        found = {"AccessKeyId": session.access_key_id,
                 "SecretAccessKey": session.secret_access_key,
                 "SessionToken": session.session_token}
        _credentials[(role_arn, session_name)] = found
        # clients made with the old session's keys would be refused now
        for key in [k for k in _clients if k[:2] == (role_arn, session_name)]:
            del _clients[key]
        return found


def client(service: str, *, role_arn: str, session_name: str, region: str, endpoint_url: str,
           config: Any = None) -> Any:
    """A boto3 client of the sandbox acting as a session of ``role_arn``, made once (a boto3
    client takes tens of milliseconds to make; a state machine calls once per Task)."""
    import boto3

    keys = credentials(role_arn, session_name, region=region)
    global _boto_session
    key = (role_arn, session_name, service, region, endpoint_url, id(config))
    with _lock:
        found = _clients.get(key)
        if found is None:
            if _boto_session is None:
                _boto_session = boto3.session.Session()
            found = _boto_session.client(
                service, region_name=region, endpoint_url=endpoint_url, config=config,
                aws_access_key_id=keys["AccessKeyId"],
                aws_secret_access_key=keys["SecretAccessKey"],
                aws_session_token=keys["SessionToken"])
            _clients[key] = found
        return found


def reset() -> None:
    """Forget every session and client (the sandbox's reset drops moto's sessions too)."""
    with _lock:
        _credentials.clear()
        _clients.clear()


def _account_of(role_arn: str) -> str:
    from .accounts import ACCOUNT_ID

    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else ACCOUNT_ID
