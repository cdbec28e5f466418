"""CloudWatch Logs Insights queries, the subset the sandbox runs
(docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html; fields discovered in
JSON events and Lambda's lines: CWL_AnalyzeLogData-discoverable-fields.html)."""

import json
import time

import boto3
import pytest

from sandbox.testing import deploy

EVENTS = [
    {"level": "INFO", "message": "order placed", "latency": 120, "order": {"id": "o-1"}},
    {"level": "ERROR", "message": "card declined", "latency": 900, "order": {"id": "o-2"}},
    {"level": "WARNING", "message": "stock low", "latency": 40},
    {"level": "ERROR", "message": "timeout", "latency": 3000},
]


@pytest.fixture
def group(sb):
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="shop")
    logs.create_log_stream(logGroupName="shop", logStreamName="web")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="shop", logStreamName="web", logEvents=[
        {"timestamp": now + n, "message": json.dumps(event)} for n, event in enumerate(EVENTS)
    ] + [{"timestamp": now + 10, "message": "a plain line"}])
    return "shop"


def query(group, text):
    logs = boto3.client("logs")
    now = int(time.time())
    started = logs.start_query(logGroupName=group, startTime=now - 600, endTime=now + 600,
                               queryString=text)
    results = logs.get_query_results(queryId=started["queryId"])["results"]
    return [{cell["field"]: cell["value"] for cell in row} for row in results]


def test_filter_selects_by_a_discovered_json_field(group):
    rows = query(group, 'fields @timestamp, message | filter level = "ERROR" | sort @timestamp asc')
    assert [row["message"] for row in rows] == ["card declined", "timeout"]
    # @timestamp as Logs Insights writes it, and every row's @ptr
    assert all(len(row["@timestamp"]) == len("2026-12-06 11:20:17.858") for row in rows)
    assert all("@ptr" in row for row in rows)


@pytest.mark.parametrize("text, expected", [
    ('fields message | filter latency > 100 and level != "ERROR"', ["order placed"]),
    ('fields message | filter level in ["WARNING", "INFO"] | sort latency asc',
     ["stock low", "order placed"]),
    ('fields message | filter message like /decl|out/ | sort latency desc',
     ["timeout", "card declined"]),
    ('fields message | filter message not like "o" | sort latency', ["card declined"]),
    ('fields message | filter ispresent(order.id) | sort order.id', ["card declined",
                                                                      "order placed"]),
    ('fields message | filter ispresent(level) and not (level = "ERROR" or latency < 100)',
     ["order placed"]),
    ('fields message | sort latency desc | limit 2', ["timeout", "card declined"]),
])
def test_filter_sort_and_limit(group, text, expected):
    assert [row.get("message") for row in query(group, text)] == expected


def test_stats_count_by_a_field(group):
    rows = query(group, 'filter ispresent(level) | stats count(*) as n, avg(latency) by level '
                        '| sort n desc')
    assert rows[0] == {"level": "ERROR", "n": "2", "avg(latency)": "1950"}
    assert sorted((row["level"], row["n"]) for row in rows[1:]) == [("INFO", "1"),
                                                                     ("WARNING", "1")]


def test_a_command_the_sandbox_does_not_run_is_refused(group):
    logs = boto3.client("logs")
    with pytest.raises(logs.exceptions.MalformedQueryException, match="parse"):
        logs.start_query(logGroupName=group, startTime=0, endTime=int(time.time()) + 60,
                         queryString='parse @message "* *" as a, b')


def test_lambda_report_lines_have_their_fields(sb):
    deploy("measured", "def handler(event, context):\n    return 1\n")
    lam = boto3.client("lambda")
    for _ in range(3):
        lam.invoke(FunctionName="measured")
    rows = query("/aws/lambda/measured", 'filter @type = "REPORT" | stats count(*) as reports, '
                                         'max(@memorySize) as memory')
    assert rows == [{"reports": "3", "memory": "128"}]
