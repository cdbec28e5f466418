"""Grading a class beyond one machine: on a Dask cluster, in shards, and the shards merged.

``course grade SUBMISSIONS --out DIR --scheduler tcp://HOST:8786`` sends each submission to a
Dask cluster (``dask.distributed``, the ``[dask]`` extra, installed here and on every worker).
Each Dask worker grades a submission exactly as ``course grade`` does on one machine: the same
:func:`sandbox.grading.grade.run_job` (a worker process of its own, its own sandbox server,
the kernel in the bubblewrap jail), in a temporary workspace of its own on the worker's
machine. Only the repaired notebook travels (the submission is read and its checks restored
where ``course grade`` runs); the rows come back, and each is written to the cache as it
comes, as on one machine. A Dask worker that dies while it grades (its machine lost, killed
for memory) takes the submission's worker process with it (that process ends when its
parent's pipe closes); the scheduler gives the submission to another worker, up to Dask's
``distributed.scheduler.allowed-failures`` (3) times; after that the submission gets a row
saying it was lost, and is left out of the cache, so that the same command grades it again.
Every worker must hold the same grader and checks (the code's fingerprint is compared).

``course grade SUBMISSIONS --out DIR_i --shard i/n`` grades one share of the submissions
(an array job's task, a CI matrix's leg); ``course grade --merge DIR_1 ... DIR_n --out DIR``
combines the shards' ``gradebook.json`` into one gradebook, equal to one run's.

A submission's shard is a hash of its name (``<student>/<file>``), not its place in a sorted
list: it never moves to another shard when files are added or removed, so each shard's cache
stays valid for late submissions. The price is a statistical balance (each shard holds about
1/n of the class, not exactly).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SandboxError
from .grade import (
    GRADEBOOK,
    LOST,
    Finished,
    Job,
    Options,
    Row,
    Workspace,
    _one_line,
    _write_outputs,
    code_fingerprint,
    printable,
    run_job,
    write_gradebook,
)

CONNECT_TIMEOUT = "30s"  # to reach the scheduler at the start


class DistributeError(SandboxError):
    """Grading on a cluster, in shards or merging them cannot go on; the message says why and
    what to do."""


# ---------------------------------------------------------------- shards
@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``--shard 1/4`` ... ``--shard 4/4``: counted from 1)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise DistributeError(f"--shard {text!r}: expected i/n, e.g. --shard 1/4 for the "
                                  "first of four shards")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise DistributeError(f"--shard {text}: shards are counted from 1 to n, so i/n needs "
                                  f"1 <= i <= n (for four shards: 1/4, 2/4, 3/4, 4/4)")
        return cls(index, count)

    def holds(self, key: str) -> bool:
        """Whether the submission named ``key`` (``<student>/<file>``) is this shard's: by a
        hash of the name alone, so that no submission moves when others come or go."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


# ---------------------------------------------------------------- a Dask cluster
def grade_on_worker(job: Job, options: Options, hide: list[Path],
                    grader: str) -> tuple[list[Row] | None, list[str], str]:
    """On a Dask worker: grade one prepared submission as :func:`run_job` does on one machine,
    in a workspace of its own; its rows, notes and the protection missing on that machine."""
    from . import jail

    here = code_fingerprint()
    if here != grader:
        raise DistributeError(
            f"this Dask worker holds another version of the grader or the checks (fingerprint "
            f"{here[:12]}, not {grader[:12]}): install the same version of the course on every "
            "worker")
    workspace = Workspace.create(options, hide)
    try:
        run_job(job, options, workspace)
    finally:
        workspace.remove()
    missing = jail.probe().missing if options.jail else \
        jail.NO_JAIL.format(why="--no-jail was given")
    return job.rows, job.notes, missing


def _connect(scheduler: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise DistributeError(
            "--scheduler needs dask.distributed, which is not installed here: pip install "
            "'serverless-sandbox[dask]' (here and on every Dask worker)") from None
    try:
        # distributed's Client and as_completed carry no annotations on __init__
        return Client(scheduler, timeout=CONNECT_TIMEOUT,  # type: ignore[no-untyped-call]
                      set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise DistributeError(f"no Dask scheduler answered at {scheduler} ({_one_line(error)}): "
                              "start one (dask scheduler), or check the address") from None


def _check_workers(client: Any, scheduler: str, grader: str,
                   progress: Callable[[str], None]) -> None:
    """The workers present can run this grader: the package imports there, at this version."""
    try:
        found: dict[str, str] = client.run(code_fingerprint)
    except Exception as error:  # noqa: BLE001 (whatever a worker raised, the cause is one)
        raise DistributeError(
            f"the Dask workers cannot run the grader ({type(error).__name__}: "
            f"{_one_line(error)}): install the course with its [dask] extra on every worker "
            "(pip install 'serverless-sandbox[dask]')") from None
    other = sorted(worker for worker, code in found.items() if code != grader)
    if other:
        raise DistributeError(
            f"{len(other)} Dask worker(s) hold another version of the grader or the checks "
            f"({', '.join(other[:3])}): install the same version of the course on every worker")
    threads = sum(client.nthreads().values())
    progress(f"grading on the Dask cluster at {scheduler}: {len(found)} worker(s), {threads} "
             "thread(s), one submission per thread at a time"
             + ("" if found else " (none yet: the submissions wait for the first worker)"))


def _lost(job: Job, why: str) -> None:
    job.rows = job.rows_for({}, ("error", f"{LOST} ({why}); run the same command again to "
                                 "grade it", ""))
    job.notes.append(f"lost by the cluster: {why}")


def grade_on_dask(scheduler: str, todo: list[Job], options: Options, hide: list[Path],
                  finished: Finished, progress: Callable[[str], None]) -> None:
    """Grade ``todo`` on the Dask cluster at ``scheduler``; ``finished(job)`` as each ends.

    Every job ends in ``finished``: with its rows, or (``keep=False``) with a row saying the
    cluster lost it."""
    if not todo:
        return
    grader = code_fingerprint()
    client = _connect(scheduler)
    from distributed import KilledWorker, as_completed

    with client:
        _check_workers(client, scheduler, grader, progress)
        futures = {client.submit(grade_on_worker, job, options, hide, grader, pure=False,
                                 key=f"course-grade-{printable(job.key)}-{uuid.uuid4().hex[:8]}"):
                   job for job in todo}
        pending = dict(futures)
        warned: set[str] = set()
        try:
            for future in as_completed(futures,  # type: ignore[no-untyped-call]
                                       loop=client.loop):
                job = pending.pop(future)
                try:
                    rows, notes, missing = future.result()
                except KilledWorker:
                    _lost(job, "the Dask worker grading it died, as many times as Dask allows "
                               "(distributed.scheduler.allowed-failures)")
                    finished(job, missing="", keep=False)
                except Exception as error:  # noqa: BLE001 (a row for any of them, see _lost)
                    _lost(job, f"{type(error).__name__}: {_one_line(error)}")
                    finished(job, missing="", keep=False)
                else:
                    job.rows, job.notes = rows, notes
                    if missing and missing not in warned:  # once, as on one machine
                        warned.add(missing)
                        progress(f"WARNING: on a Dask worker: {missing}")
                    finished(job, missing=missing)
        except Exception as error:  # noqa: BLE001 (the scheduler gone: every job still waiting)
            for job in pending.values():
                _lost(job, f"the connection to the scheduler failed: {type(error).__name__}: "
                           f"{_one_line(error)}")
                finished(job, missing="", keep=False)


# ---------------------------------------------------------------- merging shards
def _read_gradebook(folder: Path) -> dict[str, Any]:
    path = folder / GRADEBOOK
    if not path.is_file():
        raise DistributeError(
            f"{folder} holds no {GRADEBOOK}: it is not the --out folder of a course grade run "
            "(grade each shard with course grade SUBMISSIONS --shard i/n --out DIR, then merge "
            "those folders)")
    try:
        book: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DistributeError(f"{path} cannot be read ({_one_line(error)}): grade that shard "
                              "again") from None
    return book


def merge(folders: list[Path], out: Path, progress: Callable[[str], None] = print) -> list[Row]:
    """Combine the ``--out`` folders of every shard of one split into one gradebook in ``out``
    (grades.csv, summary.csv, feedback/ and gradebook.json as one run writes them, and its
    cache: grading the whole class into ``out`` later re-grades only what changed)."""
    if not folders:
        raise DistributeError("--merge needs the --out folders of the shards to combine")
    if any(out.resolve() == folder.resolve() for folder in folders):
        raise DistributeError(f"--out {out} is one of the shards' folders: give a new folder "
                              "(a merge never overwrites a shard)")
    books = [(folder, _read_gradebook(folder)) for folder in folders]
    shards: dict[int, Path] = {}
    counts: set[int] = set()
    for folder, book in books:
        if not book.get("shard"):
            raise DistributeError(f"{folder} was not graded as a shard (no --shard): --merge "
                                  "combines the shards of one split")
        shard = Shard.parse(book["shard"])
        counts.add(shard.count)
        if shard.index in shards:
            raise DistributeError(f"shard {shard} is given twice: {shards[shard.index]} and "
                                  f"{folder}")
        shards[shard.index] = folder
    if len(counts) > 1:
        raise DistributeError("the folders are shards of different splits (n = "
                              f"{', '.join(str(n) for n in sorted(counts))}): merge the n shards "
                              "of one split")
    count = counts.pop()
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in shards]
    if missing:
        raise DistributeError(f"shard(s) {', '.join(missing)} missing: grade them (course grade "
                              f"SUBMISSIONS --shard {missing[0]} --out DIR) and give their "
                              "folders too")
    for name, what in (("grader", "different versions of the grader or the checks"),
                       ("options", "different options (timeouts, memory, jail)"),
                       ("submissions", "different submissions folders (entries were added or "
                                       "removed between the shards' runs)")):
        if len({json.dumps(book.get(name), sort_keys=True) for _, book in books}) > 1:
            raise DistributeError(f"the shards were graded with {what}: grade every shard again "
                                  "alike, then merge")
    results: dict[str, dict[str, Any]] = {}
    lost: set[str] = set()
    for folder, book in books:
        for key, entry in book["results"].items():
            if key in results:
                raise DistributeError(f"{printable(key)} is in two shards ({folder} and "
                                      "another): these are not shards of one split")
            results[key] = {k: v for k, v in entry.items() if k != "lost"}
            if entry.get("lost"):
                lost.add(key)
    out.mkdir(parents=True, exist_ok=True)
    first = books[0][1]
    cache = {key: entry for key, entry in results.items() if entry["digest"] and key not in lost}
    (out / ".graded.json").write_text(json.dumps(cache))
    write_gradebook(out, results, lost, first["grader"], first["options"], None,
                    first["submissions"])
    rows = [Row(**row) for key in sorted(results) for row in results[key]["rows"]]
    _write_outputs(out, rows, {key: results[key]["note"] for key in sorted(results)})
    progress(f"merged {count} shards: {len(results)} entries")
    if lost:
        progress(f"WARNING: {len(lost)} submission(s) were lost by the cluster in their shard "
                 "(see their rows): grade those shards again, then merge again")
    return rows
