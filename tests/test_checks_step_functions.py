"""Exercise 08's checks, three ways: the solution passes, a blank exercise is not attempted, and
each common wrong answer fails with its own hint."""

from __future__ import annotations

import copy
import json
import re

import boto3
import pytest

from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.testing import deploy, role

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:{}"
TOTAL = ("def lambda_handler(order, context):\n"
         "    return {'total': sum(i['price'] * i['qty'] for i in order['items'])}\n")
GATEWAY = '''
calls = {}


class GatewayTimeout(Exception):
    pass


class CardDeclined(Exception):
    pass


def lambda_handler(event, context):
    order = event["order"]
    if event["card"] == "declined":
        raise CardDeclined(f"the card for {order} was declined")
    calls[order] = calls.get(order, 0) + 1
    if calls[order] <= 2:
        raise GatewayTimeout(f"no answer for {order} (call {calls[order]})")
    return {"order": order, "charged": True}
'''
TOTAL_MACHINE = {"StartAt": "Total", "States": {"Total": {
    "Type": "Task", "Resource": FUNCTION.format("order-total"), "End": True}}}
SHIPPING = {"StartAt": "Over 100?", "States": {
    "Over 100?": {"Type": "Choice", "Default": "Standard", "Choices": [
        {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Free"}]},
    "Free": {"Type": "Pass", "Result": {"shipping": "free"}, "End": True},
    "Standard": {"Type": "Pass", "Result": {"shipping": "standard"}, "End": True}}}
RETRY = {"ErrorEquals": ["GatewayTimeout"], "IntervalSeconds": 1, "BackoffRate": 2,
         "MaxAttempts": 3}
CHARGE = {"StartAt": "Charge", "States": {"Charge": {
    "Type": "Task", "Resource": FUNCTION.format("payment-gateway"), "End": True,
    "Retry": [RETRY]}}}
CHARGE_OR_CANCEL = {"StartAt": "Charge", "States": {
    "Charge": {"Type": "Task", "Resource": FUNCTION.format("payment-gateway"), "End": True,
               "Retry": [RETRY], "Catch": [{"ErrorEquals": ["CardDeclined"],
                                            "ResultPath": "$.error", "Next": "Cancel"}]},
    "Cancel": {"Type": "Pass", "End": True,
               "Parameters": {"order.$": "$.order", "status": "cancelled"}}}}
CHECKS = ["total_task", "shipping_choice", "charge_retries", "declined_card_cancels"]


def workflow_role() -> str:
    """The exercise's first cell: the role exercise-workflow, which Step Functions may assume
    and which may invoke Lambda functions."""
    return role("exercise-workflow", {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                                      "Resource": "*"},
                service="states.amazonaws.com", policy_name="invoke")


def machine(name: str, definition: dict) -> None:
    boto3.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=workflow_role())


def function(name: str, source: str) -> None:
    deploy(name, {"lambda_function.py": source}, handler="lambda_function.lambda_handler")


DELETE = object()


def changed(definition: dict, path: str, value: object) -> dict:
    """A copy of the definition with one value set (or removed, for DELETE), found by a path of
    keys separated by '/'."""
    result = copy.deepcopy(definition)
    *parents, last = path.split("/")
    target = result
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return result


def _fails(check: str, hint: str, cls=CheckFailed) -> None:
    with pytest.raises(cls) as caught:
        find(f"step_functions.{check}")()
    assert re.search(hint, caught.value.hint), caught.value.hint


def test_the_solution_passes_every_check(sb):
    function("order-total", TOTAL)
    function("payment-gateway", GATEWAY)
    machine("order-total", TOTAL_MACHINE)
    machine("shipping", SHIPPING)
    machine("charge", CHARGE)
    machine("charge-or-cancel", CHARGE_OR_CANCEL)
    for name in CHECKS:
        find(f"step_functions.{name}")()


@pytest.mark.parametrize("name", CHECKS)
def test_nothing_done_is_not_attempted(sb, name):
    _fails(name, "no state machine named", NotAttempted)


@pytest.mark.parametrize("name, definition", [("charge", CHARGE),
                                              ("charge-or-cancel", CHARGE_OR_CANCEL)])
def test_no_gateway_is_not_attempted(sb, name, definition):
    machine(name, definition)
    _fails(CHECKS[2] if name == "charge" else CHECKS[3], "no function named 'payment-gateway'",
           NotAttempted)


def test_a_near_name_is_suggested(sb):
    machine("order_total", TOTAL_MACHINE)
    _fails("total_task", "did you name it 'order_total'", NotAttempted)


@pytest.mark.parametrize("source, definition, hint", [
    (TOTAL, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "no Task state"),
    ("def lambda_handler(order, context):\n"
     "    return {'total': sum(i['price'] for i in order['items'])}\n", TOTAL_MACHINE,
     "prices only"),
    (TOTAL, changed(TOTAL_MACHINE, "States/Total/ResultPath", "$.sum"),
     "order with the total added"),
    ("def lambda_handler(order, context):\n"
     "    return {**order, 'total': sum(i['price'] * i['qty'] for i in order['items'])}\n",
     TOTAL_MACHINE, "order with the total added"),
    (TOTAL, changed(TOTAL_MACHINE, "States/Total/ResultPath", None), "order unchanged"),
    (TOTAL, changed(TOTAL_MACHINE, "States/Total/OutputPath", "$.nothing"),
     "ended FAILED with States.Runtime"),
    (TOTAL, changed(TOTAL_MACHINE, "States/Total/Resource", FUNCTION.format("total")),
     "does not exist"),
    ("def lambda_handler(order, context):\n    raise NotImplementedError()\n", TOTAL_MACHINE,
     "still raises NotImplementedError"),
])
def test_total_task_wrong_answers(sb, source, definition, hint):
    function("order-total", source)
    machine("order-total", definition)
    _fails("total_task", hint, NotAttempted if "NotImplemented" in hint else CheckFailed)




RULE = "States/Over 100?/Choices/0"


def greater_than_equals() -> dict:
    definition = changed(SHIPPING, f"{RULE}/NumericGreaterThan", DELETE)
    return changed(definition, f"{RULE}/NumericGreaterThanEquals", 100)


def less_than() -> dict:
    definition = changed(SHIPPING, f"{RULE}/NumericGreaterThan", DELETE)
    return changed(definition, f"{RULE}/NumericLessThan", 100)


@pytest.mark.parametrize("definition, hint", [
    (greater_than_equals(), "not NumericGreaterThanEquals"),
    (less_than(), "wrong way round"),
    ({"StartAt": "Free", "States": {"Free": {"Type": "Pass", "Result": {"shipping": "free"},
                                             "End": True}}}, "no Choice state"),
    (changed(changed(SHIPPING, "States/Over 100?/Default", DELETE), "States/Over 100?/Choices",
             [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Free"},
              {"Variable": "$.total", "NumericLessThan": 100, "Next": "Standard"}]),
     "give it a Default"),
    (changed(SHIPPING, "States/Free/ResultPath", "$.shipping"), "still holds the order"),
])
def test_shipping_choice_wrong_answers(sb, definition, hint):
    machine("shipping", definition)
    _fails("shipping_choice", hint)


@pytest.mark.parametrize("definition, hint", [
    (changed(CHARGE, "States/Charge/Retry", DELETE), "needs a Retry for the error"),
    (changed(CHARGE, "States/Charge/Retry/0/ErrorEquals", ["Timeout"]),
     "needs a Retry for the error"),
    (changed(CHARGE, "States/Charge/Retry/0/MaxAttempts", 1), "retries ran out"),
    (changed(CHARGE, "States/Charge/Retry/0/IntervalSeconds", 2), "wait 1 s, then 2 s"),
    (changed(CHARGE, "States/Charge/Retry/0/BackoffRate", 1), "wait 1 s, then 2 s"),
])
def test_charge_retries_wrong_answers(sb, definition, hint):
    function("payment-gateway", GATEWAY)
    machine("charge", definition)
    _fails("charge_retries", hint)


@pytest.mark.parametrize("definition, hint", [
    (changed(CHARGE_OR_CANCEL, "States/Charge/Catch/0/ErrorEquals", ["CardDenied"]),
     "add a Catch"),
    (changed(CHARGE_OR_CANCEL, "States/Charge/Catch/0/ResultPath", DELETE),
     "Give the Catch a ResultPath"),
    (changed(CHARGE_OR_CANCEL, "States/Charge/Retry/0/ErrorEquals", ["States.ALL"]),
     "a declined card was retried"),
    (changed(CHARGE_OR_CANCEL, "States/Charge/Retry", DELETE), "needs a Retry"),
    ({"StartAt": "Charge", "States": {
        "Charge": changed(CHARGE_OR_CANCEL, "States/Charge/Catch/0/Next", "Refund")[
            "States"]["Charge"],
        "Refund": CHARGE_OR_CANCEL["States"]["Cancel"]}}, "named 'Cancel'"),
])
def test_declined_card_cancels_wrong_answers(sb, definition, hint):
    function("payment-gateway", GATEWAY)
    machine("charge-or-cancel", definition)
    _fails("declined_card_cancels", hint)
