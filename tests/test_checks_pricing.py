"""Exercise 04's checks, three ways: the solution passes, a blank exercise is not attempted, and
each common wrong answer fails with its own hint."""

from __future__ import annotations

import boto3
import pytest

from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.testing import check_fails, deploy, deploy_cell, role

BILL = """import math
PRICES = {'x86_64': 0.0000166667, 'arm64': 0.0000133334}
def lambda_handler(event, context):
    billed_ms = math.ceil(event['duration_ms'])
    gb_seconds = event['requests'] * event['memory_mb'] / 1024 * billed_ms / 1000
    requests, billable = event['requests'], gb_seconds
    if event.get('free_tier', False):
        requests = max(0, requests - 1_000_000)
        billable = max(0, gb_seconds - 400_000)
    requests_cost = requests / 1_000_000 * 0.20
    compute_cost = billable * PRICES[event.get('architecture', 'x86_64')]
    return {'gb_seconds': gb_seconds, 'requests_cost': requests_cost,
            'compute_cost': compute_cost, 'total': requests_cost + compute_cost}
"""
FROM_LOGS = """import re
import boto3
PRICES = {'x86_64': 0.0000166667, 'arm64': 0.0000133334}
REPORT = re.compile(r'\\tDuration: ([\\d.]+) ms\\s+Billed Duration: (\\d+) ms\\s+'
                    r'Memory Size: (\\d+) MB')
logs = boto3.client('logs')
def lambda_handler(event, context):
    name = event['function_name']
    config = boto3.client('lambda').get_function_configuration(FunctionName=name)
    architecture = config['Architectures'][0]
    requests, gb_seconds = 0, 0.0
    pages = logs.get_paginator('filter_log_events').paginate(logGroupName='/aws/lambda/' + name)
    for page in pages:
        for log_event in page['events']:
            found = REPORT.search(log_event['message'])
            if found:
                duration, billed, memory = float(found[1]), int(found[2]), int(found[3])
                requests += 1
                gb_seconds += memory / 1024 * billed / 1000
    total = requests / 1_000_000 * 0.20 + gb_seconds * PRICES[architecture]
    return {'requests': requests, 'gb_seconds': gb_seconds, 'total': total}
"""
CHECKS = ["bill_on_x86", "bill_on_arm64", "bill_with_free_tier", "bill_from_reports"]


def _billing_role() -> str:
    """The exercise's billing-role, as its first cell makes it: logs, plus reading functions'
    logs and configuration."""
    return role("billing-role", {"Effect": "Allow", "Resource": "*", "Action": [
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "logs:FilterLogEvents", "lambda:GetFunctionConfiguration"]},
        policy_name="read-logs-and-configuration")


def _from_logs(source: str = FROM_LOGS) -> None:
    """bill-from-logs, deployed as the task's %%lambda cell does, with billing-role."""
    deploy_cell("bill-from-logs", source, Role=_billing_role())


@pytest.fixture
def workloads(sb):
    """What the exercise's first cell deploys: two functions to price, with billing-role,
    invoked a few times."""
    source = "def handler(event, context):\n    return sum(i * i for i in range(event['n']))\n"
    deploy("workload", source, MemorySize=256, Role=_billing_role())
    deploy("workload-arm", source, MemorySize=512, Architectures=["arm64"], Role=_billing_role())
    for name in ("workload", "workload-arm"):
        boto3.client("lambda").invoke(FunctionName=name, Payload=b'{"n": 1000}')
    return sb


def _fails(check: str, hint: str, cls=CheckFailed) -> None:
    check_fails(f"pricing.{check}", hint, cls)


def test_the_solution_passes_every_check(workloads):
    deploy_cell("lambda-bill", BILL)
    _from_logs()
    for name in CHECKS:
        find(f"pricing.{name}")()


@pytest.mark.parametrize("name", CHECKS)
def test_nothing_deployed_is_not_attempted(workloads, name):
    _fails(name, "no function named", NotAttempted)


def test_without_the_workloads_is_not_attempted(sb):
    _from_logs()
    _fails("bill_from_reports", "no function 'workload'", NotAttempted)


def test_a_placeholder_is_not_attempted(sb):
    deploy_cell("lambda-bill",
                "def lambda_handler(event, context):\n    raise NotImplementedError()\n")
    _fails("bill_on_x86", "still raises NotImplementedError", NotAttempted)


@pytest.mark.parametrize("change, hint", [
    (("math.ceil(event['duration_ms'])", "event['duration_ms']"),
     "round each request's duration up"),
    (("math.ceil(event['duration_ms'])", "math.ceil(event['duration_ms'] / 100) * 100"),
     "the rule until November 2020"),
    (("event['memory_mb'] / 1024", "event['memory_mb'] / 1000"), "1,024 MB"),
    (("* billed_ms / 1000", "* billed_ms"), "divide by 1,000 for seconds"),
    (("gb_seconds = event['requests'] * ", "gb_seconds = "), "one request's GB-seconds"),
    (("requests / 1_000_000 * 0.20", "requests * 0.20"), "price of a million requests"),
    (("'total': requests_cost + compute_cost", "'total': round(requests_cost + compute_cost, 2)"),
     "leave the dollars unrounded"),
    (("'total': requests_cost + compute_cost", "'total': compute_cost"),
     "total should be requests_cost \\+ compute_cost"),
    (("event.get('free_tier', False)", "True"), "has no \"free_tier\": true"),
    (("event.get('architecture', 'x86_64')", "event['architecture']"), "may be missing"),
    (("'total':", "'sum':"), "exactly these keys"),
])
def test_bill_on_x86_wrong_answers(sb, change, hint):
    deploy_cell("lambda-bill", BILL.replace(*change))
    _fails("bill_on_x86", hint)


@pytest.mark.parametrize("change, hint", [
    (("PRICES[event.get('architecture', 'x86_64')]", "0.0000166667"), "the other architecture"),
    (("requests_cost = requests / 1_000_000 * 0.20",
      "requests_cost = requests / 1_000_000 * 0.20 * (0.8 if event.get('architecture') == "
      "'arm64' else 1)"), "a request costs the same"),
])
def test_bill_on_arm64_wrong_answers(sb, change, hint):
    deploy_cell("lambda-bill", BILL.replace(*change))
    _fails("bill_on_arm64", hint)


@pytest.mark.parametrize("change, hint", [
    (("max(0, requests - 1_000_000)", "requests - 1_000_000"), "negative"),
    (("max(0, gb_seconds - 400_000)", "gb_seconds - 400_000"), "negative"),
    (("billable = max(0, gb_seconds - 400_000)", "pass"), "400,000 GB-seconds a month too"),
    (("requests = max(0, requests - 1_000_000)", "pass"), "1,000,000 requests a month too"),
    (("'gb_seconds': gb_seconds", "'gb_seconds': billable"), "before the free tier"),
])
def test_bill_with_free_tier_wrong_answers(sb, change, hint):
    deploy_cell("lambda-bill", BILL.replace(*change))
    _fails("bill_with_free_tier", hint)


@pytest.mark.parametrize("change, hint", [
    (("gb_seconds += memory / 1024 * billed / 1000", "gb_seconds += memory / 1024 * duration "
                                                     "/ 1000"), "each line's Duration"),
    (("PRICES[architecture]", "PRICES['x86_64']"), "runs on arm64"),
    (("            if found:\n", "            if True:\n"
                                  "                requests += 1\n"
                                  "            if found:\n"), "number of REPORT lines"),
    (("if found:", "if found and 'never' in log_event['message']:"), "found no REPORT lines"),
    (("memory / 1024", "memory / 1000"), "1,024 MB"),
    (("'/aws/lambda/' + name", "name"), "log group is /aws/lambda/<function name>"),
    (("'total': total", "'cost': total"), "exactly these keys"),
])
def test_bill_from_reports_wrong_answers(workloads, change, hint):
    assert change[0] in FROM_LOGS
    _from_logs(FROM_LOGS.replace(*change))
    _fails("bill_from_reports", hint)
