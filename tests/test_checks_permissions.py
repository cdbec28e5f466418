"""Exercise 05's checks, three ways: the solution passes, nothing done is not attempted, and each
common wrong answer fails with its own hint. The shop is set up as the exercise's first cell
sets it up, and each answer is given with plain boto3, as a learner gives it."""

from __future__ import annotations

import json
import sys

import boto3
import pytest

from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.iam import SECOND_ACCOUNT_ID
from sandbox.testing import check_fails, deploy_cell, zip_files

ACCOUNT = "123456789012"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})
RESTOCK = """
import boto3
inventory = boto3.resource("dynamodb").Table("inventory")
def lambda_handler(event, context):
    key = {"sku": event["sku"]}
    stock = inventory.get_item(Key=key)["Item"]["stock"] + event["quantity"]
    inventory.update_item(Key=key, UpdateExpression="SET stock = :stock",
                          ExpressionAttributeValues={":stock": stock})
    return {"sku": event["sku"], "stock": int(stock)}
"""
FILE_RECEIPT = """
def lambda_handler(event, context):
    for record in event["Records"]:
        print("filed", record["s3"]["object"]["key"])
"""
SHELVE_BOOK = """
import json
import boto3
prices = boto3.resource("dynamodb").Table("prices")
s3 = boto3.client("s3")
def lambda_handler(event, context):
    sku = event["sku"]
    record = {"sku": sku, "price": prices.get_item(Key={"sku": sku}).get("Item", {}).get("price")}
    s3.put_object(Bucket="shelf-archive", Key=f"shelved/{sku}.json", Body=json.dumps(record))
    return record
"""
PRICE_QUOTE = """
PRICES = {"dune-pb": "9.99"}
def lambda_handler(event, context):
    return {"sku": event["sku"], "price": PRICES.get(event["sku"])}
"""
ARCHIVED = "arn:aws:s3:::shelf-archive/shelved/dune-pb.json"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"


@pytest.fixture
def shop(sb):
    """What the exercise's first cell and its given %%lambda cells make."""
    dynamodb, iam, s3 = boto3.client("dynamodb"), boto3.client("iam"), boto3.client("s3")
    for table in ["inventory", "prices"]:
        dynamodb.create_table(
            TableName=table, KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
    boto3.resource("dynamodb").Table("prices").put_item(Item={"sku": "dune-pb", "price": "9.99"})
    for bucket in ["receipts", "shelf-archive"]:
        s3.create_bucket(Bucket=bucket)
    for role in ["inventory-role", "shelf-role"]:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=LAMBDA_TRUST)
        iam.attach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    iam.put_role_policy(RoleName="shelf-role", PolicyName="prices",
                        PolicyDocument=policy(allow("dynamodb:GetItem", table_arn("prices"))))
    role = iam.get_role(RoleName="inventory-role")["Role"]["Arn"]
    deploy_cell("restock", RESTOCK, Role=role)
    deploy_cell("file-receipt", FILE_RECEIPT)
    deploy_cell("shelve-book", SHELVE_BOOK,
                Role=iam.get_role(RoleName="shelf-role")["Role"]["Arn"])
    deploy_cell("price-quote", PRICE_QUOTE)
    return sb


# ---------------------------------------------------------------------------------- answers
def restock_policy(*statements: dict, name: str = "restock") -> None:
    statements = statements or (
        allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], table_arn("inventory")),)
    boto3.client("iam").put_role_policy(RoleName="inventory-role", PolicyName=name,
                                        PolicyDocument=policy(*statements))


def receipts(*, permission: bool = True, notify: bool = True, events=("s3:ObjectCreated:*",),
             **permission_args) -> None:
    lam = boto3.client("lambda")
    args = {"SourceArn": "arn:aws:s3:::receipts", "SourceAccount": ACCOUNT, **permission_args}
    if permission:
        lam.add_permission(FunctionName="file-receipt", StatementId="s3",
                           Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                           **{key: value for key, value in args.items() if value is not None})
    if notify:
        arn = lam.get_function_configuration(FunctionName="file-receipt")["FunctionArn"]
        boto3.client("s3").put_bucket_notification_configuration(
            Bucket="receipts", NotificationConfiguration={"LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": list(events)}]})


def shelve() -> None:
    boto3.client("lambda").invoke(FunctionName="shelve-book", Payload=b'{"sku": "dune-pb"}')


def answer(monkeypatch, action, resource) -> None:
    """The learner's two assignments, in the namespace a notebook's cells run in."""
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "missing_action", action, raising=False)
    monkeypatch.setattr(main, "denied_resource", resource, raising=False)


def archive_policy(action="s3:PutObject", resource="arn:aws:s3:::shelf-archive/shelved/*"):
    boto3.client("iam").put_role_policy(RoleName="shelf-role", PolicyName="archive",
                                        PolicyDocument=policy(allow(action, resource)))


def partner_permission(principal: str = SECOND_ACCOUNT_ID, action="lambda:InvokeFunction",
                       sid: str = "wholesaler", **extra) -> None:
    boto3.client("lambda").add_permission(FunctionName="price-quote", StatementId=sid,
                                          Action=action, Principal=principal, **extra)


def _fails(check: str, hint: str, cls=CheckFailed) -> CheckFailed:
    failure = check_fails(f"permissions.{check}", hint, cls)
    assert type(failure) is cls, failure  # a wrong answer is failed, not "not attempted"
    return failure


CHECKS = ["restock_has_least_privilege", "receipts_invoke_file_receipt", "denial_is_read",
          "shelve_book_fixed", "partner_gets_quotes"]


def test_the_solution_passes_every_check(shop, monkeypatch):
    restock_policy()
    receipts()
    shelve()
    answer(monkeypatch, "s3:PutObject", ARCHIVED)
    archive_policy()
    partner_permission()
    for name in CHECKS:
        find(f"permissions.{name}")()


@pytest.mark.parametrize("name, hint", [
    ("restock_has_least_privilege", "inventory-role has no policy of yours"),
    ("receipts_invoke_file_receipt", "S3 may not invoke file-receipt yet"),
    ("denial_is_read", "missing_action is not assigned"),
    ("shelve_book_fixed", "shelf-role has not changed"),
    ("partner_gets_quotes", "price-quote has no function policy"),
])
def test_nothing_done_is_not_attempted(shop, name, hint):
    shelve()  # the exercise's given cell invokes shelve-book before task 3's answer
    _fails(name, hint, NotAttempted)


def test_no_function_is_not_attempted(sb):
    _fails("restock_has_least_privilege", "no table 'inventory'", NotAttempted)
    boto3.client("dynamodb").create_table(
        TableName="inventory", KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sku", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    _fails("restock_has_least_privilege", "no function named 'restock'", NotAttempted)


# ---------------------------------------------------------------------------------- task 1
@pytest.mark.parametrize("statements, hint", [
    ([allow("dynamodb:GetItem", table_arn("inventory"))], "may not dynamodb:UpdateItem"),
    ([allow(["dynamodb:GetItem", "dynamodb:UpdateItem"],
            table_arn("inventory").replace("us-east-1", "eu-west-1"))], "table's ARN"),
    ([allow("dynamodb:*", table_arn("inventory"))], "no wildcards"),
    ([allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], "*")], "reaches other tables"),
    ([allow(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            table_arn("inventory"))], "may also dynamodb:DeleteItem"),
    ([allow(["dynamodb:GetItem", "dynamodb:UpdateItem"],
            [table_arn("inventory"), table_arn("prices")])],
     r"reaches other tables too \(prices\)"),
    ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": table_arn("inventory")}],
     "NotAction"),
])
def test_restock_has_least_privilege_wrong_answers(shop, statements, hint):
    restock_policy(*statements)
    _fails("restock_has_least_privilege", hint)


def test_a_broad_managed_policy_is_not_least_privilege(shop):
    boto3.client("iam").attach_role_policy(
        RoleName="inventory-role", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
    _fails("restock_has_least_privilege", "may also dynamodb:DeleteItem")


def test_a_read_only_managed_policy_allows_more_than_restock_needs(shop):
    boto3.client("iam").attach_role_policy(
        RoleName="inventory-role",
        PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
    restock_policy(allow("dynamodb:UpdateItem", table_arn("inventory")))
    _fails("restock_has_least_privilege", "may also dynamodb:Scan on inventory")


def test_an_explicit_deny_of_the_rest_passes(shop):
    restock_policy(allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], table_arn("inventory")),
                   {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"})
    find("permissions.restock_has_least_privilege")()


def test_a_changed_restock_is_caught(shop):
    restock_policy()
    boto3.client("lambda").update_function_code(FunctionName="restock", ZipFile=zip_files(
        {"lambda_function.py": "def lambda_handler(event, context):\n    return 'no'\n"}))
    _fails("restock_has_least_privilege", "stock was not updated")


# ---------------------------------------------------------------------------------- task 2
@pytest.mark.parametrize("kwargs, hint", [
    ({"SourceArn": None}, "no SourceArn"),
    ({"SourceAccount": None}, "add SourceAccount"),
    ({"notify": False}, "does not notify file-receipt"),
    ({"events": ["s3:ObjectRemoved:*"]}, "did not reach file-receipt"),
])
def test_receipts_invoke_file_receipt_wrong_answers(shop, kwargs, hint):
    receipts(**kwargs)
    _fails("receipts_invoke_file_receipt", hint)


@pytest.mark.parametrize("kwargs, hint", [
    ({"SourceArn": "arn:aws:s3:::other-bucket"}, "should name the bucket receipts"),
    ({"SourceAccount": SECOND_ACCOUNT_ID}, "add SourceAccount"),
])
def test_a_permission_s3_cannot_use_is_refused_by_s3_then_by_the_check(shop, kwargs, hint):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="Unable to validate the following destination"):
        receipts(**kwargs)
    _fails("receipts_invoke_file_receipt", hint)


# ---------------------------------------------------------------------------------- task 3
@pytest.mark.parametrize("action, resource, hint", [
    ("PutObject", ARCHIVED, "service:Action"),
    ("dynamodb:GetItem", ARCHIVED, "was allowed"),
    ("s3:GetObject", ARCHIVED, "not the action"),
    ("s3:PutObject", "arn:aws:s3:::shelf-archive", "bucket's ARN, a slash"),
    ("s3:PutObject", f'"{ARCHIVED}"', "without them"),
    ("s3:PutObject", "arn:aws:s3:::shelf-archive/dune-pb.json", "not the resource"),
])
def test_denial_is_read_wrong_answers(shop, monkeypatch, action, resource, hint):
    shelve()
    answer(monkeypatch, action, resource)
    _fails("denial_is_read", hint)


def test_the_action_may_be_written_in_any_case(shop, monkeypatch):
    shelve()
    answer(monkeypatch, "S3:putobject", ARCHIVED)
    find("permissions.denial_is_read")()


def test_a_denial_never_seen_is_not_attempted(shop, monkeypatch):
    answer(monkeypatch, "s3:PutObject", ARCHIVED)
    _fails("denial_is_read", "not been denied anything yet", NotAttempted)


@pytest.mark.parametrize("action, resource, hint", [
    ("s3:GetObject", "arn:aws:s3:::shelf-archive/*", "still denied"),
    ("s3:PutObject", "arn:aws:s3:::*", "other buckets"),
    ("s3:*", "arn:aws:s3:::shelf-archive/*", "may also s3:GetObject, s3:DeleteObject"),
])
def test_shelve_book_fixed_wrong_answers(shop, action, resource, hint):
    archive_policy(action, resource)
    _fails("shelve_book_fixed", hint)


def test_the_whole_archive_bucket_is_fine_too(shop):
    archive_policy(resource="arn:aws:s3:::shelf-archive/*")
    find("permissions.shelve_book_fixed")()


# ---------------------------------------------------------------------------------- task 4
@pytest.mark.parametrize("kwargs, hint", [
    ({"principal": "*"}, "any account"),
    ({"principal": "111122223333"}, "may not invoke price-quote"),
    ({"action": "lambda:*"}, "only invoke"),
])
def test_partner_gets_quotes_wrong_answers(shop, kwargs, hint):
    partner_permission(**kwargs)
    _fails("partner_gets_quotes", hint)


def test_another_account_besides_the_partner_fails(shop):
    partner_permission()
    partner_permission("999988887777", sid="someone-else")
    _fails("partner_gets_quotes", "other accounts")


def test_a_service_besides_the_partner_fails(shop):
    partner_permission()
    partner_permission("s3.amazonaws.com", sid="s3", SourceArn="arn:aws:s3:::receipts")
    _fails("partner_gets_quotes", "a service")


def test_the_partners_root_arn_passes_as_its_account_does(shop):
    partner_permission(f"arn:aws:iam::{SECOND_ACCOUNT_ID}:root")
    find("permissions.partner_gets_quotes")()
