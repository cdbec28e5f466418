"""AWS's policy evaluation logic, in pure Python.

What IAM documents ("Policy evaluation logic", "Cross-account policy evaluation logic",
"Permissions boundaries", "IAM JSON policy elements: Condition operators", "Variables and
tags"): an explicit Deny in any policy wins; within one account a request is allowed when an
identity-based policy allows it (inside the permissions boundary and the session policies, if
there are any) or when the resource's policy allows it; across accounts both the caller's
identity-based policy and the resource's policy must allow it; an AWS service principal
(``s3.amazonaws.com``) is decided by the resource's policy alone.

moto's own evaluator (``moto/iam/access_control.py``) is not used: it matches resources against
``*``, knows botocore operation names rather than IAM actions and ignores conditions, boundaries
and resource policies.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY = "allowed", "explicitDeny", "implicitDeny"
KINDS = ("identity", "resource", "boundary", "session")

# The clause an access denied message ends with, per policy type (IAM User Guide,
# "Troubleshoot access denied error messages"): (explicit deny, implicit deny).
_CLAUSES = {
    "identity": ("an identity-based policy", "identity-based policy"),
    "resource": ("a resource-based policy", "resource-based policy"),
    "boundary": ("a permissions boundary", "permissions boundary"),
    "session": ("a session policy", "session policy"),
}
_ACCOUNT = re.compile(r"^\d{12}$")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Policy:
    document: Mapping[str, Any] | str  # moto keeps JSON text, sometimes URL-encoded
    kind: str  # "identity" | "resource" | "boundary" | "session"
    name: str  # "inline policy 'read-books' of role/book-writer", or a managed policy's ARN
    id: str = ""  # the simulator's SourcePolicyId: the policy's name or ARN

    @property
    def statements(self) -> list[Mapping[str, Any]]:
        return _statements(self.document)


@dataclass(frozen=True)
class Request:
    principal: str  # caller's ARN, or a service principal such as "s3.amazonaws.com"
    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN, or "*"
    context: Mapping[str, Any] = field(default_factory=dict)  # condition keys, any case
    principal_account: str | None = None  # from the principal's ARN when None
    resource_account: str | None = None  # None: the principal's own account
    role: str | None = None  # the role's ARN, for an assumed-role session

    @property
    def caller_account(self) -> str | None:
        if self.principal_account is not None:
            return self.principal_account
        parts = self.principal.split(":")
        return parts[4] if self.principal.startswith("arn:") and len(parts) > 5 else None

    @property
    def is_service(self) -> bool:
        return not self.principal.startswith("arn:") and self.principal.endswith(".amazonaws.com")

    @property
    def cross_account(self) -> bool:
        # "aws" owns AWS managed policies (arn:aws:iam::aws:policy/...), which every account
        # reads and attaches with its own identity-based policies alone
        return self.resource_account not in (None, "aws", self.caller_account)


@dataclass(frozen=True)
class Statement:
    policy: Policy
    index: int  # position in the policy's Statement list, from 0
    sid: str | None
    effect: str  # "Allow" | "Deny"
    body: Mapping[str, Any]
    via: str = ""  # resource policies: how Principal named the caller ("direct"|"role"|"account")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    decision: str  # "allowed" | "explicitDeny" | "implicitDeny"
    reason: str  # "identity" | "resource" | "boundary" | "session"; "" when allowed
    deciding: Statement | None  # the Deny, or the Allow that granted
    matched: tuple[Statement, ...]  # every statement that applied
    missing_context: tuple[str, ...]  # condition keys the policies used that the context lacks


TRUST_POLICY = "trust policy"  # Policy.id of a role's trust policy: decided as IAM decides it


# ---------------------------------------------------------------------- deciding
def evaluate(request: Request, identity: Sequence[Policy] = (), *,
             resource: Policy | None = None, boundary: Policy | None = None,
             session: Sequence[Policy] = ()) -> Decision:
    """IAM's decision for ``request`` under these policies ("Policy evaluation logic"): an
    explicit deny in any of them wins; otherwise the section of the guide that covers this
    kind of request decides."""
    applicable = _applicable(request, identity, resource, boundary, session)
    denied = _explicit_deny(applicable)
    if denied is not None:
        return denied
    if request.is_service:
        return _service_principal(applicable)
    if _is_root(request) and not request.cross_account:
        return _root_user(applicable)
    if request.cross_account:
        return _cross_account(applicable)
    if resource is not None and resource.id == TRUST_POLICY:
        return _role_trust_policy(applicable)
    return _same_account(applicable)


@dataclass(frozen=True)
class _Applicable:
    """The statements of each policy type that apply to one request, and what the caller has."""

    found: Mapping[str, list[Statement]]  # per kind in KINDS, in policy order
    missing: tuple[str, ...]  # condition keys the policies used that the context lacks
    has_boundary: bool
    has_session: bool

    def allows(self, kind: str) -> list[Statement]:
        return [s for s in self.found[kind] if s.effect == "Allow"]

    @property
    def within_boundary(self) -> bool:
        return not self.has_boundary or bool(self.allows("boundary"))

    @property
    def within_session(self) -> bool:
        return not self.has_session or bool(self.allows("session"))

    @property
    def by_identity(self) -> Statement | None:
        """The identity-based Allow that grants, once the boundary and the session allow too."""
        if self.within_boundary and self.within_session:
            return _first(self.allows("identity"))
        return None

    def decide(self, allowed: bool, decision: str, reason: str,
               deciding: Statement | None) -> Decision:
        matched = tuple(s for kind in KINDS for s in self.found[kind])
        return Decision(allowed, decision, reason, deciding, matched, self.missing)

    def allow(self, deciding: Statement | None) -> Decision:
        return self.decide(True, ALLOWED, "", deciding)

    def implicit_deny(self, reason: str) -> Decision:
        return self.decide(False, IMPLICIT_DENY, reason, None)


def _applicable(request: Request, identity: Sequence[Policy], resource: Policy | None,
                boundary: Policy | None, session: Sequence[Policy]) -> _Applicable:
    """"Processing the request context": the statements that apply to ``request``. An AWS
    service principal has no identity-based policy, boundary or session of its own."""
    context = {key.lower(): value for key, value in request.context.items()
               if value is not None}
    missing: list[str] = []
    found: dict[str, list[Statement]] = {kind: [] for kind in KINDS}
    found["resource"] = _matching([resource] if resource else [], request, context, missing)
    if not request.is_service:
        found["identity"] = _matching(identity, request, context, missing)
        found["boundary"] = _matching([boundary] if boundary else [], request, context, missing)
        found["session"] = _matching(session, request, context, missing)
    return _Applicable(found, tuple(dict.fromkeys(missing)), boundary is not None, bool(session))


def _explicit_deny(applicable: _Applicable) -> Decision | None:
    """"How AWS enforcement code logic evaluates requests to allow or deny access", Deny
    evaluation: a Deny statement that applies, in any policy, is the final decision."""
    for kind in KINDS:
        deny = next((s for s in applicable.found[kind] if s.effect == "Deny"), None)
        if deny is not None:
            return applicable.decide(False, EXPLICIT_DENY, kind, deny)
    return None


def _service_principal(applicable: _Applicable) -> Decision:
    """"How AWS enforcement code logic evaluates requests to allow or deny access",
    Resource-based policies: an AWS service principal (``s3.amazonaws.com``) has no
    identity-based policy, so the resource's policy alone allows it or not."""
    grant = _first(applicable.allows("resource"))
    return applicable.allow(grant) if grant else applicable.implicit_deny("resource")


def _root_user(applicable: _Applicable) -> Decision:
    """"How AWS enforcement code logic evaluates requests to allow or deny access": every request
    is implicitly denied "with the exception of the AWS account root user, which has full
    access" to its own account's resources (an explicit deny still refuses it)."""
    return applicable.allow(None)


def _cross_account(applicable: _Applicable) -> Decision:
    """"Cross-account policy evaluation logic": the caller's identity-based policies (inside its
    boundary and session policies) and the resource's policy must both allow the request."""
    by_identity = applicable.by_identity
    by_resource = _first(applicable.allows("resource"))
    if by_identity and by_resource:
        return applicable.allow(by_identity)
    return applicable.implicit_deny(_missing_layer(applicable, needs_identity=True))


def _role_trust_policy(applicable: _Applicable) -> Decision:
    """"How AWS enforcement code logic evaluates requests to allow or deny access",
    Resource-based policies: "IAM role trust policies and KMS key policies are exceptions to this
    logic, because they must explicitly allow access for principals". A trust policy naming the
    caller or its role trusts it; one naming the account still needs the identity-based policy;
    one naming nobody refuses even an administrator."""
    by_account = _first(s for s in applicable.allows("resource") if s.via == "account")
    trusted = (_granted_to("direct", applicable) or _granted_to("role", applicable)
               or (by_account if applicable.by_identity else None))
    if trusted:
        return applicable.allow(trusted)
    return applicable.implicit_deny("identity" if by_account else "resource")


def _same_account(applicable: _Applicable) -> Decision:
    """"Determining whether a request is allowed or denied within an account" ("Policy evaluation
    for requests within a single account"): an identity-based policy (inside the
    permissions boundary and the session policies) OR the resource's policy allows. As the
    Resource-based policies step of "How AWS enforcement code logic evaluates requests to allow
    or deny access" has it, a resource policy naming the IAM user or the role session's ARN
    grants on its own; one naming the role's ARN is still limited by the boundary and the
    session policies; one naming the account delegates to the identity-based policies."""
    by_role = _granted_to("role", applicable)
    within = applicable.within_boundary and applicable.within_session
    grant = (applicable.by_identity or _granted_to("direct", applicable)
             or (by_role if within else None))
    if grant:
        return applicable.allow(grant)
    reason = "identity"
    if applicable.allows("identity") or by_role:
        reason = _missing_layer(applicable, needs_identity=False)
    return applicable.implicit_deny(reason)


def _granted_to(via: str, applicable: _Applicable) -> Statement | None:
    """The resource policy's first Allow naming the caller this way (see _principal_matches)."""
    return _first(s for s in applicable.allows("resource") if s.via == via)


def _missing_layer(applicable: _Applicable, *, needs_identity: bool) -> str:
    """The policy type an implicit deny names: the first layer that did not allow."""
    if needs_identity and not applicable.allows("identity"):
        return "identity"
    if not applicable.within_boundary:
        return "boundary"
    if not applicable.within_session:
        return "session"
    return "resource" if needs_identity else "identity"


def _first(statements: Iterable[Statement]) -> Statement | None:
    return next(iter(statements), None)


def _is_root(request: Request) -> bool:
    return request.principal.startswith("arn:") and request.principal.endswith(":root")


def _matching(policies: Iterable[Policy], request: Request, context: Mapping[str, Any],
              missing: list[str]) -> list[Statement]:
    """The statements of ``policies`` that apply to ``request``."""
    found = []
    for policy in policies:
        for index, body in enumerate(policy.statements):
            via = "direct"
            if policy.kind == "resource":
                via = _principal_matches(body, request) or ""
                if not via:
                    continue
            if not (_action_matches(body, request.action)
                    and _resource_matches(body, request.resource, context)):
                continue
            conditions = body.get("Condition") or {}
            missing += [key for key in _condition_keys(conditions) if key.lower() not in context]
            if not conditions_hold(conditions, context):
                continue
            found.append(Statement(policy, index, body.get("Sid"), str(body.get("Effect")),
                                   body, via))
    return found


def _statements(document: Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    parsed = parse(document)
    statements = parsed.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def parse(document: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """A policy document as a mapping; moto keeps some URL-encoded (``%7B%22Version...``)."""
    if not isinstance(document, str):
        return document
    return _parse_text(document)


@lru_cache(maxsize=512)
def _parse_text(text: str) -> Mapping[str, Any]:
    # cached: every request re-reads the same policies (do not mutate what this returns)
    try:
        document: Mapping[str, Any] = json.loads(text)
    except ValueError:
        document = json.loads(unquote(text))
    return document


# ---------------------------------------------------------------------- elements
def _action_matches(body: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in body:
        return not any(like(p, action, case=False) for p in as_list(body["NotAction"]))
    return any(like(p, action, case=False) for p in as_list(body.get("Action")))


def _resource_matches(body: Mapping[str, Any], resource: str, context: Mapping[str, Any]) -> bool:
    if "NotResource" in body:
        return not any(_resource_like(p, resource, context) for p in as_list(body["NotResource"]))
    if "Resource" not in body:  # resource policies may leave it out: the resource itself
        return True
    return any(_resource_like(p, resource, context) for p in as_list(body["Resource"]))


def _resource_like(pattern: str, resource: str, context: Mapping[str, Any]) -> bool:
    if pattern == "*":
        return True
    if resource == "*":  # an action without resource-level permissions needs "Resource": "*"
        return False
    return arn_like(pattern, resource, context)


def _principal_matches(body: Mapping[str, Any], request: Request) -> str | None:
    """How a resource policy's Principal names the caller: "direct" (``*``, the IAM user, the
    role session, the service), "role" (the role of a session) or "account"; None if not."""
    if "NotPrincipal" in body:
        return None if _named(body["NotPrincipal"], request) else "direct"
    return _named(body.get("Principal"), request)


def _named(declared: Any, request: Request) -> str | None:
    if declared == "*":
        return "direct"
    if isinstance(declared, str):  # moto's AddPermission keeps an account ID as a bare string
        declared = {"AWS": declared}
    if not isinstance(declared, Mapping):
        return None
    ways: list[str | None] = []
    for kind, values in declared.items():
        for value in as_list(values):
            if kind == "Service" and value == request.principal:
                ways.append("direct")
            elif kind == "AWS" and not request.is_service:
                ways.append(_names_aws(str(value), request))
    for way in ("direct", "role", "account"):
        if way in ways:
            return way
    return None


def _names_aws(value: str, request: Request) -> str | None:
    account = request.caller_account
    if request.role and value == request.role:
        return "role"
    if value in ("*", request.principal):
        return "direct"
    if value in (account, f"arn:aws:iam::{account}:root"):
        return "account"
    return None


# ---------------------------------------------------------------------- conditions
def _condition_keys(conditions: Mapping[str, Any]) -> list[str]:
    return [key for tests in conditions.values() if isinstance(tests, Mapping) for key in tests]


def conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Every operator holds (AND), for every key it names (AND); each key's values are ORed.
    ``context`` has lower-case key names."""
    for operator, tests in conditions.items():
        if not isinstance(tests, Mapping):
            return False
        for key, patterns in tests.items():
            if not _holds(operator, context.get(key.lower()), as_list(patterns), context):
                return False
    return True


def _holds(operator: str, value: Any, patterns: list[Any], context: Mapping[str, Any]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    name = name[:-len("IfExists")] if if_exists else name
    if name == "Null":  # "true": the key is absent; "false": it is present
        return any(str(p).lower() == ("true" if value is None else "false") for p in patterns)
    test = _OPERATORS.get(name)
    if test is None or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        return False  # an operator IAM does not know never matches
    negated = name in _NEGATED
    values = None if value is None else as_list(value)
    if qualifier == "ForAllValues":  # every value in the request is in the policy's set
        return all(_one(test, negated, v, patterns, context) for v in values or [])
    if qualifier == "ForAnyValue":  # at least one value of the request is
        return any(_one(test, negated, v, patterns, context) for v in values or [])
    if values is None:  # an absent key: false, true for IfExists and for negated operators
        return if_exists or negated
    if negated:
        return not any(test(p, v, context) for v in values for p in patterns)
    return any(test(p, v, context) for v in values for p in patterns)


def _one(test: Callable[..., bool], negated: bool, value: Any, patterns: list[Any],
         context: Mapping[str, Any]) -> bool:
    matched = any(test(p, value, context) for p in patterns)
    return not matched if negated else matched


def _string_equals(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    expected = substitute(str(pattern), context)
    return expected is not None and expected == str(value)


def _string_equals_ignore_case(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    expected = substitute(str(pattern), context)
    return expected is not None and expected.lower() == str(value).lower()


def _string_like(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    return like(str(pattern), str(value), context=context)


def _numeric(compare: Callable[[float, float], bool]) -> Callable[..., bool]:
    def test(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
        try:
            return compare(float(value), float(pattern))
        except (TypeError, ValueError):
            return False
    return test


def _date(compare: Callable[[datetime, datetime], bool]) -> Callable[..., bool]:
    def test(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
        left, right = _when(value), _when(pattern)
        return left is not None and right is not None and compare(left, right)
    return test


def _when(text: Any) -> datetime | None:
    """An ISO 8601 date or an epoch time in seconds, as IAM accepts both."""
    text = str(text).strip()
    try:
        return datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _bool(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    return str(pattern).lower() == str(value).lower()


def _binary(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    try:
        return base64.b64decode(str(pattern)) == base64.b64decode(str(value))
    except ValueError:
        return False


def _ip(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    try:
        network = ipaddress.ip_network(str(pattern), strict=False)
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return address.version == network.version and address in network


def _arn(pattern: Any, value: Any, context: Mapping[str, Any]) -> bool:
    return arn_like(str(pattern), str(value), context)


_OPERATORS: dict[str, Callable[..., bool]] = {
    "StringEquals": _string_equals, "StringNotEquals": _string_equals,
    "StringEqualsIgnoreCase": _string_equals_ignore_case,
    "StringNotEqualsIgnoreCase": _string_equals_ignore_case,
    "StringLike": _string_like, "StringNotLike": _string_like,
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericNotEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
    "DateEquals": _date(lambda a, b: a == b), "DateNotEquals": _date(lambda a, b: a == b),
    "DateLessThan": _date(lambda a, b: a < b),
    "DateLessThanEquals": _date(lambda a, b: a <= b),
    "DateGreaterThan": _date(lambda a, b: a > b),
    "DateGreaterThanEquals": _date(lambda a, b: a >= b),
    "Bool": _bool, "BinaryEquals": _binary,
    "IpAddress": _ip, "NotIpAddress": _ip,
    "ArnEquals": _arn, "ArnLike": _arn, "ArnNotEquals": _arn, "ArnNotLike": _arn,
}
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
            "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike"}


# ---------------------------------------------------------------------- matching text
def substitute(text: str, context: Mapping[str, Any]) -> str | None:
    """``text`` with its policy variables replaced; None when one has no value and no default
    (IAM then treats the element as not matching)."""
    parts = _pieces(text, context)
    return None if parts is None else "".join(value for value, _ in parts)


def _pieces(text: str, context: Mapping[str, Any]) -> list[tuple[str, bool]] | None:
    """``text`` as (piece, literal) pairs: a variable's value is literal, so ``${*}`` is an
    asterisk and not a wildcard."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for found in _VARIABLE.finditer(text):
        pieces.append((text[at:found.start()], False))
        value = _variable(found.group(1), context)
        if value is None:
            return None
        pieces.append((value, True))
        at = found.end()
    pieces.append((text[at:], False))
    return pieces


def _variable(inside: str, context: Mapping[str, Any]) -> str | None:
    name, _, default = inside.partition(",")
    name = name.strip()
    if name in ("*", "?", "$"):
        return name
    value = context.get(name.lower())
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None  # multivalued keys are not variables
    if value is not None:
        return str(value)
    default = default.strip()
    if len(default) >= 2 and default[0] == default[-1] == "'":
        return default[1:-1]
    return None


def arn_like(pattern: str, arn: str, context: Mapping[str, Any] | None = None) -> bool:
    """ArnLike: each of the six colon-separated parts matched on its own, with * and ?
    (the last part, the resource, may itself hold colons)."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        like(p, a, context=context) for p, a in zip(pattern_parts, arn_parts, strict=True))


def like(pattern: str, value: str, *, case: bool = True,
          context: Mapping[str, Any] | None = None) -> bool:
    if context is not None and "${" in pattern:
        pieces = _pieces(pattern, context)
        if pieces is None:
            return False
        expression = "".join(re.escape(piece) if literal else _glob_text(piece)
                             for piece, literal in pieces)
        return re.fullmatch(expression, value, 0 if case else re.IGNORECASE) is not None
    return _glob(pattern, case).fullmatch(value) is not None


@lru_cache(maxsize=16384)  # AWS managed policies list thousands of actions (ReadOnlyAccess)
def _glob(pattern: str, case: bool) -> re.Pattern[str]:
    return re.compile(_glob_text(pattern), 0 if case else re.IGNORECASE)


def _glob_text(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ---------------------------------------------------------------------- the message
def message(request: Request, decision: Decision) -> str:
    """AWS's access denied text for a refused request (IAM User Guide, "Troubleshoot access
    denied error messages"): ``User: <arn> is not authorized to perform: <action> on resource:
    <arn> because no identity-based policy allows the <action> action``. The "on resource"
    part is left out when the action has no resource (``*``), as in the guide's
    ``codecommit:ListRepositories`` example. Since 2025 an explicit deny names the denying
    managed policy's ARN when it is in the caller's own account (AWS Security Blog, "Enhanced
    access denied error messages with policy ARNs"); an inline policy has no ARN to name, so
    the message ends at the policy type (not confirmed against AWS)."""
    text = f"User: {request.principal} is not authorized to perform: {request.action}"
    if request.resource != "*":
        text += f" on resource: {request.resource}"
    reason = decision.reason or "identity"
    explicit, implicit = _CLAUSES.get(reason, _CLAUSES["identity"])
    if decision.decision != EXPLICIT_DENY:
        return f"{text} because no {implicit} allows the {request.action} action"
    text += f" with an explicit deny in {explicit}"
    arn = decision.deciding.policy.id if decision.deciding else ""
    if reason != "resource" and arn.startswith("arn:") and not request.cross_account:
        text += f": {arn}"
    return text
