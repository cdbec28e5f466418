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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from ..errors import SandboxError
from .authoring import CHECK_CALL, is_check

if TYPE_CHECKING:
    from .distribute import Shard

GRADER_VERSION = "2"
STATUSES = ("passed", "failed", "error", "timeout", "not-run")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


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
    jail: bool = True  # bubblewrap around each kernel, where it works (see jail.py)

    def fingerprint(self) -> str:
        """Every option that can change a grade (the cache key holds it)."""
        return json.dumps({"cell_timeout": self.cell_timeout, "timeout": self.timeout,
                           "memory_mb": self.memory_mb, "jail": self.jail}, sort_keys=True)


class BadSubmission(SandboxError):
    """The file is not a notebook that can be graded; the message says why."""


# ---------------------------------------------------------------- reading and repairing
def printable(text: str) -> str:
    """A file name as text that any output takes: bytes that are not UTF-8 (a folder named in
    another encoding) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_submission(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadSubmission(f"the file cannot be read ({e.strerror or e})") from None
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
        raise BadSubmission(f"the notebook cannot be read: {_one_line(e)}") from None
    # nbformat.reads only logs what breaks the schema ("tags": 5, a cell without "source"):
    # the grader says so in the row instead of failing later on a malformed cell
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(notebook)
    except nbformat.ValidationError as e:
        where = "/".join(str(part) for part in getattr(e, "absolute_path", []) or [])
        raise BadSubmission("the notebook does not follow Jupyter's notebook format: "
                            f"{_one_line(e.message)}" + (f" (at {where})" if where else "")) \
            from None
    return notebook


def _one_line(error: Any) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:197] + "..."


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


def _expected_index(repair: Repair, check_id: str, cells: list[Any]) -> int:
    """Where the exercise puts a check among ``cells``: after the cells that precede it in the
    exercise (each at its first occurrence: a learner's copy further down moves nothing)."""
    order = [cell.get("id") for cell in repair.canonical.cells]
    earlier = set(order[: order.index(check_id)]) if check_id in order else set()
    first: dict[str, int] = {}
    for index, cell in enumerate(cells):
        first.setdefault(cell.get("id"), index)
    return max([first[cell_id] + 1 for cell_id in earlier if cell_id in first], default=0)


def restore_claimed(repair: Repair) -> None:
    """Of the cells claiming a check, the one nearest the check's place in the exercise becomes
    the official cell (the first of equals); the other copies are dropped."""
    replace: dict[int, Any] = {}
    drop: set[int] = set()
    for check in repair.official:
        found = repair.claims[check.id]
        if found:
            expected = _expected_index(repair, check.id, repair.notebook.cells)
            keep = min(found, key=lambda index: (abs(index - expected), index))
            copies = [index for index in found if index != keep]
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


def rename_impersonators(repair: Repair) -> None:
    """A learner's cell carrying a hidden check's id is renamed: only the instructor's cell
    is that check."""
    hidden = {cell.get("id") for notebook in repair.extra for cell in notebook.cells
              if is_check(cell)}
    for cell in repair.notebook.cells:
        if cell.get("id") in hidden:
            repair.notes.append("a cell carried the id of an instructor's check: renamed")
            cell["id"] = uuid.uuid4().hex[:8]
            if is_check(cell):
                cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != "check"]


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
    rename_impersonators, append_extra_checks, unique_ids, clear_outputs,
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
    student, stem = path.parent.name, Path(path.name).stem
    canonical_path = options.exercises / f"{stem}.ipynb"
    if not canonical_path.exists():
        known = ", ".join(sorted(p.stem for p in options.exercises.glob("*.ipynb")))
        return Job(key, student, path, digest, [], rows=[Row(
            student, stem, "", 0, 0, "error", f"unknown notebook {path.name}: there is no "
            f"exercises/{stem}.ipynb (known: {known})")], notes=["unknown notebook"])
    canonical = nbformat.read(canonical_path, as_version=4)
    extra = []
    if options.extra_checks and (options.extra_checks / f"{stem}.ipynb").exists():
        extra = [nbformat.read(options.extra_checks / f"{stem}.ipynb", as_version=4)]
    checks = [(cell, False) for cell in canonical.cells if is_check(cell)]
    checks += [(cell, True) for notebook in extra for cell in notebook.cells if is_check(cell)]
    job = Job(key, student, path, digest, checks)
    try:
        submission = read_submission(path)
        job.notebook, job.notes = restore_checks(submission, canonical, extra)
    except BadSubmission as bad:
        job.rows = job.rows_for({}, ("error", f"not graded: {bad}", ""))
        job.notes.append(str(bad))
    except Exception as error:  # noqa: BLE001 (a file no step foresaw: a row, not a crash)
        job.rows = job.rows_for({}, ("error", f"not graded: the notebook could not be "
                                     f"prepared ({type(error).__name__}: {_one_line(error)})",
                                     ""))
        job.notes.append("could not be prepared")
    return job


# ---------------------------------------------------------------- running one, in a worker
@dataclass
class Workspace:
    """The grader's temporary folder: ``private/`` (tasks, repaired notebooks, results, logs)
    and ``jail/`` (each submission's own writable folder); every kernel is shown neither."""

    root: Path
    hide: list[Path]  # what a kernel must not see
    jail: bool

    @classmethod
    def create(cls, options: Options, also_hide: list[Path]) -> Workspace:
        from . import jail

        root = Path(tempfile.mkdtemp(prefix="sandbox-grade-"))
        (root / "private").mkdir()
        (root / "jail").mkdir()
        package = jail.package_root()
        hide = [root, options.exercises.resolve().parent, *also_hide]
        if options.extra_checks:
            hide.append(options.extra_checks.resolve())
        if (package.parent / "solutions").is_dir():  # a checkout of the course
            hide.append(package.parent)
        return cls(root, hide, options.jail and jail.probe().works)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


WORKER_GRACE = 120.0  # seconds past the notebook's own time limit before the worker is killed


def run_job(job: Job, options: Options, workspace: Workspace) -> None:
    """Grade one prepared submission in a worker process of its own; whatever the worker does
    or suffers, the job ends with rows."""
    private = Path(tempfile.mkdtemp(prefix="job-", dir=workspace.root / "private"))
    work_dir = Path(tempfile.mkdtemp(prefix="nb-", dir=workspace.root / "jail"))
    try:
        notebook_path = private / "notebook.ipynb"
        nbformat.write(job.notebook, notebook_path)
        task = {
            "notebook": str(notebook_path), "work_dir": str(work_dir),
            "result": str(private / "result.json"), "cell_timeout": options.cell_timeout,
            "timeout": options.timeout, "jail": workspace.jail,
            "memory_bytes": options.memory_mb * 2**20 if options.memory_mb else None,
            "hide": [str(path) for path in workspace.hide],
            "checks": [{"id": cell.id, "name": _check_name(cell), "hidden": hidden}
                       for cell, hidden in job.checks],
        }
        (private / "task.json").write_text(json.dumps(task))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_"))}
        env.update(TMPDIR=str(private), PYTHONWARNINGS="ignore")
        with open(private / "worker.log", "wb") as log:
            # the worker's stdin is a pipe only this process writes to: the worker ends itself
            # (and with it its kernel and server) when the grader is gone, however it went
            process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.grading.worker", str(private / "task.json")],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=private, start_new_session=True)
            try:
                code = process.wait(timeout=options.timeout + WORKER_GRACE)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                with _suppress(OSError):
                    process.stdin.close()  # type: ignore[union-attr]
            with _suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left in its session
            process.wait()
        result_path = private / "result.json"
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        if result is None:
            why = "it ran out of time" if code is None else f"exit status {code}"
            tail = _log_tail(private / "worker.log")
            job.rows = job.rows_for({}, ("error", "not graded: the grader's worker for this "
                                         f"notebook ended without a verdict ({why})", ""))
            job.notes.append(f"worker ended without a verdict ({why})"
                             + (f": {tail}" if tail else ""))
            return
        verdicts = {cell_id: (v["status"], v.get("message", ""), v.get("output", ""))
                    for cell_id, v in result["verdicts"].items()}
        job.rows = job.rows_for(verdicts, ("not-run", "this check did not run", ""))
        job.notes += result["notes"]
    finally:
        if os.environ.get("SANDBOX_GRADER_KEEP"):  # debugging the grader itself
            shutil.copy(private / "worker.log", os.environ["SANDBOX_GRADER_KEEP"])
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(work_dir, ignore_errors=True)


def _check_name(cell: Any) -> str:
    match = CHECK_CALL.match(cell.source.strip())
    return match["name"] if match else ""


class _suppress:
    def __init__(self, *errors: type[BaseException]):
        self.errors = errors

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, *rest: Any) -> bool:
        return kind is not None and issubclass(kind, self.errors)


def _log_tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return _one_line(lines[-1]) if lines else ""


# ---------------------------------------------------------------- the whole class
def code_fingerprint() -> str:
    """A hash of the grader's and the checks' source: fixing a check re-grades."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(GRADER_VERSION.encode())
    for folder in (package / "grading", package / "checks"):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _digest(options: Options, code: str, *paths: Path | None) -> str:
    digest = hashlib.sha256(code.encode())
    digest.update(options.fingerprint().encode())
    for path in paths:
        if path is not None and path.is_file():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def discover(submissions: Path) -> tuple[list[Path], list[tuple[str, str, str]]]:
    """The notebooks to grade (``<student>/<name>.ipynb``, any case), and a row's worth for
    every other entry: (student, name, why it is not graded). Links are never followed."""
    notebooks: list[Path] = []
    others: list[tuple[str, str, str]] = []
    for entry in sorted(_entries(submissions, others, "")):
        if entry.is_symlink():
            others.append((entry.name, "", "a link, not followed: hand in a folder of "
                                            "notebooks"))
        elif not entry.is_dir():
            others.append(("", entry.name, "a file outside any student's folder: not graded"))
            continue
        if entry.is_symlink():
            continue
        for item in sorted(_entries(entry, others, entry.name)):
            if item.is_symlink():
                others.append((entry.name, item.name, "a link, not followed: hand in the "
                                                      "notebook itself"))
            elif item.is_dir():
                others.append((entry.name, item.name, "a folder inside a student's folder: "
                                                      "not graded (notebooks go directly in "
                                                      "the student's folder)"))
            elif item.suffix.lower() == ".ipynb":
                notebooks.append(item)
            elif item.is_file():
                others.append((entry.name, item.name, "not a notebook (.ipynb): not graded"))
            else:
                others.append((entry.name, item.name, "not a regular file: not graded"))
    return notebooks, others


def _entries(folder: Path, others: list[tuple[str, str, str]], student: str) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError as e:
        others.append((student, "", f"the folder cannot be read ({e.strerror or e})"))
        return []


# what a row says of a submission the cluster lost (its worker died too often, or the
# scheduler went away): it is not kept in the cache, so the same command grades it again
LOST = "not graded: the cluster lost this submission"
Finished = Callable[..., None]  # finished(job, missing=..., keep=...)


def submission_key(student: str, name: str) -> str:
    """A submission's name in the gradebook, the cache and a shard: ``<student>/<file>``."""
    return f"{student}/{name}"


def grade(submissions: Path, out: Path, options: Options, jobs: int | None = None,
          progress: Any = print, shard: Shard | None = None,
          scheduler: str | None = None) -> list[Row]:
    """Grade every ``<student>/<stem>.ipynb`` under ``submissions`` into ``out``.

    ``shard`` (a :class:`sandbox.grading.distribute.Shard`) grades only its share of the
    submissions; ``scheduler`` (a Dask scheduler's address) grades them on that cluster
    instead of ``jobs`` threads here, each submission as :func:`run_job` grades it here."""
    from . import jail

    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / ".graded.json"
    try:
        cache: dict[str, Any] = json.loads(cache_path.read_text()) if cache_path.exists() \
            else {}
    except ValueError:
        cache = {}
    notebooks, others = discover(submissions)
    everything = sorted({submission_key(p.parent.name, p.name) for p in notebooks}
                        | {submission_key(student, name) for student, name, _ in others})
    if shard is not None:
        notebooks = [p for p in notebooks if shard.holds(submission_key(p.parent.name, p.name))]
        others = [o for o in others if shard.holds(submission_key(o[0], o[1]))]
        progress(f"shard {shard}: {len(notebooks) + len(others)} of the {len(everything)} "
                 "entries in the submissions folder")
    results: dict[str, dict[str, Any]] = {}
    for student, name, why in others:
        key = submission_key(student, name)
        results[key] = {"digest": "", "note": why, "rows": [asdict(Row(
            student, Path(name).stem if name else "", "", 0, 0, "error", why))]}
    code = code_fingerprint()
    todo: list[Job] = []
    for path in notebooks:
        key = submission_key(path.parent.name, path.name)
        stem = Path(path.name).stem
        extra = options.extra_checks / f"{stem}.ipynb" if options.extra_checks else None
        digest = _digest(options, code, path, options.exercises / f"{stem}.ipynb", extra)
        if cache.get(key, {}).get("digest") == digest:
            results[key] = cache[key]
        else:
            todo.append(prepare(key, path, digest, options))
    done = len(results) - len(others)
    if done:
        progress(f"{done} submission(s) already graded and unchanged: kept")
    missing = ""
    if any(job.rows is None for job in todo) and scheduler is None:
        missing = jail.probe().missing if options.jail else \
            jail.NO_JAIL.format(why="--no-jail was given")
        if missing:
            progress(f"WARNING: {missing}")
    lock = threading.Lock()
    total = len(notebooks)
    lost: set[str] = set()

    def finished(job: Job, missing: str = missing, keep: bool = True) -> None:
        """A submission's verdict, kept (in the cache too, unless ``keep`` is false: a lost
        one is graded again next time) and reported as it comes."""
        with lock:
            nonlocal done
            ran = job.notebook is not None
            note = "; ".join([*job.notes, *([missing] if missing and ran else [])])
            results[job.key] = {"digest": job.digest, "note": note,
                                "rows": [asdict(row) for row in job.rows or []]}
            if keep:
                cache[job.key] = results[job.key]
            else:
                lost.add(job.key)
                cache.pop(job.key, None)
            done += 1
            earned = sum(r.points for r in job.rows or [])
            maximum = sum(r.max_points for r in job.rows or [])
            progress(f"[{done}/{total}] {printable(job.key)}: {earned:g}/{maximum:g}"
                     + (f" ({_one_line(note)})" if note else ""))
            partial = cache_path.with_suffix(".partial")
            partial.write_text(json.dumps(cache))
            partial.replace(cache_path)  # each submission's verdict kept as it comes

    for job in todo:
        if job.rows is not None:
            finished(job)
    runnable = [job for job in todo if job.rows is None]
    hide = [submissions.resolve(), out.resolve()]
    if scheduler is not None:
        from .distribute import grade_on_dask

        grade_on_dask(scheduler, runnable, options, hide, finished, progress)
    else:
        _grade_here(runnable, options, hide, jobs, finished)
    write_gradebook(out, results, lost, code, options.fingerprint(), shard,
                    listing(everything))
    all_rows = [Row(**row) for key in sorted(results) for row in results[key]["rows"]]
    _write_outputs(out, all_rows, {key: results[key]["note"] for key in sorted(results)})
    return all_rows


def _grade_here(todo: list[Job], options: Options, hide: list[Path], jobs: int | None,
                finished: Finished) -> None:
    """Each job in a worker process of its own, ``jobs`` at a time, on this machine."""
    if not todo:
        return
    workspace = Workspace.create(options, hide)
    try:
        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
            futures = {pool.submit(run_job, job, options, workspace): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    future.result()
                except Exception as error:  # noqa: BLE001 (the grader's own bug: a row)
                    job.rows = job.rows_for({}, ("error", f"not graded: the grader failed "
                                                 f"({type(error).__name__}: "
                                                 f"{_one_line(error)})", ""))
                finished(job)
    finally:
        workspace.remove()


GRADEBOOK = "gradebook.json"  # every verdict of a run as data: what course grade --merge reads


def listing(everything: list[str]) -> dict[str, Any]:
    """What a run saw in the submissions folder (every entry, before a shard took its share):
    the shards of one class saw the same."""
    digest = hashlib.sha256("\0".join(everything).encode("utf-8", "surrogateescape"))
    return {"entries": len(everything), "digest": digest.hexdigest()}


def write_gradebook(out: Path, results: dict[str, dict[str, Any]], lost: set[str], grader: str,
                    options: str, shard: Shard | None, submissions: dict[str, Any]) -> None:
    """``gradebook.json``: this run's verdicts (only its shard's, for a shard) and what they
    were graded with (``grader``: the code's fingerprint; ``options``: the options'), and from
    (``submissions``: :func:`listing`), so that only the shards of one class graded alike are
    merged."""
    book = {"format": 1, "shard": str(shard) if shard is not None else None,
            "grader": grader, "options": options, "submissions": submissions,
            "results": {key: {**results[key], "lost": key in lost} for key in sorted(results)}}
    partial = out / (GRADEBOOK + ".partial")
    partial.write_text(json.dumps(book, indent=1))
    partial.replace(out / GRADEBOOK)


def grade_one(path: Path, options: Options, canonical: Path | None = None) -> Job:
    """Grade one notebook as ``course grade`` would (``course check``, the tests): its rows
    and notes in the returned job. ``canonical`` is the exercise it answers (default:
    ``options.exercises/<stem>.ipynb``; a solution notebook may be its own)."""
    if canonical is not None:
        options = Options(**{**options.__dict__, "exercises": canonical.parent})
        if Path(path.name).stem != canonical.stem:
            raise BadSubmission(f"{path.name} does not answer {canonical.name}")
    job = prepare(f"{path.parent.name}/{path.name}", path, "", options)
    if job.rows is None:
        workspace = Workspace.create(options, [])
        try:
            run_job(job, options, workspace)
        finally:
            workspace.remove()
    return job


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A CSV field a spreadsheet shows as text: one that starts like a formula gets a single
    quote in front (OWASP's advice on CSV injection)."""
    text = printable(str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write_outputs(out: Path, rows: list[Row], notes: dict[str, str]) -> None:
    from .feedback import write_feedback

    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "check_id", "points", "max_points", "status",
                         "message"])
        for row in rows:
            message = _one_line(row.message) if not row.hidden else ""
            writer.writerow([safe_cell(v) for v in (
                row.student, row.notebook, row.check_id, f"{row.points:g}",
                f"{row.max_points:g}", row.status, message)])
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "points", "max_points", *STATUSES, "note"])
        for (student, notebook), group in _groups(rows).items():
            counts = [sum(r.status == s for r in group) for s in STATUSES]
            note = _note_for(notes, student, notebook)
            writer.writerow([safe_cell(v) for v in (
                student, notebook, f"{sum(r.points for r in group):g}",
                f"{sum(r.max_points for r in group):g}", *counts, _one_line(note))])
    for (student, notebook), group in _groups(rows).items():
        write_feedback(out / "feedback" / _safe_name(student) / f"{_safe_name(notebook)}.html",
                       student, notebook, group, _note_for(notes, student, notebook))


def _safe_name(name: str) -> str:
    """A file name made of safe characters; a name that had others gets a short hash of
    itself, so that two students never share a feedback folder."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
    if safe == name:
        return safe
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{safe}-{digest}"


def _note_for(notes: dict[str, str], student: str, notebook: str) -> str:
    for key, note in notes.items():
        owner, _, name = key.partition("/")
        if owner == student and (Path(name).stem == notebook or name == notebook):
            return note
    return ""


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
        name = printable(f"{student}/{notebook}")
        lines.append(f"{name.ljust(width)}  {f'{earned:g}/{maximum:g}':>6}"
                     f"  {passed:>6}  {failed:>6}  {len(group) - passed - failed:>5}")
    return "\n".join(lines)
