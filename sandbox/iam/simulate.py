"""IAM's policy simulator: ``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy``.

AWS answers, for each action and resource, the decision its evaluation logic would reach
(``allowed``, ``explicitDeny``, ``implicitDeny``), the statements that decided it with their
line and column in the policy text, and the condition keys the policies use that the request's
context lacks. moto 5.2.5 implements neither operation (``moto/iam/responses.py`` has no
``simulate_*`` method, so moto raises NotImplementedError); rows of ``sandbox/seams.py`` add both
to moto's ``IamResponse``, answering through moto's own serializer (botocore's IAM output shapes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .policy import EXPLICIT_DENY, Decision, Policy, Request, Statement, evaluate, parse
from .principals import Principal, policies_of


# ---------------------------------------------------------------------- the operations
def simulate_principal_policy(self: Any) -> Any:
    """``SimulatePrincipalPolicy``: the policies of a user (with its groups'), group or role,
    plus any in PolicyInputList."""
    from moto.core.responses import ActionResult

    source = self._get_param("PolicySourceArn")
    principal = _source(source)
    extra = _inputs(self._get_param("PolicyInputList") or [], "PolicyInputList", "identity")
    boundaries = _inputs(self._get_param("PermissionsBoundaryPolicyInputList") or [],
                         "PermissionsBoundaryPolicyInputList", "boundary")
    caller = self._get_param("CallerArn") or (source if principal.kind == "user" else None)
    if self._get_param("ResourcePolicy") and not caller:
        raise _invalid("CallerArn is required if you include a ResourcePolicy and the "
                       "PolicySourceArn is not the ARN of an IAM user.")
    results = _simulate(self, caller or source, principal.account,
                        (*principal.identity, *extra),
                        boundaries[0] if boundaries else principal.boundary,
                        role=source if principal.kind == "role" else None)
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def simulate_custom_policy(self: Any) -> Any:
    """``SimulateCustomPolicy``: only the policies in the request."""
    from moto.core.responses import ActionResult

    policies = _inputs(self._get_param("PolicyInputList") or [], "PolicyInputList", "identity")
    if not policies:
        raise _invalid("PolicyInputList must contain at least one policy.")
    boundaries = _inputs(self._get_param("PermissionsBoundaryPolicyInputList") or [],
                         "PermissionsBoundaryPolicyInputList", "boundary")
    caller = self._get_param("CallerArn")
    if self._get_param("ResourcePolicy") and not caller:
        raise _invalid("CallerArn is required if you include a ResourcePolicy.")
    account = _account_of(caller) if caller else self.current_account
    results = _simulate(self, caller or f"arn:aws:iam::{account}:user/simulated", account,
                        policies, boundaries[0] if boundaries else None, role=None)
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def _simulate(response: Any, caller: str, account: str, identity: Sequence[Policy],
              boundary: Policy | None, *, role: str | None) -> list[dict[str, Any]]:
    actions = response._get_param("ActionNames") or []
    if not actions:
        raise _invalid("ActionNames must contain at least one action.")
    resources = response._get_param("ResourceArns") or ["*"]
    document = response._get_param("ResourcePolicy")
    resource_policy = Policy(document, "resource", "the resource policy", "ResourcePolicy") \
        if document else None
    owner = response._get_param("ResourceOwner")
    context = _context(response._get_param("ContextEntries") or [])
    results = []
    for action in actions:
        for resource in resources:
            request = Request(principal=caller, action=action, resource=resource,
                              context=context, principal_account=account,
                              resource_account=_account_of(owner) if owner else None,
                              role=role)
            decision = evaluate(request, identity, resource=resource_policy, boundary=boundary)
            results.append(_result(request, decision, boundary))
    return results


def _result(request: Request, decision: Decision, boundary: Policy | None) -> dict[str, Any]:
    # Which statements "matched" in AWS's answer: those of the deciding effect.
    effect = "Deny" if decision.decision == EXPLICIT_DENY else "Allow"
    statements = [] if not decision.allowed and decision.decision != EXPLICIT_DENY else [
        _matched(s) for s in decision.matched if s.effect == effect]
    specific: dict[str, Any] = {
        "EvalResourceName": request.resource, "EvalResourceDecision": decision.decision,
        "MatchedStatements": statements,
        "MissingContextValues": list(decision.missing_context)}
    result: dict[str, Any] = {
        "EvalActionName": request.action, "EvalResourceName": request.resource,
        "EvalDecision": decision.decision, "MatchedStatements": statements,
        "MissingContextValues": list(decision.missing_context),
        "ResourceSpecificResults": [specific]}
    if boundary is not None:
        detail = {"AllowedByPermissionsBoundary": _boundary_allows(decision, boundary)}
        result["PermissionsBoundaryDecisionDetail"] = detail
        specific["PermissionsBoundaryDecisionDetail"] = detail
    if request.cross_account:
        # Filled for cross-account simulations only; the key names are not confirmed.
        details = {"IAM Policy": _by_kind(decision, "identity"),
                   "Resource Policy": _by_kind(decision, "resource")}
        result["EvalDecisionDetails"] = details
        specific["EvalDecisionDetails"] = details
    return result


def _boundary_allows(decision: Decision, boundary: Policy) -> bool:
    mine = [s for s in decision.matched if s.policy is boundary]
    return any(s.effect == "Allow" for s in mine) and not any(s.effect == "Deny" for s in mine)


def _by_kind(decision: Decision, kind: str) -> str:
    mine = [s for s in decision.matched if s.policy.kind == kind]
    if any(s.effect == "Deny" for s in mine):
        return "explicitDeny"
    return "allowed" if any(s.effect == "Allow" for s in mine) else "implicitDeny"


def _matched(statement: Statement) -> dict[str, Any]:
    found: dict[str, Any] = {"SourcePolicyId": _policy_id(statement.policy),
                             "SourcePolicyType": _policy_type(statement.policy)}
    span = position(statement.policy.document, statement.index)
    if span:
        (line, column), (end_line, end_column) = span
        found["StartPosition"] = {"Line": line, "Column": column}
        found["EndPosition"] = {"Line": end_line, "Column": end_column}
    return found


def _policy_id(policy: Policy) -> str:
    """An attached managed policy is named by its name, the others by their own id."""
    return policy.id.rsplit("/", 1)[-1] if policy.id.startswith("arn:") else policy.id


def _policy_type(policy: Policy) -> str:
    """The simulator's PolicySourceType: user | group | role | aws-managed | user-managed |
    resource | none."""
    if policy.kind == "resource":
        return "resource"
    if policy.id.startswith("arn:aws:iam::aws:policy/"):
        return "aws-managed"
    if policy.id.startswith("arn:"):
        return "user-managed"
    owner = policy.name.rsplit(" of ", 1)[-1].split("/", 1)[0]
    return owner if owner in ("user", "group", "role") else "none"


# ---------------------------------------------------------------------- positions
def position(document: Mapping[str, Any] | str,
             index: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Where statement ``index`` starts and ends in the policy text: (line, column) pairs
    from 1, the end just past its closing brace; None for a document that is not text."""
    if not isinstance(document, str):
        return None
    text = document
    try:
        json.loads(text)
    except ValueError:
        return None
    spans = list(_statement_spans(text))
    if index >= len(spans):
        return None
    start, end = spans[index]
    return _line_column(text, start), _line_column(text, end)


def _statement_spans(text: str) -> Iterator[tuple[int, int]]:
    decoder = json.JSONDecoder()
    at = text.find('"Statement"')
    if at < 0:
        return
    at = text.index(":", at) + 1
    at = _skip(text, at)
    if text[at] == "{":
        _, end = decoder.raw_decode(text, at)
        yield at, end
        return
    at = _skip(text, at + 1)
    while at < len(text) and text[at] != "]":
        _, end = decoder.raw_decode(text, at)
        yield at, end
        at = _skip(text, end)
        if at < len(text) and text[at] == ",":
            at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# ---------------------------------------------------------------------- inputs
def _inputs(documents: Sequence[str], label: str, kind: str) -> list[Policy]:
    found = []
    for number, document in enumerate(documents, start=1):
        try:
            parse(document)
        except ValueError:
            from moto.iam.exceptions import MalformedPolicyDocument

            raise MalformedPolicyDocument("Syntax errors in policy.") from None
        found.append(Policy(document, kind, f"{label}.{number}", f"{label}.{number}"))
    return found


# ContextKeyType: string | stringList | numeric | numericList | boolean | booleanList | ip |
# ipList | binary | binaryList | date | dateList. A List type keeps every value.
def _context(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for entry in entries:
        values = list(entry.get("ContextKeyValues") or [])
        if not values:
            continue
        kind = str(entry.get("ContextKeyType") or "string")
        context[str(entry["ContextKeyName"])] = values if kind.endswith("List") else values[0]
    return context


def _source(arn: str | None) -> Principal:
    """The principal PolicySourceArn names: a user (with its groups' policies), a role or a
    group; NoSuchEntity when IAM has none."""
    from moto.iam.exceptions import NoSuchEntity

    if not arn:
        raise _invalid("PolicySourceArn is required.")
    kind, _, name = arn.split(":", 5)[-1].partition("/")
    name = name.rsplit("/", 1)[-1]
    found = policies_of(arn)
    if found is None or found.kind not in ("user", "role", "group"):
        # AWS's wording for a missing user and role; not confirmed for the simulator itself
        raise NoSuchEntity(f"The {kind or 'entity'} with name {name or arn} cannot be found.")
    return found


def _account_of(arn_or_account: str) -> str:
    parts = arn_or_account.split(":")
    return parts[4] if len(parts) > 5 else arn_or_account


def _invalid(text: str) -> Exception:
    from moto.iam.exceptions import InvalidInput

    return InvalidInput(text)
