"""Checks for exercises/05-permissions.ipynb: a least-privilege execution policy for
``restock``, S3 allowed to invoke ``file-receipt``, a denial read and then fixed for
``shelve-book``, and a partner account (and nobody else) allowed to invoke ``price-quote``.

Each check asks what AWS would answer: the function is invoked, IAM's simulator
(``simulate_principal_policy``) says what a role may do, and a function policy is evaluated for
callers the learner did not name. Roles, policies and functions are found by name with boto3.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

from ..grading.checks import CheckFailed, NotAttempted, check_function, learner_value
from ..grading.probes import invoke, log_messages, require_function, require_table, unique

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
INVENTORY, PRICES = "inventory", "prices"
RECEIPTS, ARCHIVE = "receipts", "shelf-archive"
PARTNER = "210987654321"
STRANGER = "111122223333"  # an account nobody named: it stands for "anybody else"
SETUP = "run the exercise's first cell, which creates it."
DELIVERY_WAIT = 15.0  # seconds an upload's notification may take to reach the function

WILDCARD_ACTION = ("{role}'s policy allows {action!r}: name each action the function calls "
                   "(dynamodb:GetItem, dynamodb:UpdateItem), no wildcards.")
NO_PERMISSION_FOR_S3 = ("file-receipt's policy does not let S3 invoke it: lam.add_permission("
                        "FunctionName='file-receipt', StatementId=..., Action='lambda:"
                        "InvokeFunction', Principal='s3.amazonaws.com', SourceArn='arn:aws:s3:::"
                        "receipts', SourceAccount=sb.account_id).")


# ---------------------------------------------------------------------------------- looking
def _role_name(function: dict[str, Any]) -> str:
    return cast(str, function["Role"].rsplit("/", 1)[-1])


def _inline_policies(role: str) -> dict[str, dict[str, Any]]:
    """The role's inline policies, by name, as documents."""
    import boto3

    iam = boto3.client("iam")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return {name: _document(iam.get_role_policy(RoleName=role, PolicyName=name)
                            ["PolicyDocument"]) for name in names}


def _attached(role: str) -> list[str]:
    import boto3

    attached = boto3.client("iam").list_attached_role_policies(RoleName=role)
    return [policy["PolicyArn"] for policy in attached["AttachedPolicies"]]


def _managed_documents(arns: list[str]) -> dict[str, dict[str, Any]]:
    """The default version of each customer managed policy (AWS's own are left out)."""
    import boto3

    iam = boto3.client("iam")
    found = {}
    for arn in arns:
        if arn.startswith("arn:aws:iam::aws:"):
            continue
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        found[arn] = _document(iam.get_policy_version(PolicyArn=arn, VersionId=version)
                               ["PolicyVersion"]["Document"])
    return found


def _document(document: Any) -> dict[str, Any]:
    """boto3 gives a policy document as a dict, or as (URL-encoded) JSON text."""
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    return cast("dict[str, Any]", document)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(document.get("Statement", [])) if isinstance(s, dict)]


def _simulate(role_arn: str, actions: list[str],
              resources: list[str]) -> dict[tuple[str, str], str]:
    """IAM's decision for each (action, resource): allowed, implicitDeny or explicitDeny. IAM
    answers once per action; the decision on each resource is in ResourceSpecificResults."""
    import boto3

    results = boto3.client("iam").simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=actions, ResourceArns=resources)
    decisions = {}
    for result in results["EvaluationResults"]:
        for each in result.get("ResourceSpecificResults") or [
                {"EvalResourceName": result["EvalResourceName"],
                 "EvalResourceDecision": result["EvalDecision"]}]:
            decisions[(result["EvalActionName"], each["EvalResourceName"])] = \
                each["EvalResourceDecision"]
    return decisions


def _arn(table: str) -> str:
    return cast(str, require_table(table, SETUP).table_arn)


def _error_text(result: Any) -> str:
    return f"{result.error_type}: {(result.error or {}).get('errorMessage')}"


# ---------------------------------------------------------------------------------- task 1
def _wildcards(role: str, documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                raise CheckFailed(f"{role}'s policy allows everything but some actions "
                                  "(NotAction): list the actions it allows, with Action.",
                                  found=statement)
            for action in _as_list(statement.get("Action", [])):
                if "*" in action or "?" in action:
                    raise CheckFailed(WILDCARD_ACTION.format(role=role, action=action),
                                      found=statement)


@check_function("permissions.restock_has_least_privilege")
def restock_has_least_privilege() -> None:
    """restock works, and its role may GetItem and UpdateItem on inventory and nothing else:
    not other actions on inventory, not these actions on other tables, no wildcard actions."""
    table = require_table(INVENTORY, SETUP)
    function = require_function("restock", "Run the task's %%lambda cell.")
    role = _role_name(function)
    inline = _inline_policies(role)
    managed = [arn for arn in _attached(role) if arn != BASIC_EXECUTION]
    if not inline and not managed:
        raise NotAttempted(f"{role} has no policy of yours yet: give it one with "
                           f"iam.put_role_policy(RoleName={role!r}, PolicyName=..., "
                           "PolicyDocument=...).")
    inventory = table.table_arn
    needed = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    decisions = _simulate(function["Role"], needed, [inventory])
    refused = [action for action in needed if decisions[(action, inventory)] != "allowed"]
    if refused:
        raise CheckFailed(f"{role} may not {' or '.join(refused)} on the inventory table: "
                          "allow them with the table's ARN as the Resource (the ARN "
                          "describe_table gives, not the table's name).",
                          expected=f"allowed on {inventory}",
                          found={action: decisions[(action, inventory)] for action in needed})
    sku, stock = unique("sku"), 2
    table.put_item(Item={"sku": sku, "title": "a check's book", "stock": stock})
    result = invoke("restock", {"sku": sku, "quantity": 3})
    if result.error is not None:
        raise CheckFailed("restock failed: its role must allow each call the handler makes.",
                          found=_error_text(result))
    stored = table.get_item(Key={"sku": sku}).get("Item", {}).get("stock")
    if stored != stock + 3:
        raise CheckFailed("restock ran, but the stock was not updated: deploy the task's "
                          "restock cell unchanged.", expected=stock + 3, found=stored)
    _wildcards(role, {**inline, **_managed_documents(managed)})
    more = ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:DeleteTable"]
    decisions = _simulate(function["Role"], more, [inventory])
    extra = [action for action in more if decisions[(action, inventory)] == "allowed"]
    if extra:
        raise CheckFailed(f"{role} may also {', '.join(extra)} on inventory: allow only the "
                          "two actions restock uses.", expected="implicitDeny",
                          found={action: "allowed" for action in extra})
    others = [_arn(PRICES), inventory.replace(f"table/{INVENTORY}", f"table/{unique('t')}")]
    decisions = _simulate(function["Role"], needed, others)
    reached = sorted({resource.rsplit("/", 1)[-1] for (_, resource), decision
                      in decisions.items() if decision == "allowed"})
    if reached:
        raise CheckFailed(f"{role} reaches other tables too ({', '.join(reached)}): make the "
                          "Resource the inventory table's ARN, not '*'.",
                          expected=inventory, found="allowed on " + ", ".join(reached))


# ---------------------------------------------------------------------------------- task 2
def _condition(statement: dict[str, Any], key: str) -> list[str]:
    """The values a statement's conditions require of the context key ``key``."""
    found = []
    for tests in (statement.get("Condition") or {}).values():
        for name, value in tests.items():
            if name.lower() == key.lower():
                found += _as_list(value)
    return found


def _function_statements(function: str) -> list[dict[str, Any]]:
    import boto3

    lam = boto3.client("lambda")
    try:
        return _statements(json.loads(lam.get_policy(FunctionName=function)["Policy"]))
    except lam.exceptions.ResourceNotFoundException:
        return []


def _service_statements(function: str, service: str) -> list[dict[str, Any]]:
    found = []
    for statement in _function_statements(function):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and (service in services or principal == "*"):
            found.append(statement)
    return found


def _notified(bucket: str, function_arn: str) -> list[dict[str, Any]]:
    import boto3

    s3 = boto3.client("s3")
    try:
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        raise NotAttempted(f"there is no bucket {bucket!r}: {SETUP}") from None
    return [entry for entry in config.get("LambdaFunctionConfigurations", [])
            if entry["LambdaFunctionArn"] in (function_arn, function_arn + ":$LATEST")]


def _wait_for_log(function: str, text: str) -> bool:
    deadline = time.monotonic() + DELIVERY_WAIT
    while time.monotonic() < deadline:
        if any(text in message for message in log_messages(function)):
            return True
        time.sleep(0.2)
    return False


@check_function("permissions.receipts_invoke_file_receipt")
def receipts_invoke_file_receipt() -> None:
    """file-receipt's policy lets S3 invoke it for the bucket receipts of this account only,
    and an upload to receipts reaches it."""
    import boto3

    from ..client import current

    function = require_function("file-receipt", "Run the task's %%lambda cell.")
    statements = _service_statements("file-receipt", "s3.amazonaws.com")
    notified = _notified(RECEIPTS, function["FunctionArn"])
    if not statements and not notified:
        raise NotAttempted("S3 may not invoke file-receipt yet, and the bucket receipts "
                           "does not notify it: add the permission, then the notification.")
    if not statements:
        raise CheckFailed(NO_PERMISSION_FOR_S3)
    bucket_arn = f"arn:aws:s3:::{RECEIPTS}"
    account = current().account_id  # type: ignore[union-attr]  # running: statements were read
    for statement in statements:
        sources = _condition(statement, "aws:SourceArn")
        if not sources:
            raise CheckFailed("a statement with no SourceArn lets S3 invoke file-receipt for "
                              "any bucket: give add_permission SourceArn='arn:aws:s3:::"
                              "receipts'.", expected=bucket_arn, found=statement)
        if sources != [bucket_arn]:
            raise CheckFailed("the SourceArn should name the bucket receipts, and only it.",
                              expected=bucket_arn, found=sources)
        accounts = _condition(statement, "aws:SourceAccount")
        if accounts != [account]:
            raise CheckFailed("bucket names are global, and a bucket's ARN names no account: "
                              "add SourceAccount=sb.account_id, so that a bucket called "
                              "receipts in another account cannot invoke file-receipt.",
                              expected=account, found=accounts or None)
    if not notified:
        raise CheckFailed("the bucket receipts does not notify file-receipt: s3.put_bucket_"
                          "notification_configuration(Bucket='receipts', Notification"
                          "Configuration={'LambdaFunctionConfigurations': [{'LambdaFunction"
                          "Arn': ..., 'Events': ['s3:ObjectCreated:*']}]}).")
    key = f"{unique('receipt')}.txt"
    boto3.client("s3").put_object(Bucket=RECEIPTS, Key=key, Body=b"1 x a check's book")
    if not _wait_for_log("file-receipt", key):
        raise CheckFailed("an upload to receipts did not reach file-receipt: the notification "
                          "should be for every new object, 's3:ObjectCreated:*', with no "
                          "filter.", expected=["s3:ObjectCreated:*"],
                          found=[entry.get("Events") for entry in notified])


# ---------------------------------------------------------------------------------- task 3
def _answer(name: str) -> Any:
    """A variable the learner assigned in the notebook (the grader asks the kernel for it)."""
    return learner_value(name, f"{name} is not assigned yet: read the denial, then assign it.")


def _decisions(role: str, *, denied: bool) -> list[Any]:
    """IAM's decisions for the sessions of ``role``, oldest first (the sandbox's trail)."""
    from ..client import current

    running = current()
    return list(running.iam.decisions(denied=denied, principal=f"assumed-role/{role}/")) \
        if running else []


@check_function("permissions.denial_is_read", needs=("missing_action", "denied_resource"))
def denial_is_read() -> None:
    """missing_action and denied_resource are the action and resource of a denial that
    shelve-book's role really got."""
    role = _role_name(require_function("shelve-book", "Run the task's %%lambda cell."))
    action, resource = _answer("missing_action"), _answer("denied_resource")
    denials = _decisions(role, denied=True)
    if not denials:
        raise NotAttempted("shelve-book has not been denied anything yet: run the cell that "
                           "invokes it.")
    if not isinstance(action, str) or ":" not in action:
        raise CheckFailed("an IAM action is written service:Action, as in the message.",
                          expected="service:Action", found=action)
    denied_actions = {entry.action.lower() for entry in denials}
    if action.lower() not in denied_actions:
        allowed = {entry.action.lower() for entry in _decisions(role, denied=False)}
        raise CheckFailed(f"{action} was allowed: the handler's first call went through. "
                          "Which call failed?" if action.lower() in allowed else
                          f"that is not the action {role} was denied: it is the one after "
                          "'is not authorized to perform:' in the message.", found=action)
    if not isinstance(resource, str):
        raise CheckFailed("denied_resource should be the ARN, as a string.", found=resource)
    if resource.strip("'\"") != resource:
        raise CheckFailed("S3 puts the ARN in quotes in its message: assign the ARN without "
                          "them.", found=resource)
    denied = {entry.resource for entry in denials if entry.action.lower() == action.lower()}
    if resource not in denied:
        bucket = resource.startswith("arn:aws:s3:::") and "/" not in resource
        raise CheckFailed("that is not the resource the call was denied on"
                          + (": an object's ARN is the bucket's ARN, a slash, and the "
                             "object's key." if bucket else
                             ": it is the ARN after 'on resource:' in the message."),
                          found=resource)


SHELF_SETUP = {"prices": ["dynamodb:GetItem"]}  # what the first cell gives shelf-role


def _untouched(role: str) -> bool:
    """shelf-role as the first cell made it: logs, and GetItem on prices."""
    inline = _inline_policies(role)
    if _attached(role) != [BASIC_EXECUTION] or set(inline) != set(SHELF_SETUP):
        return False
    statements = _statements(inline["prices"])
    return [_as_list(s.get("Action")) for s in statements] == [SHELF_SETUP["prices"]]


@check_function("permissions.shelve_book_fixed")
def shelve_book_fixed() -> None:
    """shelve-book works, and shelf-role may put objects in the archive bucket, but neither
    read nor delete them, nor write to other buckets."""
    import boto3

    function = require_function("shelve-book", "Run the task's %%lambda cell.")
    role = _role_name(function)
    if _untouched(role):
        raise NotAttempted(f"{role} has not changed yet: give it the permission it lacks.")
    sku = unique("sku")
    result = invoke("shelve-book", {"sku": sku})
    if result.error is not None:
        raise CheckFailed(f"shelve-book is still denied: {role} needs the action you found, on "
                          "the archive's objects (arn:aws:s3:::shelf-archive/shelved/*).",
                          found=_error_text(result))
    try:
        boto3.client("s3").head_object(Bucket=ARCHIVE, Key=f"shelved/{sku}.json")
    except Exception:
        raise CheckFailed("shelve-book ran but archived nothing: deploy the task's "
                          "shelve-book cell unchanged.") from None
    archived = f"arn:aws:s3:::{ARCHIVE}/shelved/{sku}.json"
    other = f"arn:aws:s3:::{RECEIPTS}/{sku}.json"
    decisions = _simulate(function["Role"], ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                          [archived, other])
    if decisions[("s3:PutObject", other)] == "allowed":
        raise CheckFailed(f"{role} may put objects in other buckets too: make the Resource "
                          "the archive's objects, arn:aws:s3:::shelf-archive/shelved/*.",
                          found={"s3:PutObject on " + other: "allowed"})
    extra = [action for action in ("s3:GetObject", "s3:DeleteObject")
             if decisions[(action, archived)] == "allowed"]
    if extra:
        raise CheckFailed(f"{role} may also {', '.join(extra)} in the archive: allow only "
                          "the action shelve-book was denied.", expected="implicitDeny",
                          found={action: "allowed" for action in extra})


# ---------------------------------------------------------------------------------- task 4
def _admits(statements: list[dict[str, Any]], principal: str, function_arn: str) -> bool:
    """Would the function policy let ``principal``, an administrator of another account, invoke
    the function? Across accounts both sides must allow: the caller's side allows all."""
    from ..iam import ADMINISTRATOR
    from ..iam.policy import Policy, Request, evaluate

    request = Request(principal=principal, action="lambda:InvokeFunction",
                      resource=function_arn, resource_account=function_arn.split(":")[4])
    function_policy = Policy({"Version": "2012-10-17", "Statement": statements}, "resource",
                             "the function policy of price-quote", "function policy")
    administrator = Policy(ADMINISTRATOR, "identity", "an administrator's policy")
    return evaluate(request, (administrator,), resource=function_policy).allowed


@check_function("permissions.partner_gets_quotes")
def partner_gets_quotes() -> None:
    """Account 210987654321 may invoke price-quote, and its invocation answers; no other
    account and no service may."""
    from botocore.exceptions import ClientError

    from ..client import current

    function = require_function("price-quote", "Run the task's %%lambda cell.")
    statements = _function_statements("price-quote")
    if not statements:
        raise NotAttempted("price-quote has no function policy yet: add a permission with "
                           "lam.add_permission(..., Principal=SECOND_ACCOUNT_ID).")
    arn = function["FunctionArn"]
    # running: its statements were read above
    partner = current().iam.session(PARTNER).client("lambda")  # type: ignore[union-attr]
    try:
        response = partner.invoke(FunctionName=arn, Payload=json.dumps({"sku": "dune-pb"}))
    except ClientError as error:
        raise CheckFailed(f"account {PARTNER} may not invoke price-quote: add_permission("
                          f"FunctionName='price-quote', Action='lambda:InvokeFunction', "
                          "Principal=SECOND_ACCOUNT_ID).", found=str(error)) from None
    if response.get("FunctionError"):
        raise CheckFailed("the partner's invocation reached price-quote, which failed: "
                          "deploy the task's price-quote cell unchanged.",
                          found=json.loads(response["Payload"].read()))
    for statement in statements:
        action = _as_list(statement.get("Action"))
        if statement.get("Effect") == "Allow" and action != ["lambda:InvokeFunction"]:
            raise CheckFailed("the partner should only invoke price-quote: "
                              "Action='lambda:InvokeFunction'.", expected="lambda:InvokeFunction",
                              found=action)
    if _admits(statements, f"arn:aws:iam::{STRANGER}:user/someone", arn):
        raise CheckFailed("the function policy lets any account invoke price-quote: make the "
                          f"Principal the partner's account, {PARTNER!r}.",
                          expected={"AWS": f"arn:aws:iam::{PARTNER}:root"},
                          found=[s.get("Principal") for s in statements])
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            raise CheckFailed("the function policy lets a service invoke price-quote: only the "
                              "partner's account should.", found=principal)
        named = _as_list(principal.get("AWS", []) if isinstance(principal, dict) else principal)
        others = [p for p in named if p != "*" and _account(p) != PARTNER]
        if others:
            raise CheckFailed(f"the function policy lets other accounts invoke price-quote: "
                              f"only {PARTNER} should.", expected=PARTNER, found=others)


def _account(principal: str) -> str:
    """The account of a principal written as an account ID or an ARN."""
    return principal if principal.isdigit() else principal.split(":")[4]
