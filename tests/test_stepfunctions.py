"""Step Functions executions, pinned against what AWS Step Functions does
(AWS Step Functions' API reference and developer guide)."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time

import boto3
import pytest

from sandbox.testing import deploy, execution_role

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
HANG_GUARD = 120  # real seconds; only a hung execution reaches it


INVOKE = ("lambda:InvokeFunction",)
SEND = ("sqs:SendMessage",)


def workflow_role(name: str, *actions: str) -> str:
    """A role Step Functions may assume, allowed what the state machine's tasks call."""
    return execution_role(name, *actions, service="states.amazonaws.com")


def machine(definition: dict, name: str = "machine", *, may: tuple[str, ...] = (),
            **kwargs) -> str:
    """Create a state machine whose role (``<name>-workflow``) may perform the actions ``may``
    (the engine calls each service as that role); its ARN."""
    return boto3.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=kwargs.pop("roleArn", None)
        or workflow_role(f"{name}-workflow", *may), **kwargs)["stateMachineArn"]


def finished(execution_arn: str) -> dict:
    """describe_execution once the execution has left RUNNING."""
    sfn = boto3.client("stepfunctions")
    end = time.monotonic() + HANG_GUARD
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < end, f"{execution_arn} is still running"
        time.sleep(0.02)
    return described


def run(machine_arn: str, execution_input: object = None, **kwargs) -> dict:
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=machine_arn, input=json.dumps(execution_input or {}), **kwargs)
    return finished(execution["executionArn"])


def history(execution_arn: str) -> list[dict]:
    return boto3.client("stepfunctions").get_execution_history(
        executionArn=execution_arn)["events"]


def event(events: list[dict], type_: str, nth: int = 0) -> dict:
    return [e for e in events if e["type"] == type_][nth]


def engine_threads() -> list[str]:
    """The Step Functions engine's live threads, in the sandbox's server."""
    import sandbox

    return sandbox.current().admin.call("threads")["stepfunctions"]


PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
WAIT_A_DAY = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}}}


# ---------------------------------------------------------------- starting executions
def test_unnamed_executions_get_a_uuid_name_and_each_one_runs(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine(PASS)
    started = [sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(5)]
    assert len(set(started)) == 5
    for execution_arn in started:
        described = finished(execution_arn)
        assert re.fullmatch(UUID, described["name"])
        assert execution_arn.endswith(f":execution:machine:{described['name']}")
        assert described["status"] == "SUCCEEDED"
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 5


def test_a_name_is_reused_only_by_the_same_running_execution(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine(WAIT_A_DAY)
    first = sfn.start_execution(stateMachineArn=arn, name="nightly", input="{}")
    # StartExecution is idempotent for the same name and input while the execution runs
    again = sfn.start_execution(stateMachineArn=arn, name="nightly", input="{}")
    assert again["executionArn"] == first["executionArn"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="nightly", input='{"other": 1}')


def test_an_invalid_execution_name_is_refused(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine(PASS)
    with pytest.raises(sfn.exceptions.InvalidName, match=r"Invalid Name: 'has space'"):
        sfn.start_execution(stateMachineArn=arn, name="has space")


def test_start_sync_execution_runs_an_express_workflow_to_its_end(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine({"StartAt": "Greet", "States": {"Greet": {
        "Type": "Pass", "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.who)"},
        "End": True}}}, type="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps({"who": "Ada"}))
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"greeting": "Hello, Ada!"}
    assert json.loads(result["input"]) == {"who": "Ada"}
    assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:express:machine:{UUID}:{UUID}",
                        result["executionArn"])
    assert result["executionArn"].split(":")[-2] == result["name"]
    assert result["stateMachineArn"] == arn
    assert result["stopDate"] >= result["startDate"]
    assert result["billingDetails"]["billedDurationInMilliseconds"] % 100 == 0
    assert result["billingDetails"]["billedMemoryUsedInMB"] == 64


def test_start_sync_execution_reports_a_failure_in_its_answer(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine({"StartAt": "No", "States": {"No": {
        "Type": "Fail", "Error": "OutOfStock", "Cause": "no more widgets"}}}, type="EXPRESS")
    result = sfn.start_sync_execution(stateMachineArn=arn, name="order-1")
    assert (result["status"], result["error"], result["cause"]) == (
        "FAILED", "OutOfStock", "no more widgets")
    assert result["name"] == "order-1"
    assert "output" not in result


def test_start_sync_execution_is_for_express_workflows_only(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine(PASS)
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported,
                       match="This operation is not supported by this type of state machine"):
        sfn.start_sync_execution(stateMachineArn=arn)


# ---------------------------------------------------------------- stopping executions
def test_reset_stops_every_execution_and_its_threads(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine(WAIT_A_DAY)
    for _ in range(3):
        sfn.start_execution(stateMachineArn=arn)
    assert engine_threads()
    sb.reset()
    assert engine_threads() == []
    assert sfn.list_state_machines()["stateMachines"] == []


def test_stop_execution_ends_a_task_waiting_for_its_callback(sb):
    sfn = boto3.client("stepfunctions")
    queue = boto3.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    arn = machine({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True}}}, may=SEND)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    end = time.monotonic() + HANG_GUARD
    while not boto3.client("sqs").receive_message(QueueUrl=queue).get("Messages"):
        assert time.monotonic() < end
    sfn.stop_execution(executionArn=execution, error="Cancelled", cause="nobody answered")
    assert finished(execution)["status"] == "ABORTED"
    assert event(history(execution), "ExecutionAborted")
    end = time.monotonic() + HANG_GUARD
    while engine_threads():  # the waiting task's threads end too
        assert time.monotonic() < end, engine_threads()
        time.sleep(0.02)


# ---------------------------------------------------------------- simulated time
@pytest.fixture
def fast_clock(sb):
    """Simulated hours pass in a fraction of a second (what is asserted is simulated time)."""
    speed, sb.clock.speed = sb.clock.speed, 36000
    yield sb.clock
    sb.clock.speed = speed


def seconds_between(first: dict, second: dict) -> float:
    return (second["timestamp"] - first["timestamp"]).total_seconds()


def test_a_one_hour_wait_shows_an_hour_in_the_history(fast_clock):
    arn = machine({"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    described = run(arn)
    assert described["status"] == "SUCCEEDED"
    events = history(described["executionArn"])
    waited = seconds_between(event(events, "WaitStateEntered"), event(events, "WaitStateExited"))
    assert 3600 <= waited < 3602
    took = (described["stopDate"] - described["startDate"]).total_seconds()
    assert 3600 <= took < 3610


@pytest.mark.parametrize("field, value", [
    ("SecondsPath", "$.delay"),
    ("TimestampPath", "$.until"),
    ("Timestamp", None),
])
def test_wait_by_path_or_timestamp_waits_the_simulated_time(fast_clock, field, value):
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    until = (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    wait = {"Type": "Wait", field: value if value is not None else until, "End": True}
    arn = machine({"StartAt": "W", "States": {"W": wait}})
    described = run(arn, {"delay": 7200, "until": until})
    assert described["status"] == "SUCCEEDED"
    events = history(described["executionArn"])
    exited = event(events, "WaitStateExited")["timestamp"]
    waited = seconds_between(event(events, "WaitStateEntered"), event(events, "WaitStateExited"))
    assert 7190 <= waited < 7202
    if field != "SecondsPath":  # a timestamp is a moment, not a duration
        assert abs((exited - (start + datetime.timedelta(hours=2))).total_seconds()) < 2


def test_retry_intervals_grow_by_the_backoff_rate_on_the_clock(sb):
    arn = deploy("flaky", "def handler(event, context):\n    raise ValueError('not yet')\n")
    machine_arn = machine({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": arn, "End": True,
        "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 60, "BackoffRate": 2.0,
                   "MaxAttempts": 2}]}}}, may=INVOKE)
    described = run(machine_arn)
    assert (described["status"], described["error"]) == ("FAILED", "ValueError")
    events = history(described["executionArn"])
    attempts = [e for e in events if e["type"] == "LambdaFunctionScheduled"]
    failures = [e for e in events if e["type"] == "LambdaFunctionFailed"]
    assert len(attempts) == 3  # the first call and two retries
    assert 60 <= seconds_between(failures[0], attempts[1]) < 62
    assert 120 <= seconds_between(failures[1], attempts[2]) < 122


def test_the_execution_timeout_counts_simulated_time(fast_clock):
    arn = machine({"TimeoutSeconds": 60, "StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    described = run(arn)
    assert described["status"] == "TIMED_OUT"
    events = history(described["executionArn"])
    timed_out = seconds_between(event(events, "ExecutionStarted"),
                                event(events, "ExecutionTimedOut"))
    assert 60 <= timed_out < 62
    assert not [e for e in events if e["type"] == "WaitStateExited"]


def test_clock_speed_one_waits_in_real_time(sb):
    default, sb.clock.speed = sb.clock.speed, 1
    try:
        arn = machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1,
                                                        "End": True}}})
        started = time.monotonic()
        described = run(arn)
        assert time.monotonic() - started >= 0.99
    finally:
        sb.clock.speed = default
    events = history(described["executionArn"])
    assert 1 <= seconds_between(event(events, "WaitStateEntered"),
                                event(events, "WaitStateExited")) < 1.5


# ---------------------------------------------------------------- the engine's own calls
def role(name: str, actions: list[str]) -> str:
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if actions:
        iam.put_role_policy(RoleName=name, PolicyName="actions", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    return arn


def test_the_engine_calls_services_as_the_state_machines_role(sb):
    # who starts the execution does not matter: the operator may not send to the queue, the
    # role of one state machine may, the other's may not
    iam = boto3.client("iam")
    iam.create_user(UserName="operator")
    iam.put_user_policy(UserName="operator", PolicyName="sfn", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "states:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    operator = boto3.client("stepfunctions", aws_access_key_id=key["AccessKeyId"],
                            aws_secret_access_key=key["SecretAccessKey"])
    queue = boto3.client("sqs").create_queue(QueueName="orders")["QueueUrl"]
    send = {"StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": queue, "MessageBody": "hello"}, "End": True}}}
    allowed = machine(send, "allowed", roleArn=role("can-send", ["sqs:SendMessage"]))
    denied = machine(send, "denied", roleArn=role("cannot-send", ["sqs:ListQueues"]))

    outcomes = {}
    for arn in (allowed, denied):
        execution = operator.start_execution(stateMachineArn=arn)["executionArn"]
        end = time.monotonic() + HANG_GUARD
        while (outcome := operator.describe_execution(executionArn=execution))[
                "status"] == "RUNNING":
            assert time.monotonic() < end
            time.sleep(0.02)
        outcomes[arn] = outcome
    assert outcomes[allowed]["status"] == "SUCCEEDED"
    assert outcomes[denied]["status"] == "FAILED"
    # SQS's own message, the action in lower case as SQS writes it
    assert re.fullmatch(
        r"User: arn:aws:sts::123456789012:assumed-role/cannot-send/[\w+=,.@-]+ is not "
        r"authorized to perform: sqs:sendmessage on resource: "
        r"arn:aws:sqs:us-east-1:123456789012:orders because no identity-based policy allows "
        r"the sqs:sendmessage action", outcomes[denied]["cause"]), outcomes[denied]["cause"]
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    assert [m["Body"] for m in messages["Messages"]] == ["hello"]


def test_a_role_that_may_not_invoke_the_function_fails_the_task_with_lambdas_error(sb):
    function = deploy("price", "def handler(event, context):\n    return 1\n")
    task = {"StartAt": "Price", "States": {"Price": {
        "Type": "Task", "Resource": function, "End": True}}}
    assert run(machine(task, "allowed", may=INVOKE))["status"] == "SUCCEEDED"
    described = run(machine(task, "denied", may=SEND))
    assert (described["status"], described["error"]) == ("FAILED", "Lambda.AccessDeniedException")
    assert re.fullmatch(
        r"User: arn:aws:sts::123456789012:assumed-role/denied-workflow/[\w+=,.@-]+ is not "
        rf"authorized to perform: lambda:InvokeFunction on resource: {function} because no "
        r"identity-based policy allows the lambda:InvokeFunction action \(Service: AWSLambda; "
        r"Status Code: 403; Error Code: AccessDeniedException; Request ID: [^;]+; "
        r"Proxy: null\)", described["cause"]), described["cause"]


# ---------------------------------------------------------------- invalid definitions
def refused(definition: dict | str) -> str:
    """The InvalidDefinition message CreateStateMachine answers for ``definition``."""
    sfn = boto3.client("stepfunctions")
    text = definition if isinstance(definition, str) else json.dumps(definition)
    with pytest.raises(sfn.exceptions.InvalidDefinition) as raised:
        sfn.create_state_machine(name="invalid", definition=text,
                                 roleArn=workflow_role("invalid-workflow"))
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = raised.value.response["Error"]["Message"]
    assert message.startswith("Invalid State Machine Definition: '") and message.endswith("'")
    return message[len("Invalid State Machine Definition: '"):-1]


@pytest.mark.parametrize("definition, problem", [
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "X"}}},
     "MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/A/Next"),
    ({"StartAt": "Go", "States": {"A": {"Type": "Pass", "End": True}}},
     "MISSING_TRANSITION_TARGET: Missing 'Next' target: Go at /StartAt, "
     'MISSING_TRANSITION_TARGET: State "A" is not reachable. at /States/A'),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True},
                                 "B": {"Type": "Pass", "End": True}}},
     'MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B'),
    ({"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}},
     "SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: "
     "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/A/Type"),
    ({"States": {"A": {"Type": "Pass", "End": True}}},
     "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"),
    ({"Comment": "nothing"},
     "SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Coment": "typo", "End": True}}},
     "SCHEMA_VALIDATION_FAILED: Field 'Coment' is not supported at /States/A"),
    ({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True,
                                       "Parameters": {"x.$": "$$$.oops"}}}},
     "SCHEMA_VALIDATION_FAILED: The value for the field 'x.$' must be a valid JSONPath or a "
     "valid intrinsic function call at /States/A/Parameters"),
    ({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "tomorrow", "End": True}}},
     "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/W/Timestamp"),
    ({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [], "End": True}}},
     "SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/P/Branches"),
    ({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
        "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}},
     "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' "
     "for whole state machine at /States/P"),
])
def test_an_invalid_definition_is_refused_with_awss_message(sb, definition, problem):
    assert refused(definition) == problem
    assert boto3.client("stepfunctions").list_state_machines()["stateMachines"] == []


def test_every_problem_is_named_with_its_place(sb):
    problems = refused({"StartAt": "A", "States": {
        "A": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1,
                                              "Next": "Gone"}], "Default": "B"},
        "B": {"Type": "Pass", "InputPath": "$$$.x", "End": True},
        "Lost": {"Type": "Succeed"}}}).split(", ")
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: Gone at /States/A/Choices[0]/Next" \
        in problems
    assert 'MISSING_TRANSITION_TARGET: State "Lost" is not reachable. at /States/Lost' in problems
    assert ("SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid "
            "JSONPath at /States/B/InputPath") in problems


def test_branches_and_item_processors_are_checked_too(sb):
    problem = refused({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemProcessor": {"StartAt": "Do", "States": {
            "Do": {"Type": "Pass", "Next": "Nowhere"}}}, "End": True}}})
    assert problem == ("MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at "
                       "/States/M/ItemProcessor/States/Do/Next")


def test_update_state_machine_refuses_an_invalid_definition_and_keeps_the_old_one(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine(PASS)
    with pytest.raises(sfn.exceptions.InvalidDefinition, match="Missing 'Next' target: Y"):
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Y"}}}))
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == PASS


def test_a_definition_that_is_not_json_is_refused(sb):
    assert refused("{not json").startswith("INVALID_JSON_DESCRIPTION: ")


def test_a_valid_definition_with_every_state_type_is_accepted(sb):
    arn = machine({
        "Comment": "all eight state types", "StartAt": "Start", "TimeoutSeconds": 300,
        "States": {
            "Start": {"Type": "Pass", "Result": {"items": [1, 2]}, "ResultPath": "$.data",
                      "Next": "Pick"},
            "Pick": {"Type": "Choice", "Choices": [
                {"Variable": "$.data.items[0]", "NumericEquals": 1, "Next": "Both"}],
                "Default": "Stop"},
            "Both": {"Type": "Parallel", "Next": "Each", "Branches": [
                {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 1,
                                                      "End": True}}},
                {"StartAt": "Ok", "States": {"Ok": {"Type": "Succeed"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Stop"}]},
            "Each": {"Type": "Map", "ItemsPath": "$[0].data.items", "End": True,
                     "ItemProcessor": {"StartAt": "Echo", "States": {
                         "Echo": {"Type": "Pass", "End": True}}}},
            "Stop": {"Type": "Fail", "Error": "Stopped", "Cause": "the choice said so"}}})
    assert arn.endswith(":stateMachine:machine")


# ---------------------------------------------------------------- JSONata and variables
def sync(definition: dict, execution_input: object = None, may: tuple[str, ...] = ()) -> dict:
    """Run an Express workflow to its end (StartSyncExecution)."""
    sfn = boto3.client("stepfunctions")
    arn = machine(definition, f"express-{time.monotonic_ns()}", may=may, type="EXPRESS")
    return sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps(execution_input or {}))


def test_jsonata_arguments_assign_output_and_variables(sb):
    arn = deploy("price", "def handler(event, context):\n"
                          "    return {'total': sum(event['prices']) * event['rate']}\n")
    result = sync({"QueryLanguage": "JSONata", "StartAt": "Rate", "States": {
        "Rate": {"Type": "Pass", "Assign": {"rate": 2, "customer": "{% $states.input.who %}"},
                 "Next": "Price"},
        "Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Arguments": {"FunctionName": arn, "Payload": {
                      "prices": "{% $states.input.prices %}", "rate": "{% $rate %}"}},
                  "Assign": {"total": "{% $states.result.Payload.total %}"},
                  "Output": "{% $states.input %}", "Next": "Decide"},
        "Decide": {"Type": "Choice", "Default": "Small", "Choices": [
            {"Condition": "{% $total > 20 %}", "Next": "Large"}]},
        "Large": {"Type": "Pass", "End": True, "Output": {
            "message": "{% 'Large order for ' & $customer %}", "total": "{% $total %}",
            "items": "{% $count($states.input.prices) %}"}},
        "Small": {"Type": "Succeed"}}}, {"who": 'Ada "the first"', "prices": [4, 7.5]}, INVOKE)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {
        "message": 'Large order for Ada "the first"', "total": 23.0, "items": 2}


def test_jsonata_has_the_functions_step_functions_adds(sb):
    result = sync({"QueryLanguage": "JSONata", "StartAt": "F", "States": {"F": {
        "Type": "Pass", "End": True, "Output": {
            "partition": "{% $partition([1, 2, 3, 4, 5], 2) %}",
            "range": "{% $range(0, 10, 5) %}",
            "hash": "{% $hash('abc', 'SHA-256') %}",
            "uuid": "{% $uuid() %}",
            "parse": "{% $parse('{\"a\": [1]}') %}",
            "random": "{% $random() %}"}}}})
    output = json.loads(result["output"])
    assert output["partition"] == [[1, 2], [3, 4], [5]]
    assert output["range"] == [0, 5, 10]
    assert output["hash"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert re.fullmatch(UUID, output["uuid"])
    assert output["parse"] == {"a": [1]}
    assert 0 <= output["random"] < 1


@pytest.mark.parametrize("expression, cause", [
    ("$nothing", "The JSONata expression '$nothing' returned nothing (undefined)."),
    ("$count(1, 2, 3)", "The JSONata expression '$count(1, 2, 3)' threw an error during "
                        "evaluation. T0410: "),
])
def test_a_failing_jsonata_expression_is_a_query_evaluation_error(sb, expression, cause):
    result = sync({"QueryLanguage": "JSONata", "StartAt": "Bad", "States": {
        "Bad": {"Type": "Pass", "Output": "{% " + expression + " %}", "End": True}}})
    assert (result["status"], result["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert result["cause"].startswith(
        "An error occurred while executing the state 'Bad' (entered at the event id #2). "
        + cause)


def test_jsonpath_states_read_and_write_variables(sb):
    described = run(machine({"StartAt": "Keep", "States": {
        "Keep": {"Type": "Pass", "Assign": {"order.$": "$.id", "count": 3}, "Next": "Use"},
        "Use": {"Type": "Pass", "Parameters": {"order.$": "$order", "twice.$":
                                                "States.MathAdd($count, $count)"},
                "End": True}}}), {"id": "A-1"})
    assert json.loads(described["output"]) == {"order": "A-1", "twice": 6}


# ---------------------------------------------------------------- the visual workflow
ORDER = {"Comment": "an order workflow", "StartAt": "Charge", "States": {
    "Charge": {"Type": "Task", "Resource": "FUNCTION", "Next": "Route",
               "Retry": [{"ErrorEquals": ["ValueError"], "MaxAttempts": 1,
                          "IntervalSeconds": 1}],
               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                          "Next": "Refund"}]},
    "Route": {"Type": "Choice", "Default": "Ship", "Choices": [
        {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}]},
    "Review": {"Type": "Wait", "Seconds": 3600, "Next": "Ship"},
    "Refund": {"Type": "Parallel", "ResultPath": None, "Next": "Notify", "Branches": [
        {"StartAt": "Credit", "States": {"Credit": {"Type": "Pass", "End": True}}},
        {"StartAt": "Apologise", "States": {"Apologise": {"Type": "Pass", "End": True}}}]},
    "Notify": {"Type": "Map", "ItemsPath": "$.emails", "ResultPath": None, "Next": "Failed",
               "ItemProcessor": {"StartAt": "Email", "States": {
                   "Email": {"Type": "Pass", "End": True}}}},
    "Ship": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "the card was declined"}}}


def order_machine(handler: str = "def handler(event, context):\n    raise ValueError('no')\n"
                  ) -> str:
    definition = json.loads(json.dumps(ORDER))
    definition["States"]["Charge"]["Resource"] = deploy("charge", handler)
    return machine(definition, "orders", may=INVOKE)


def test_a_state_machine_is_drawn_with_choices_branches_iterations_and_catches(sb):
    from sandbox.course import diagram

    drawn = diagram.state_machine(order_machine())
    mermaid = drawn.mermaid()
    assert mermaid.startswith("flowchart LR\n")  # a chain of states reads across, compactly
    for line in ['s0("Charge")', 's1{"Route"}', 's8(["Ship"])', 's9(["Failed"])',
                 'subgraph s3["Refund (Parallel)"]', 'subgraph s3_0["Branch 1"]',
                 'subgraph s3_1["Branch 2"]', 'subgraph s6["Notify (Map)"]',
                 'subgraph s6_0["Each item"]', "start --> s0", "s0 --> s1",
                 's0 -.->|"States.ALL"| s3', 's1 -->|"$.total > 100"| s2',
                 's1 -->|"Default"| s8', "s2 --> s8", "s3 --> s6", "s6 --> s9",
                 "s8 --> finish", "s9 --> finish"]:
        assert line in mermaid, line
    # the branches in their order: declared so, and linked (invisibly) so the layout keeps it
    assert mermaid.index('subgraph s3_0["Branch 1"]') < mermaid.index('subgraph s3_1["Branch 2"]')
    assert "        s3_0 ~~~ s3_1" in mermaid.splitlines()
    assert drawn._repr_markdown_() == f"```mermaid\n{mermaid}\n```"
    bundle = drawn._repr_mimebundle_()
    assert bundle["text/markdown"].startswith("```mermaid") and bundle["text/plain"] == str(
        drawn)
    text = drawn.text().splitlines()
    assert text[0] == "State machine orders (starts at Charge)"
    assert "  Route [Choice]" in text and "      if $.total > 100 -> Review" in text
    assert "      otherwise -> Ship" in text and "      on error States.ALL -> Refund" in text
    assert "      Branch 2 (starts at Apologise):" in text


def test_an_execution_is_drawn_with_what_each_state_did(sb):
    from sandbox.course import diagram

    described = run(order_machine(), {"total": 5, "emails": ["a@example.com", "b@example.com"]})
    assert described["status"] == "FAILED"
    drawn = diagram.execution(described["executionArn"])
    mermaid = drawn.mermaid()
    for node, status in [("s0", "caught"), ("s1", "notreached"), ("s2", "notreached"),
                         ("s3", "succeeded"), ("s4", "succeeded"), ("s6", "succeeded"),
                         ("s7", "succeeded"), ("s8", "notreached"), ("s9", "failed")]:
        assert f"    class {node} {status}" in mermaid.splitlines(), (node, status)
    assert "retried 1×, ValueError" in mermaid
    text = drawn.text().splitlines()
    assert text[0] == "State machine orders — execution FAILED (starts at Charge)"
    assert "  ⚠ Charge [Task] caught (retried 1×, ValueError)" in text
    assert "  · Route [Choice] not reached" in text
    assert "          ✓ Email [Pass] succeeded (2 runs)" in text
    assert "  ✗ Failed [Fail] failed" in text


def test_the_history_is_a_table_of_events_with_their_state_and_simulated_time(fast_clock):
    from sandbox.course import diagram

    described = run(order_machine("def handler(event, context):\n    return event\n"),
                    {"total": 500, "emails": []})
    assert described["status"] == "SUCCEEDED"
    table = diagram.history(described["executionArn"])
    rows = table.rows()
    assert rows[0][:3] == ("1", "ExecutionStarted", "")
    exits = {row[2]: row for row in rows if row[1] == "WaitStateExited"}
    assert exits["Review"][3].startswith("1:00:0")  # an hour after the start, simulated
    assert ("LambdaFunctionScheduled", "Charge") in [(row[1], row[2]) for row in rows]
    text = table.text().splitlines()
    assert text[0].split() == ["ID", "Type", "Step", "Elapsed", "Details"]
    assert len(text) == len(rows) + 1
    html = table._repr_html_()
    assert html.startswith("<table><thead><tr><th")
    assert html.count('<td style="text-align: left') == 5 * len(rows)  # not right-aligned


def test_the_history_cuts_long_details_with_an_ellipsis(sb):
    from sandbox.course import diagram

    long_input = {"note": "x" * 500}
    described = run(machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                            "long"), long_input)
    rows = diagram.history(described["executionArn"]).rows()
    started = next(row for row in rows if row[1] == "ExecutionStarted")
    assert len(started[4]) == diagram.DETAILS_WIDTH and started[4].endswith("…")
    assert started[4].startswith('input {"note": "xxx')
    assert diagram._cut("input {}") == "input {}"  # what fits is shown whole


def test_a_live_view_follows_an_execution_to_its_end(sb):
    from sandbox.course import diagram

    speed, sb.clock.speed = sb.clock.speed, 60  # an hour's Wait takes a minute: watchable
    try:
        arn = machine({"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
            "Done": {"Type": "Succeed"}}})
        execution_arn = boto3.client("stepfunctions").start_execution(
            stateMachineArn=arn)["executionArn"]
        end = time.monotonic() + HANG_GUARD
        while not any(e["type"] == "WaitStateEntered" for e in history(execution_arn)):
            assert time.monotonic() < end
        watch = diagram.watch(execution_arn, interval=0.05)
        assert "… Nap [Wait] running" in str(watch)
        assert "· Done [Succeed] not reached" in str(watch)
        sb.clock.speed = 36000
        final = watch.wait(HANG_GUARD)
    finally:
        sb.clock.speed = speed
    assert "✓ Done [Succeed] succeeded" in final.text()
    assert final.status == "SUCCEEDED"


# ---------------------------------------------------------------- service integrations
START = ("states:StartExecution",)
# what a .sync task takes besides (AWS's IAM policies for Step Functions integrations): the
# child's description, stopping it, and the managed EventBridge rule that reports its end
START_SYNC = (*START, "states:DescribeExecution", "states:StopExecution", "events:PutTargets",
              "events:PutRule", "events:DescribeRule")


@pytest.mark.parametrize("resource", ["states:startExecution", "states:startExecution.sync",
                                      "states:startExecution.sync:2"])
def test_a_task_starts_a_nested_execution(sb, resource):
    child = machine({"StartAt": "Echo", "States": {"Echo": {
        "Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": True}}}, "child")
    parent = machine({"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": f"arn:aws:states:::{resource}",
        "Parameters": {"StateMachineArn": child, "Input": {"x": 1}}, "End": True}}}, "parent",
        may=START_SYNC if ".sync" in resource else START)
    described = run(parent)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["ExecutionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:child:")
    assert finished(output["ExecutionArn"])["status"] == "SUCCEEDED"
    if resource.endswith(".sync"):  # the child's DescribeExecution, its output as JSON text
        assert output["Status"] == "SUCCEEDED" and json.loads(output["Output"]) == {"got": 1}
    elif resource.endswith(".sync:2"):  # ... and as JSON
        assert output["Status"] == "SUCCEEDED" and output["Output"] == {"got": 1}
    else:
        assert set(output) == {"ExecutionArn", "StartDate"}


def test_a_failed_nested_execution_fails_its_sync_task(sb):
    child = machine({"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Nope"}}},
                    "child")
    parent = machine({"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": child}, "End": True}}}, "parent", may=START_SYNC)
    described = run(parent)
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    assert json.loads(described["cause"])["Error"] == "Nope"


# ---------------------------------------------------------------- execution logs
def logged(group: str) -> list[dict]:
    logs = boto3.client("logs")
    events = []
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events += logs.get_log_events(logGroupName=group,
                                      logStreamName=stream["logStreamName"])["events"]
    return [json.loads(event["message"]) for event in events]


@pytest.mark.parametrize("level, include_data, logged_types", [
    ("ALL", True, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "FailStateEntered",
                   "ExecutionFailed"]),
    ("ERROR", False, ["FailStateEntered", "ExecutionFailed"]),
    ("FATAL", False, ["ExecutionFailed"]),
    ("OFF", False, []),
])
def test_logging_configuration_writes_the_history_to_cloudwatch_logs(sb, level, include_data,
                                                                    logged_types):
    group = "/aws/vendedlogs/states/orders"
    boto3.client("logs").create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"
    arn = machine({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"ok": False}, "Next": "Stop"},
        "Stop": {"Type": "Fail", "Error": "Declined", "Cause": "card declined"}}},
        loggingConfiguration={"level": level, "includeExecutionData": include_data,
                              "destinations": [{"cloudWatchLogsLogGroup": {
                                  "logGroupArn": group_arn}}]})
    described = run(arn, {"order": 7})
    entries = logged(group)
    assert [entry["type"] for entry in entries] == logged_types
    events = history(described["executionArn"])
    for entry in entries:  # each entry is its history event, in AWS's log format
        event = next(e for e in events if str(e["id"]) == entry["id"])
        assert entry["type"] == event["type"]
        assert entry["previous_event_id"] == str(event["previousEventId"])
        assert entry["event_timestamp"] == str(int(event["timestamp"].timestamp() * 1000))
        assert entry["execution_arn"] == described["executionArn"]
        assert entry["redrive_count"] == "0"
    failed = entries[-1] if entries else None
    if failed:
        assert failed["details"]["error"] == "Declined"
    if level == "ALL":
        assert json.loads(entries[0]["details"]["input"]) == {"order": 7}
    if level == "ERROR":  # without execution data, no input or output
        assert "input" not in entries[0]["details"] and entries[0]["details"]["name"] == "Stop"


# ---------------------------------------------------------------- AWS's documented examples
DOCUMENTED_INPUT = {"comment": "This is a test", "details": "Default example",
                    "who": "Step Functions"}


@pytest.mark.parametrize("state, execution_input, output", [
    # "Specifying state output using ResultPath in Step Functions": a result replaces the input,
    ({"Type": "Pass", "Result": "Hello, Step Functions!", "ResultPath": "$", "End": True},
     DOCUMENTED_INPUT, "Hello, Step Functions!"),
    # is discarded,
    ({"Type": "Pass", "Result": "Hello, Step Functions!", "ResultPath": None, "End": True},
     DOCUMENTED_INPUT, DOCUMENTED_INPUT),
    # or joins the input
    ({"Type": "Pass", "Result": "Hello, Step Functions!", "ResultPath": "$.taskresult",
      "End": True}, DOCUMENTED_INPUT, {**DOCUMENTED_INPUT,
                                       "taskresult": "Hello, Step Functions!"}),
    # "Intrinsic functions for JSONPath states": States.Array and States.ArrayPartition
    ({"Type": "Pass", "Parameters": {"BuildId.$": "States.Array($.Id)"}, "End": True},
     {"Id": 123456}, {"BuildId": [123456]}),
    ({"Type": "Pass", "Parameters": {"inputArray.$": "States.ArrayPartition($.inputArray,4)"},
      "End": True}, {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
     {"inputArray": [[1, 2, 3, 4], [5, 6, 7, 8], [9]]}),
])
def test_awss_documented_examples_give_the_documented_output(sb, state, execution_input,
                                                             output):
    described = run(machine({"StartAt": "Example", "States": {"Example": state}}),
                    execution_input)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == output


# ---------------------------------------------------------------- error names
SLOW = "import time\ndef handler(event, context):\n    time.sleep(3)\n"


@pytest.mark.parametrize("task, function_timeout, error", [
    # a function that does not exist: the Lambda API's error, as Lambda.<code>, whether the
    # Resource is the lambda:invoke integration or the function's ARN
    ({"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "nope"}}, 1,
     "Lambda.ResourceNotFoundException"),
    ({"Resource": "arn:aws:lambda:us-east-1:123456789012:function:nope"}, 1,
     "Lambda.ResourceNotFoundException"),
    # the function's own timeout: Lambda's error type
    ({}, 1, "Sandbox.Timedout"),
    # the state's TimeoutSeconds, shorter than the function's: States.Timeout
    ({"TimeoutSeconds": 1}, 10, "States.Timeout"),
])
def test_task_failures_carry_awss_error_names_to_catch(sb, task, function_timeout, error):
    function = deploy("slow", SLOW, Timeout=function_timeout)
    described = run(machine({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": function, **task, "End": True,
                 "Catch": [{"ErrorEquals": [error], "ResultPath": "$.caught", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": True}}}, may=INVOKE))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["caught"]["Error"] == error


# ---------------------------------------------------------------- the extension itself
UNINSTALL = """
import os
from moto.stepfunctions.parser.asl.utils import boto_client
from moto.stepfunctions.parser.models import StepFunctionsParserBackend as Backend
from moto.stepfunctions.responses import StepFunctionResponse
from sandbox.stepfunctions import engine
from sandbox.testing import in_process_service

original = boto_client.boto_client_for
with in_process_service():  # the server's side, here: its patches can be seen
    assert boto_client.boto_client_for is engine.boto_client_for
    assert os.environ["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"
assert boto_client.boto_client_for is original
assert isinstance(vars(Backend)["_validate_definition"], staticmethod)
assert not hasattr(StepFunctionResponse, "start_sync_execution")
assert "AWS_DISABLE_HOST_PREFIX_INJECTION" not in os.environ
print("restored")
"""


LAZY = """
import json, sys, boto3
from sandbox.testing import execution_role, in_process_service
with in_process_service():  # the server's side, here: what it imported can be seen
    print("moto.stepfunctions.parser.models" in sys.modules)
    sfn = boto3.client("stepfunctions")
    role = execution_role("workflow", service="states.amazonaws.com")
    arn = sfn.create_state_machine(name="m", roleArn=role, type="EXPRESS", definition=
        json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "X"}}}))
"""


def python(script: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=environment, timeout=HANG_GUARD)


def test_stopping_the_sandbox_gives_moto_back_as_it_was():
    result = python(UNINSTALL)
    assert result.stdout.strip() == "restored", result.stderr


def test_the_interpreter_loads_on_first_use_and_is_hooked_then():
    result = python(LAZY)
    assert result.stdout.strip() == "False", result.stderr  # start() did not pay for it
    assert "InvalidDefinition" in result.stderr and "Missing 'Next' target: X" in result.stderr


def test_a_task_run_once_per_map_item_is_not_drawn_as_retried(sb):
    from sandbox.course import diagram

    arn = deploy("stock", "def handler(event, context):\n    return event\n")
    described = run(machine({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"StartAt": "Reserve", "States": {
            "Reserve": {"Type": "Task", "Resource": arn, "End": True}}}}}}, may=INVOKE),
        {"items": [1, 2]})
    assert described["status"] == "SUCCEEDED"
    text = diagram.execution(described["executionArn"]).text()
    line = next(line for line in text.splitlines() if "Reserve [Task]" in line)
    assert "(2 runs)" in line and "retried" not in line


# ---------------------------------------------------------------- how states fail
def test_a_choice_with_no_match_and_no_default_fails_with_a_runtime_error(sb):
    # AWS: States.Runtime, "Failed to transition out of the state" (not the ASL specification's
    # States.NoChoiceMatched), after ChoiceStateEntered; sandbox/stepfunctions/failures.py
    described = run(machine({"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$.kind", "StringEquals": "book", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}}}), {"kind": "lamp"})
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == (
        "An error occurred while executing the state 'Route' (entered at the event id #2). "
        "Failed to transition out of the state. The state does not point to a next state.")
    events = history(described["executionArn"])
    assert [e["type"] for e in events] == ["ExecutionStarted", "ChoiceStateEntered",
                                           "ExecutionFailed"]


NOT_FOUND = (r"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
             r"(:\$LATEST)? \(Service: AWSLambda; Status Code: 404; Error Code: "
             r"ResourceNotFoundException; Request ID: [^;]+; Proxy: null\)")


@pytest.mark.parametrize("task, failed", [
    ({"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "nope"}},
     "TaskFailed"),
    ({"Resource": "arn:aws:lambda:us-east-1:123456789012:function:nope"}, "LambdaFunctionFailed"),
])
def test_a_missing_function_fails_with_lambdas_error_and_its_sdk_cause(sb, task, failed):
    # AWS words the cause as the SDK renders Lambda's error (LocalStack's recording of AWS,
    # test_task_service_lambda.snapshot.json); AWS's Lambda message ends ":$LATEST", the
    # sandbox's Lambda does not yet (an optional group here)
    described = run(machine({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", **task, "End": True,
                 "Retry": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"],
                            "IntervalSeconds": 1, "MaxAttempts": 1}]}}}, may=INVOKE))
    assert (described["status"], described["error"]) == (
        "FAILED", "Lambda.ResourceNotFoundException")
    assert re.fullmatch(NOT_FOUND, described["cause"]), described["cause"]
    events = history(described["executionArn"])
    assert len([e for e in events if e["type"] == failed]) == 2  # retried once


# ---------------------------------------------------------------- task timeouts and heartbeats
def waiting_task(queue: str, **fields) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
            **fields}


@pytest.mark.parametrize("fields, execution_input", [
    ({"TimeoutSeconds": 3600}, {}),
    ({"TimeoutSecondsPath": "$.limit"}, {"limit": 3600}),
])
def test_a_task_timeout_counts_simulated_time(sb, fields, execution_input):
    queue = boto3.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    arn = machine({"StartAt": "Ask", "States": {"Ask": waiting_task(queue, **fields,
                                                                    End=True)}}, may=SEND)
    started = time.monotonic()
    described = run(arn, execution_input)
    assert time.monotonic() - started < 3  # an hour at the default 10,000x is 0.36 s
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    events = history(described["executionArn"])
    timed_out = event(events, "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert timed_out["taskTimedOutEventDetails"]["resource"] == "sendMessage.waitForTaskToken"
    assert 3600 <= seconds_between(event(events, "TaskStateEntered"), timed_out) < 3601


@pytest.mark.parametrize("fields, execution_input", [
    ({"HeartbeatSeconds": 60, "TimeoutSeconds": 3600}, {}),
    ({"HeartbeatSecondsPath": "$.beat", "TimeoutSeconds": 3600}, {"beat": 60}),
])
def test_a_missed_heartbeat_times_out_and_is_caught_as_heartbeat_timeout(sb, fields,
                                                                        execution_input):
    # AWS writes States.Timeout in TaskTimedOut (LocalStack's recording of AWS,
    # test_heartbeats.snapshot.json); a Catch on States.HeartbeatTimeout matches it
    queue = boto3.client("sqs").create_queue(QueueName="approvals")["QueueUrl"]
    arn = machine({"StartAt": "Ask", "States": {
        "Ask": waiting_task(queue, **fields, End=True, Catch=[
            {"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.missed",
             "Next": "Chase"}]),
        "Chase": {"Type": "Pass", "End": True}}}, may=SEND)
    described = run(arn, execution_input)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["missed"]["Error"] == "States.Timeout"
    events = history(described["executionArn"])
    timed_out = event(events, "TaskTimedOut")
    assert 60 <= seconds_between(event(events, "TaskSubmitted"), timed_out) < 61


def test_heartbeats_keep_a_task_alive_until_its_token_arrives(sb):
    sfn, sqs = boto3.client("stepfunctions"), boto3.client("sqs")
    sb.clock.speed, speed = 100, sb.clock.speed  # 60 s heartbeats: 0.6 s apart
    try:
        queue = sqs.create_queue(QueueName="approvals")["QueueUrl"]
        arn = machine({"StartAt": "Ask", "States": {"Ask": waiting_task(
            queue, HeartbeatSeconds=60, TimeoutSeconds=86400, End=True)}}, may=SEND)
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        end = time.monotonic() + HANG_GUARD
        while not (messages := sqs.receive_message(QueueUrl=queue).get("Messages")):
            assert time.monotonic() < end
        token = json.loads(messages[0]["Body"])["token"]
        for _ in range(4):  # 0.8 s of real time: beyond one heartbeat period
            sfn.send_task_heartbeat(taskToken=token)
            time.sleep(0.2)
        sfn.send_task_success(taskToken=token, output='{"approved": true}')
        described = finished(execution)
    finally:
        sb.clock.speed = speed
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"approved": True}


def test_a_task_without_a_timeout_waits_for_its_token_in_real_time(sb):
    sfn, sqs = boto3.client("stepfunctions"), boto3.client("sqs")
    queue = sqs.create_queue(QueueName="approvals")["QueueUrl"]
    arn = machine({"StartAt": "Ask", "States": {"Ask": waiting_task(queue, End=True)}},
                  may=SEND)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    end = time.monotonic() + HANG_GUARD
    while not (messages := sqs.receive_message(QueueUrl=queue).get("Messages")):
        assert time.monotonic() < end
    time.sleep(0.2)
    sfn.send_task_success(taskToken=json.loads(messages[0]["Body"])["token"], output="{}")
    events = history(finished(execution)["executionArn"])
    assert seconds_between(event(events, "TaskSubmitted"), event(events, "TaskSucceeded")) < 5


def test_a_function_running_past_the_task_timeout_times_out_in_real_time(sb):
    function = deploy("slow", SLOW, Timeout=10)
    started = time.monotonic()
    described = run(machine({"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": function, "TimeoutSeconds": 1, "End": True}}},
        may=INVOKE))
    assert 1 <= time.monotonic() - started < 3  # the handler really runs; 3 s would be its end
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    events = history(described["executionArn"])
    assert 1 <= seconds_between(event(events, "TaskStateEntered"),
                                event(events, "LambdaFunctionTimedOut")) < 1.5


# ---------------------------------------------------------------- Express, asynchronously
def test_start_execution_runs_an_express_workflow_with_an_express_arn(sb):
    sfn, logs = boto3.client("stepfunctions"), boto3.client("logs")
    group = "/aws/vendedlogs/states/quick"
    logs.create_log_group(logGroupName=group)
    arn = machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "quick",
                  type="EXPRESS", loggingConfiguration={
                      "level": "ALL", "includeExecutionData": True, "destinations": [
                          {"cloudWatchLogsLogGroup": {"logGroupArn": (
                              f"arn:aws:logs:us-east-1:123456789012:log-group:{group}:*")}}]})
    started = [sfn.start_execution(stateMachineArn=arn, name="same", input='{"n": 1}')
               for _ in range(2)]
    for answer in started:  # not idempotent: each StartExecution is a new execution
        assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:express:quick:same:{UUID}",
                            answer["executionArn"])
    assert started[0]["executionArn"] != started[1]["executionArn"]
    end = time.monotonic() + HANG_GUARD
    while len([e for e in logged(group) if e["type"] == "ExecutionSucceeded"]) < 2:
        assert time.monotonic() < end
        time.sleep(0.02)
    entries = logged(group)
    assert {e["execution_arn"] for e in entries} == {a["executionArn"] for a in started}
    assert {e["details"]["output"] for e in entries if e["type"] == "ExecutionSucceeded"} == {
        '{"n":1}'}


def test_express_executions_are_not_described_listed_or_stopped(sb):
    sfn = boto3.client("stepfunctions")
    arn = machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                  type="EXPRESS")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    express = "Invalid Arn: 'Resource type not valid in this context: express'"
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution):
        with pytest.raises(sfn.exceptions.InvalidArn) as raised:
            call(executionArn=execution)
        assert raised.value.response["Error"]["Message"] == express
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported,
                       match="This operation is not supported by this type of state machine"):
        sfn.list_executions(stateMachineArn=arn)
