"""Lambda pricing (sandbox/pricing.py), against AWS's own worked examples.

Sources: the AWS Lambda pricing page (aws.amazon.com/lambda/pricing/), its Example 1 as the page
showed it while the price was quoted as $0.00001667 per GB-s; and the AWS News Blog post "New for
AWS Lambda - 1ms Billing Granularity Adds Cost Savings" (December 2020), whose example and REPORT
lines are reproduced below.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import boto3
import pytest

from sandbox.course import pricing
from sandbox.course.pricing import (
    BILLING_2014,
    BILLING_2020,
    BILLING_2025,
    US_EAST_1,
    Prices,
    billed_duration_ms,
    monthly_cost,
    parse_report,
)
from sandbox.testing import deploy

BLOG_REPORT_100_MS = ("REPORT RequestId: 35a7e0cb-4902-490d-b8d3-eb315dded660  Duration: 27.40 ms"
                      "  Billed Duration: 100 ms Memory Size: 1024 MB  Max Memory Used: 472 MB")
BLOG_REPORT_1_MS = ("REPORT RequestId: a24d03b5-429d-4ca3-a490-878a52a0182f  Duration: 27.55 ms"
                    "  Billed Duration: 28 ms Memory Size: 1024 MB  Max Memory Used: 472 MB")
COLD_REPORT = ("REPORT RequestId: 4db5c99b-5d53-4f25-b122-776b30f07c6a\tDuration: 27.55 ms\t"
               "Billed Duration: 85 ms\tMemory Size: 128 MB\tMax Memory Used: 47 MB\t"
               "Init Duration: 56.57 ms\t")


# ---------------------------------------------------------------- the prices
def test_prices_are_aws_us_east_1_with_their_date_and_source():
    assert US_EAST_1.per_million_requests == 0.20
    assert US_EAST_1.per_gb_second == {"x86_64": 0.0000166667, "arm64": 0.0000133334}
    assert (US_EAST_1.free_requests, US_EAST_1.free_gb_seconds) == (1_000_000, 400_000)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", pricing.PRICES_TAKEN)
    assert pricing.PRICES_SOURCE == "https://aws.amazon.com/lambda/pricing/"
    assert "taken" in str(US_EAST_1) and pricing.PRICES_SOURCE in str(US_EAST_1)


def test_arm64_costs_a_fifth_less_per_gb_second_and_the_same_per_request():
    x86 = monthly_cost(5_000_000, 1024, 200, free_tier=False)
    arm = monthly_cost(5_000_000, 1024, 200, architecture="arm64", free_tier=False)
    assert arm.request_cost == x86.request_cost
    assert arm.compute_cost / x86.compute_cost == pytest.approx(0.8, abs=1e-5)


# ---------------------------------------------------------------- AWS's worked examples
def test_pricing_page_example_1_at_the_price_it_quoted():
    # 512 MB, 3 million invocations a month, 1 s each: 1,500,000 GB-s, less 400,000 free, at
    # $0.00001667 = $18.34; 2M billable requests = $0.40; $18.74 a month.
    then = Prices("us-east-1", 0.20, {"x86_64": 0.00001667}, 1_000_000, 400_000)
    bill = monthly_cost(3_000_000, 512, 1000, prices=then)
    assert bill.gb_seconds == 1_500_000
    assert bill.billable_gb_seconds == 1_100_000
    assert bill.billable_requests == 2_000_000
    assert round(bill.compute_cost, 2) == 18.34
    assert round(bill.request_cost, 2) == 0.40
    assert round(bill.total, 2) == 18.74


def test_pricing_page_example_1_at_todays_price():
    bill = monthly_cost(3_000_000, 512, 1000)
    assert round(bill.compute_cost, 2) == 18.33  # 1,100,000 x $0.0000166667
    assert round(bill.total, 2) == 18.73


def test_one_ms_billing_blog_example():
    # 60 million invocations of 28 ms at 1 GB, free tier left out: requests $12; compute $100
    # when rounded up to 100 ms, $28 at 1 ms; "$40 than before ($112)".
    before = monthly_cost(60_000_000, 1024, 28, granularity_ms=100, free_tier=False)
    after = monthly_cost(60_000_000, 1024, 28, granularity_ms=1, free_tier=False)
    assert round(before.request_cost, 2) == round(after.request_cost, 2) == 12.00
    assert round(before.compute_cost, 2) == 100.00
    assert round(after.compute_cost, 2) == 28.00
    assert (round(before.total, 2), round(after.total, 2)) == (112.00, 40.00)


def test_blog_report_lines_are_read_and_billed_as_in_each_period():
    old, new = parse_report(BLOG_REPORT_100_MS), parse_report(BLOG_REPORT_1_MS)
    assert old is not None and new is not None
    assert (old.duration_ms, old.billed_duration_ms, old.memory_size_mb) == (27.40, 100, 1024)
    assert old.max_memory_used_mb == 472 and not old.cold
    assert new.billed_ms() == 28  # what the line says
    assert old.billed_ms(BILLING_2014) == 100
    assert old.billed_ms(BILLING_2020) == 28
    assert new.billed_ms(BILLING_2020) == 28


# ---------------------------------------------------------------- the rules
@pytest.mark.parametrize("duration, granularity, billed", [
    (27.55, 1, 28), (28.0, 1, 28), (0.3, 1, 1), (0.0, 1, 1),
    (27.4, 100, 100), (100.0, 100, 100), (100.01, 100, 200), (300.0, 100, 300),
    (0.3 * 1000, 100, 300),
])
def test_duration_is_rounded_up_to_the_granularity(duration, granularity, billed):
    assert billed_duration_ms(duration, granularity) == billed


def test_init_is_billed_on_a_cold_start_since_august_2025_only():
    cold = parse_report(COLD_REPORT)
    assert cold is not None and cold.cold and cold.init_duration_ms == 56.57
    assert cold.billed_ms() == 85
    assert cold.billed_ms(BILLING_2025) == 85  # 27.55 + 56.57 = 84.12, rounded up
    assert cold.billed_ms(BILLING_2020) == 28  # the INIT phase was free
    assert cold.billed_ms(BILLING_2014) == 100


def test_a_platform_status_is_read():
    line = ("REPORT RequestId: 58dec821-b8cb-4825-9b61-0119d9192c25\tDuration: 1000.00 ms\t"
            "Billed Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 21 MB\t"
            "Status: timeout")
    report = parse_report(line)
    assert report is not None and report.status == "timeout" and report.billed_ms() == 1000
    assert parse_report("START RequestId: 58dec821 Version: $LATEST") is None


def test_the_free_tier_comes_off_first():
    inside = monthly_cost(1_000_000, 128, 100)
    assert inside.total == 0
    assert (inside.free_requests, inside.billable_requests) == (1_000_000, 0)
    # 3M x 200 ms x 0.5 GB = 300,000 GB-s: all free; 2M requests are not
    bill = monthly_cost(3_000_000, 512, 200)
    assert bill.compute_cost == 0 and round(bill.request_cost, 2) == 0.40
    assert monthly_cost(3_000_000, 512, 200, free_tier=False).compute_cost > 0


def test_an_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="'x86_64' or 'arm64'"):
        monthly_cost(1, 128, 1, architecture="arm")


def test_itemised_bill_and_dollars():
    text = str(monthly_cost(3_000_000, 512, 1000))
    assert "1,100,000 GB-s" in text and text.splitlines()[-1].endswith("$18.73")
    assert pricing.dollars(18.734) == "$18.73"
    assert pricing.dollars(0.0002) == "$0.00020"
    assert pricing.dollars(0) == "$0.00"


# ---------------------------------------------------------------- the sandbox's REPORT lines
def test_a_functions_report_lines_are_priced(sb):
    deploy("priced", "def handler(event, context):\n    return 1\n", MemorySize=256,
           Architectures=["arm64"])
    lam = boto3.client("lambda")
    for _ in range(3):
        lam.invoke(FunctionName="priced")
    found = pricing.reports("priced")
    assert len(found) == 3
    assert [report.cold for report in found] == [True, False, False]
    assert {report.memory_size_mb for report in found} == {256}
    bill = pricing.function_cost("priced")
    assert bill.architecture == "arm64" and bill.requests == 3 and not bill.free_tier
    expected = sum(report.billed_duration_ms for report in found) * 256 / 1024 / 1000
    assert bill.gb_seconds == pytest.approx(expected)
    then = pricing.function_cost("priced", billing=BILLING_2014)
    assert then.gb_seconds == pytest.approx(3 * 0.1 * 0.25)


# ---------------------------------------------------------------- chart and calculator
def test_cost_chart_is_svg_and_deterministic():
    chart = pricing.cost_chart(512, 1000, 3_000_000)
    root = ElementTree.fromstring(chart.svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 2
    assert "3M requests: $18.73 a month" in chart.svg
    assert chart.svg == pricing.cost_chart(512, 1000, 3_000_000).svg
    assert chart._repr_svg_() == chart.svg and "0x" not in repr(chart)


def test_calculator_follows_its_controls():
    box = pricing.calculator()
    *controls, result = box.children
    assert "$18.73" in result.value
    architecture = next(c for c in controls if c.description == "Architecture")
    architecture.value = "arm64"
    assert "(arm64)" in result.value and "$18.73" not in result.value
    assert repr(box).startswith("Lambda cost calculator")  # not a page of widget reprs


def test_calculator_opens_on_the_worked_example_exactly():
    # the browser can only show a slider's stops: a value between two would be moved to one
    box = pricing.calculator()
    *controls, result = box.children
    by_label = {c.description: c for c in controls}
    requests, duration = by_label["Requests a month"], by_label["Average duration (ms)"]
    assert requests.value == 3_000_000 and ("3,000,000", 3_000_000) in requests.options
    assert duration.value == 1000 and ("1,000", 1000) in duration.options
    assert "Total" in result.value and "$18.73</pre>" in result.value
    other = pricing.calculator(requests=1_234_567, duration_ms=27.55)
    assert ("1,234,567", 1_234_567) in other.children[2].options
    assert ("27.55", 27.55) in other.children[1].options
    assert [v for _, v in requests.options] == sorted(v for _, v in requests.options)


def test_calculator_controls_line_up():
    *controls, _ = pricing.calculator().children
    assert {c.style.description_width for c in controls} == {"170px"}
    assert len({c.layout.width for c in controls}) == 1
    buttons = [c for c in controls if hasattr(c.style, "button_width")]
    assert buttons and all(c.style.button_width == "200px" for c in buttons)


def test_pricing_imports_neither_ipywidgets_nor_boto3():
    code = ("import sys, sandbox.course.pricing; "
            "print([m for m in ('ipywidgets', 'boto3', 'IPython') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
