"""CloudWatch Logs: what moto does differently from AWS.

``FilterLogEvents`` interleaves events from every stream in time order on AWS (its
``interleaved`` parameter is deprecated and ignored since 2019); moto (``logs/models.py``
``LogGroup.filter_log_events``) groups them by stream unless asked to interleave.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

_originals: dict[str, Any] = {}


class _State:
    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def install(sandbox: Any) -> _State:
    from moto.logs.models import LogsBackend

    original = _originals.setdefault("filter_log_events", LogsBackend.filter_log_events)

    @functools.wraps(original)
    def filter_log_events(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(original).bind(self, *args, **kwargs)
        bound.arguments["interleaved"] = True
        return original(*bound.args, **bound.kwargs)

    LogsBackend.filter_log_events = filter_log_events
    return _State()


def uninstall() -> None:
    from moto.logs.models import LogsBackend

    if "filter_log_events" in _originals:
        LogsBackend.filter_log_events = _originals["filter_log_events"]
