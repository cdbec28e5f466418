"""``course grade``: grade a class's submissions, each in isolation, in parallel, resumably.

``SUBMISSIONS/<student>/<stem>.ipynb`` is graded against ``exercises/<stem>.ipynb``: the official
check cells are restored by id in a temporary copy (the student's file is never written), the copy
runs in its own kernel with its own sandbox, and results are keyed by check id. Broken, hostile
or hung submissions get rows with a reason; none stops the run.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..errors import SandboxError
from .authoring import CHECK_CALL, is_check
from .runner import NotebookRun, run_notebooks

GRADER_VERSION = "1"
STATUSES = ("passed", "failed", "error", "timeout", "not-run")


@dataclass
class Row:
    student: str
    notebook: str
    check_id: str
    points: float
    max_points: float
    status: str
    message: str
    output: str = ""
    hidden: bool = False  # an instructor's extra check: feedback says passed or failed only


@dataclass
class Options:
    exercises: Path
    cell_timeout: float = 60
    timeout: float = 600
    memory_mb: int | None = 4096
    extra_checks: Path | None = None


class BadSubmission(SandboxError):
    """The file is not a notebook that can be graded; the message says why."""


# ---------------------------------------------------------------- reading and repairing
def read_submission(path: Path) -> Any:
    data = path.read_bytes()
    if not data.strip():
        raise BadSubmission("the file is empty")
    try:
        raw = json.loads(data)
    except ValueError as e:
        raise BadSubmission(f"the file is not valid JSON ({e}), so not a notebook") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise BadSubmission("the file is JSON but not a Jupyter notebook")
    try:
        with warnings.catch_warnings():  # duplicate cell ids: restore_checks sorts them out
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(data.decode("utf-8", "replace"), as_version=4)
    except Exception as e:  # nbformat's own errors are many; each one means the same here
        raise BadSubmission(f"the notebook cannot be read: {e}") from None
    return notebook


@dataclass
class Repair:
    """A submission's copy on its way through the restore steps."""

    notebook: Any  # the copy being repaired (the learner's file is never written)
    canonical: Any  # exercises/<stem>.ipynb
    extra: list[Any]  # the instructor's notebooks of hidden checks
    notes: list[str] = field(default_factory=list)  # the repairs made, for the instructor
    claims: dict[str, list[int]] = field(default_factory=dict)  # check id: cells claiming it

    @property
    def official(self) -> list[Any]:
        """The exercise's check cells, in its order."""
        return [cell for cell in self.canonical.cells if is_check(cell)]


def claim_by_id(repair: Repair) -> None:
    """A cell with an official check's id is that check, whatever became of it (edited,
    turned into markdown)."""
    repair.claims = {cell.id: [] for cell in repair.official}
    for index, cell in enumerate(repair.notebook.cells):
        if cell.get("id") in repair.claims:
            repair.claims[cell["id"]].append(index)


def claim_by_source(repair: Repair) -> None:
    """A code cell with an official check's source, under another id, is that check too
    (retyped, or from a notebook too old to have ids)."""
    by_source = {cell.source.strip(): cell.id for cell in repair.official}
    for index, cell in enumerate(repair.notebook.cells):
        source = cell.source.strip()
        if cell.get("id") not in repair.claims and cell.cell_type == "code" \
                and source in by_source:
            repair.claims[by_source[source]].append(index)


def ignore_learner_check_tags(repair: Repair) -> None:
    """A check tag on a cell that claims no official check counts for nothing."""
    claimed = {index for found in repair.claims.values() for index in found}
    for index, cell in enumerate(repair.notebook.cells):
        if index not in claimed and is_check(cell):
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "check"]


def restore_claimed(repair: Repair) -> None:
    """The first cell claiming a check becomes the official cell; its copies are dropped."""
    replace: dict[int, Any] = {}
    drop: set[int] = set()
    for check in repair.official:
        found = repair.claims[check.id]
        if found:
            keep, *copies = found
            current = repair.notebook.cells[keep]
            if current.cell_type != "code" or current.source != check.source:
                repair.notes.append(f"check cell {check.id} restored")
            replace[keep] = copy.deepcopy(check)
            drop.update(copies)
            if copies:
                repair.notes.append(f"{len(copies)} copy(ies) of check cell {check.id} removed")
    repair.notebook.cells = [replace.get(index, cell)
                             for index, cell in enumerate(repair.notebook.cells)
                             if index not in drop]
    repair.claims = {}  # the indices no longer hold


def reinsert_deleted(repair: Repair) -> None:
    """A deleted check goes back after the last cell that precedes it in the exercise."""
    order = [cell.get("id") for cell in repair.canonical.cells]
    for check in repair.official:
        if any(cell.get("id") == check.id for cell in repair.notebook.cells):
            continue
        repair.notes.append(f"deleted check cell {check.id} re-inserted")
        earlier = set(order[: order.index(check.id)])
        at = 0
        for index, cell in enumerate(repair.notebook.cells):
            if cell.get("id") in earlier:
                at = index + 1
        repair.notebook.cells.insert(at, copy.deepcopy(check))


def append_extra_checks(repair: Repair) -> None:
    """The instructor's hidden checks run last."""
    for extra_notebook in repair.extra:
        for cell in extra_notebook.cells:
            if is_check(cell):
                repair.notebook.cells.append(copy.deepcopy(cell))


def unique_ids(repair: Repair) -> None:
    """Results are keyed by cell id: a missing or repeated id gets a fresh one."""
    seen: set[str] = set()
    for cell in repair.notebook.cells:
        if not cell.get("id") or cell["id"] in seen:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell["id"])


def clear_outputs(repair: Repair) -> None:
    """Nothing the learner's kernel printed is carried into the grader's run."""
    for cell in repair.notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None


RESTORE_STEPS: list[Callable[[Repair], None]] = [
    claim_by_id, claim_by_source, ignore_learner_check_tags, restore_claimed, reinsert_deleted,
    append_extra_checks, unique_ids, clear_outputs,
]


def restore_checks(submission: Any, canonical: Any, extra: list[Any]) -> tuple[Any, list[str]]:
    """The submission with the official check cells in place; the repairs made.

    A copy of the submission goes through ``RESTORE_STEPS`` in order (as nbgrader's converters
    run their list of preprocessors): a check cell is found by its id, else by its source; the
    official cell replaces it, whatever became of it. Copies are dropped, deleted checks
    re-inserted after the cell they follow in the exercise, and check tags the learner added
    are ignored.
    """
    repair = Repair(copy.deepcopy(submission), canonical, extra)
    for step in RESTORE_STEPS:
        step(repair)
    return repair.notebook, repair.notes


# ---------------------------------------------------------------- grading one
def _points(cell: Any) -> float:
    points = cell.metadata.get("points")
    if points is None:
        match = CHECK_CALL.match(cell.source.strip())
        points = float(match["points"] or 1) if match else 1.0
    return float(points)


@dataclass
class Job:
    """One submission on its way through the grader."""

    key: str
    student: str
    path: Path
    digest: str
    checks: list[tuple[Any, bool]]  # (official check cell, hidden)
    notebook: Any = None  # the repaired copy to run; None when it cannot run
    rows: list[Row] | None = None  # the verdict, when known without running
    notes: list[str] = field(default_factory=list)

    def rows_for(self, statuses: dict[str, tuple[str, str, str]],
                 default: tuple[str, str, str]) -> list[Row]:
        out = []
        for cell, hidden in self.checks:
            status, message, output = statuses.get(cell.id, default)
            maximum = _points(cell)
            out.append(Row(self.student, self.path.stem, cell.id,
                           maximum if status == "passed" else 0, maximum, status,
                           "" if hidden else message, "" if hidden else output, hidden))
        return out


def prepare(key: str, path: Path, digest: str, options: Options) -> Job:
    """Read a submission and restore its check cells, or say why it cannot be graded."""
    student, stem = path.parent.name, path.stem
    canonical_path = options.exercises / path.name
    if not canonical_path.exists():
        known = ", ".join(sorted(p.stem for p in options.exercises.glob("*.ipynb")))
        return Job(key, student, path, digest, [], rows=[Row(
            student, stem, "", 0, 0, "error", f"unknown notebook {path.name}: there is no "
            f"exercises/{path.name} (known: {known})")], notes=["unknown notebook"])
    canonical = nbformat.read(canonical_path, as_version=4)
    extra = []
    if options.extra_checks and (options.extra_checks / path.name).exists():
        extra = [nbformat.read(options.extra_checks / path.name, as_version=4)]
    checks = [(cell, False) for cell in canonical.cells if is_check(cell)]
    checks += [(cell, True) for notebook in extra for cell in notebook.cells if is_check(cell)]
    job = Job(key, student, path, digest, checks)
    try:
        submission = read_submission(path)
    except BadSubmission as bad:
        job.rows = job.rows_for({}, ("error", f"not graded: {bad}", ""))
        job.notes.append(str(bad))
        return job
    job.notebook, job.notes = restore_checks(submission, canonical, extra)
    return job


def run_jobs(jobs: list[Job], options: Options) -> None:
    """Run the runnable jobs in one pytest process (each in its own kernel and sandbox)."""
    runnable = [job for job in jobs if job.rows is None]
    if not runnable:
        return
    with tempfile.TemporaryDirectory(prefix="sandbox-grade-") as work:
        paths = []
        for index, job in enumerate(runnable):
            path = Path(work) / str(index) / job.path.name
            path.parent.mkdir()
            nbformat.write(job.notebook, path)
            paths.append(path)
        runs = run_notebooks(paths, cell_timeout=options.cell_timeout, timeout=options.timeout,
                             memory_bytes=options.memory_mb * 2**20 if options.memory_mb
                             else None)
    for job, run in zip(runnable, runs, strict=True):
        job.rows = job.rows_for(_statuses(run), _missing(run))
        job.notes += _cell_notes(run) + ([run.error] if run.error else [])


def _cell_notes(run: NotebookRun) -> list[str]:
    """What went wrong outside the check cells, for the instructor."""
    notes = []
    for cell in run.cells:
        if "check" in cell.tags or cell.status == "passed":
            continue
        if cell.status == "timeout":
            notes.append(f"cell {cell.cell_id} timed out")
        elif "kernel died" not in cell.message:
            notes.append(f"cell {cell.cell_id}: {cell.message[:120]}")
    died = [c for c in run.cells if "kernel died" in c.message]
    if died:
        notes.append(f"the kernel died before cell {died[0].cell_id}")
    return notes


def _statuses(run: NotebookRun) -> dict[str, tuple[str, str, str]]:
    return {cell.cell_id: (cell.status, cell.message, cell.output) for cell in run.cells}


def _missing(run: NotebookRun) -> tuple[str, str, str]:
    if run.timed_out:
        return "timeout", "the notebook did not finish in the time allowed", ""
    if run.error:
        return "error", f"the notebook could not be run: {run.error}", ""
    return "not-run", "this check did not run (a cell before it stopped the notebook)", ""


# ---------------------------------------------------------------- the whole class
def _digest(*paths: Path | None) -> str:
    digest = hashlib.sha256(GRADER_VERSION.encode())
    for path in paths:
        if path is not None and path.exists():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


BATCH = 5  # submissions per pytest process: enough to spread its start-up, few to balance


def grade(submissions: Path, out: Path, options: Options, jobs: int | None = None,
          progress: Any = print) -> list[Row]:
    """Grade every ``<student>/<stem>.ipynb`` under ``submissions`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / ".graded.json"
    cache: dict[str, Any] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    work = sorted(p for p in submissions.glob("*/*.ipynb") if p.is_file())
    results: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    for path in work:
        key = f"{path.parent.name}/{path.name}"
        extra = options.extra_checks / path.name if options.extra_checks else None
        digest = _digest(path, options.exercises / path.name, extra)
        if cache.get(key, {}).get("digest") == digest:
            results[key] = cache[key]
        else:
            todo.append(prepare(key, path, digest, options))
    done = len(results)
    if done:
        progress(f"{done} submission(s) already graded and unchanged: kept")
    workers = jobs or os.cpu_count() or 1
    size = max(1, min(BATCH, -(-len(todo) // workers)))
    batches = [todo[i:i + size] for i in range(0, len(todo), size)]
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_jobs, batch, options) for batch in batches]
        for future, batch in zip(futures, batches, strict=True):
            future.result()
            with lock:
                for job in batch:
                    note = "; ".join(job.notes)
                    results[job.key] = cache[job.key] = {
                        "digest": job.digest, "note": note,
                        "rows": [asdict(row) for row in job.rows or []]}
                    done += 1
                    earned = sum(r.points for r in job.rows or [])
                    maximum = sum(r.max_points for r in job.rows or [])
                    progress(f"[{done}/{len(work)}] {job.key}: {earned:g}/{maximum:g}"
                             + (f" ({note})" if note else ""))
                cache_path.write_text(json.dumps(cache))
    all_rows = [Row(**row) for key in sorted(results) for row in results[key]["rows"]]
    _write_outputs(out, all_rows, {k: v["note"] for k, v in results.items()})
    return all_rows


def _write_outputs(out: Path, rows: list[Row], notes: dict[str, str]) -> None:
    from .feedback import write_feedback

    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "check_id", "points", "max_points", "status",
                         "message"])
        for row in rows:
            message = row.message if not row.hidden else ""
            writer.writerow([row.student, row.notebook, row.check_id, f"{row.points:g}",
                             f"{row.max_points:g}", row.status, message])
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "points", "max_points", *STATUSES, "note"])
        for (student, notebook), group in _groups(rows).items():
            counts = [sum(r.status == s for r in group) for s in STATUSES]
            writer.writerow([student, notebook, f"{sum(r.points for r in group):g}",
                             f"{sum(r.max_points for r in group):g}", *counts,
                             notes.get(f"{student}/{notebook}.ipynb", "")])
    for (student, notebook), group in _groups(rows).items():
        write_feedback(out / "feedback" / student / f"{notebook}.html", student, notebook, group,
                       notes.get(f"{student}/{notebook}.ipynb", ""))


def _groups(rows: list[Row]) -> dict[tuple[str, str], list[Row]]:
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.student, row.notebook), []).append(row)
    return groups


def summary_table(rows: list[Row]) -> str:
    groups = _groups(rows)
    width = max([len(f"{s}/{n}") for s, n in groups] + [10])
    lines = [f"{'submission'.ljust(width)}  points  passed  failed  other"]
    for (student, notebook), group in groups.items():
        earned, maximum = sum(r.points for r in group), sum(r.max_points for r in group)
        passed = sum(r.status == "passed" for r in group)
        failed = sum(r.status == "failed" for r in group)
        lines.append(f"{f'{student}/{notebook}'.ljust(width)}  {f'{earned:g}/{maximum:g}':>6}"
                     f"  {passed:>6}  {failed:>6}  {len(group) - passed - failed:>5}")
    return "\n".join(lines)
