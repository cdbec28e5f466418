"""Execution status change events: Step Functions puts one on the account's default event bus
when a Standard workflow's execution starts, succeeds, fails, times out or is aborted
("Step Functions Execution Status Change", in "Automating Step Functions event delivery with
EventBridge"). Express workflows send none. ``executions.py`` and ``timing.py`` call
:func:`emit` when an execution starts and when it ends.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

DETAIL_TYPE = "Step Functions Execution Status Change"


def _millis(when: Any) -> int | None:
    return int(when.timestamp() * 1000) if isinstance(when, datetime) else None


def emit(execution: Any, status: str | None = None) -> None:
    """Put ``execution``'s status change (``status``, or its own) on the default bus."""
    from ..events.bus import put_service_event

    status = status or getattr(execution.exec_status, "value", execution.exec_status)
    if status is None or str(getattr(execution, "sm_type", "")).upper().endswith("EXPRESS"):
        return
    ended = status != "RUNNING"
    succeeded = status == "SUCCEEDED"
    detail = {
        "executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn,
        "name": execution.name, "status": status, "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date) if ended else None,
        "input": json.dumps(execution.input_data), "output":
            json.dumps(execution.output) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": execution.error if ended else None,
        "cause": execution.cause if ended else None,
    }
    put_service_event(execution.account_id, execution.region_name, "aws.states", DETAIL_TYPE,
                      detail, [execution.exec_arn])
