"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat are authorized on the state machine
whose execution waits for the token, as AWS authorizes them (a recorded AWS refusal: "is not
authorized to perform: states:SendTaskFailure on resource:
arn:aws:states:us-east-1:<account>:stateMachine:<name>", NOAA-OWP/hydrovis issue 837), not on
``*``: a worker's policy scoped to its state machine works, one scoped to another is refused."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from test_stepfunctions import HANG_GUARD, SEND, finished, machine

A, R = "123456789012", "us-east-1"


def _worker(name: str, actions: list[str], resource: str):
    """A session of a user allowed ``actions`` on ``resource`` only."""
    iam = boto3.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.Session(aws_access_key_id=key["AccessKeyId"],
                         aws_secret_access_key=key["SecretAccessKey"], region_name=R)


def _waiting(name: str) -> tuple[str, str]:
    """Start an execution of state machine ``name`` that waits for its token; (execution ARN,
    token)."""
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"{name}-tasks")["QueueUrl"]
    arn = machine({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True}}}, name=name, may=SEND)
    execution = boto3.client("stepfunctions").start_execution(stateMachineArn=arn)["executionArn"]
    end = time.monotonic() + HANG_GUARD
    while not (messages := sqs.receive_message(QueueUrl=queue).get("Messages")):
        assert time.monotonic() < end, "the task never sent its token"
    return execution, json.loads(messages[0]["Body"])["token"]


SEND_TASK = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]


def test_a_worker_allowed_on_its_state_machine_answers_the_token(sb):
    execution, token = _waiting("approve")
    worker = _worker("approver", SEND_TASK, f"arn:aws:states:{R}:{A}:stateMachine:approve")
    sfn = worker.client("stepfunctions")
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    done = finished(execution)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == {"approved": True}


@pytest.mark.parametrize("call", ["send_task_success", "send_task_failure",
                                  "send_task_heartbeat"])
def test_a_worker_allowed_on_another_state_machine_is_refused(sb, call):
    execution, token = _waiting("approve")
    worker = _worker("stranger", SEND_TASK, f"arn:aws:states:{R}:{A}:stateMachine:other")
    extra = {"output": "{}"} if call == "send_task_success" else {}
    with pytest.raises(ClientError) as refused:
        getattr(worker.client("stepfunctions"), call)(taskToken=token, **extra)
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    action = "states:" + "".join(part.title() for part in call.split("_"))
    assert f"not authorized to perform: {action} on resource: " \
           f"arn:aws:states:{R}:{A}:stateMachine:approve" in error["Message"]
    # the refused call changed nothing: the execution still waits
    assert boto3.client("stepfunctions").describe_execution(
        executionArn=execution)["status"] == "RUNNING"


def test_a_worker_allowed_success_only_may_not_fail_the_task(sb):
    # the recorded AWS case: SendTaskSuccess granted, SendTaskFailure refused on the machine
    _, token = _waiting("approve")
    worker = _worker("half", ["states:SendTaskSuccess"],
                     f"arn:aws:states:{R}:{A}:stateMachine:approve")
    with pytest.raises(ClientError) as refused:
        worker.client("stepfunctions").send_task_failure(taskToken=token, error="No")
    assert "states:SendTaskFailure on resource: " \
           f"arn:aws:states:{R}:{A}:stateMachine:approve" in refused.value.response["Error"][
               "Message"]
