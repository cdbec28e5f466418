"""Serverless Sandbox: a local AWS for learning serverless, with Lambda code that really runs.

    import sandbox
    sb = sandbox.start()          # boto3 in this process now reaches the sandbox
    import boto3
    boto3.client("lambda").list_functions()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import Sandbox, current, start
from .errors import SandboxError

__all__ = ["Sandbox", "SandboxError", "check", "current", "start", "load_ipython_extension"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


def check(name: str, points: float = 1) -> None:
    """Run the check ``name`` (``"lesson.check"``) of a check cell; see ``sandbox.grading``."""
    from .grading.checks import run

    run(name, points)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext sandbox``: register the ``%%lambda`` cell magic."""
    from .magic import register

    register(ipython)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
