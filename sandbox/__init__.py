"""Serverless Sandbox: a local AWS for learning serverless, with Lambda code that really runs.

    import sandbox
    sb = sandbox.start()          # a sandbox server on loopback; boto3 here now reaches it
    import boto3
    boto3.client("lambda").list_functions()

The sandbox runs in a server process of its own (``sandbox.server``); this package's import
side is the client (``sandbox.client``), the course's views (``sandbox.course``), the checks
and the grader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .accounts import SECOND_ACCOUNT_ID
from .client import Sandbox, current, start
from .errors import SandboxError

__all__ = ["SECOND_ACCOUNT_ID", "Sandbox", "SandboxError", "architecture", "check", "current",
           "start", "trace", "load_ipython_extension"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Iterable

    from IPython.core.interactiveshell import InteractiveShell

    from .course.architecture import Architecture, Trace


def check(name: str, points: float = 1) -> None:
    """Run the check ``name`` (``"lesson.check"``) of a check cell and print its verdict; see
    ``sandbox.grading``."""
    from .grading.checks import run

    run(name, points)


def architecture(around: str | Iterable[str] | None = None) -> Architecture:
    """The live sandbox drawn as a service map (Mermaid in JupyterLab, text elsewhere): who
    triggers whom; with ``around``, only what is connected to the resources so named. See
    ``sandbox.course.architecture``."""
    from .course.architecture import architecture as draw

    return draw(around)


def trace(event_id: str | None = None) -> Trace:
    """One event's path between services (a MessageId, an EventId...; the latest event without
    one), as a table; ``.diagram()`` draws it on the service map."""
    from .course.architecture import trace as read

    return read(event_id)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext sandbox``: register the ``%%lambda`` cell magic."""
    from .course.magic import register

    register(ipython)
