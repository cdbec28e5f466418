"""Lambda's CloudWatch metrics, published from real invocations (namespace ``AWS/Lambda``).

As AWS documents them (docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html):
invocation metrics are binary per invocation, read with the Sum statistic: ``Invocations`` 1 for
every invocation that ran the function's code (success or function error; not a throttled
request), ``Errors`` 1 for a function error (an exception, a timeout, a crash) and 0 otherwise,
``Throttles`` 1 for a request refused for concurrency; ``Duration`` the REPORT line's duration in
milliseconds; ``ConcurrentExecutions`` the environments busy when an invocation starts, read with
Maximum. Error metrics carry the time the function was invoked, not the time it failed.

Each datum is published under the dimension sets Lambda uses: none (the account's aggregate),
``FunctionName``, ``FunctionName`` + ``Resource`` (``name:qualifier`` when a version or alias was
invoked), and, for an alias, ``FunctionName`` + ``Resource`` + ``ExecutedVersion``.
``ConcurrentExecutions`` has no version or alias dimensions. Other services' paths (the
asynchronous queue, event source mappings) publish their own metrics through :func:`publish`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

NAMESPACE = "AWS/Lambda"
_lock = threading.Lock()  # invocations end on many threads


def _dimension_sets(fn: Any, invoked_arn: str | None, executed_version: str | None,
                    per_version: bool) -> list[list[dict[str, str]]]:
    name = fn.function_name
    sets: list[list[dict[str, str]]] = [[], [{"Name": "FunctionName", "Value": name}]]
    if not per_version:
        return sets
    qualifier = None
    if invoked_arn:
        parts = invoked_arn.split(":")
        qualifier = parts[7] if len(parts) > 7 else None
    resource = f"{name}:{qualifier}" if qualifier else name
    sets.append([{"Name": "FunctionName", "Value": name},
                 {"Name": "Resource", "Value": resource}])
    if qualifier and not qualifier.isdigit() and qualifier != "$LATEST" and executed_version:
        sets.append([{"Name": "FunctionName", "Value": name},
                     {"Name": "Resource", "Value": resource},
                     {"Name": "ExecutedVersion", "Value": executed_version}])
    return sets


def publish(fn: Any, values: dict[str, tuple[float, str]], *, invoked_arn: str | None = None,
            executed_version: str | None = None, at: datetime | None = None,
            per_version: bool = True) -> None:
    """Put ``{metric: (value, unit)}`` for ``fn`` into the sandbox's CloudWatch, under each of
    Lambda's dimension sets.

    Lambda sends its figures as one statistic set a minute (sample count, sum, minimum,
    maximum), not a data point per invocation; so does the sandbox: each figure joins its
    minute's set, and memory grows with minutes, not with invocations (a data point each made
    10,000 warm invokes cost 33 MB)."""
    from moto.cloudwatch.models import MetricAggregatedDatum, cloudwatch_backends

    backend = cloudwatch_backends[fn.account_id][fn.region]
    # naive UTC, as moto's CloudWatch keeps its own timestamps and compares them
    stamp = (at or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
    minute = stamp.replace(second=0, microsecond=0)
    with _lock:
        sets = backend.__dict__.setdefault("_sandbox_lambda_minutes", {})  # gone with a reset
        for metric, (value, unit) in values.items():
            for dimensions in _dimension_sets(fn, invoked_arn, executed_version, per_version):
                key = (metric, unit, minute, tuple((d["Name"], d["Value"]) for d in dimensions))
                found = sets.get(key)
                if found is None:
                    found = sets[key] = MetricAggregatedDatum(
                        NAMESPACE, metric, value, value, 0, 0.0, dimensions, minute, unit)
                    backend.metric_data.append(found)
                found.sample_count += 1
                found.sum += value
                found.min, found.max = min(found.min, value), max(found.max, value)


def invoked(fn: Any, result: Any, invoked_arn: str | None, started: datetime) -> None:
    """One invocation that ran the function's code: Invocations, Errors, Duration."""
    values = {"Invocations": (1.0, "Count"),
              "Errors": (1.0 if result.function_error else 0.0, "Count")}
    if result.duration_ms is not None:
        values["Duration"] = (float(result.duration_ms), "Milliseconds")
    publish(fn, values, invoked_arn=invoked_arn, executed_version=result.executed_version,
            at=started)


def throttled(fn: Any, invoked_arn: str | None) -> None:
    publish(fn, {"Throttles": (1.0, "Count")}, invoked_arn=invoked_arn)


def concurrency(fn: Any, busy: int) -> None:
    publish(fn, {"ConcurrentExecutions": (float(busy), "Count")}, per_version=False)


class _ExactDimensions:
    """A CloudWatch backend seen through one query: only the metrics whose dimension set is
    exactly the query's."""

    def __init__(self, backend: Any, dimensions: list[dict[str, str]]):
        self._backend = backend
        self._wanted = {(d["Name"], d.get("Value")) for d in dimensions or []}

    def get_all_metrics(self) -> list[Any]:
        return [md for md in self._backend.get_all_metrics()
                if {(d.name, d.value) for d in md.dimensions} == self._wanted]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def exact_dimensions(original: Any) -> Any:
    """CloudWatch treats each combination of dimensions as a separate metric: GetMetricStatistics
    returns only the figures published with exactly the dimensions asked for
    (docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html)."""
    def get_metric_statistics(self: Any, namespace: str, metric_name: str, start_time: Any,
                              end_time: Any, period: int, stats: list[str],
                              dimensions: list[dict[str, str]], unit: str | None = None) -> Any:
        return original(_ExactDimensions(self, dimensions), namespace, metric_name, start_time,
                        end_time, period, stats, dimensions, unit)

    return get_metric_statistics
