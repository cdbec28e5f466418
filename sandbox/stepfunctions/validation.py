"""Definitions checked at CreateStateMachine and UpdateStateMachine, as AWS checks them.

moto only parses a definition (moto/stepfunctions/parser/models.py ``_validate_definition``): a
``Next`` naming no state, an unreachable state or a bad path are accepted, and what it refuses
comes back with a parser's message. AWS answers ``InvalidDefinition`` with every problem, each
as ``CODE: message at /location``::

    Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: X at
    /States/A/Next, MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B'

The message templates below are AWS's, as recorded from its answers (LocalStack's snapshot tests
against AWS, and error reports quoting AWS). Where no AWS answer was found, a template follows the
nearest recorded one, and says so.
"""

from __future__ import annotations

import json
import re
from typing import Any

PREFIX = "Invalid State Machine Definition: '{}'"

REQUIRED = "SCHEMA_VALIDATION_FAILED: These fields are required: [{fields}] at {at}"
UNSUPPORTED_FIELD = "SCHEMA_VALIDATION_FAILED: Field '{field}' is not supported at {at}"
BAD_TYPE = ("SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: "
            "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at {at}/Type")
BAD_PAYLOAD_PATH = ("SCHEMA_VALIDATION_FAILED: The value for the field '{field}' must be a valid "
                    "JSONPath or a valid intrinsic function call at {at}")
# no AWS answer recorded for a bad *Path field: the wording of the payload-field one above
BAD_PATH = ("SCHEMA_VALIDATION_FAILED: The value for the field '{field}' must be a valid JSONPath "
            "at {at}")
BAD_TIMESTAMP = "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at {at}"
EMPTY = "SCHEMA_VALIDATION_FAILED: Value cannot be empty at {at}"
MIXED_LANGUAGE = ("SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to "
                  "'JSONata' for whole state machine at {at}")
MISSING_TARGET = "MISSING_TRANSITION_TARGET: Missing 'Next' target: {target} at {at}"
UNREACHABLE = 'MISSING_TRANSITION_TARGET: State "{name}" is not reachable. at {at}'
DUPLICATE = "DUPLICATE_STATE_NAME: Duplicate State name: {name} at {at}"
# the error code's description in the API reference (ValidateStateMachineDefinitionDiagnostic)
NO_END = "MISSING_END_STATE: The workflow does not have a terminal state at {at}"
INVALID_JSON = "INVALID_JSON_DESCRIPTION: {error}"

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")
_COMMON = {"Type", "Comment", "QueryLanguage"}
_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath", "Output", "Assign"}
_RESULT = {"ResultPath", "ResultSelector", "Parameters", "Arguments", "Retry", "Catch"}
FIELDS = {  # the fields each state type accepts (Amazon States Language, JSONPath and JSONata)
    "Pass": _COMMON | _FLOW | _IO | {"ResultPath", "Parameters", "Result"},
    "Task": _COMMON | _FLOW | _IO | _RESULT | {
        "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
        "HeartbeatSecondsPath", "Credentials"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _FLOW | _IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON | _FLOW | _IO | _RESULT | {"Branches"},
    "Map": _COMMON | _FLOW | _IO | _RESULT | {
        "ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "ItemReader",
        "ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath",
        "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount",
        "ToleratedFailureCountPath", "Label"},
}
JSONPATH_ONLY = {"InputPath", "OutputPath", "ResultPath", "ResultSelector", "Parameters",
                 "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
                 "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
                 "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"}
JSONATA_ONLY = {"Arguments", "Output", "Items"}
TOP_FIELDS = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
SCOPE_FIELDS = {"StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"}
PATH_FIELDS = ("InputPath", "OutputPath", "ResultPath", "ItemsPath", "SecondsPath",
               "TimestampPath", "ErrorPath", "CausePath", "TimeoutSecondsPath",
               "HeartbeatSecondsPath")
PAYLOAD_FIELDS = ("Parameters", "ResultSelector", "ItemSelector")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def problems(definition: str) -> list[str]:
    """Every problem AWS would report in ``definition``, in AWS's words; none if it is valid."""
    try:
        document = json.loads(definition)
    except ValueError as error:
        return [INVALID_JSON.format(error=error)]
    if not isinstance(document, dict):
        return ["SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object"]
    found: list[str] = []
    names: dict[str, str] = {}
    language = document.get("QueryLanguage", "JSONPath")
    _check_scope(document, "", TOP_FIELDS, language, language, found, names)
    return found


def _check_scope(scope: dict[str, Any], at: str, allowed: set[str], language: str,
                 top_language: str, found: list[str], names: dict[str, str]) -> None:
    """A state machine, a Parallel branch or a Map's item processor."""
    missing = [field for field in ("States", "StartAt") if field not in scope]
    if missing:
        found.append(REQUIRED.format(fields=", ".join(missing), at=at or "/"))
    found += [UNSUPPORTED_FIELD.format(field=field, at=at or "/")
              for field in scope if field not in allowed]
    states = scope.get("States")
    if not isinstance(states, dict) or missing:
        return
    if not states:
        found.append(EMPTY.format(at=f"{at}/States"))
        return
    for name, state in states.items():
        where = f"{at}/States/{name}"
        if name in names:
            found.append(DUPLICATE.format(name=name, at=where))
        names[name] = where
        if isinstance(state, dict):
            _check_state(name, state, where, language, top_language, found, names)
    if scope["StartAt"] not in states:
        found.append(MISSING_TARGET.format(target=scope["StartAt"], at=f"{at}/StartAt"))
    found += _transitions(states, at)
    reached = _reachable(states, scope["StartAt"])
    found += [UNREACHABLE.format(name=name, at=f"{at}/States/{name}")
              for name in states if name not in reached]
    dangling = any(MISSING_TARGET[:25] in problem for problem in found)
    if not dangling and not any(_terminal(s) for s in states.values() if isinstance(s, dict)):
        found.append(NO_END.format(at=at or "/"))


def _check_state(name: str, state: dict[str, Any], at: str, language: str, top_language: str,
                 found: list[str], names: dict[str, str]) -> None:
    kind = state.get("Type")
    if kind is None:
        found.append(REQUIRED.format(fields="Type", at=at))
        return
    if kind not in STATE_TYPES:
        found.append(BAD_TYPE.format(at=at))
        return
    found += [UNSUPPORTED_FIELD.format(field=field, at=at)
              for field in state if field not in FIELDS[kind]]
    state_language = state.get("QueryLanguage", language)
    if top_language == "JSONata" and state.get("QueryLanguage") == "JSONPath":
        found.append(MIXED_LANGUAGE.format(at=at))
    # each language's own fields ("Transforming data with JSONata in Step Functions": a JSONata
    # state has Arguments and Output in place of InputPath, Parameters, ResultSelector,
    # ResultPath and OutputPath); no AWS answer recorded: the unsupported-field wording
    foreign = JSONPATH_ONLY if state_language == "JSONata" else JSONATA_ONLY
    found += [UNSUPPORTED_FIELD.format(field=field, at=at)
              for field in state if field in foreign and field in FIELDS[kind]]
    required = {"Task": ["Resource"], "Choice": ["Choices"], "Parallel": ["Branches"]}.get(kind, [])
    missing = [field for field in required if field not in state]
    # no AWS answer recorded for a state missing both Next and End: the required-fields wording
    if kind in FIELDS and "Next" in FIELDS[kind] and "Next" not in state and not state.get("End"):
        missing.append("Next")
    if missing:
        found.append(REQUIRED.format(fields=", ".join(missing), at=at))
    if state_language == "JSONPath":
        _check_paths(state, at, found)
    if kind == "Wait" and isinstance(state.get("Timestamp"), str) and state_language == "JSONPath":
        if not RFC3339.match(state["Timestamp"]):
            found.append(BAD_TIMESTAMP.format(at=f"{at}/Timestamp"))
    if kind == "Parallel" and isinstance(state.get("Branches"), list):
        if not state["Branches"]:
            found.append(EMPTY.format(at=f"{at}/Branches"))
        for index, branch in enumerate(state["Branches"]):
            if isinstance(branch, dict):
                _check_scope(branch, f"{at}/Branches[{index}]", SCOPE_FIELDS, state_language,
                             top_language, found, names)
    if kind == "Map":
        from .distributed import not_run

        found += not_run(state, at)
        field = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        if isinstance(state.get(field), dict):
            _check_scope(state[field], f"{at}/{field}", SCOPE_FIELDS, state_language,
                         top_language, found, names)


def _check_paths(state: dict[str, Any], at: str, found: list[str]) -> None:
    for field in PATH_FIELDS:
        value = state.get(field)
        intrinsic = field in ("ErrorPath", "CausePath") and str(value).startswith("States.")
        if value is not None and not intrinsic and not (isinstance(value, str)
                                                         and valid_path(value)):
            found.append(BAD_PATH.format(field=field, at=f"{at}/{field}"))
    for field in PAYLOAD_FIELDS:
        for key in _bad_payload_keys(state.get(field)):
            found.append(BAD_PAYLOAD_PATH.format(field=key, at=f"{at}/{field}"))


def _bad_payload_keys(payload: Any) -> list[str]:
    bad: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key.endswith(".$"):
                if not (isinstance(value, str) and (valid_path(value)
                                                    or value.startswith("States."))):
                    bad.append(key)
            else:
                bad += _bad_payload_keys(value)
    elif isinstance(payload, list):
        for value in payload:
            bad += _bad_payload_keys(value)
    return bad


def valid_path(path: str) -> bool:
    """A JSONPath on the input (``$...``), the context object (``$$...``) or a variable
    (``$name...``). AWS's JSONPath reader is lenient (``$.[0]`` reads as ``$[0]``), so is this."""
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext.parser import parse

    path = _VARIABLE.sub("$", path, count=1)
    if path.startswith("$$"):
        path = path[1:]
    if not path.startswith("$"):
        return False
    try:
        parse(path.replace("$.[", "$[", 1))
    except (JsonPathParserError, JsonPathLexerError, ValueError, AttributeError):
        return False
    return True


_VARIABLE = re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*")


def _targets(state: dict[str, Any], at: str) -> list[tuple[str, str]]:
    """Every (target, location) a state may transition to."""
    found = []
    if isinstance(state.get("Next"), str):
        found.append((state["Next"], f"{at}/Next"))
    if isinstance(state.get("Default"), str):
        found.append((state["Default"], f"{at}/Default"))
    for field in ("Choices", "Catch"):
        rules = state.get(field)
        if isinstance(rules, list):
            for index, rule in enumerate(rules):
                if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                    found.append((rule["Next"], f"{at}/{field}[{index}]/Next"))
    return found


def _transitions(states: dict[str, Any], at: str) -> list[str]:
    return [MISSING_TARGET.format(target=target, at=where)
            for name, state in states.items() if isinstance(state, dict)
            for target, where in _targets(state, f"{at}/States/{name}") if target not in states]


def _reachable(states: dict[str, Any], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or not isinstance(states.get(name), dict):
            continue
        seen.add(name)
        todo += [target for target, _ in _targets(states[name], "")]
    return seen


def _terminal(state: dict[str, Any]) -> bool:
    return state.get("Type") in ("Succeed", "Fail") or state.get("End") is True


def validate_definition(definition: str) -> None:
    """``StepFunctionsParserBackend._validate_definition``: AWS's checks, then moto's parser."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import (
        AmazonStateLanguageParser,
        ASLParserException,
    )

    from .exceptions import InvalidDefinition

    found = problems(definition)
    if not found:
        try:
            AmazonStateLanguageParser.parse(definition)
        except ASLParserException as error:
            found = [f"SCHEMA_VALIDATION_FAILED: {error.errors[0] if error.errors else error}"]
        except Exception as error:  # the parser's own checks raise ValueError and the like
            found = [f"SCHEMA_VALIDATION_FAILED: {error}"]
    if found:
        raise InvalidDefinition(PREFIX.format(", ".join(found)))
