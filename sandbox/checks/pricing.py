"""Checks for exercises/04-lambda-pricing.ipynb: a function that works out a month's bill (x86,
arm64, the free tier), and one that prices a function's REPORT lines.

The expected figures come from ``sandbox.course.pricing``, the course's single copy of AWS's
prices."""

from __future__ import annotations

import math
import random
from typing import Any

from ..course.pricing import (
    MB_PER_GB,
    US_EAST_1,
    Bill,
    billed_duration_ms,
    function_cost,
    monthly_cost,
)
from ..grading.checks import CheckFailed, NotAttempted, check_function
from ..grading.probes import answered, require_function

HOW = "Deploy it with the %%lambda cell of the task."
BILL_KEYS = {"gb_seconds", "requests_cost", "compute_cost", "total"}
REPORT_KEYS = {"requests", "gb_seconds", "total"}
WORKLOADS = (("workload", 3), ("workload-arm", 2))  # invoked this many times by the check
X86, ARM = US_EAST_1.per_gb_second["x86_64"], US_EAST_1.per_gb_second["arm64"]


def _close(found: Any, expected: float) -> bool:
    return isinstance(found, (int, float)) and not isinstance(found, bool) and \
        math.isclose(found, expected, rel_tol=1e-6, abs_tol=1e-9)


def _keys(payload: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(payload, dict) or set(payload) != keys:
        raise CheckFailed(f"return a dict with exactly these keys: {', '.join(sorted(keys))}.",
                          expected=sorted(keys),
                          found=sorted(payload) if isinstance(payload, dict) else payload)
    return payload


def _expected(bill: Bill) -> dict[str, float]:
    return {"gb_seconds": bill.gb_seconds, "requests_cost": bill.request_cost,
            "compute_cost": bill.compute_cost, "total": bill.total}


def _month(event: dict[str, Any]) -> Bill:
    return monthly_cost(event["requests"], event["memory_mb"], event["duration_ms"],
                        architecture=event.get("architecture", "x86_64"),
                        free_tier=event.get("free_tier", False))


def _rounded(found: Any, expected: float) -> bool:
    return _close(found, round(expected, 2)) and not _close(found, expected)


def _gb_seconds_hint(event: dict[str, Any], found: Any) -> str:
    requests, memory, duration = event["requests"], event["memory_mb"], event["duration_ms"]
    billed = billed_duration_ms(duration)
    mistakes = [
        (requests * memory / MB_PER_GB * duration / 1000,
         "round each request's duration up to the next whole millisecond before multiplying "
         "(math.ceil): Lambda bills 27.55 ms as 28 ms."),
        (requests * memory / MB_PER_GB * billed_duration_ms(duration, 100) / 1000,
         "that rounds durations up to 100 ms, the rule until November 2020: since December "
         "2020 Lambda rounds up to the next 1 ms."),
        (requests * memory / 1000 * billed / 1000,
         "a GB of Lambda memory is 1,024 MB: 512 MB is 0.5 GB."),
        (requests * memory / MB_PER_GB * billed,
         "duration_ms is in milliseconds: divide by 1,000 for seconds."),
        (memory / MB_PER_GB * billed / 1000,
         "that is one request's GB-seconds: multiply by the number of requests."),
    ]
    for value, hint in mistakes:
        if _close(found, value):
            return hint
    return ("gb_seconds should be requests x memory in GB (MB / 1,024) x each request's billed "
            "seconds (its duration rounded up to the next millisecond).")


def _compare_month(event: dict[str, Any], payload: Any) -> None:
    """The function's bill for a month against sandbox.course.pricing's, with a hint for the
    mistake."""
    payload = _keys(payload, BILL_KEYS)
    bill = _month(event)
    expected = _expected(bill)
    show = {"event": event, "returned": payload}
    for key in ("gb_seconds", "requests_cost", "compute_cost", "total"):
        if _close(payload[key], expected[key]):
            continue
        found = payload[key]
        if isinstance(found, (int, float)) and found < 0:
            raise CheckFailed(f"{key} is negative: under the free tier a charge is zero, never "
                              "below (max(0, ...)).", expected=expected, found=show)
        if _rounded(found, expected[key]):
            raise CheckFailed("leave the dollars unrounded: the check compares them to a "
                              "millionth, and a bill of many functions adds them up before "
                              "rounding.", expected=expected, found=show)
        if key == "gb_seconds":
            used_after_free = max(0.0, bill.gb_seconds - US_EAST_1.free_gb_seconds)
            if event.get("free_tier") and _close(found, used_after_free):
                raise CheckFailed("gb_seconds is what the month used, before the free tier: "
                                  "take the free tier off only to work out compute_cost.",
                                  expected=expected, found=show)
            raise CheckFailed(_gb_seconds_hint(event, found), expected=expected, found=show)
        if key == "requests_cost":
            if _close(found, event["requests"] * US_EAST_1.per_million_requests):
                raise CheckFailed("$0.20 is the price of a million requests, not of one.",
                                  expected=expected, found=show)
            full = event["requests"] * US_EAST_1.per_million_requests / 1e6
            if event.get("free_tier") and _close(found, full):
                raise CheckFailed("the free tier covers 1,000,000 requests a month too: take "
                                  "them off before pricing the requests.", expected=expected,
                                  found=show)
            if not event.get("free_tier") and _close(found, max(
                    0, event["requests"] - US_EAST_1.free_requests) * full / event["requests"]):
                raise CheckFailed("the free tier was taken off, but this event has no "
                                  "\"free_tier\": true: take it off only when asked.",
                                  expected=expected, found=show)
            if event.get("architecture") == "arm64" and _close(found, 0.8 * bill.request_cost):
                raise CheckFailed("a request costs the same on both architectures: only the "
                                  "price of a GB-second is lower on arm64.", expected=expected,
                                  found=show)
            raise CheckFailed("requests_cost should be the requests (less the free tier, when "
                              "asked) / 1,000,000 x $0.20.", expected=expected, found=show)
        if key == "compute_cost":
            price = bill.price_per_gb_second
            other = X86 if price == ARM else ARM
            if _close(found, bill.billable_gb_seconds * other):
                arch = event.get("architecture", "x86_64")
                raise CheckFailed(f"that is the price of the other architecture: on {arch} a "
                                  f"GB-second costs ${price:.10f} (arm64 is 20% cheaper).",
                                  expected=expected, found=show)
            if event.get("free_tier") and _close(found, bill.gb_seconds * price):
                raise CheckFailed("the free tier covers 400,000 GB-seconds a month too: take "
                                  "them off before pricing the compute.", expected=expected,
                                  found=show)
            if not event.get("free_tier") and _close(
                    found, max(0.0, bill.gb_seconds - US_EAST_1.free_gb_seconds) * price):
                raise CheckFailed("the free tier was taken off, but this event has no "
                                  "\"free_tier\": true: take it off only when asked.",
                                  expected=expected, found=show)
            raise CheckFailed("compute_cost should be the GB-seconds (less the free tier, when "
                              f"asked) x the architecture's price (${X86:.10f} on x86_64, "
                              f"${ARM:.10f} on arm64).", expected=expected, found=show)
        raise CheckFailed("total should be requests_cost + compute_cost.", expected=expected,
                          found=show)


def _bill_events(events: list[dict[str, Any]]) -> None:
    require_function("lambda-bill", HOW)
    for event in events:
        payload = answered("lambda-bill", event, hints={
            "KeyError": "the function reads a key the event does not have: 'architecture' "
                        "and 'free_tier' may be missing (use event.get(key, default)).",
            "TypeError": "the event's numbers are numbers already (duration_ms may have "
                         "decimals): no conversion needed."}).payload
        _compare_month(event, payload)


def _random_event(**extra: Any) -> dict[str, Any]:
    return {"requests": random.randint(2, 40) * 250_000 + random.randint(1, 999),
            "memory_mb": random.choice([256, 512, 1536, 3008]),
            "duration_ms": random.randint(10, 899) + random.choice([0.25, 0.5, 0.75]), **extra}


@check_function("pricing.bill_on_x86")
def bill_on_x86() -> None:
    """lambda-bill prices a month on x86_64: requests, and GB-seconds billed per 1 ms."""
    _bill_events([
        {"requests": 1_000_000, "memory_mb": 128, "duration_ms": 100},
        {"requests": 60_000_000, "memory_mb": 1024, "duration_ms": 27.55},
        _random_event(),
    ])


@check_function("pricing.bill_on_arm64")
def bill_on_arm64() -> None:
    """lambda-bill prices arm64 GB-seconds 20% lower, and requests the same."""
    _bill_events([
        {"requests": 3_000_000, "memory_mb": 512, "duration_ms": 1000, "architecture": "arm64"},
        _random_event(architecture="arm64"),
        _random_event(architecture="x86_64"),
    ])


@check_function("pricing.bill_with_free_tier")
def bill_with_free_tier() -> None:
    """With "free_tier": true, lambda-bill takes 1M requests and 400,000 GB-s off first."""
    _bill_events([
        {"requests": 3_000_000, "memory_mb": 512, "duration_ms": 1000, "free_tier": True},
        {"requests": 1_000_000, "memory_mb": 128, "duration_ms": 100, "free_tier": True},
        {"requests": 400_000, "memory_mb": 10240, "duration_ms": 120_000,
         "architecture": "arm64", "free_tier": True},
        {"requests": 8_000_000, "memory_mb": 128, "duration_ms": 12.5, "free_tier": True},
        _random_event(free_tier=True),
        _random_event(architecture="arm64", free_tier=False),
    ])


# ---------------------------------------------------------------- task 4: REPORT lines
def _reports_hint(name: str, payload: dict[str, Any], bill: Bill) -> str | None:
    from ..course.pricing import gb_seconds, reports

    found = reports(name)
    if payload["requests"] == 0:
        return (f"the function found no REPORT lines for {name}: read its log group, "
                f"/aws/lambda/{name}, with filter_log_events, and keep the lines that start "
                "with REPORT.")
    if payload["requests"] != bill.requests:
        return ("requests should be the number of REPORT lines, one per invocation (a log "
                "has START, END and REPORT lines for each, and whatever the function printed).")
    if not _close(payload["gb_seconds"], bill.gb_seconds):
        if _close(payload["gb_seconds"], sum(gb_seconds(r.memory_size_mb, r.duration_ms)
                                             for r in found)):
            return ("that prices each line's Duration: Lambda bills its Billed Duration (rounded "
                    "up, and with the INIT phase on a cold start).")
        if _close(payload["gb_seconds"], sum(r.memory_size_mb / 1000 * r.billed_duration_ms
                                             / 1000 for r in found)):
            return "a GB of Lambda memory is 1,024 MB: 256 MB is 0.25 GB."
        return ("gb_seconds should add up, over the REPORT lines, Memory Size in GB (MB / 1,024) "
                "x Billed Duration in seconds.")
    if not _close(payload["total"], bill.total):
        other = X86 if bill.price_per_gb_second == ARM else ARM
        if _close(payload["total"], bill.request_cost + bill.gb_seconds * other):
            return (f"{name} runs on {bill.architecture}, whose GB-second costs "
                    f"${bill.price_per_gb_second:.10f}: read the function's Architectures "
                    "with get_function_configuration.")
        return ("total should be requests x $0.20 per million + gb_seconds x the price of a "
                "GB-second on the function's architecture (no free tier).")
    return None


@check_function("pricing.bill_from_reports")
def bill_from_reports() -> None:
    """bill-from-logs prices a function's REPORT lines as AWS bills them."""
    import boto3

    lam = boto3.client("lambda")
    for name, _ in WORKLOADS:
        try:
            lam.get_function_configuration(FunctionName=name)
        except lam.exceptions.ResourceNotFoundException:
            raise NotAttempted(f"there is no function {name!r}: run the exercise's first cell, "
                               "which deploys it.") from None
    require_function("bill-from-logs", HOW)
    for name, times in WORKLOADS:
        for _ in range(times):
            lam.invoke(FunctionName=name, Payload=b'{"n": %d}' % random.randint(100, 5000))
    for name, _ in WORKLOADS:
        bill = function_cost(name)
        expected = {"requests": bill.requests, "gb_seconds": bill.gb_seconds,
                    "total": bill.total}
        payload = answered("bill-from-logs", {"function_name": name}, hints={
            "KeyError": "the function reads a key the event does not have: the event is "
                        "{'function_name': <name>}.",
            "ResourceNotFoundException": "the function asked for something that does not "
                                         "exist: a function's log group is "
                                         "/aws/lambda/<function name>."},
                           expected=expected).payload
        _keys(payload, REPORT_KEYS)
        if payload["requests"] == bill.requests and _close(payload["gb_seconds"],
                                                           bill.gb_seconds) \
                and _close(payload["total"], bill.total):
            continue
        hint = _reports_hint(name, payload, bill) or "compare with the REPORT lines."
        raise CheckFailed(hint, expected=expected, found={"function_name": name, **payload})
