"""Simulated time never outruns real work (issue: a fast clock let a Wait beat a running
function), and errors carried up from branches keep their reserved names."""

from __future__ import annotations

import boto3
import pytest
from test_stepfunctions import history, machine, run

from sandbox.testing import deploy

SLEEPS = "import time\ndef handler(event, context):\n    time.sleep(event['seconds'])\n" \
         "    return 'done'\n"


def _race(fn: str, task_timeout: int, wait: int, **parallel) -> dict:
    return {"StartAt": "Race", "States": {"Race": {"Type": "Parallel", "End": True, **parallel,
            "Branches": [
                {"StartAt": "Work", "States": {"Work": {
                    "Type": "Task", "Resource": fn, "TimeoutSeconds": task_timeout,
                    "End": True}}},
                {"StartAt": "Pause", "States": {"Pause": {
                    "Type": "Wait", "Seconds": wait, "End": True}}}]}}}


def _at(events: list[dict], kind: str):
    return next(e["timestamp"] for e in events if e["type"] == kind)


def test_a_one_second_function_beats_a_five_second_wait_as_on_aws(sb):
    fn = deploy("slow", SLEEPS, Timeout=10)
    done = run(machine(_race(fn, 5, 5), may=("lambda:InvokeFunction",)), {"seconds": 1})
    assert done["status"] == "SUCCEEDED"
    events = history(done["executionArn"])
    assert _at(events, "TaskStateExited") < _at(events, "WaitStateExited")
    assert (_at(events, "WaitStateExited") - _at(events, "WaitStateEntered")).total_seconds() \
        == pytest.approx(5, abs=0.01)


def test_a_task_timeout_counts_real_time_while_a_wait_runs_beside_it(sb):
    fn = deploy("slower", SLEEPS, Timeout=10)
    done = run(machine(_race(fn, 1, 3600), may=("lambda:InvokeFunction",)), {"seconds": 3})
    # the function's 1 s timeout fires while it works; the hour-long Wait does not speed it up
    assert done["status"] == "FAILED"
    assert done["error"] == "States.Timeout"


@pytest.mark.parametrize("catch, caught", [("States.Timeout", True), ("States.TaskFailed", False),
                                           ("States.ALL", True)])
def test_a_branchs_timeout_is_caught_by_its_reserved_name(sb, catch, caught):
    fn = deploy("late", SLEEPS, Timeout=10)
    definition = _race(fn, 1, 1, Catch=[{"ErrorEquals": [catch], "Next": "Caught"}])
    definition["States"]["Race"].pop("End")
    definition["States"]["Race"]["Next"] = "Done"
    definition["States"]["Caught"] = {"Type": "Pass", "Result": "caught", "End": True}
    definition["States"]["Done"] = {"Type": "Succeed"}
    done = run(machine(definition, may=("lambda:InvokeFunction",)), {"seconds": 3})
    if caught:
        assert done["status"] == "SUCCEEDED" and done["output"] == '"caught"'
    else:  # States.TaskFailed matches every error but States.Timeout
        assert done["status"] == "FAILED" and done["error"] == "States.Timeout"


def test_a_fail_states_own_error_may_start_with_states(sb):
    arn = machine({"StartAt": "Stop", "States": {"Stop": {
        "Type": "Fail", "Error": "States.OrderRejected", "Cause": "no stock"}}})
    done = run(arn)
    assert (done["status"], done["error"], done["cause"]) == \
        ("FAILED", "States.OrderRejected", "no stock")
    assert boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["status"] \
        == "ACTIVE"
