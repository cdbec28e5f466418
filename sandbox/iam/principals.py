"""Whose policies apply: IAM users, roles and assumed-role sessions, read from moto's IAM.

AWS decides a request with the caller's identity-based policies (inline and attached managed
policies; for an IAM user also those of its groups), its permissions boundary and, for a role
session, the session policy passed to AssumeRole. moto keeps them all (``moto/iam/models.py``
``User``, ``Group``, ``Role``; ``moto/sts/models.py`` ``AssumedRole.policy``) and reads none.

AWS managed policies (``arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole``) exist in every
account. moto loads its copies only when ``load_aws_managed_policies`` is on, parsing all
of them (about 1,400) at each IAM backend's creation (``IAMBackend._init_aws_policies``);
``resolving_aws_managed`` (a seam) instead makes the ARN a call names exist on first use,
parsed once per process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from .policy import Policy

AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"
PARTITION = "aws"  # moto files its global backends under the partition's name


@dataclass(frozen=True)
class Principal:
    arn: str  # arn:aws:iam::A:user/U, arn:aws:iam::A:role/R, arn:aws:sts::A:assumed-role/R/S
    account: str
    kind: str  # "user" | "role" | "assumed-role" | "root" ("group" for the simulator)
    role_arn: str | None  # the role of an assumed-role session
    identity: tuple[Policy, ...]
    boundary: Policy | None
    session: tuple[Policy, ...] = ()  # the session policy passed to AssumeRole, if any


def policies_of(principal_arn: str) -> Principal | None:
    """The policies that apply to ``principal_arn``; None if IAM knows no such principal."""
    parts = principal_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    account, resource = parts[4], parts[5]
    kind, _, rest = resource.partition("/")
    if resource == "root":
        return Principal(principal_arn, account, "root", None, (), None)
    if kind == "user":
        return _user(account, rest.rsplit("/", 1)[-1], principal_arn)
    if kind == "group":
        return _group(account, rest.rsplit("/", 1)[-1], principal_arn)
    if kind == "role":
        return _role(account, rest.rsplit("/", 1)[-1], principal_arn, kind="role")
    if kind == "assumed-role" and "/" in rest:
        return _role(account, rest.split("/", 1)[0], principal_arn, kind="assumed-role")
    return None


def principal_for_access_key(access_key_id: str) -> Principal | None:
    """Whose key this is: an IAM user's (moto's IAM) or an assumed role's temporary
    credentials (moto's STS), in any account; None if the key is unknown."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account in list(sts_backends):
        session = sts_backends[account][PARTITION].get_assumed_role_from_access_key(
            access_key_id)
        if session is not None:
            found = policies_of(session.arn)
            if found is None:
                return None
            policy = (Policy(session.policy, "session", f"the session policy of {session.arn}",
                             "SessionPolicy"),) if session.policy else ()
            return Principal(found.arn, found.account, found.kind, found.role_arn,
                             found.identity, found.boundary, policy)
    for account in list(iam_backends):
        user = iam_backends[account][PARTITION].get_user_from_access_key_id(access_key_id)
        if user is not None:
            return policies_of(user.arn)
    return None


# ---------------------------------------------------------------------- reading moto's IAM
def _backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account][PARTITION]


def _find_role(account: str, name: str) -> Any:
    """moto files roles by their ID; the one with this name, or None."""
    return next((r for r in _backend(account).roles.values() if r.name == name), None)


def _user(account: str, name: str, arn: str) -> Principal | None:
    backend = _backend(account)
    user = backend.users.get(name)
    if user is None:
        return None
    label = f"user/{name}"
    identity = [*_inline(user.policies, label), *_managed(user.managed_policies)]
    for group in backend.get_groups_for_user(name):
        identity += [*_inline(group.policies, f"group/{group.name}"),
                     *_managed(group.managed_policies)]
    return Principal(arn, account, "user", None, tuple(identity),
                     _boundary(backend, getattr(user, "permissions_boundary_arn", None)))


def _group(account: str, name: str, arn: str) -> Principal | None:
    group = _backend(account).groups.get(name)
    if group is None:
        return None
    identity = (*_inline(group.policies, f"group/{name}"), *_managed(group.managed_policies))
    return Principal(arn, account, "group", None, identity, None)


def _role(account: str, name: str, arn: str, *, kind: str) -> Principal | None:
    backend = _backend(account)
    role = _find_role(account, name)
    if role is None:
        return None
    identity = (*_inline(role.policies, f"role/{name}"), *_managed(role.managed_policies))
    return Principal(arn, account, kind, role.arn if kind == "assumed-role" else None,
                     identity, _boundary(backend, role.permissions_boundary_arn))


def _inline(policies: dict[str, str], owner: str) -> Iterator[Policy]:
    for name, document in policies.items():
        yield Policy(document, "identity", f"inline policy '{name}' of {owner}", name)


def _managed(attached: dict[str, Any]) -> Iterator[Policy]:
    for arn, policy in attached.items():
        yield Policy(_default_document(policy), "identity", arn, arn)


def _boundary(backend: Any, arn: str | None) -> Policy | None:
    if not arn:
        return None
    try:
        policy = backend.get_policy(arn)
    except Exception:  # AWS refuses a boundary that does not exist; moto does not check
        return Policy({"Statement": []}, "boundary", arn, arn)
    return Policy(_default_document(policy), "boundary", arn, arn)


def _default_document(policy: Any) -> str:
    default = next((version for version in policy.versions if version.is_default),
                   policy.versions[-1])
    document: str = default.document  # moto keeps a policy document as its JSON text
    return document


# ---------------------------------------------------------------------- AWS managed policies
@lru_cache(maxsize=1)
def _aws_managed_data() -> dict[str, dict[str, Any]]:
    """moto's copy of AWS's managed policies by ARN, parsed once per process."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {f"arn:aws:iam::aws:policy{data.get('Path', '/')}{name}": {"name": name, **data}
            for name, data in json.loads(aws_managed_policies_data).items()}


def ensure_aws_managed(backend: Any, policy_arn: str) -> None:
    """Put the AWS managed policy ``policy_arn`` into ``backend`` if moto has a copy of it."""
    if not policy_arn.startswith(AWS_MANAGED_PREFIX) or policy_arn in backend.managed_policies:
        return
    data = _aws_managed_data().get(policy_arn)
    if data is None:
        return  # moto then answers NoSuchEntity, as AWS does
    from moto.iam.models import AWSManagedPolicy

    policy = AWSManagedPolicy.from_data(data["name"], backend.account_id, backend.region_name,
                                        data)
    backend.managed_policies[policy.arn] = policy


def resolving_aws_managed(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``IAMBackend.attach_*_policy`` and ``get_policy`` (rows of ``sandbox.seams``): AWS
    managed policies resolve on first use (moto looks only at ``managed_policies``;
    ``get_policy_version`` and ``list_policy_versions`` go through ``get_policy``)."""

    @wraps(original)
    def method(self: Any, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        ensure_aws_managed(self, policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return method
