"""IAM, enforced the way AWS enforces it.

Every signed request that reaches the sandbox's server is authorized before moto sees it: the
access key names the caller (an IAM user, an assumed-role session such as a Lambda function's or
a state machine's, or the notebook), ``actions`` says which IAM actions on which resource ARNs
the request needs, ``resources`` finds the resource's own policy, and ``policy`` decides as IAM
does. A refusal answers in the service's protocol with AWS's message (``denials``) and every
decision goes to the trail (``sb.iam.decisions()``, ``sb.iam.denials()``).

The notebook is an administrator of its account (``arn:aws:iam::123456789012:user/learner``):
its requests are decided too, so a bucket policy's explicit Deny or another account's resource
still refuses it. A second account, ``210987654321``, has an administrator of its own
(``sb.iam.session(SECOND_ACCOUNT_ID)``) and its roles can be assumed across accounts.

moto's own enforcement (``moto/iam/access_control.py``) stays off: it checks most resources
against ``*``, uses botocore operation names as actions and ignores resource policies,
conditions and boundaries (``docs/moto-gaps.md``).
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..accounts import ACCOUNT_ID, SECOND_ACCOUNT_ID
from ..trail import Entry
from . import actions, anonymous, denials, principals, resources
from .actions import Access
from .policy import Decision, Policy, Request, evaluate, message
from .trail import Trail

if TYPE_CHECKING:
    from ..server.router import WSGIApp
    from ..server.service import SandboxService

ADMINISTRATOR = {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}



@functools.cache
def administrator(account: str) -> principals.Principal:
    """An account's administrator: the notebook in the course's account."""
    name = "learner" if account == ACCOUNT_ID else "administrator"
    return principals.Principal(
        arn=f"arn:aws:iam::{account}:user/{name}", account=account, kind="user", role_arn=None,
        identity=(Policy(ADMINISTRATOR, "identity",
                         "arn:aws:iam::aws:policy/AdministratorAccess",
                         "arn:aws:iam::aws:policy/AdministratorAccess"),),
        boundary=None)


class Enforcer:
    """The sandbox's IAM: on unless ``sandbox.start(enforce_iam=False)``."""

    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self.trail = Trail()

    @property
    def enforcing(self) -> bool:
        return self.sandbox.enforce_iam

    @enforcing.setter
    def enforcing(self, on: bool) -> None:
        self.sandbox.enforce_iam = bool(on)

    # ------------------------------------------------------------------ the notebook's view
    def decisions(self, *, denied: bool | None = None,
                  principal: str | None = None) -> list[Entry]:
        """Every decision kept, oldest first; ``denied=True`` for the refusals only,
        ``principal`` to keep one caller's (an ARN, or part of one such as a role name)."""
        found = self.trail.entries()
        if denied is not None:
            found = [e for e in found if e.allowed != denied]
        if principal:
            found = [e for e in found if principal in e.principal]
        return found


    def principal_of_key(self, key: str) -> principals.Principal | None:
        """Whose key this is: an administrator's, an IAM user's or a session's; None if
        nobody's."""
        return _principal_of_key(key, self.sandbox.account_of_admin_key(key))

    # ------------------------------------------------------------------ deciding
    def authorize(self, principal: principals.Principal, access: actions.Access, *,
                  region: str, source: str = "request", operation: str = "",
                  context: dict[str, Any] | None = None) -> Decision:
        """Decide one access for ``principal`` and record it."""
        return self._decide(principal, access, region=region, source=source,
                            operation=operation, context=context)[0]

    def _decide(self, principal: principals.Principal, access: actions.Access, *,
                region: str, source: str = "request", operation: str = "",
                context: dict[str, Any] | None = None) -> tuple[Decision, str]:
        owner = resources.account_of(access.resource, principal.account)
        request = Request(
            principal=principal.arn, action=access.action, resource=access.resource,
            context={**global_context(principal, region), **access.context, **(context or {})},
            principal_account=principal.account, resource_account=owner,
            role=principal.role_arn)
        assumes_role = (access.action.lower().startswith("sts:assumerole")
                        and ":role/" in access.resource)
        resource = (resources.trust_of(access.resource) if assumes_role
                    else resources.policy_of(access.resource, access.action))
        return self._judge(request, principal.identity, resource=resource,
                           boundary=principal.boundary, session=principal.session,
                           source=source, operation=operation)

    def decide_policy(self, principal: str, document: dict[str, Any], name: str, *,
                      action: str, resource: str, source: str) -> Decision:
        """Evaluate a policy that is not attached to anyone, as IAM evaluates an identity
        policy (a Lambda authorizer's answer for API Gateway), and record the decision; every
        request is allowed when IAM is not enforced."""
        request = Request(principal=principal, action=action, resource=resource)
        if not self.enforcing:
            return Decision(True, "allowed", "", None, (), ())
        return self._judge(request, (Policy(document, "identity", name),), resource=None,
                           source=source)[0]

    def _judge(self, request: Request, identity: tuple[Policy, ...], *, resource: Policy | None,
               source: str, operation: str = "", boundary: Policy | None = None,
               session: tuple[Policy, ...] = ()) -> tuple[Decision, str]:
        """Evaluate, record on the trail, and give the decision with its refusal text."""
        decision = evaluate(request, identity, resource=resource, boundary=boundary,
                            session=session)
        text = "" if decision.allowed else message(request, decision)
        self.trail.record(Entry(
            principal=request.principal, action=request.action, resource=request.resource,
            allowed=decision.allowed, message=text, statement=decision.deciding,
            source=source, operation=operation))
        return decision, text

    def authorize_service(self, service_principal: str, access: actions.Access, *,
                          source_arn: str | None, source_account: str | None,
                          source: str) -> bool:
        """May AWS service ``service_principal`` (``s3.amazonaws.com``) perform ``access`` on
        behalf of ``source_arn``? Only the resource's policy can say yes. Decided and recorded
        whether or not IAM is enforced; ``service_may`` honours ``enforcing``."""
        request = Request(principal=service_principal, action=access.action,
                          resource=access.resource,
                          context=service_context(service_principal, source_arn, source_account),
                          resource_account=resources.account_of(access.resource, ACCOUNT_ID))
        decision, _ = self._judge(
            request, (), resource=resources.policy_of(access.resource, access.action),
            source=source)
        return decision.allowed

    # ------------------------------------------------------------------ for the services
    def service_may(self, service: str, action: str, resource: str, *,
                    source_arn: str | None = None, source_account: str | None = None,
                    source: str = "") -> bool:
        """May AWS service ``service`` (``apigateway.amazonaws.com``) perform ``action`` on
        ``resource`` for ``source_arn`` in ``source_account``? Decided by the resource's policy
        and recorded; True, unrecorded, when IAM is not enforced."""
        if not self.enforcing:
            return True
        return self.authorize_service(service, Access(action, resource, {}),
                                      source_arn=source_arn, source_account=source_account,
                                      source=source or service)

    def role_may(self, role_arn: str, action: str, resource: str, *, region: str,
                 source: str = "", session_key: str | None = None) -> bool:
        """May ``role_arn`` (its session with access key ``session_key``, when given) perform
        ``action`` on ``resource``? True when IAM is not enforced or the role is gone (the
        service then fails in its own way)."""
        if not self.enforcing:
            return True
        principal = (session_key and principals.principal_for_access_key(session_key)) or \
            principals.policies_of(role_arn)
        if principal is None:
            return True
        return self.authorize(principal, Access(action, resource, {}), region=region,
                              source=source or "request").allowed

    # ------------------------------------------------------------------ the server's hook
    def route(self, environ: dict[str, Any]) -> WSGIApp | None:
        """Called for each request before moto: None lets it through, else the refusal."""
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            # moto's own API (reset, dashboard, seeder) would let any client reset the sandbox
            return denials.not_found()
        if not self.enforcing:
            return None
        signed = actions.credential(environ.get("HTTP_AUTHORIZATION", ""),
                                    environ.get("QUERY_STRING", ""))
        if signed is None:
            return self._unsigned(environ)
        key, region, service = signed
        # S3 bodies are objects: only DeleteObjects' (the keys it names) is read
        deletes = service == "s3" and environ.get("QUERY_STRING", "").startswith("delete")
        body = _body(environ) if service != "s3" or deletes else b""
        headers = {name[5:].replace("_", "-").lower(): value
                   for name, value in environ.items() if name.startswith("HTTP_")}
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            call = actions.identify(environ.get("REQUEST_METHOD", "GET"),
                                    environ.get("PATH_INFO", "/"),
                                    environ.get("QUERY_STRING", ""), headers, body)
        except Exception:  # a malformed request: the service refuses it in its own words
            return None
        if call is None:
            return None
        query_protocol = _query_protocol(environ, body)
        principal = self.principal_of_key(key)
        if principal is None:
            return denials.unknown_key(service, query_protocol)
        resource_account = principal.account
        try:
            wanted = actions.accesses(call, principal.account)
        except Exception:  # a malformed body (a list where a map belongs): moto says so
            return None
        for access in wanted:
            decision, text = self._decide(principal, access, region=region,
                                          operation=call.operation)
            owner = resources.account_of(access.resource, principal.account)
            if not decision.allowed:
                return denials.access_denied(service, query_protocol, denials.spell(
                    service, access.action, access.resource, text,
                    cross_account=owner != principal.account))
            if owner != principal.account and service not in ("sts", "iam"):
                resource_account = owner
        if (self.sandbox.account_of_admin_key(key) == SECOND_ACCOUNT_ID
                or resource_account != principal.account):
            # moto serves the account it is told (core/responses.py current_account)
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = (
                resource_account if resource_account != principal.account
                else SECOND_ACCOUNT_ID)
        return None

    def _unsigned(self, environ: dict[str, Any]) -> WSGIApp | None:
        """An unsigned request: the anonymous principal's, for S3 and SQS; refused by every
        other service for its missing signature."""
        if not anonymous.is_api_call(environ):
            return None  # an API Gateway invoke, a website page: their routes decide
        # S3 bodies are objects: read only what can name another service or S3's operation
        body = _body(environ) if anonymous.body_matters(environ) else b""
        if anonymous.is_signed_form(environ, body):
            return None  # a browser upload, signed in the form (the signer is not decided)
        service = anonymous.service_of(environ, body)
        if service is None:
            return None  # a call AWS takes unsigned
        if service not in anonymous.ANONYMOUS_SERVICES:
            return denials.missing_authentication(service)
        region = self.sandbox.region
        hint = anonymous.signing_hint(service, region)
        headers = {name[5:].replace("_", "-").lower(): value
                   for name, value in environ.items() if name.startswith("HTTP_")}
        headers["authorization"] = hint
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        query_protocol = _query_protocol(environ, body)
        call = None
        try:
            call = actions.identify(environ.get("REQUEST_METHOD", "GET"),
                                    environ.get("PATH_INFO", "/"),
                                    environ.get("QUERY_STRING", ""), headers, body)
            wanted = actions.accesses(call, ACCOUNT_ID) if call is not None else []
        except Exception:  # a malformed request: refused below, as nobody may make it unsigned
            wanted = []
        if not wanted:
            wanted = [Access(f"{service}:*", "*", {})]
        owner = ACCOUNT_ID
        for access in wanted:
            decision, text = self.decide_anonymous(access, region=region,
                                                   operation=call.operation if call else "")
            if not decision.allowed:
                # S3 tells an anonymous caller only "Access Denied"
                return denials.access_denied(service, query_protocol, denials.spell(
                    service, access.action, access.resource, text,
                    cross_account=service == "s3"))
            owner = resources.account_of(access.resource, owner)
        environ["HTTP_AUTHORIZATION"] = hint  # so that moto routes it to the service
        if owner != ACCOUNT_ID:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = owner
        return None

    def decide_anonymous(self, access: actions.Access, *, region: str, source: str = "request",
                         operation: str = "") -> tuple[Decision, str]:
        """Decide and record ``access`` for the anonymous principal: only the resource's own
        policy granting ``"*"`` (or, in S3, a public-read ACL) allows it."""
        owner = resources.account_of(access.resource, ACCOUNT_ID)
        request = Request(
            principal=anonymous.ANONYMOUS, action=access.action, resource=access.resource,
            context={**_time(), "aws:SecureTransport": "true", "aws:SourceIp": "127.0.0.1",
                     "aws:RequestedRegion": region, **access.context},
            principal_account=owner, resource_account=owner)
        return self._judge(request, (), resource=resources.anonymous_policy_of(
            access.resource, access.action), source=source, operation=operation)

    def anonymous_may(self, action: str, resource: str, *, source: str = "request") -> bool:
        """May anybody, unsigned, perform ``action`` on ``resource`` (an S3 website visitor)?
        Recorded; True, unrecorded, when IAM is not enforced."""
        if not self.enforcing:
            return True
        return self.decide_anonymous(Access(action, resource, {}), region=self.sandbox.region,
                                     source=source)[0].allowed

    def reset(self) -> None:
        self.trail.clear()
        from .. import sts

        sts.reset()  # moto's reset drops the role sessions

    def close(self) -> None:
        self.trail.clear()
        from .. import sts

        sts.reset()


def principal_of_key(key: str) -> principals.Principal | None:
    """Whose key this is, for the running sandbox (None when none runs or nobody's)."""
    found = enforcer()
    return None if found is None else found.principal_of_key(key)


def _principal_of_key(key: str, admin_account: str | None) -> principals.Principal | None:
    """Whose key this is: an administrator's, an IAM user's or a session's; None if nobody's."""
    if admin_account is not None:
        return administrator(admin_account)
    return principals.principal_for_access_key(key)


def _time() -> dict[str, str]:
    now = datetime.now(timezone.utc)
    return {"aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(now.timestamp()))}


def service_context(service_principal: str, source_arn: str | None,
                    source_account: str | None) -> dict[str, Any]:
    """The context of a request a service makes for the learner: the source it acts for, the
    service's name, and the keys every request has."""
    context: dict[str, Any] = {**_time(), "aws:SecureTransport": "true",
                               "aws:PrincipalServiceName": service_principal,
                               "aws:PrincipalIsAWSService": "true"}
    if source_arn:
        context["aws:SourceArn"] = source_arn
    if source_account:
        context["aws:SourceAccount"] = source_account
    return context


def global_context(principal: principals.Principal, region: str) -> dict[str, Any]:
    """The global condition keys AWS puts in every request's context."""
    context: dict[str, Any] = {**_time(),
        "aws:PrincipalArn": principal.role_arn or principal.arn,
        "aws:PrincipalAccount": principal.account,
        "aws:PrincipalType": {"user": "User", "assumed-role": "AssumedRole", "root": "Account",
                              "role": "AssumedRole"}.get(principal.kind, "User"),
        "aws:RequestedRegion": region,
        "aws:SecureTransport": "true",  # boto3 speaks HTTPS to AWS; loopback stands in for it
        "aws:SourceIp": "127.0.0.1",
        "aws:ViaAWSService": "false",
        "aws:PrincipalIsAWSService": "false",
    }
    if principal.kind == "user":
        context["aws:username"] = principal.arn.rsplit("/", 1)[1]
    return context


def _body(environ: dict[str, Any]) -> bytes:
    """Read the body and put it back, so that moto still gets it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _query_protocol(environ: dict[str, Any], body: bytes) -> bool:
    return (environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
            and b"Action=" in body)


# ---------------------------------------------------------------------- the extension


def install(sandbox: SandboxService) -> Enforcer:
    enforcer = Enforcer(sandbox)
    sandbox.router.authorize_with(enforcer.route)
    if not enforcer.enforcing:
        print("IAM enforcement is off: every request is allowed, whatever the policies say. "
              "sandbox.start() turns it back on.", file=sys.stderr)
    return enforcer


def uninstall() -> None:
    pass


def enforcer() -> Enforcer | None:
    """The running sandbox's enforcer, for the extensions that act for a service; None when no
    sandbox runs in this process."""
    from ..server.service import current

    service = current()
    found = None if service is None else service.extensions.get("iam")
    return found if isinstance(found, Enforcer) else None


def service_may(service: str, action: str, resource: str, *, source_arn: str | None = None,
                source_account: str | None = None, source: str = "") -> bool:
    """The running sandbox's ``Enforcer.service_may``; True when no sandbox runs."""
    found = enforcer()
    return found is None or found.service_may(service, action, resource, source_arn=source_arn,
                                              source_account=source_account, source=source)


def role_may(role_arn: str, action: str, resource: str, *, region: str, source: str = "",
             session_key: str | None = None) -> bool:
    """The running sandbox's ``Enforcer.role_may``; True when no sandbox runs."""
    found = enforcer()
    return found is None or found.role_may(role_arn, action, resource, region=region,
                                           source=source, session_key=session_key)


def anonymous_may(action: str, resource: str, *, source: str = "request") -> bool:
    """The running sandbox's ``Enforcer.anonymous_may``; True when no sandbox runs."""
    found = enforcer()
    return found is None or found.anonymous_may(action, resource, source=source)


def role_exists(role_arn: str) -> bool:
    """Whether ``role_arn`` names a role that exists (it has a trust policy): a service
    refuses a missing or malformed role in its own words before asking IAM."""
    return resources.policy_of(role_arn, "sts:AssumeRole") is not None


# moto's STSBackend.get_caller_identity: (user id, ARN, account)
_Identifying = Callable[..., tuple[str, str, str]]


def caller_identity(original: _Identifying) -> _Identifying:
    """Wrap ``STSBackend.get_caller_identity`` (a row of ``sandbox.seams``): GetCallerIdentity
    names the notebook ``user/learner``, the second account's administrator
    ``user/administrator``; moto answers ``arn:aws:sts::<acct>:user/moto`` for keys it did not
    issue (sts/models.py get_caller_identity)."""

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> tuple[str, str, str]:
        found = enforcer()
        account = found.sandbox.account_of_admin_key(access_key_id) if found else None
        if account is not None:
            admin = administrator(account)
            return "AIDASANDBOX" + admin.arn.rsplit("/", 1)[1].upper(), admin.arn, admin.account
        return original(self, access_key_id, region)

    return get_caller_identity
