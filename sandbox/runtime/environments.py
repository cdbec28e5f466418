"""Execution environments: worker processes that run a function's code the way Lambda does.

The parts live in their own modules: ``api`` (Lambda's Runtime API, served to one environment),
``environment`` (one execution environment), ``pool`` (all of them, the spare worker and the
reaper), ``workers`` (a worker's processes as the sandbox sees them, bubblewrap), ``supervisor``
(the process between the sandbox and learner code), ``bootstrap`` (the Python runtime),
``reports`` (the platform's REPORT line, error payloads and log tail). This module keeps the
names other modules import from here.
"""

from __future__ import annotations

from .api import RuntimeAPIServer
from .environment import (
    INIT_TIMEOUT,
    POLL_SECONDS,
    EnvironmentAborted,
    ExecutionEnvironment,
    FunctionSpec,
    Invocation,
)
from .pool import IDLE_SECONDS, RUNTIME_PACKAGES, EnvironmentPool, Throttled, runtime_packages
from .reports import (
    CUSTOM_RUNTIMES,
    MAX_RESPONSE_BYTES,
    PYTHON_RUNTIMES,
    RUNTIME_VERSIONS,
    TAIL_BYTES,
    Result,
    runtime_version_arn,
)
from .workers import GO_SIGNAL_NAMES, Worker, exit_reason

__all__ = [
    "CUSTOM_RUNTIMES", "GO_SIGNAL_NAMES", "IDLE_SECONDS", "INIT_TIMEOUT", "MAX_RESPONSE_BYTES",
    "POLL_SECONDS", "PYTHON_RUNTIMES", "RUNTIME_PACKAGES", "RUNTIME_VERSIONS", "TAIL_BYTES",
    "EnvironmentAborted", "EnvironmentPool", "ExecutionEnvironment", "FunctionSpec",
    "Invocation", "Result", "RuntimeAPIServer", "Throttled", "Worker", "exit_reason",
    "runtime_packages", "runtime_version_arn",
]
