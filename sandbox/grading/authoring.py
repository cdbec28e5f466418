"""Write each exercise once: ``solutions/<stem>.ipynb`` is the single source of
``exercises/<stem>.ipynb`` (``course build``).

In a solution, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION`` become
``# YOUR CODE HERE`` and a placeholder, at the same indentation. A placeholder never stops Run
All: at a cell's top level it prints that the task is not answered yet; in a ``%%lambda`` cell
it is a handler that raises ``NotImplementedError`` when invoked (so the checks say "not
attempted yet"); inside a block it raises ``NotImplementedError()`` when that code runs. Outputs go,
cell ids stay, and check cells are marked neither editable nor deletable, with their points in
their metadata. An exercise a learner has worked on is never overwritten.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import nbformat

from ..errors import SandboxError

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError()")  # inside a block
# at a cell's top level: Run All goes on to the checks, which say "not attempted yet"
TOP_LEVEL_PLACEHOLDER = ("# YOUR CODE HERE",
                         'print("Not answered yet: write your code here, then run this cell '
                         'again.")')
# at the top level of a %%lambda cell: a function deploys, and says it is not written yet
LAMBDA_PLACEHOLDER = ("# YOUR CODE HERE (replace this placeholder handler with yours)",
                      "def lambda_handler(event, context):",
                      '    raise NotImplementedError("not answered yet")')
CHECK_TAG = "check"
CHECK_CALL = re.compile(r'^sandbox\.check\("(?P<name>[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)"'
                        r"(?:, points=(?P<points>\d+(?:\.\d+)?))?\)$")


class AuthoringError(SandboxError):
    """A solution notebook cannot be turned into an exercise as it stands."""


@dataclass
class BuildResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    out_of_sync: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)


def _placeholder(source: str, indent: str) -> tuple[str, ...]:
    if indent:
        return PLACEHOLDER
    if source.lstrip().startswith("%%lambda"):
        return LAMBDA_PLACEHOLDER
    return TOP_LEVEL_PLACEHOLDER


def strip_solutions(source: str, where: str) -> str:
    lines, out, inside, indent = source.splitlines(), [], False, ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise AuthoringError(f"{where}, line {number}: a second '{BEGIN}' before "
                                     f"'{END}'.")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += [indent + text for text in _placeholder(source, indent)]
        elif stripped == END:
            if not inside:
                raise AuthoringError(f"{where}, line {number}: '{END}' without '{BEGIN}'.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AuthoringError(f"{where}: '{BEGIN}' is never closed by '{END}'.")
    return "\n".join(out)


def check_cell_points(cell: Any, where: str) -> float:
    """A check cell's one line, validated; its points."""
    match = CHECK_CALL.match(cell.source.strip())
    if not match or "\n" in cell.source.strip():
        raise AuthoringError(
            f"{where}: a check cell holds one line, sandbox.check(\"lesson.check\", points=N); "
            f"found {cell.source.strip()!r}.")
    return float(match["points"] or 1)


def is_check(cell: Any) -> bool:
    return cell.cell_type == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def exercise_from(solution: Any, name: str) -> Any:
    """The exercise notebook for a solution notebook (both nbformat objects)."""
    exercise = copy.deepcopy(solution)
    for index, cell in enumerate(exercise.cells):
        where = f"{name}, cell {index} ({cell.get('id', 'no id')})"
        if not cell.get("id"):
            raise AuthoringError(f"{where}: every cell needs an id (nbformat 4.5).")
        cell.metadata.pop("execution", None)  # timings a run left behind
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        cell.source = strip_solutions(cell.source, where)
        if is_check(cell):
            cell.metadata["points"] = check_cell_points(cell, where)
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False
        elif "sandbox.check(" in cell.source:
            raise AuthoringError(f"{where}: calls sandbox.check but is not tagged 'check'.")
    exercise.metadata.setdefault("sandbox", {})["build"] = _fingerprint(exercise)
    return exercise


def _fingerprint(notebook: Any) -> str:
    """A hash of a notebook's cells: tells a generated exercise from one a learner changed."""
    cells = [{"id": c.get("id"), "type": c.cell_type, "source": c.source,
              "outputs": c.get("outputs", [])} for c in notebook.cells]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


def untouched(notebook: Any) -> bool:
    """Whether an exercise is exactly as ``course build`` wrote it."""
    return cast(bool, notebook.metadata.get("sandbox", {}).get("build") == _fingerprint(notebook))


def _text(notebook: Any) -> str:
    return cast(str, nbformat.writes(notebook) + "\n")


def build(root: Path, check_only: bool = False, force: bool = False) -> BuildResult:
    """Regenerate exercises/ from solutions/ under ``root``."""
    result = BuildResult()
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    for solution_path in solutions:
        target = root / "exercises" / solution_path.name
        solution = nbformat.read(solution_path, as_version=4)
        text = _text(exercise_from(solution, str(solution_path.relative_to(root))))
        current = target.read_text() if target.exists() else None
        if current == text:
            result.unchanged.append(target)
            continue
        if check_only:
            result.out_of_sync.append(target)
            continue
        if current is not None and not force and not _safe_to_replace(current):
            result.refused.append(target)
            continue
        if current is not None and force and not _safe_to_replace(current):
            backup = target.with_suffix(".ipynb.bak")
            backup.write_text(current)
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
        result.written.append(target)
    return result


def _safe_to_replace(current: str) -> bool:
    try:
        return untouched(nbformat.reads(current, as_version=4))
    except Exception:  # unreadable: somebody's work in progress, not ours to replace
        return False
