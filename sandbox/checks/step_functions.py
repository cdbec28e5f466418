"""Checks for exercises/08-step-functions.ipynb: a Lambda task, a Choice on the order total, a
Retry with backoff for a flaky gateway, and a Catch that routes a declined card to a
compensating state. Each check starts executions of the learner's state machine and reads their
histories."""

from __future__ import annotations

import json
import random
import time
from typing import Any, cast

from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import expect_equal, require_function, unique

HOW = "Create it with create_state_machine (the put_state_machine helper of the first cell)."
GATEWAY = "payment-gateway"
GATEWAY_HOW = "Run the exercise's first cells: they deploy it."
NO_TRANSITION = "Failed to transition out of the state"
REAL_SECONDS = 60  # an execution still running after this long (real time) has hung


def _machine(name: str) -> str:
    """The state machine's ARN, or NotAttempted."""
    import boto3

    sfn = boto3.client("stepfunctions")
    machines = [m for page in sfn.get_paginator("list_state_machines").paginate()
                for m in page["stateMachines"]]
    for machine in machines:
        if machine["name"] == name:
            return cast(str, machine["stateMachineArn"])
    near = ""
    if machines:
        import difflib

        names = [m["name"] for m in machines]
        close = difflib.get_close_matches(name, names, n=1)
        near = f" (did you name it {close[0]!r}?)" if close else \
            f" (the sandbox has {', '.join(sorted(names))})"
    raise NotAttempted(f"there is no state machine named {name!r} yet{near}. {HOW}")


def _definition(arn: str) -> dict[str, Any]:
    import boto3

    return cast("dict[str, Any]", json.loads(boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=arn)["definition"]))


def _states(scope: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state of a definition, those inside Parallel branches and Maps included."""
    found = []
    for state in (scope.get("States") or {}).values():
        found.append(state)
        inner = list(state.get("Branches") or [])
        inner += [s for s in (state.get("ItemProcessor"), state.get("Iterator")) if s]
        for child in inner:
            found += _states(child)
    return found


class Run:
    """One finished execution: its description and its history."""

    def __init__(self, described: dict[str, Any], events: list[dict[str, Any]]):
        self.described, self.events = described, events
        self.status = described["status"]
        self.error = described.get("error", "")
        self.cause = described.get("cause", "")
        self.output = json.loads(described["output"]) if described.get("output") else None

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]

    def entered(self) -> list[str]:
        return [event["stateEnteredEventDetails"]["name"] for event in self.events
                if "stateEnteredEventDetails" in event]

    def lambda_errors(self) -> list[str]:
        return [e["lambdaFunctionFailedEventDetails"].get("error", "")
                for e in self.of_type("LambdaFunctionFailed")]

    def failure(self, execution_input: Any) -> CheckFailed:
        """The execution failed where it should not have: say with what."""
        return CheckFailed(f"started with {json.dumps(execution_input)}, the execution ended "
                           f"{self.status} with {self.error or 'no error'}: "
                           f"{self.cause[:300]}")


def _run(arn: str, execution_input: Any) -> Run:
    import boto3

    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))
    execution_arn = execution["executionArn"]
    end = time.monotonic() + REAL_SECONDS
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == \
            "RUNNING":
        if time.monotonic() > end:
            sfn.stop_execution(executionArn=execution_arn, error="Check.Timeout")
            raise CheckFailed(f"the execution started with {json.dumps(execution_input)} was "
                              f"still running after {REAL_SECONDS} s: does a state wait for a "
                              "callback, or a long time?")
        time.sleep(0.02)
    events = [event for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn) for event in page["events"]]
    return Run(described, events)


def _items() -> list[dict[str, Any]]:
    """A basket no learner hard-codes: random prices and quantities."""
    return [{"sku": unique("sku"), "price": random.randint(2, 40), "qty": random.randint(2, 5)}
            for _ in range(random.randint(2, 4))]


# ---------------------------------------------------------------- task 1
@check_function("step_functions.total_task")
def total_task() -> None:
    """order-total runs the order-total function as a Task and outputs {"total": N}."""
    arn = _machine("order-total")
    tasks = [s for s in _states(_definition(arn)) if s.get("Type") == "Task"]
    if not tasks:
        raise CheckFailed("the state machine has no Task state: a Task state whose Resource "
                          "is the order-total function's ARN invokes it.")
    require_function("order-total", "Deploy it with the %%lambda cell of task 1.")
    items = _items()
    order = {"id": unique("order"), "items": items}
    expected = {"total": sum(item["price"] * item["qty"] for item in items)}
    run = _run(arn, order)
    if run.status != "SUCCEEDED":
        # the sandbox says "Exception: Function not found" for a Lambda ARN as Resource
        if run.error == "Lambda.ResourceNotFoundException" or \
                "Function not found" in run.cause:
            raise CheckFailed("the Task's Resource names a function that does not exist: use "
                              "the ARN of the order-total function "
                              "(arn:aws:lambda:us-east-1:123456789012:function:order-total).",
                              found=run.cause[:300])
        if run.error == "NotImplementedError":
            raise NotAttempted("the order-total function still raises NotImplementedError: "
                               "write its handler and run the cell again.")
        raise run.failure(order)
    if not run.of_type("LambdaFunctionScheduled") and not run.of_type("TaskScheduled"):
        raise CheckFailed("the execution invoked no function: the Task's Resource should be "
                          "the order-total function's ARN.", expected=expected,
                          found=run.output)
    if run.output == order:
        raise CheckFailed("the output is the order unchanged: the Task's result was thrown "
                          "away (ResultPath null, or an OutputPath?); let the result replace "
                          "the input.", expected=expected, found=run.output)
    if isinstance(run.output, dict) and "items" in run.output:
        raise CheckFailed("the output is the order with the total added: the function should "
                          "return only {'total': ...}, and the Task have no ResultPath, so that "
                          "the result replaces the input.", expected=expected, found=run.output)
    if isinstance(run.output, dict) and run.output.get("total") == sum(
            item["price"] for item in items):
        raise CheckFailed("the total adds up the prices only: multiply each price by its "
                          "qty.", expected=expected, found=run.output)
    expect_equal(run.output, expected, "the execution's output should be {'total': N}, N the "
                                       "sum of price × qty over the order's items.")


# ---------------------------------------------------------------- task 2
@check_function("step_functions.shipping_choice")
def shipping_choice() -> None:
    """shipping: a Choice state sends totals over 100 to free shipping, others to standard."""
    arn = _machine("shipping")
    states = _states(_definition(arn))
    if not any(s.get("Type") == "Choice" for s in states):
        raise CheckFailed("the state machine has no Choice state: a Choice state with a "
                          "NumericGreaterThan rule on $.total decides the shipping.")
    cents = random.randint(1, 99) / 100  # totals no learner hard-codes
    cases = [(100 + 50 + cents, "free"), (101, "free"), (100, "standard"),
             (20 + cents, "standard")]
    for total, shipping in cases:
        order = {"id": unique("order"), "total": total}
        expected = {"shipping": shipping}
        run = _run(arn, order)
        if run.status != "SUCCEEDED":
            # AWS fails a Choice that matches no rule and has no Default with States.Runtime,
            # "Failed to transition out of the state" (not the ASL specification's
            # States.NoChoiceMatched, which the check also knows)
            if run.error == "States.NoChoiceMatched" or (
                    run.error == "States.Runtime" and NO_TRANSITION in run.cause):
                raise CheckFailed(f"a total of {total} matched no rule of the Choice state: "
                                  "give it a Default (the state to go to when no rule "
                                  "matches).", expected=expected, found=run.cause[:300])
            raise run.failure(order)
        if "Choice" not in {e["type"].removesuffix("StateEntered") for e in run.events}:
            raise CheckFailed("the execution passed through no Choice state.")
        if total == 100 and run.output == {"shipping": "free"}:
            raise CheckFailed("a total of exactly 100 got free shipping: only totals over 100 "
                              "should (NumericGreaterThan, not NumericGreaterThanEquals).",
                              expected=expected, found=run.output)
        if total > 100 and run.output == {"shipping": "standard"}:
            raise CheckFailed(f"a total of {total} got standard shipping: totals over 100 "
                              "should ship free (is the comparison the wrong way round?).",
                              expected=expected, found=run.output)
        if isinstance(run.output, dict) and "total" in run.output:
            raise CheckFailed(f"for a total of {total} the output still holds the order: the "
                              "final Pass states should output only {'shipping': ...} (use "
                              "Result, or Parameters, without a ResultPath).",
                              expected=expected, found=run.output)
        expect_equal(run.output, expected, f"for a total of {total} the output should be "
                                           f"{{'shipping': '{shipping}'}}.")


# ---------------------------------------------------------------- task 3
def _require_gateway() -> None:
    require_function(GATEWAY, GATEWAY_HOW)


def _charges(run: Run, order: str, execution_input: Any, retries_needed: str) -> None:
    """The charge succeeded, after the gateway's two timeouts, 1 s then 2 s apart."""
    expected = {"order": order, "charged": True}
    errors = run.lambda_errors()
    if run.status != "SUCCEEDED":
        if run.error == "GatewayTimeout" and not errors[1:]:
            raise CheckFailed(f"the gateway timed out once and the execution failed: the Task "
                              f"needs a Retry for the error 'GatewayTimeout' ({retries_needed}).",
                              expected=expected, found=f"{run.error}: {run.cause[:200]}")
        if run.error == "GatewayTimeout":
            raise CheckFailed(f"the Task was retried, but the gateway timed out {len(errors)} "
                              f"times and the retries ran out: {retries_needed}.",
                              expected=expected, found=f"{run.error}: {run.cause[:200]}")
        raise run.failure(execution_input)
    expect_equal(run.output, expected, "the execution's output should be the gateway's answer, "
                                       "as it returned it.")
    scheduled = run.of_type("LambdaFunctionScheduled")
    failed = run.of_type("LambdaFunctionFailed")
    waits = [round((retry["timestamp"] - failure["timestamp"]).total_seconds())
             for failure, retry in zip(failed, scheduled[1:], strict=False)]
    if waits != [1, 2]:
        raise CheckFailed("the retries should wait 1 s, then 2 s (IntervalSeconds 1, "
                          "BackoffRate 2).", expected=[1, 2], found=waits)


@check_function("step_functions.charge_retries")
def charge_retries() -> None:
    """charge retries the gateway's timeouts, 1 s then 2 s apart, and succeeds."""
    arn = _machine("charge")
    _require_gateway()
    order = unique("order")
    execution_input = {"order": order, "card": "ok"}
    _charges(_run(arn, execution_input), order, execution_input,
             "it times out twice for each order, so allow at least 2 retries (MaxAttempts)")


# ---------------------------------------------------------------- task 4
@check_function("step_functions.declined_card_cancels")
def declined_card_cancels() -> None:
    """charge-or-cancel catches CardDeclined in a Cancel state that outputs the cancelled
    order; a good card is still charged after the gateway's timeouts."""
    arn = _machine("charge-or-cancel")
    _require_gateway()
    order = unique("order")
    execution_input = {"order": order, "card": "declined"}
    expected = {"order": order, "status": "cancelled"}
    run = _run(arn, execution_input)
    if run.status != "SUCCEEDED":
        if run.error == "CardDeclined":
            raise CheckFailed("the declined card failed the execution: add a Catch to the Task, "
                              "for the error 'CardDeclined' (or States.ALL), whose Next is the "
                              "state Cancel.", expected=expected,
                              found=f"{run.error}: {run.cause[:200]}")
        if "Cancel" in run.entered() and run.error.startswith("States."):
            raise CheckFailed("Cancel failed: by default a Catch replaces the state's input with "
                              "the error, so $.order is gone when Cancel runs. Give the Catch a "
                              "ResultPath, such as '$.error', to keep the input and add the "
                              "error to it.", expected=expected,
                              found=f"{run.error}: {run.cause[:200]}")
        raise run.failure(execution_input)
    if "CardDeclined" in run.lambda_errors()[1:]:
        raise CheckFailed("a declined card was retried: it will be declined again. Retry "
                          "only 'GatewayTimeout' (ErrorEquals), and let the Catch handle "
                          "'CardDeclined'.")
    if "Cancel" not in run.entered():
        raise CheckFailed("the execution did not go through a state named 'Cancel': the Catch's "
                          "Next should be 'Cancel'.", expected=expected, found=run.output)
    expect_equal(run.output, expected, "after a declined card the output should be "
                                       "{'order': <the order>, 'status': 'cancelled'}, "
                                       "made by the Cancel state.")
    good = unique("order")
    good_input = {"order": good, "card": "ok"}
    _charges(_run(arn, good_input), good, good_input,
             "keep the Retry of task 3 on the Task")
