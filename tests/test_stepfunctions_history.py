"""GetExecutionHistory's order and pages (AWS Step Functions API Reference,
GetExecutionHistory: reverseOrder, maxResults, nextToken)."""

from __future__ import annotations

import json
import time

import boto3

from sandbox.testing import execution_role

PASSES = {"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"},
    "C": {"Type": "Pass", "End": True}}}


def _finished_execution() -> str:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="passes", definition=json.dumps(PASSES),
        roleArn=execution_role("passes-role", service="states.amazonaws.com"))
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.05)
    return arn


def test_history_pages_newest_first_when_asked(sb):
    sfn = boto3.client("stepfunctions")
    arn = _finished_execution()
    every = sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in every][0] == "ExecutionStarted"
    assert every[-1]["type"] == "ExecutionSucceeded"

    newest = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=2)
    assert [e["id"] for e in newest["events"]] == [every[-1]["id"], every[-2]["id"]]
    rest = sfn.get_execution_history(executionArn=arn, reverseOrder=True,
                                     nextToken=newest["nextToken"])
    assert [e["id"] for e in newest["events"] + rest["events"]] == \
        [e["id"] for e in reversed(every)]
    assert "nextToken" not in rest

    # a token-less page of everything has no nextToken
    assert "nextToken" not in sfn.get_execution_history(executionArn=arn, maxResults=1000)
