"""Patch a module when it is imported, not before: ``sandbox.start()`` stays fast.

moto loads a service's models on the first request to that service; some are heavy (API
Gateway's pull in an OpenAPI validator, Step Functions' the whole ASL parser). The lazy rows of
``sandbox/seams.py`` hook them through :func:`when_imported`, so a learner who never calls API
Gateway never pays for it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

_hooks: dict[str, list[Callable[[ModuleType], None]]] = {}
_lock = threading.RLock()


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        with _lock:
            if name not in _hooks:
                return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            _run(name, module)

        # on purpose: this one module's loader patches it once executed
        spec.loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


_finder = _Finder()


def _run(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = list(_hooks.get(name, []))
    for callback in callbacks:
        callback(module)


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call ``callback(module)`` once ``name`` is imported: now, if it already is."""
    with _lock:
        _hooks.setdefault(name, []).append(callback)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
    if name in sys.modules:
        callback(sys.modules[name])


def forget(name: str, callback: Callable[[ModuleType], None]) -> None:
    """Stop calling ``callback`` for future imports of ``name``."""
    with _lock:
        if callback in _hooks.get(name, []):
            _hooks[name].remove(callback)
