"""What Lambda costs: AWS's prices in one place, the arithmetic of a bill, and a calculator.

    from sandbox.course import pricing
    print(pricing.monthly_cost(requests=3_000_000, memory_mb=512, duration_ms=1000))
    print(pricing.function_cost("hello"))     # the sandbox's own REPORT lines, priced as on AWS
    pricing.calculator()                      # in a notebook (ipywidgets)

The prices are AWS Lambda's on-demand prices in US East (N. Virginia), first pricing tier: AWS
charges less per GB-second beyond 6 billion GB-seconds a month on x86 (7.5 billion on arm64),
which this module does not model. Everything is plain arithmetic on the figures below, except
``reports()`` and ``function_cost()``, which read a function's REPORT lines from CloudWatch Logs.

AWS Fargate's prices close the module: ``fargate_cost(vcpu, memory_gb, seconds)`` and
``task_cost(task)`` (a stopped task from ``describe_tasks``), to set beside Lambda's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import BadArgumentError

PRICES_TAKEN = "2026-11-27"
PRICES_SOURCE = "https://aws.amazon.com/lambda/pricing/"

ARCHITECTURES = ("x86_64", "arm64")
MB_PER_GB = 1024  # Lambda's GB-second counts memory in GiB: 512 MB is 0.5 GB
MILLION = 1_000_000


@dataclass(frozen=True)
class Prices:
    """Lambda's on-demand prices in one region, and its monthly free tier."""

    region: str
    per_million_requests: float
    per_gb_second: dict[str, float]  # by architecture
    free_requests: int  # every month: Lambda's free tier does not expire
    free_gb_seconds: float

    def __str__(self) -> str:
        lines = [f"AWS Lambda on-demand prices, {self.region} (taken {PRICES_TAKEN} from "
                 f"{PRICES_SOURCE})",
                 f"  requests:  {dollars(self.per_million_requests)} per million"]
        lines += [f"  duration:  ${price:.10f} per GB-second on {architecture}"
                  for architecture, price in self.per_gb_second.items()]
        lines.append(f"  free tier: {self.free_requests:,} requests and "
                     f"{self.free_gb_seconds:,.0f} GB-seconds a month")
        return "\n".join(lines)


US_EAST_1 = Prices(
    region="us-east-1",
    per_million_requests=0.20,
    per_gb_second={"x86_64": 0.0000166667, "arm64": 0.0000133334},
    free_requests=1_000_000,
    free_gb_seconds=400_000,
)


@dataclass(frozen=True)
class Billing:
    """How Lambda turned a run into billed milliseconds, in one period of its history."""

    name: str
    granularity_ms: int  # a run is rounded up to a multiple of this
    init_billed: bool  # whether a cold start's INIT phase counts too


# Lambda launched in 2014 billing in 100 ms increments; 1 ms increments from December 2020
# (aws.amazon.com/blogs/aws/new-for-aws-lambda-1ms-billing-granularity-adds-cost-savings/); the
# INIT phase of on-demand functions packaged as zip files with a managed runtime is billed since
# 1 August 2025 (aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/).
BILLING_2014 = Billing("2014 to November 2020: 100 ms increments", 100, False)
BILLING_2020 = Billing("December 2020 to July 2025: 1 ms increments", 1, False)
BILLING_2025 = Billing("since August 2025: 1 ms increments, INIT billed", 1, True)
BILLING_PERIODS = (BILLING_2014, BILLING_2020, BILLING_2025)


# ---------------------------------------------------------------- the arithmetic
def billed_duration_ms(duration_ms: float, granularity_ms: int = 1) -> int:
    """A run's duration rounded up to the billing granularity (at least one increment)."""
    # round() first: 0.3 / 0.1 is 2.9999999999999996 in floating point, not 3
    increments = math.ceil(round(duration_ms / granularity_ms, 6))
    return max(1, increments) * granularity_ms


def gb_seconds(memory_mb: float, billed_ms: float) -> float:
    """Memory (in GB) times billed time (in seconds): Lambda's unit of compute."""
    return memory_mb / MB_PER_GB * billed_ms / 1000


@dataclass(frozen=True)
class Bill:
    """What a number of requests and GB-seconds cost, the free tier taken off first."""

    requests: int
    gb_seconds: float
    architecture: str = "x86_64"
    free_tier: bool = True
    prices: Prices = US_EAST_1
    how: str = ""  # how the GB-seconds came about, for the itemised bill

    @property
    def free_requests(self) -> int:
        return min(self.requests, self.prices.free_requests) if self.free_tier else 0

    @property
    def free_gb_seconds(self) -> float:
        return min(self.gb_seconds, self.prices.free_gb_seconds) if self.free_tier else 0.0

    @property
    def billable_requests(self) -> int:
        return self.requests - self.free_requests

    @property
    def billable_gb_seconds(self) -> float:
        return self.gb_seconds - self.free_gb_seconds

    @property
    def price_per_gb_second(self) -> float:
        return self.prices.per_gb_second[self.architecture]

    @property
    def request_cost(self) -> float:
        return self.billable_requests * self.prices.per_million_requests / MILLION

    @property
    def compute_cost(self) -> float:
        return self.billable_gb_seconds * self.price_per_gb_second

    @property
    def total(self) -> float:
        return self.request_cost + self.compute_cost

    def __str__(self) -> str:
        price = f"${self.price_per_gb_second:.10f}".rstrip("0")
        rows: list[tuple[str, str, float | None]] = [
            ("Requests", f"{self.requests:,} request{'' if self.requests == 1 else 's'}", None)]
        if self.free_tier:
            rows.append(("", f"- {self.free_requests:,} free = {self.billable_requests:,}", None))
        rows.append(("", f"x {dollars(self.prices.per_million_requests)} per million",
                     self.request_cost))
        compute = f"{_amount(self.gb_seconds)} GB-s"
        rows.append(("Compute", f"{self.how} = {compute}" if self.how else compute, None))
        if self.free_tier:
            rows.append(("", f"- {_amount(self.free_gb_seconds)} free = "
                             f"{_amount(self.billable_gb_seconds)} GB-s", None))
        rows.append(("", f"x {price} per GB-s ({self.architecture})", self.compute_cost))
        rows.append(("Total", "", self.total))
        width = max(len(text) for _, text, _ in rows)
        lines = []
        for label, text, amount in rows:
            line = f"{label:<9}{text:<{width}}"
            if amount is not None:
                line += f"  {dollars(amount):>10}"
            lines.append(line.rstrip())
        return "\n".join(lines)


def monthly_cost(requests: int, memory_mb: float, duration_ms: float, *,
                 architecture: str = "x86_64", granularity_ms: int = 1, free_tier: bool = True,
                 prices: Prices = US_EAST_1) -> Bill:
    """A month of ``requests`` invocations, each running ``duration_ms`` at ``memory_mb``."""
    _check_architecture(architecture, prices)
    billed = billed_duration_ms(duration_ms, granularity_ms)
    total_gb_seconds = requests * gb_seconds(memory_mb, billed)
    how = f"{requests:,} x {billed:,} ms x {memory_mb:,} MB"
    return Bill(requests, total_gb_seconds, architecture, free_tier, prices, how)


# ---------------------------------------------------------------- REPORT lines
_REPORT = re.compile(
    r"REPORT RequestId: (?P<request_id>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>\d+) ms\s+Memory Size: (?P<memory>\d+) MB\s+"
    r"Max Memory Used: (?P<used>\d+) MB(?:\s+Init Duration: (?P<init>[\d.]+) ms)?"
    r"(?:\s+Status: (?P<status>\w+))?")


@dataclass(frozen=True)
class Report:
    """One invocation's REPORT line, the platform's summary of what it used."""

    request_id: str
    duration_ms: float
    billed_duration_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None  # only on a cold start
    status: str | None = None  # "timeout" or "error" when the platform ended the invocation

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None

    def billed_ms(self, billing: Billing | None = None) -> int:
        """The billed duration: as the line reports it, or as ``billing`` would have billed it."""
        if billing is None:
            return self.billed_duration_ms
        run = self.duration_ms
        if billing.init_billed and self.init_duration_ms is not None:
            run += self.init_duration_ms
        return billed_duration_ms(run, billing.granularity_ms)


def parse_report(line: str) -> Report | None:
    """The fields of a REPORT log line; None when the line is not one."""
    found = _REPORT.search(line)
    if found is None:
        return None
    init = found["init"]
    return Report(found["request_id"], float(found["duration"]), int(found["billed"]),
                  int(found["memory"]), int(found["used"]),
                  float(init) if init is not None else None, found["status"])


def reports(function_name: str) -> list[Report]:
    """Every REPORT line in the function's log group (CloudWatch Logs), oldest first."""
    import boto3

    logs = boto3.client("logs")
    events = []
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{function_name}", filterPattern='"REPORT RequestId"')
    for page in pages:
        events += page["events"]
    events.sort(key=lambda event: event["timestamp"])
    found = (parse_report(event["message"]) for event in events)
    return [report for report in found if report is not None]


def cost_of_reports(found: Iterable[Report], *, architecture: str = "x86_64",
                    billing: Billing | None = None, free_tier: bool = False,
                    prices: Prices = US_EAST_1) -> Bill:
    """What these invocations cost: one request each, plus their billed GB-seconds.

    ``billing=None`` takes each line's own Billed Duration (what AWS bills today); a ``Billing``
    recomputes it as Lambda billed in that period. The free tier is off by default: a handful of
    invocations is a small part of a month's usage, not all of it.
    """
    _check_architecture(architecture, prices)
    found = list(found)
    total = sum(gb_seconds(report.memory_size_mb, report.billed_ms(billing)) for report in found)
    return Bill(len(found), total, architecture, free_tier, prices)


def function_cost(function_name: str, *, billing: Billing | None = None,
                  architecture: str | None = None, free_tier: bool = False,
                  prices: Prices = US_EAST_1) -> Bill:
    """What a function's invocations so far would have cost on AWS, from its REPORT lines.

    The architecture is the function's own unless given.
    """
    if architecture is None:
        import boto3

        configuration = boto3.client("lambda").get_function_configuration(
            FunctionName=function_name)
        architecture = (configuration.get("Architectures") or ["x86_64"])[0]
    return cost_of_reports(reports(function_name), architecture=architecture, billing=billing,
                           free_tier=free_tier, prices=prices)


# ---------------------------------------------------------------- formatting
def dollars(amount: float) -> str:
    """Cents for a bill; enough digits to see a fraction of a cent."""
    if amount == 0 or abs(amount) >= 0.01:
        return f"${amount:,.2f}"
    digits = 1 - math.floor(math.log10(abs(amount)))  # two significant digits
    return f"${amount:.{digits}f}"


def _amount(value: float) -> str:
    if value == int(value) or value >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.4g}" if value < 1 else f"{value:,.2f}"


def _compact(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _check_architecture(architecture: str, prices: Prices) -> None:
    if architecture not in prices.per_gb_second:
        known = " or ".join(repr(name) for name in prices.per_gb_second)
        raise BadArgumentError(f"Lambda has no architecture {architecture!r}: use {known}.")


# ---------------------------------------------------------------- the chart
COLOURS = {"x86_64": "#c2410c", "arm64": "#1d4ed8"}
_WIDTH, _HEIGHT = 600, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 80, 20, 56, 50


def _nice_step(largest: float, ticks: int = 5) -> float:
    raw = largest / ticks
    magnitude: float = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def _dollar_tick(value: float, step: float) -> str:
    if value >= 10_000:
        return "$" + _compact(value)
    magnitude = math.floor(math.log10(step))
    decimals = max(0, -magnitude + (1 if round(step / 10 ** magnitude, 6) == 2.5 else 0))
    return f"${value:,.{decimals}f}"


@dataclass(frozen=True)
class Chart:
    """A chart as SVG text: notebooks draw it, and it needs no plotting library."""

    svg: str
    title: str

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<Chart: {self.title}>"


def cost_chart(memory_mb: float, duration_ms: float, requests: int, *,
               architecture: str = "x86_64", granularity_ms: int = 1, free_tier: bool = True,
               prices: Prices = US_EAST_1) -> Chart:
    """Monthly cost against requests a month, on each architecture, with this month marked."""
    _check_architecture(architecture, prices)
    top_requests = max(2 * requests, 10)
    samples = [top_requests * i / 100 for i in range(101)]

    def cost(count: float, arch: str) -> float:
        return monthly_cost(int(count), memory_mb, duration_ms, architecture=arch,
                            granularity_ms=granularity_ms, free_tier=free_tier,
                            prices=prices).total

    curves = {arch: [cost(count, arch) for count in samples] for arch in prices.per_gb_second}
    largest = max(max(values) for values in curves.values())
    y_step = _nice_step(largest) if largest > 0 else 0.01
    y_top = math.ceil(largest / y_step) * y_step if largest > 0 else 5 * y_step
    x_step = _nice_step(top_requests)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x(count: float) -> float:
        return _LEFT + plot_w * count / top_requests

    def y(dollars_: float) -> float:
        return _TOP + plot_h * (1 - dollars_ / y_top)

    title = "Monthly cost against requests a month"
    subtitle = (f"{memory_mb:,} MB, {duration_ms:,g} ms per request, billed in {granularity_ms} ms "
                f"increments, {'after' if free_tier else 'without'} the free tier")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{title}: {subtitle}</title>",
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="white"/>',
        f'<text x="{_LEFT}" y="18" font-size="14" font-weight="bold">{title}</text>',
        f'<text x="{_LEFT}" y="36" font-size="11" fill="#374151">{subtitle}</text>',
    ]
    tick = 0.0
    while tick <= y_top + y_step / 1000:
        parts.append(f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f"{_dollar_tick(tick, y_step)}</text>")
        tick += y_step
    tick = 0.0
    while tick <= top_requests + x_step / 1000:
        parts.append(f'<text x="{x(tick):.1f}" y="{_HEIGHT - _BOTTOM + 16}" '
                     f'text-anchor="middle">{_compact(tick)}</text>')
        tick += x_step
    parts += [
        f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{_HEIGHT - _BOTTOM}" '
        f'y2="{_HEIGHT - _BOTTOM}" stroke="#374151"/>',
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_HEIGHT - _BOTTOM}" '
        f'stroke="#374151"/>',
        f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 10}" text-anchor="middle">'
        "requests a month</text>",
    ]
    for index, (arch, values) in enumerate(curves.items()):
        points = " ".join(f"{x(count):.1f},{y(value):.1f}"
                          for count, value in zip(samples, values, strict=True))
        width = 3 if arch == architecture else 1.5
        parts.append(f'<polyline points="{points}" fill="none" stroke="{COLOURS.get(arch, "#000")}"'
                     f' stroke-width="{width}"/>')
        legend_y = _TOP + 8 + 16 * index
        parts.append(f'<line x1="{_LEFT + 10}" x2="{_LEFT + 34}" y1="{legend_y}" y2="{legend_y}" '
                     f'stroke="{COLOURS.get(arch, "#000")}" stroke-width="{width}"/>')
        parts.append(f'<text x="{_LEFT + 40}" y="{legend_y + 4}">{arch}</text>')
    here = cost(requests, architecture)
    parts += [
        f'<circle cx="{x(requests):.1f}" cy="{y(here):.1f}" r="5" '
        f'fill="{COLOURS.get(architecture, "#000")}"/>',
        f'<text x="{x(requests) - 8:.1f}" y="{y(here) - 10:.1f}" text-anchor="end">'
        f"{_compact(requests)} requests: {dollars(here)} a month</text>",
        "</svg>",
    ]
    return Chart("\n".join(parts), f"{title}: {subtitle}")


# ---------------------------------------------------------------- the calculator
def _steps(value: float, low: int, high: int) -> list[tuple[str, float]]:
    """A slider's stops from low to high: 1, 2, 3 and 5 times each power of ten, and value."""
    stops = {mantissa * 10 ** power for power in range(len(str(high)))
             for mantissa in (1, 2, 3, 5)}
    stops = {stop for stop in stops if low <= stop <= high} | {high, value}
    return [(f"{stop:,.0f}" if float(stop).is_integer() else f"{stop:,}", stop)
            for stop in sorted(stops)]


def calculator(memory_mb: int = 512, duration_ms: float = 1000, requests: int = 3_000_000, *,
               architecture: str = "x86_64", granularity_ms: int = 1,
               free_tier: bool = True) -> Any:
    """An ipywidgets calculator: move a control and the bill and its chart follow."""
    import ipywidgets as widgets  # imported here: `import sandbox` stays light

    # Every control has the same label column and width, so that they line up, and labels
    # wide enough not to be cut ("1 ms (since Dec 2020)", "Take off the free tier").
    style = {"description_width": "170px"}
    layout = widgets.Layout(width="620px")
    controls = {
        "memory_mb": widgets.IntSlider(
            value=memory_mb, min=128, max=10240, step=64, description="Memory (MB)",
            style=style, layout=layout),
        # Steps rather than a log slider: a log slider snaps its exponent in the browser, so
        # 3,000,000 came back as 3,162,278 and the opening bill differed from the worked
        # example it follows. These are exact, and the value asked for is always among them.
        "duration_ms": widgets.SelectionSlider(
            options=_steps(duration_ms, 1, 900_000), value=duration_ms,
            description="Average duration (ms)", style=style, layout=layout),
        "requests": widgets.SelectionSlider(
            options=_steps(requests, 1_000, 10_000_000_000), value=requests,
            description="Requests a month", style=style, layout=layout),
        "architecture": widgets.ToggleButtons(
            options=list(ARCHITECTURES), value=architecture, description="Architecture",
            style={**style, "button_width": "200px"}, layout=layout),
        "granularity_ms": widgets.ToggleButtons(
            options=[("1 ms (since Dec 2020)", 1), ("100 ms (2014-2020)", 100)],
            value=granularity_ms, description="Billing increments",
            style={**style, "button_width": "200px"}, layout=layout),
        # indent: the box sits under the sliders, its label to its right with room to spare
        "free_tier": widgets.Checkbox(value=free_tier, description="Take off the free tier",
                                      indent=True, style=style, layout=layout),
    }
    result = widgets.HTML()

    def update(*_: Any) -> None:
        values = {name: control.value for name, control in controls.items()}
        bill = monthly_cost(values["requests"], values["memory_mb"], values["duration_ms"],
                            architecture=values["architecture"],
                            granularity_ms=values["granularity_ms"],
                            free_tier=values["free_tier"])
        chart = cost_chart(values["memory_mb"], values["duration_ms"], values["requests"],
                           architecture=values["architecture"],
                           granularity_ms=values["granularity_ms"],
                           free_tier=values["free_tier"])
        result.value = f"<pre>{bill}</pre>{chart.svg}"

    for control in controls.values():
        control.observe(update, names="value")
    update()

    class Calculator(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no types
        def __repr__(self) -> str:  # what a notebook shows where widgets are not drawn
            return "Lambda cost calculator (run the cell in JupyterLab to use it)"

    return Calculator([*controls.values(), result])


# ---------------------------------------------------------------- AWS Fargate
# AWS Fargate's on-demand prices for Amazon ECS tasks in US East (N. Virginia), Linux, taken
# from FARGATE_PRICES_SOURCE: per vCPU-hour and per GB-hour of the task's size (cpu, memory),
# billed per second from the moment the image starts to download until the task terminates,
# with a one-minute minimum; 20 GB of ephemeral storage are included, more is billed per
# GB-hour. Fargate has no free tier. Spot and Savings Plans prices are not modelled. (The page
# draws its table with a script: the figures were read from copies of it, vantage.sh's "AWS
# Fargate Pricing Explained" and factualminds.com's 2026 guide, which agree.)
FARGATE_PRICES_SOURCE = "https://aws.amazon.com/fargate/pricing/"
FARGATE_PRICES_TAKEN = "2026-12-06"
FARGATE_MINIMUM_SECONDS = 60
FARGATE_INCLUDED_STORAGE_GB = 20
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class FargatePrices:
    """Fargate's on-demand prices (Linux) in one region, by CPU architecture."""

    region: str
    per_vcpu_hour: dict[str, float]
    per_gb_hour: dict[str, float]
    per_storage_gb_hour: float  # ephemeral storage beyond the 20 GB included

    def __str__(self) -> str:
        lines = [f"AWS Fargate on-demand prices (Linux), {self.region} (taken "
                 f"{FARGATE_PRICES_TAKEN} from {FARGATE_PRICES_SOURCE})"]
        lines += [f"  {architecture}: ${self.per_vcpu_hour[architecture]} per vCPU-hour, "
                  f"${self.per_gb_hour[architecture]} per GB-hour"
                  for architecture in self.per_vcpu_hour]
        lines.append(f"  ephemeral storage beyond {FARGATE_INCLUDED_STORAGE_GB} GB: "
                     f"${self.per_storage_gb_hour} per GB-hour")
        lines.append(f"  billed per second, at least {FARGATE_MINIMUM_SECONDS} s a task; "
                     "no free tier")
        return "\n".join(lines)


FARGATE_US_EAST_1 = FargatePrices(
    region="us-east-1",
    per_vcpu_hour={"x86_64": 0.04048, "arm64": 0.03238},
    per_gb_hour={"x86_64": 0.004445, "arm64": 0.00356},
    per_storage_gb_hour=0.000111,
)


def _fine(amount: float) -> str:
    """Dollars to a hundredth of a cent under $1 (a task's bill is often a few cents)."""
    return f"${amount:.4f}" if abs(amount) < 1 else dollars(amount)


def fargate_billed_seconds(seconds: float) -> int:
    """A task's run rounded up to the second, at least Fargate's one-minute minimum."""
    return max(FARGATE_MINIMUM_SECONDS, math.ceil(round(seconds, 6)))


@dataclass(frozen=True)
class FargateBill:
    """What Fargate tasks of one size cost for a run of ``seconds`` each."""

    vcpu: float
    memory_gb: float
    seconds: float
    architecture: str = "x86_64"
    ephemeral_storage_gb: float = FARGATE_INCLUDED_STORAGE_GB
    tasks: int = 1
    prices: FargatePrices = FARGATE_US_EAST_1

    @property
    def billed_seconds(self) -> int:
        return fargate_billed_seconds(self.seconds)

    @property
    def hours(self) -> float:
        """Billed task-hours, every task counted."""
        return self.tasks * self.billed_seconds / SECONDS_PER_HOUR

    @property
    def vcpu_cost(self) -> float:
        return self.vcpu * self.hours * self.prices.per_vcpu_hour[self.architecture]

    @property
    def memory_cost(self) -> float:
        return self.memory_gb * self.hours * self.prices.per_gb_hour[self.architecture]

    @property
    def storage_cost(self) -> float:
        extra = max(0.0, self.ephemeral_storage_gb - FARGATE_INCLUDED_STORAGE_GB)
        return extra * self.hours * self.prices.per_storage_gb_hour

    @property
    def total(self) -> float:
        return self.vcpu_cost + self.memory_cost + self.storage_cost

    def __str__(self) -> str:
        count = f"{self.tasks:,} task{'' if self.tasks == 1 else 's'} x "
        lines = [f"Fargate ({self.architecture}): {count}{self.vcpu:g} vCPU, "
                 f"{self.memory_gb:g} GB for {self.seconds:,.0f} s "
                 f"(billed {self.billed_seconds:,} s each)",
                 f"  vCPU:    {_amount(self.vcpu * self.hours)} vCPU-hours x "
                 f"${self.prices.per_vcpu_hour[self.architecture]} = "
                 f"{_fine(self.vcpu_cost)}",
                 f"  memory:  {_amount(self.memory_gb * self.hours)} GB-hours x "
                 f"${self.prices.per_gb_hour[self.architecture]} = "
                 f"{_fine(self.memory_cost)}"]
        if self.storage_cost:
            lines.append(f"  storage: {self.ephemeral_storage_gb - FARGATE_INCLUDED_STORAGE_GB:g}"
                         f" GB beyond {FARGATE_INCLUDED_STORAGE_GB} GB = "
                         f"{_fine(self.storage_cost)}")
        lines.append(f"  total:   {_fine(self.total)}")
        return "\n".join(lines)


def fargate_cost(vcpu: float, memory_gb: float, seconds: float, *,
                 architecture: str = "x86_64", ephemeral_storage_gb: float = 20,
                 tasks: int = 1, prices: FargatePrices = FARGATE_US_EAST_1) -> FargateBill:
    """What ``tasks`` Fargate tasks of ``vcpu`` vCPUs and ``memory_gb`` GB cost for
    ``seconds`` each (``vcpu=0.25, memory_gb=0.5`` is the task size cpu 256, memory 512)."""
    if architecture not in prices.per_vcpu_hour:
        known = " or ".join(repr(name) for name in prices.per_vcpu_hour)
        raise BadArgumentError(f"Fargate has no architecture {architecture!r}: use {known}.")
    if vcpu <= 0 or memory_gb <= 0 or seconds < 0 or tasks < 1:
        raise BadArgumentError(
            f"a Fargate task needs vCPUs and memory above 0, a run of 0 seconds or more and "
            f"at least one task; got vcpu={vcpu!r}, memory_gb={memory_gb!r}, "
            f"seconds={seconds!r}, tasks={tasks!r}.")
    return FargateBill(vcpu, memory_gb, seconds, architecture, ephemeral_storage_gb, tasks,
                       prices)


def task_cost(task: dict[str, Any], *, architecture: str = "x86_64") -> FargateBill:
    """What a stopped Fargate task (one of ``describe_tasks()["tasks"]``) costs: its size
    (``cpu`` units / 1024 vCPUs, ``memory`` MiB / 1024 GB) for the time from ``pullStartedAt``
    (``createdAt`` when the image was never pulled) to ``stoppedAt``."""
    if "stoppedAt" not in task:
        raise BadArgumentError(
            f"task {task.get('taskArn', '?')} has not stopped (lastStatus "
            f"{task.get('lastStatus')!r}): Fargate bills until the task stops. Wait for "
            "STOPPED (describe_tasks) and try again.")
    began = task.get("pullStartedAt") or task["createdAt"]
    seconds = (task["stoppedAt"] - began).total_seconds()
    storage = (task.get("ephemeralStorage") or {}).get("sizeInGiB",
                                                        FARGATE_INCLUDED_STORAGE_GB)
    return fargate_cost(int(task["cpu"]) / 1024, int(task["memory"]) / 1024, seconds,
                        architecture=architecture, ephemeral_storage_gb=float(storage))
