"""``QueryLanguage`` set per state, as the Step Functions developer guide allows ("Transforming
data with JSONata in Step Functions": "you can set the QueryLanguage field on individual states
... JSONPath is the default"; a state machine whose top-level QueryLanguage is JSONata may not
have a JSONPath state)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from test_stepfunctions import machine, run


def _output(definition: dict, execution_input: object) -> object:
    done = run(machine(definition), execution_input)
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    return json.loads(done["output"])


def test_a_jsonata_state_in_a_jsonpath_state_machine(sb):
    # the JSONPath states before and after read and write with paths; the JSONata one between
    # them with {% %} expressions on $states.input
    assert _output({"StartAt": "Pick", "States": {
        "Pick": {"Type": "Pass", "InputPath": "$.order", "Next": "Total"},
        "Total": {"Type": "Pass", "QueryLanguage": "JSONata",
                  "Output": {"total": "{% $sum($states.input.items.price) %}",
                             "id": "{% $states.input.id %}"}, "Next": "Shape"},
        "Shape": {"Type": "Pass", "Parameters": {"order.$": "$.id", "due.$": "$.total"},
                  "End": True}}},
        {"order": {"id": "o-1", "items": [{"price": 2}, {"price": 3.5}]}}) \
        == {"order": "o-1", "due": 5.5}


def test_a_jsonata_choice_in_a_jsonpath_state_machine(sb):
    definition = {"StartAt": "Big?", "States": {
        "Big?": {"Type": "Choice", "QueryLanguage": "JSONata",
                 "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big"}],
                 "Default": "Small"},
        "Big": {"Type": "Pass", "Result": "big", "End": True},
        "Small": {"Type": "Pass", "Result": "small", "End": True}}}
    assert [_output(definition, {"n": n}) for n in (3, 30)] == ["small", "big"]


@pytest.mark.parametrize("language, field, value", [
    ("JSONata", "InputPath", "$.x"), ("JSONata", "Parameters", {"a.$": "$.x"}),
    ("JSONata", "ResultPath", "$.r"), ("JSONPath", "Output", {"a": 1}),
    ("JSONPath", "Arguments", {"a": 1})])
def test_the_other_languages_fields_are_refused(sb, language, field, value):
    # a JSONata state has Arguments and Output in place of InputPath, Parameters, ResultSelector,
    # ResultPath and OutputPath, and a JSONPath state has no Arguments or Output
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "QueryLanguage": language, field: value, "End": True}
    with pytest.raises(ClientError) as refused:
        machine({"StartAt": "T", "States": {"T": state}})
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert f"Field '{field}' is not supported at /States/T" in \
        refused.value.response["Error"]["Message"]


def test_a_jsonpath_state_in_a_jsonata_state_machine_is_refused(sb):
    with pytest.raises(ClientError) as refused:
        machine({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}})
    assert "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state " \
           "machine" in refused.value.response["Error"]["Message"]
    assert boto3.client("stepfunctions").list_state_machines()["stateMachines"] == []
