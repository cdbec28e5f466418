"""Running a check: the verdict a learner sees under a check cell.

A check inspects the sandbox (the function exists, answers this event so, its log says that),
never the learner's variable names. A pass prints one short line with the points. A failure raises
:class:`CheckFailed` with a hint aimed at the likely mistake and what was expected against what
was found; a check whose exercise was never attempted raises :class:`NotAttempted`, so a learner
sees "not attempted yet", not a ``NameError``.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import SandboxError

PASSED = "\u2714 {name} passed ({points})"
FAILED = "\u2718 {name} failed: {hint}"
NOT_ATTEMPTED = "\u2718 {name}: not attempted yet. {hint}"

_CHECKS: dict[str, Callable[[], None]] = {}
_NEEDS: dict[str, tuple[str, ...]] = {}  # check name: the learner's variables it reads
# the learner's variables, as data, when the check runs outside the learner's kernel (grading)
_PROVIDED: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "sandbox_learner_values", default=None)


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
        return self.lines()


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


def check_function(name: str, *, needs: tuple[str, ...] = ()) \
        -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a check function under ``<module>.<name>`` (used by ``sandbox.checks``).

    ``needs`` names the learner's variables the check reads (with :func:`learner_value`): the
    grader, which runs checks in its own process, asks the learner's kernel for their values,
    as JSON data, before it runs the check."""

    def register(function: Callable[[], None]) -> Callable[[], None]:
        _CHECKS[name] = function
        _NEEDS[name] = tuple(needs)
        return function

    return register


def needs(name: str) -> tuple[str, ...]:
    """The learner's variables the check ``name`` reads."""
    find(name)
    return _NEEDS.get(name, ())


@contextlib.contextmanager
def provided(values: dict[str, Any]) -> Iterator[None]:
    """Checks run in this context read the learner's variables from ``values`` (the grader's
    copy, as data), not from this process's ``__main__``."""
    token = _PROVIDED.set(dict(values))
    try:
        yield
    finally:
        _PROVIDED.reset(token)


def learner_value(name: str, hint: str = "") -> Any:
    """A variable the learner assigned in the notebook; NotAttempted when it is not assigned.

    In the learner's kernel it is read from ``__main__`` (the notebook's namespace); when the
    grader runs the check, from the values it was given (see :func:`provided`). A check that
    calls this declares the name with ``check_function(..., needs=(name,))``."""
    values = _PROVIDED.get()
    missing = NotAttempted(hint or f"{name} is not assigned yet: assign it, then run the "
                           "check again.")
    if values is not None:
        if name not in values:
            raise missing
        return values[name]
    import __main__

    try:
        return getattr(__main__, name)
    except AttributeError:
        raise missing from None


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


def run(name: str, points: float = 1) -> bool:
    """Run one check in the notebook: print its verdict (a failure on stderr, which Jupyter
    shows in red) and go on, so that Run All reaches every check. Returns whether it passed.

    This is the learner's feedback only: the grader runs the check itself, outside the
    learner's kernel, and never reads this output."""
    import sys

    from ..client import start

    start()  # a check always has a sandbox to look at
    label = name.rpartition(".")[2].replace("_", " ")
    try:
        find(name)()
    except CheckFailed as failure:
        failure.check_name = label
        print(str(failure), file=sys.stderr)
        return False
    shown = f"{points:g} point{'s' if points != 1 else ''}"
    print(PASSED.format(name=label, points=shown))
    return True
