"""GetExecutionHistory's paging and order.

moto answers every event, oldest first, whatever the request says
(moto/stepfunctions/parser/models.py get_execution_history). AWS Step Functions API Reference,
GetExecutionHistory: ``reverseOrder`` lists the events in descending order of their timeStamp
(newest first), ``maxResults`` is the page size (default 100, at most 1000), and ``nextToken``
continues a listing. Code that reads "the last few events" (a common error handler does) needs
all three.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

DEFAULT_PAGE = 100
LARGEST_PAGE = 1000


def _token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError):
        from moto.stepfunctions.exceptions import InvalidToken

        raise InvalidToken() from None


def get_execution_history(original: Any) -> Any:
    """Wrap ``StepFunctionResponse.get_execution_history``: reverseOrder, maxResults and
    nextToken are honoured."""

    @functools.wraps(original)
    def get_execution_history(self: Any) -> Any:
        result = original(self)
        history = result.result
        events = list(history.get("events") or [])
        if self._get_param("reverseOrder"):
            events.reverse()
        size = int(self._get_param("maxResults") or 0) or DEFAULT_PAGE
        size = min(size, LARGEST_PAGE)
        start = _offset(self._get_param("nextToken"))
        history["events"] = events[start:start + size]
        history.pop("nextToken", None)
        if start + size < len(events):
            history["nextToken"] = _token(start + size)
        return result

    return get_execution_history
