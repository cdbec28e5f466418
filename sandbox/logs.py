"""CloudWatch Logs: what moto does differently from AWS.

``FilterLogEvents`` interleaves events from every stream in time order on AWS (its
``interleaved`` parameter is deprecated and ignored since 2019); moto (``logs/models.py``
``LogGroup.filter_log_events``) groups them by stream unless asked to interleave.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server.service import SandboxService


class _State:
    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


def filter_log_events(original: Any) -> Any:
    """Wrap ``LogsBackend.filter_log_events`` (a row of ``sandbox.seams``): always interleaved."""

    @functools.wraps(original)
    def filter_log_events(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(original).bind(self, *args, **kwargs)
        bound.arguments["interleaved"] = True
        return original(*bound.args, **bound.kwargs)

    return filter_log_events


def install(sandbox: SandboxService) -> _State:
    return _State()


def uninstall() -> None:
    pass
