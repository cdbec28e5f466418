"""Grading a class beyond one machine: shards and their merge, and a Dask cluster.

One run with ``--jobs 2`` on this machine is the reference: four shards merged, and the same
class graded on a Dask ``LocalCluster`` of two worker processes, must write the same gradebook
(grades.csv, summary.csv, the feedback pages), byte for byte.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from sandbox.grading.distribute import DistributeError, Shard, merge
from sandbox.grading.grade import GRADEBOOK, LOST, Options, grade

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"
# three that run in a kernel, three that are answered without one (a bad file, an unknown
# exercise, a folder where a notebook should be)
RUN = ["perfect", "blank", "partial"]
NOT_RUN = ["malformed-json", "unknown-stem", "nested-folder"]
OPTIONS = Options(exercises=ROOT / "exercises", cell_timeout=30, timeout=300)
OUTPUTS = ["grades.csv", "summary.csv"]


def _class(target: Path, students: list[str]) -> Path:
    for student in students:
        shutil.copytree(SUBMISSIONS / student, target / student)
    return target


def _files(out: Path) -> dict[str, bytes]:
    """What a gradebook shows: the two CSV files and every feedback page."""
    found = {name: (out / name).read_bytes() for name in OUTPUTS}
    for page in sorted((out / "feedback").rglob("*.html")):
        found[str(page.relative_to(out))] = page.read_bytes()
    return found


def _grades(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv") as f:
        return list(csv.DictReader(f))


def quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------- shards: the split
KEYS = [f"student-{n:03d}/0{n % 3}-exercise.ipynb" for n in range(400)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_every_submission_is_in_exactly_one_shard(count):
    shards = [Shard(index, count) for index in range(1, count + 1)]
    for key in KEYS:
        assert sum(shard.holds(key) for shard in shards) == 1, key


def test_a_submissions_shard_stays_when_others_are_added():
    # a hash of the name alone: late submissions move nobody, so each shard's cache holds
    before = {key: [i for i in range(1, 5) if Shard(i, 4).holds(key)] for key in KEYS[:200]}
    after = {key: [i for i in range(1, 5) if Shard(i, 4).holds(key)] for key in KEYS}
    assert all(after[key] == shard for key, shard in before.items())


def test_shards_share_a_class_about_evenly():
    # sha256 is fixed, so this split is too: 400 submissions in four shards of 100 +- 30
    sizes = [sum(Shard(i, 4).holds(key) for key in KEYS) for i in range(1, 5)]
    assert sum(sizes) == 400 and all(70 <= size <= 130 for size in sizes), sizes


@pytest.mark.parametrize("text, problem", [
    ("0/4", "counted from 1"), ("5/4", "counted from 1"), ("1/0", "counted from 1"),
    ("2", "expected i/n"), ("a/b", "expected i/n"), ("", "expected i/n")])
def test_a_bad_shard_is_refused_with_the_form_expected(text, problem):
    with pytest.raises(DistributeError, match=problem):
        Shard.parse(text)


def test_shards_are_written_i_slash_n():
    assert str(Shard.parse(" 3 / 4 ")) == "3/4" and Shard.parse("1/1") == Shard(1, 1)


# ---------------------------------------------------------------- merging (no kernel needed)
@pytest.fixture(scope="module")
def unrun(tmp_path_factory):
    """Submissions answered without a kernel: one run and four shards of it, quickly."""
    tmp = tmp_path_factory.mktemp("unrun")
    submissions = _class(tmp / "submissions", NOT_RUN + ["perfect"])
    (submissions / "perfect" / "00-welcome.ipynb").write_text("{}")  # JSON, not a notebook
    grade(submissions, tmp / "whole", OPTIONS, progress=quiet)
    shards = []
    for index in range(1, 5):
        shards.append(tmp / f"shard-{index}")
        grade(submissions, shards[-1], OPTIONS, progress=quiet, shard=Shard(index, 4))
    return {"tmp": tmp, "submissions": submissions, "whole": tmp / "whole", "shards": shards}


def test_merged_shards_equal_one_run_without_kernels(unrun):
    merge(unrun["shards"], unrun["tmp"] / "merged", progress=quiet)
    assert _files(unrun["tmp"] / "merged") == _files(unrun["whole"])
    whole = json.loads((unrun["whole"] / GRADEBOOK).read_text())
    merged = json.loads((unrun["tmp"] / "merged" / GRADEBOOK).read_text())
    assert merged["results"] == whole["results"] and merged["shard"] is None


def test_each_shard_holds_only_its_share(unrun):
    held = [set(json.loads((shard / GRADEBOOK).read_text())["results"])
            for shard in unrun["shards"]]
    everything = set(json.loads((unrun["whole"] / GRADEBOOK).read_text())["results"])
    assert set().union(*held) == everything
    assert sum(len(keys) for keys in held) == len(everything)


def _refused(unrun, folders, match, out="refused"):
    with pytest.raises(DistributeError, match=match):
        merge(folders, unrun["tmp"] / out, progress=quiet)


def test_a_missing_or_repeated_shard_is_named(unrun):
    shards = unrun["shards"]
    _refused(unrun, shards[:3], r"shard\(s\) 4/4 missing")
    _refused(unrun, [*shards, shards[0]], "shard 1/4 is given twice")


def test_only_shards_of_one_split_merge(unrun):
    _refused(unrun, [*unrun["shards"], unrun["whole"]], "was not graded as a shard")
    other = unrun["tmp"] / "half-1"
    grade(unrun["submissions"], other, OPTIONS, progress=quiet, shard=Shard(1, 2))
    _refused(unrun, [*unrun["shards"][1:], other], "different splits")
    _refused(unrun, [unrun["tmp"] / "nowhere"], f"holds no {GRADEBOOK}")
    _refused(unrun, unrun["shards"], "one of the shards' folders", out="shard-1")


def test_shards_graded_differently_or_from_other_folders_are_refused(unrun, tmp_path):
    changed = Options(**{**OPTIONS.__dict__, "cell_timeout": 31})
    grade(unrun["submissions"], tmp_path / "s1", changed, progress=quiet, shard=Shard(1, 4))
    _refused(unrun, [tmp_path / "s1", *unrun["shards"][1:]], "different options")
    later = tmp_path / "later"  # a submission handed in after the other shards ran
    shutil.copytree(unrun["submissions"], later)
    _class(later, ["empty-file"])
    grade(later, tmp_path / "s1-later", OPTIONS, progress=quiet, shard=Shard(1, 4))
    _refused(unrun, [tmp_path / "s1-later", *unrun["shards"][1:]],
             "different submissions folders")


def test_the_cli_merges_and_refuses_a_merge_mixed_with_grading(unrun, capsys):
    from sandbox.cli import main

    folders = [str(shard) for shard in unrun["shards"]]
    assert main(["grade", "--merge", *folders, "--out", str(unrun["tmp"] / "cli")]) == 0
    assert _files(unrun["tmp"] / "cli") == _files(unrun["whole"])
    assert main(["grade", str(unrun["submissions"]), "--merge", *folders, "--out",
                 str(unrun["tmp"] / "cli2")]) == 2
    assert "give it no SUBMISSIONS" in capsys.readouterr().err
    assert main(["grade", str(unrun["submissions"]), "--shard", "0/4", "--out",
                 str(unrun["tmp"] / "cli3")]) == 2
    assert "counted from 1" in capsys.readouterr().err


# ---------------------------------------------------------------- the real thing: kernels
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The class graded once on this machine with --jobs 2: what every other way must equal."""
    tmp = tmp_path_factory.mktemp("reference")
    submissions = _class(tmp / "submissions", RUN + NOT_RUN)
    grade(submissions, tmp / "out", OPTIONS, jobs=2, progress=quiet)
    statuses = {(g["student"], g["check_id"]): g["status"] for g in _grades(tmp / "out")}
    # the reference itself is right: the solved one passes all, the blank one none
    assert [statuses["perfect", c] for c in ("check-greeter-answers", "check-shout-logs")] \
        == ["passed", "passed"]
    assert statuses["blank", "check-greeter-answers"] == "failed"
    return {"tmp": tmp, "submissions": submissions, "out": tmp / "out"}


@pytest.mark.slow
def test_four_shards_merged_equal_one_run(reference):
    tmp = reference["tmp"]
    shards = []
    for index in range(1, 5):
        shards.append(tmp / f"shard-{index}")
        grade(reference["submissions"], shards[-1], OPTIONS, jobs=2, progress=quiet,
              shard=Shard(index, 4))
    merge(shards, tmp / "merged", progress=quiet)
    assert _files(tmp / "merged") == _files(reference["out"])
    # the merged folder is a cache too: the whole class graded into it re-grades nothing
    again: list[str] = []
    grade(reference["submissions"], tmp / "merged", OPTIONS, jobs=2, progress=again.append)
    notebooks = len(RUN) + 2  # and the malformed one and the unknown exercise's
    assert again == [f"{notebooks} submission(s) already graded and unchanged: kept"]


def _local_cluster(workers: int, tmp: Path):
    """Dask worker processes, one thread each, on this machine; the scheduler in this one. Their
    temporary folders are under ``tmp``: a worker these tests kill mid-grading cannot remove its
    workspace, and what it leaves goes with the test's own folder."""
    distributed = pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp)  # inherited by the nannies, and the workers they restart
    try:
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=True, dashboard_address=":0")  # any free port
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with _local_cluster(2, tmp_path_factory.mktemp("dask-workers")) as local:
        yield local


@pytest.mark.slow
def test_a_dask_cluster_grades_as_jobs_2_does(reference, cluster):
    out = reference["tmp"] / "dask"
    messages: list[str] = []
    grade(reference["submissions"], out, OPTIONS, progress=messages.append,
          scheduler=cluster.scheduler_address)
    assert _files(out) == _files(reference["out"])
    assert any("2 worker(s), 2 thread(s)" in message for message in messages), messages
    # each verdict was kept as it came, in the same cache as on one machine
    progress = [m for m in messages if m.startswith("[")]
    assert len(progress) == len(RUN) + 2  # and the malformed one and the unknown exercise's
    kept = json.loads((out / ".graded.json").read_text())
    assert sorted(kept) == sorted(json.loads((reference["out"] / ".graded.json").read_text()))


def _grading_processes(pids: set[int]) -> list:
    """The per-submission worker processes (sandbox.grading.worker) the Dask workers run."""
    import psutil

    found = []
    for pid in pids:
        try:
            for child in psutil.Process(pid).children():
                if "sandbox.grading.worker" in " ".join(child.cmdline()):
                    found.append(child)
        except psutil.Error:
            continue
    return found


def _kill_a_worker_mid_grading(client, deadline: float = 120):
    """SIGKILL the Dask worker process grading a submission, once its worker process for that
    submission is running; that process, which the grading worker left behind."""
    import os
    import signal

    pids = set(client.run(os.getpid).values())
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        found = _grading_processes(pids)
        if found:
            grading = found[0]
            os.kill(grading.ppid(), signal.SIGKILL)
            return grading
        time.sleep(0.1)
    raise AssertionError("no submission started grading on the Dask workers")


def _grade_while_killing(submissions: Path, out: Path, address: str) -> tuple[list, object]:
    from distributed import Client

    rows: list = []
    thread = threading.Thread(target=lambda: rows.extend(grade(
        submissions, out, OPTIONS, progress=quiet, scheduler=address)))
    with Client(address, set_as_default=False) as client:
        thread.start()
        orphan = _kill_a_worker_mid_grading(client)
    thread.join()
    return rows, orphan


def _gone(process) -> bool:
    import psutil

    _, alive = psutil.wait_procs([process], timeout=60)
    return not alive


@pytest.mark.slow
def test_a_worker_lost_mid_grading_is_retried_elsewhere(tmp_path, cluster):
    submissions = _class(tmp_path / "submissions", ["perfect"])
    rows, orphan = _grade_while_killing(submissions, tmp_path / "out",
                                        cluster.scheduler_address)
    assert [r.status for r in rows] == ["passed"] * 3  # graded again, on a worker alive
    assert _gone(orphan)  # the killed worker's grading process ended with it


@pytest.mark.slow
def test_a_submission_lost_too_often_gets_a_row_and_is_graded_next_time(tmp_path):
    dask_core = pytest.importorskip("dask", reason="the [dask] extra is not installed")

    submissions = _class(tmp_path / "submissions", ["perfect"])
    out = tmp_path / "out"
    # Dask's limit made 0: the first death is the last (its default, 3, retries three times)
    with dask_core.config.set({"distributed.scheduler.allowed-failures": 0}), \
            _local_cluster(1, tmp_path) as strict:
        rows, orphan = _grade_while_killing(submissions, out, strict.scheduler_address)
        assert [r.status for r in rows] == ["error"] * 3
        assert all(r.message.startswith(LOST) and "run the same command again" in r.message
                   for r in rows), rows[0].message
        assert json.loads((out / ".graded.json").read_text()) == {}  # not kept: not graded
        assert json.loads((out / GRADEBOOK).read_text())["results"][
            "perfect/00-welcome.ipynb"]["lost"] is True
        assert _gone(orphan)
        again = grade(submissions, out, OPTIONS, progress=quiet,
                      scheduler=strict.scheduler_address)
    assert [r.status for r in again] == ["passed"] * 3


# ---------------------------------------------------------------- refusals before any grading
def test_a_worker_with_another_grader_refuses_to_grade(tmp_path):
    from sandbox.grading.distribute import grade_on_worker
    from sandbox.grading.grade import prepare

    path = _class(tmp_path, ["perfect"]) / "perfect" / "00-welcome.ipynb"
    job = prepare("perfect/00-welcome.ipynb", path, "", OPTIONS)
    with pytest.raises(DistributeError, match="another version of the grader or the checks"):
        grade_on_worker(job, OPTIONS, [], grader="0" * 64)
    assert job.rows is None  # refused before anything ran


def test_no_scheduler_at_the_address_is_said_plainly(tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the [dask] extra is not installed")
    import socket

    from sandbox.grading import distribute

    monkeypatch.setattr(distribute, "CONNECT_TIMEOUT", "2s")  # the default waits 30 s
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    submissions = _class(tmp_path / "submissions", ["perfect"])
    with pytest.raises(DistributeError, match=f"no Dask scheduler answered at tcp://127.0.0.1:"
                                              f"{port}"):
        grade(submissions, tmp_path / "out", OPTIONS, progress=quiet,
              scheduler=f"tcp://127.0.0.1:{port}")
