"""A pytest plugin that records each check cell's verdict, keyed by the cell's id.

nbval names a cell's test by its position (``nb.ipynb::Cell 7``), which moves whenever a learner
inserts a cell; the grader keys results on the check cell's id instead. Loaded by the runner with
``-p sandbox.grading.plugin --sandbox-results FILE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from typing import Any

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_records: list[dict[str, Any]] = []


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


_started: dict[str, float] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sandbox-results", default=None,
                     help="write each check cell's verdict to this JSON file")
    parser.addoption("--sandbox-notebook-timeout", type=float, default=None,
                     help="seconds one notebook may run; its later cells are not run")


def _notebook(item: Any) -> str:
    return str(getattr(item, "fspath", ""))


def pytest_runtest_setup(item: Any) -> None:
    import time

    limit = item.config.getoption("--sandbox-notebook-timeout")
    if limit is None or getattr(item, "cell", None) is None:
        return
    started = _started.setdefault(_notebook(item), time.monotonic())
    if time.monotonic() - started > limit:
        _records.append(_record(item, "timeout", "the notebook ran out of time before this "
                                "cell", ""))
        pytest.skip("the notebook's time is up")


def _outputs_text(item: Any) -> str:
    pieces = []
    for output in getattr(item, "test_outputs", None) or []:
        if output.get("output_type") == "stream":
            pieces.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            pieces.append(output.get("data", {}).get("text/plain", ""))
    return strip_ansi("".join(pieces))


def failure_text(excinfo: Any) -> str:
    """What the kernel said when the cell failed: nbval keeps the traceback apart."""
    if excinfo is None:
        return ""
    error = excinfo.value
    return strip_ansi(f"{error}\n{getattr(error, 'inner_traceback', None) or ''}")


def verdict(excinfo: Any) -> tuple[str, str]:
    """(status, message) from a cell's failure."""
    text = failure_text(excinfo)
    marker = re.search(r"sandbox-check: (failed|not-attempted)\n", text)
    if marker:
        message = text[marker.end():].strip()
        return "failed", message.split("\n\n")[0] if "\n\n" in message else message
    if "Timeout of" in text and "exceeded executing cell" in text:
        return "timeout", "the cell ran longer than the time allowed for one cell"
    if "Kernel dead" in text or "Kernel died" in text or "kernel died" in text.lower():
        return "error", "the kernel died (the notebook's Python process ended)"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "error", (lines[-1] if lines else "the cell raised an error")[:500]



@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Generator[None, Any, None]:
    yield
    cell = getattr(item, "cell", None)
    if cell is None or call.when != "call":
        return
    if call.excinfo is None:
        status, message = "passed", ""
    else:
        status, message = verdict(call.excinfo)
    _records.append(_record(item, status, message, failure_text(call.excinfo)))


def _record(item: Any, status: str, message: str, traceback: str) -> dict[str, Any]:
    cell = item.cell
    return {
        "notebook": _notebook(item),
        "cell_id": cell.get("id"),
        "tags": list(cell.get("metadata", {}).get("tags", [])),
        "points": cell.get("metadata", {}).get("points"),
        "status": status,
        "message": message,
        "output": _outputs_text(item)[-20000:],
        "traceback": traceback[-20000:],
    }


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--sandbox-results")
    if path:
        with open(path, "w") as results:
            json.dump(_records, results)
