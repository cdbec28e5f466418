"""JSON filter patterns in CloudWatch Logs, as documented in
docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html ("Using filter
patterns to match terms in JSON log events")."""

import json
import time

import boto3
import pytest

from sandbox.cloudwatch.patterns import PatternError, json_pattern

EVENTS = [
    {"level": "INFO", "message": "order placed", "latency": 120, "ok": True,
     "order": {"items": [{"sku": "tea-1"}]}},
    {"level": "ERROR", "message": "card declined", "latency": 900, "ok": False, "user": None},
    {"level": "WARNING", "message": "stock low", "latency": 40},
]


def _matching(pattern):
    test = json_pattern(pattern)
    return [event["message"] for event in EVENTS if test(json.dumps(event))]


@pytest.mark.parametrize("pattern, expected", [
    ('{ $.level = "ERROR" }', ["card declined"]),
    ('{ $.level != "ERROR" }', ["order placed", "stock low"]),
    ('{ $.level = ERROR }', ["card declined"]),  # an unquoted string
    ('{ $.message = "*placed" }', ["order placed"]),  # * a wildcard
    ('{ $.latency > 100 }', ["order placed", "card declined"]),
    ('{ $.latency <= 120 }', ["order placed", "stock low"]),
    ('{ $.latency >= 100 && $.level = "INFO" }', ["order placed"]),
    ('{ $.level = "ERROR" || $.level = "WARNING" }', ["card declined", "stock low"]),
    ('{ ($.latency < 50 || $.latency > 800) && $.level != "INFO" }',
     ["card declined", "stock low"]),
    ('{ $.ok IS TRUE }', ["order placed"]),
    ('{ $.ok IS FALSE }', ["card declined"]),
    ('{ $.user IS NULL }', ["card declined"]),
    ('{ $.ok NOT EXISTS }', ["stock low"]),
    ('{ $.order.items[0].sku = "tea-1" }', ["order placed"]),
])
def test_json_patterns_select_events_by_their_fields(pattern, expected):
    assert _matching(pattern) == expected


def test_a_plain_line_never_matches_a_json_pattern():
    assert not json_pattern('{ $.level = "ERROR" }')("ERROR in a plain line")


def test_a_malformed_pattern_is_refused():
    with pytest.raises(PatternError):
        json_pattern('{ $.level == }')


def test_filter_log_events_uses_json_patterns(sb):
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="shop")
    logs.create_log_stream(logGroupName="shop", logStreamName="web")
    now = int(time.time() * 1000)  # CloudWatch Logs refuses events older than 14 days
    logs.put_log_events(logGroupName="shop", logStreamName="web", logEvents=[
        {"timestamp": now + n, "message": json.dumps(event)}
        for n, event in enumerate(EVENTS)] + [
        {"timestamp": now + 10, "message": "a plain line with ERROR in it"}])
    found = logs.filter_log_events(logGroupName="shop",
                                   filterPattern='{ $.level = "ERROR" }')["events"]
    assert [json.loads(e["message"])["message"] for e in found] == ["card declined"]
    with pytest.raises(logs.exceptions.InvalidParameterException, match="Invalid filter"):
        logs.filter_log_events(logGroupName="shop", filterPattern="{ $.level = }")
