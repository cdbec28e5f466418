"""Access logging: with ``accessLogSettings`` on a stage, each request writes one line, in the
stage's format, to the named CloudWatch Logs group (``$context`` variables; a value that does
not apply is written as ``-``, as API Gateway writes it)."""

from __future__ import annotations

import re
import time
from typing import Any

from moto.logs.models import logs_backends

VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+[A-Za-z0-9_])")


def render(log_format: str, values: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found: Any = values
        for part in match.group(1).split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return "-" if found is None or found == "" else str(found)

    return VARIABLE.sub(value, log_format)


def write(settings: dict[str, Any] | None, values: dict[str, Any], stream: str) -> None:
    """Put the request's line into the stage's log group, if the stage logs and the group
    exists (API Gateway does not create it)."""
    if not settings:
        return
    destination = settings.get("destinationArn") or settings.get("DestinationArn") or ""
    log_format = settings.get("format") or settings.get("Format") or ""
    parts = destination.split(":", 6)  # arn:aws:logs:<region>:<account>:log-group:<name>
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return
    region, account, group_name = parts[3], parts[4], parts[6].removesuffix(":*")

    logs = logs_backends[account][region]
    group = logs.groups.get(group_name)
    if group is None:
        return
    if stream not in group.streams:
        group.create_log_stream(stream)
    group.streams[stream].put_log_events(
        [{"timestamp": int(time.time() * 1000), "message": render(log_format, values)}])
