"""Role credentials, as services get them from STS AssumeRole (``sandbox.sts``): a function runs
as a session of its execution role named after the function, a state machine calls services as
a session of its role, and both survive a reset (moto's reset drops every session)."""

from __future__ import annotations

import json
import time

import boto3

from sandbox.testing import deploy, execution_role, invoke

ACCOUNT = "123456789012"
WHO_AM_I = """
import boto3
def handler(event, context):
    return boto3.client("sts").get_caller_identity()["Arn"]
"""


def test_a_function_acts_as_a_session_of_its_role_named_after_it_across_resets(sb):
    for _ in range(2):
        deploy("whoami", WHO_AM_I, Role=execution_role("identity"))
        assert invoke("whoami")["Payload"] == (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/identity/whoami")
        sb.reset()


def test_a_state_machine_calls_services_as_a_session_of_its_role_across_resets(sb):
    definition = {"StartAt": "Who", "States": {"Who": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sts:getCallerIdentity",
        "End": True}}}
    for _ in range(2):
        role = execution_role("workflow", "sts:GetCallerIdentity",
                              service="states.amazonaws.com")
        states = boto3.client("stepfunctions")
        machine = states.create_state_machine(name="who", definition=json.dumps(definition),
                                              roleArn=role)["stateMachineArn"]
        execution = states.start_execution(stateMachineArn=machine)["executionArn"]
        end = time.monotonic() + 30
        while (described := states.describe_execution(executionArn=execution))[
                "status"] == "RUNNING":
            assert time.monotonic() < end
            time.sleep(0.02)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"])["Arn"] == (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/workflow/StepFunctions")
        sb.reset()
