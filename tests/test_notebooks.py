"""The course's exercise notebooks, run as the grader runs them: every check of every solution
passes, and every check of every blank exercise fails (as failed, not as an error)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from sandbox.grading.authoring import is_check
from sandbox.grading.runner import run_notebook

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _checks(path: Path) -> list[str]:
    return [cell.id for cell in nbformat.read(path, as_version=4).cells if is_check(cell)]


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_check_passes_on_the_solution(solution):
    run = run_notebook(solution, cell_timeout=120, timeout=600)
    results = run.by_id()
    assert run.error == "" and not run.timed_out
    assert [c for c in run.cells if c.status != "passed"] == []
    assert {cid: results[cid].status for cid in _checks(solution)} == \
        {cid: "passed" for cid in _checks(solution)}


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_check_fails_on_the_blank_exercise(solution):
    exercise = ROOT / "exercises" / solution.name
    run = run_notebook(exercise, cell_timeout=120, timeout=600)
    results = run.by_id()
    for cid in _checks(exercise):
        assert results[cid].status == "failed", (cid, results[cid].message)
        assert "not attempted yet" in results[cid].message, (cid, results[cid].message)
