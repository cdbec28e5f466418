"""Run one notebook in a fresh kernel, with its own sandbox, through pytest and nbval, and read
each check cell's verdict."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider -p no:randomly
"""
# Every kernel the grader starts imports sandbox first: a learner who deleted the notebook's
# first cell still gets verdicts, not NameErrors.
KERNEL_CONFIG = 'c.IPKernelApp.exec_lines = ["import sandbox"]\n'


@dataclass
class CellResult:
    notebook: str
    cell_id: str
    status: str  # passed, failed, error, timeout
    message: str = ""
    output: str = ""
    traceback: str = ""
    points: float | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class NotebookRun:
    cells: list[CellResult]
    error: str = ""  # the whole run failed: what happened
    timed_out: bool = False

    def by_id(self) -> dict[str, CellResult]:
        return {cell.cell_id: cell for cell in self.cells}


def _limits(memory_bytes: int | None) -> Callable[[], None]:
    def apply() -> None:
        if memory_bytes:  # inherited by the kernel and the sandbox's workers
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    return apply


def run_notebook(path: Path, *, cell_timeout: float = 60, timeout: float = 600,
                 memory_bytes: int | None = None) -> NotebookRun:
    """Execute ``path`` (not modified) and return each cell's verdict."""
    return run_notebooks([path], cell_timeout=cell_timeout, timeout=timeout,
                         memory_bytes=memory_bytes)[0]


def run_notebooks(paths: list[Path], *, cell_timeout: float = 60, timeout: float = 600,
                  memory_bytes: int | None = None) -> list[NotebookRun]:
    """Execute several notebooks, one after the other, each in its own folder, kernel and
    sandbox, in one pytest process (which saves its start-up for each); ``timeout`` is per
    notebook."""
    with tempfile.TemporaryDirectory(prefix="sandbox-run-") as work:
        work_dir = Path(work)
        (work_dir / "pytest.ini").write_text(PYTEST_INI)
        config = work_dir / "jupyter"
        config.mkdir()
        (config / "ipython_kernel_config.py").write_text(KERNEL_CONFIG)
        copies = []
        for index, path in enumerate(paths):
            folder = work_dir / f"notebook-{index}"
            folder.mkdir()
            copies.append(folder / path.name)
            copies[-1].write_bytes(path.read_bytes())
        results = work_dir / "results.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
        env.update(JUPYTER_CONFIG_DIR=str(config), IPYTHONDIR=str(work_dir / "ipython"),
                   PYTHONWARNINGS="ignore", JUPYTER_PLATFORM_DIRS="1")
        command = [sys.executable, "-m", "pytest", "-c", str(work_dir / "pytest.ini"),
                   "--rootdir", str(work_dir), "--nbval-lax", "--nbval-current-env",
                   f"--nbval-cell-timeout={cell_timeout}", "-p", "sandbox.grading.plugin",
                   "--sandbox-results", str(results), f"--sandbox-notebook-timeout={timeout}",
                   "-q", *map(str, copies)]
        process = subprocess.Popen(command, cwd=work_dir, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True,  # a timeout ends the whole group
                                   preexec_fn=_limits(memory_bytes))
        timed_out = False
        try:
            # each notebook's own deadline is kept by the plugin; this one is the backstop
            log, _ = process.communicate(timeout=(timeout + cell_timeout) * len(paths) + 60)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
            log, _ = process.communicate()
        cells = _read(results)
        text = log.decode("utf-8", "replace")
        runs = []
        for copy in copies:
            mine = [cell for cell in cells if cell.notebook == str(copy)]
            runs.append(NotebookRun(mine, "" if mine or timed_out else _why_nothing_ran(text),
                                    timed_out and not mine))
        return runs


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(results: Path) -> list[CellResult]:
    if not results.exists():
        return []
    records: list[dict[str, Any]] = json.loads(results.read_text())
    return [CellResult(**record) for record in records]


def _why_nothing_ran(log: str) -> str:
    from .plugin import strip_ansi

    lines = [line for line in strip_ansi(log).splitlines() if line.strip()]
    for line in lines:
        if "Error" in line or "error" in line:
            return line.strip()[:300]
    return (lines[-1] if lines else "the notebook could not be run")[:300]
