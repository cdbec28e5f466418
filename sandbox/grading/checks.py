"""Running a check: the verdict a learner sees under a check cell.

A check inspects the sandbox (the function exists, answers this event so, its log says that),
never the learner's variable names. A pass prints one short line with the points. A failure raises
:class:`CheckFailed` with a hint aimed at the likely mistake and what was expected against what
was found; a check whose exercise was never attempted raises :class:`NotAttempted`, so a learner
sees "not attempted yet", not a ``NameError``.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import SandboxError

PASSED = "\u2714 {name} passed ({points})"
FAILED = "\u2718 {name} failed: {hint}"
NOT_ATTEMPTED = "\u2718 {name}: not attempted yet. {hint}"
MARKER = "sandbox-check"  # first line of a failure's traceback, which the grader looks for

_CHECKS: dict[str, Callable[[], None]] = {}


class CheckFailed(SandboxError, AssertionError):
    """A check found the exercise answered, but not right."""

    status = "failed"

    def __init__(self, hint: str, *, expected: Any = None, found: Any = None,
                 details: str = ""):
        super().__init__(hint)
        self.hint, self.expected, self.found, self.details = hint, expected, found, details
        self.check_name = ""

    def lines(self) -> list[str]:
        template = NOT_ATTEMPTED if isinstance(self, NotAttempted) else FAILED
        lines = [template.format(name=self.check_name, hint=self.hint)]
        if self.expected is not None or self.found is not None:
            lines += [f"    expected: {_show(self.expected)}", f"    found:    {_show(self.found)}"]
        if self.details:
            lines += ["", *self.details.rstrip().splitlines()]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the verdict, not our internals
        return [f"{MARKER}: {self.status}", *self.lines()]


class NotAttempted(CheckFailed):
    """The exercise this check looks at was not done yet."""

    status = "not-attempted"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def check_function(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a check function under ``<module>.<name>`` (used by ``sandbox.checks``)."""

    def register(function: Callable[[], None]) -> Callable[[], None]:
        _CHECKS[name] = function
        return function

    return register


def find(name: str) -> Callable[[], None]:
    module, _, function = name.rpartition(".")
    if not module or not re.fullmatch(r"[a-z_][a-z0-9_]*", module):
        raise SandboxError(f"{name!r} is not a check name: expected 'lesson.check', "
                           "for instance 'welcome.greeter_answers'.")
    try:
        importlib.import_module(f"sandbox.checks.{module}")
    except ModuleNotFoundError:
        raise SandboxError(f"There are no checks for {module!r} in sandbox.checks.") from None
    if name not in _CHECKS:
        import difflib

        near = difflib.get_close_matches(name, _CHECKS, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise SandboxError(f"No check named {name!r}.{hint}")
    return _CHECKS[name]


def run(name: str, points: float = 1) -> None:
    """Run one check: print the pass line, or raise its failure."""
    from ..client import start

    start()  # a check always has a sandbox to look at
    label = name.rpartition(".")[2].replace("_", " ")
    try:
        find(name)()
    except CheckFailed as failure:
        failure.check_name = label
        raise
    shown = f"{points:g} point{'s' if points != 1 else ''}"
    print(PASSED.format(name=label, points=shown))
