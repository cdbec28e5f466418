"""Grading: authoring exercises from solutions, check cells, and the grader on hostile input."""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from sandbox.grading import authoring
from sandbox.grading.authoring import AuthoringError, build, exercise_from, strip_solutions
from sandbox.grading.checks import CheckFailed, NotAttempted, find
from sandbox.grading.grade import (
    BadSubmission,
    Options,
    grade,
    read_submission,
    restore_checks,
    safe_cell,
)
from sandbox.testing import deploy

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"


# ---------------------------------------------------------------- authoring
def test_solution_regions_become_placeholders_at_their_indentation():
    source = ("def handler(event, context):\n    # BEGIN SOLUTION\n    return 1\n"
              "    # END SOLUTION\n\nx = 2")
    assert strip_solutions(source, "nb") == ("def handler(event, context):\n"
                                             "    # YOUR CODE HERE\n"
                                             "    raise NotImplementedError()\n\nx = 2")


@pytest.mark.parametrize("source, problem", [
    ("# BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n# END SOLUTION", "without"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "a second"),
])
def test_unbalanced_markers_are_named(source, problem):
    with pytest.raises(AuthoringError, match=problem):
        strip_solutions(source, "solutions/x.ipynb, cell 3")


def _solution(*cells) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=list(cells))
    for index, cell in enumerate(notebook.cells):
        cell.id = cell.get("id") or f"cell-{index}"
    return notebook


def _check(source: str, cell_id: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.id, cell.metadata = cell_id, {"tags": ["check"]}
    return cell


def test_exercise_keeps_ids_strips_outputs_and_locks_check_cells():
    work = new_code_cell("# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION")
    work.outputs = [{"output_type": "stream", "name": "stdout", "text": "42"}]
    work.execution_count = 3
    exercise = exercise_from(_solution(work, _check('sandbox.check("welcome.greeter_answers", '
                                                    'points=2)', "check-1")), "nb")
    first, check = exercise.cells
    assert first.id == work.id and first.outputs == [] and first.execution_count is None
    assert first.source == ("# YOUR CODE HERE\nprint(\"Not answered yet: write your code here, "
                            "then run this cell again.\")")
    assert check.metadata == {"tags": ["check"], "points": 2, "editable": False,
                              "deletable": False}
    assert authoring.untouched(exercise)


@pytest.mark.parametrize("cells, problem", [
    ([_check("assert 1 == 1", "c")], "one line"),
    ([new_code_cell('sandbox.check("welcome.greeter_answers")')], "not tagged 'check'"),
])
def test_malformed_solutions_are_refused_with_the_reason(cells, problem):
    with pytest.raises(AuthoringError, match=problem):
        exercise_from(_solution(*cells), "solutions/x.ipynb")


def test_build_writes_checks_and_never_overwrites_a_learners_work(tmp_path):
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solution(new_code_cell("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")),
                   tmp_path / "solutions" / "01-x.ipynb")
    assert [p.name for p in build(tmp_path).written] == ["01-x.ipynb"]
    assert build(tmp_path, check_only=True).out_of_sync == []
    target = tmp_path / "exercises" / "01-x.ipynb"
    # the author changes the solution: --check notices, build rewrites the untouched exercise
    nbformat.write(_solution(new_code_cell("# BEGIN SOLUTION\nx = 2\n# END SOLUTION"),
                             new_markdown_cell("more")), tmp_path / "solutions" / "01-x.ipynb")
    assert build(tmp_path, check_only=True).out_of_sync == [target]
    assert build(tmp_path).written == [target]
    # a learner works in it: build refuses to replace it; --force keeps a copy
    worked = nbformat.read(target, as_version=4)
    worked.cells[0].source = "x = 'my answer'"
    nbformat.write(worked, target)
    nbformat.write(_solution(new_code_cell("y = 3")), tmp_path / "solutions" / "01-x.ipynb")
    assert build(tmp_path).refused == [target]
    assert "my answer" in target.read_text()
    assert build(tmp_path, force=True).written == [target]
    assert "my answer" in target.with_suffix(".ipynb.bak").read_text()


def test_course_exercises_are_in_sync_with_their_solutions():
    result = build(ROOT, check_only=True)
    assert result.out_of_sync == [], "run 'course build' and commit the exercises"


# ---------------------------------------------------------------- restoring check cells
def _canonical() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "exercises" / "00-welcome.ipynb", as_version=4)


def _check_ids(notebook) -> list[str]:
    return [c.id for c in notebook.cells if "check" in c.get("metadata", {}).get("tags", [])]


def test_restored_checks_land_where_the_exercise_has_them():
    canonical = _canonical()
    expected = _check_ids(canonical)
    shuffled = copy.deepcopy(canonical)
    shuffled.cells = [c for c in shuffled.cells if c.id != "check-greeter-defaults"]
    shuffled.cells.insert(0, new_code_cell("scratch = 1"))
    repaired, notes = restore_checks(shuffled, canonical, [])
    assert _check_ids(repaired) == expected
    ids = [c.id for c in repaired.cells]
    assert ids.index("check-greeter-defaults") == ids.index("check-greeter-answers") + 1
    assert notes == ["deleted check cell check-greeter-defaults re-inserted"]


def test_a_learners_own_check_tag_counts_for_nothing():
    canonical = _canonical()
    sneaky = copy.deepcopy(canonical)
    extra = new_code_cell("print('passed')")
    extra.metadata = {"tags": ["check"], "points": 100}
    sneaky.cells.append(extra)
    repaired, _ = restore_checks(sneaky, canonical, [])
    assert _check_ids(repaired) == _check_ids(canonical)


def test_every_repair_of_the_check_cells_is_made_and_noted():
    canonical = _canonical()
    mangled = copy.deepcopy(canonical)
    cells = {c.id: c for c in mangled.cells}
    retyped = new_code_cell(cells["check-greeter-answers"].source)  # a new id, the same source
    retyped.outputs = [nbformat.v4.new_output("stream", text="passed")]
    edited = cells["check-greeter-defaults"]
    edited.source = "print('passed')"
    cells["check-shout-logs"].cell_type = "markdown"  # turned into markdown: restored as code
    del cells["check-shout-logs"]["outputs"], cells["check-shout-logs"]["execution_count"]
    copied = copy.deepcopy(edited)  # a copy keeps the id: only the first one counts
    twin = copy.deepcopy(cells["ex00-greeter"])  # a learner's cell with a duplicate id
    mangled.cells = [c for c in mangled.cells if c.id != "check-greeter-answers"]
    at = [c.id for c in mangled.cells].index("check-greeter-defaults")
    mangled.cells[at:at] = [retyped]
    mangled.cells += [copied, twin]
    hidden = new_notebook(cells=[new_markdown_cell("notes"), new_code_cell(
        'sandbox.check("welcome.shout_logs", points=1)', id="hidden-1",
        metadata={"tags": ["check"]})])
    repaired, notes = restore_checks(mangled, canonical, [hidden])
    assert notes == ["check cell check-greeter-defaults restored",
                     "1 copy(ies) of check cell check-greeter-defaults removed",
                     "check cell check-shout-logs restored"]
    assert _check_ids(repaired) == _check_ids(canonical) + ["hidden-1"]
    official = {c.id: c for c in canonical.cells}
    by_id = {c.id: c for c in repaired.cells}
    for check in _check_ids(canonical):
        assert (by_id[check].cell_type, by_id[check].source) == ("code", official[check].source)
    ids = [c.id for c in repaired.cells]
    assert len(ids) == len(set(ids)) == len(canonical.cells) + 2  # the twin and the hidden check
    assert all(c.outputs == [] and c.execution_count is None
               for c in repaired.cells if c.cell_type == "code")
    assert mangled.cells[-1].id == "ex00-greeter"  # the submission itself is left alone


# ---------------------------------------------------------------- the checks, three ways
GREETER = "def lambda_handler(event, context):\n{body}\n"
RIGHT_GREETER = GREETER.format(body="    name = event.get('name', 'world')\n"
                                    "    return {'message': f'Hello, {name}!'}")


def _greeter(body: str | None = None) -> None:
    source = RIGHT_GREETER if body is None else GREETER.format(body=body)
    deploy("greeter", {"lambda_function.py": source}, handler="lambda_function.lambda_handler")


def _fails(check: str, match: str, cls=CheckFailed) -> CheckFailed:
    with pytest.raises(cls) as caught:
        find(check)()
    assert re.search(match, caught.value.hint), caught.value.hint
    return caught.value


def test_greeter_checks_pass_the_solution(sb):
    _greeter()
    find("welcome.greeter_answers")()
    find("welcome.greeter_defaults")()


def test_greeter_checks_say_not_attempted(sb):
    _fails("welcome.greeter_answers", "no function named 'greeter'", NotAttempted)
    _greeter("    raise NotImplementedError()")
    _fails("welcome.greeter_answers", "still raises NotImplementedError", NotAttempted)


@pytest.mark.parametrize("body, check, hint", [
    ("    return 'Hello, ' + event['name'] + '!'", "welcome.greeter_answers",
     "returned a string"),
    ("    return {'greeting': 'Hello!'}", "welcome.greeter_answers", "no 'message' key"),
    ("    return {'message': 'Hello, Grace!'}", "welcome.greeter_answers",
     "does not contain the name"),
    ("    return {'message': f\"hello {event['name']}\"}", "welcome.greeter_answers",
     "letter by letter"),
    ("    return {'message': f\"Hello, {event['name']}!\"}", "welcome.greeter_defaults",
     "raised KeyError"),
    ("    return {'message': f\"Hello, {event.get('name')}!\"}", "welcome.greeter_defaults",
     "should be 'Hello, world!'"),
])
def test_greeter_wrong_answers_get_their_own_hint(sb, body, check, hint):
    _greeter(body)
    failure = _fails(check, hint)
    assert failure.expected is not None and failure.found is not None


SHOUT = "def lambda_handler(event, context):\n{body}\n"


@pytest.mark.parametrize("module, body, hint", [
    ("", "    text = event['text']\n    print(text.upper())\n    return len(text)", None),
    ("", "    return event['text'].upper()", "returns the capitalised text"),
    ("", "    print(event['text'])\n    return len(event['text'])", "not in capital letters"),
    ("print('READY')\n", "    return len(event['text'])", "no line with the text"),
    ("", "    return len(event['message'])", "event\\['text'\\]"),
])
def test_shout_check_three_ways(sb, module, body, hint):
    deploy("shout", {"lambda_function.py": module + SHOUT.format(body=body)},
           handler="lambda_function.lambda_handler")
    if hint is None:
        find("welcome.shout_logs")()
    else:
        _fails("welcome.shout_logs", hint)


def test_an_unknown_check_name_suggests_the_near_one():
    from sandbox.errors import SandboxError

    with pytest.raises(SandboxError, match="Did you mean 'welcome.greeter_answers'"):
        find("welcome.greeter_answer")


# ---------------------------------------------------------------- the grader, on every bad case
CHECK_IDS = ["check-greeter-answers", "check-greeter-defaults", "check-shout-logs"]
ALL = "passed passed passed"
NONE = "failed failed failed"
CHEATS = ["rebind-check", "patch-registry", "patch-sys-modules", "patch-builtins",
          "patch-botocore", "input-transformer", "silence-tracebacks", "run-solution",
          "rewrite-check-source", "fake-results", "disable-iam"]
ATTACKS = ["kill-parent", "overwrite-classmates", "plant-module", "remove-parent-folder",
           "leave-process", "stop-sandbox"]
EXPECTED = {  # student: (points, statuses by check id, a word the note must hold)
    "perfect": (4, ALL, ""),
    "blank": (0, NONE, ""),
    "partial": (3, "passed passed failed", ""),
    "infinite-loop": (4, ALL, "interrupted"),
    "kernel-exit": (2, "passed not-run not-run", "kernel died"),
    "segfault": (2, "passed not-run not-run", "kernel died"),
    "memory-blowup": (4, ALL, "MemoryError"),
    "malformed-json": (0, "error error error", "not valid JSON"),
    "empty-file": (0, "error error error", "empty"),
    "nbformat-3": (4, ALL, ""),
    "deleted-check": (4, ALL, "re-inserted"),
    "edited-check": (1, "failed failed passed", "restored"),
    "duplicated-check": (4, ALL, "removed"),
    "retyped-check": (4, ALL, ""),
    "check-as-markdown": (4, ALL, "restored"),
    "huge-output": (4, ALL, ""),
    "stderr-warnings": (4, ALL, ""),
    "writes-files": (4, ALL, ""),
    "inserted-cells": (4, ALL, ""),
    "setup-from-import": (4, ALL, ""),  # the preload gives %%lambda a sandbox
    "setup-deleted": (4, ALL, ""),
    "schema-bad-tags": (0, "error error error", "does not follow"),
    "schema-no-source": (0, "error error error", "does not follow"),
    "upper-case-suffix": (4, ALL, ""),
    "=HYPERLINK(1)": (4, ALL, ""),
    **{f"cheat-{name}-blank": (0, NONE, "") for name in CHEATS},
    **{f"cheat-{name}-solved": (4, ALL, "") for name in CHEATS},
    "cheat-lambda-reads-solution-blank": (0, NONE, ""),
    **{f"attack-{name}": (4, ALL, "") for name in ATTACKS},
}
NOT_GRADED = {  # student: the reason in the row
    "nested-folder": "a folder inside a student's folder",
    "dangling-link": "a link, not followed",
    "link-to-solution": "a link, not followed",
}
NEEDS_THE_JAIL = {f"cheat-{name}-blank" for name in ("run-solution", "rewrite-check-source",
                                                    "lambda-reads-solution")} \
    | {f"attack-{name}" for name in ATTACKS}  # without it, they do reach what they attack


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(os.fsencode(path.relative_to(folder)))
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _copy_submissions(target: Path, students) -> None:
    for student in students:
        shutil.copytree(SUBMISSIONS / student, target / student, symlinks=True)
    link = target / "link-to-solution" / "00-welcome.ipynb"
    if link.is_symlink():  # the repository's link is relative to tests/submissions
        link.unlink()
        link.symlink_to(ROOT / "solutions" / "00-welcome.ipynb")


def _left_behind(marker: str) -> list[int]:
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        if marker in " ".join(process.info["cmdline"] or []):
            found.append(process.pid)
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One grading run of every example submission (kernels are slow: one run serves every
    assertion below)."""
    from sandbox.grading import jail

    tmp_path = tmp_path_factory.mktemp("class")
    submissions = tmp_path / "submissions"
    students = [*EXPECTED, *NOT_GRADED, "unknown-stem"]
    if not jail.probe().works:
        students = [s for s in students if s not in NEEDS_THE_JAIL]
    _copy_submissions(submissions, students)
    # a folder named in another encoding than UTF-8 (not in the repository: git would mangle it)
    weird = os.fsdecode(bytes(submissions) + b"/bad\xff\xfename")
    shutil.copytree(SUBMISSIONS / "perfect", weird)
    before = _tree_digest(submissions)
    source_before = _tree_digest(ROOT / "sandbox")
    out = tmp_path / "grades"
    options = Options(exercises=ROOT / "exercises", cell_timeout=10, timeout=300)
    messages: list[str] = []
    temporary = tmp_path / "tmp"  # the grader's temporary folders go here, to be counted
    temporary.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(temporary)
    try:
        rows = grade(submissions, out, options, jobs=2, progress=messages.append)
    finally:
        tempfile.tempdir = saved
    assert _tree_digest(submissions) == before  # no student file written
    with open(out / "grades.csv") as f:
        grades = list(csv.DictReader(f))
    with open(out / "summary.csv") as f:
        summary = {row["student"]: row for row in csv.DictReader(f)}
    return {"source_unchanged": _tree_digest(ROOT / "sandbox") == source_before,
            "rows": rows, "grades": grades, "summary": summary, "out": out,
            "submissions": submissions, "options": options, "messages": messages,
            "students": students, "temporary": temporary}


@pytest.mark.slow
@pytest.mark.parametrize("student", list(EXPECTED))
def test_each_submission_gets_its_exact_grade(graded, student):
    if student not in graded["students"]:
        pytest.skip("needs the bubblewrap jail, which does not work here")
    shown = "'" + student if student.startswith("=") else student  # see the CSV test
    mine = [g for g in graded["grades"] if g["student"] == shown]
    points, statuses, note = EXPECTED[student]
    assert [g["check_id"] for g in mine] == CHECK_IDS, mine
    assert " ".join(g["status"] for g in mine) == statuses, (
        student, [(g["status"], g["message"]) for g in mine], graded["summary"][shown]["note"])
    assert float(graded["summary"][shown]["points"]) == points, student
    assert note in graded["summary"][shown]["note"], (student, graded["summary"][shown]["note"])


@pytest.mark.slow
def test_every_file_gets_a_row_and_links_are_not_followed(graded):
    for student, reason in NOT_GRADED.items():
        mine = [g for g in graded["grades"] if g["student"] == student]
        assert len(mine) == 1 and mine[0]["status"] == "error", mine
        assert reason in mine[0]["message"] and mine[0]["points"] == "0", mine
    unknown = [g for g in graded["grades"] if g["student"] == "unknown-stem"]
    assert unknown[0]["status"] == "error" and "unknown notebook" in unknown[0]["message"]
    assert len(graded["rows"]) == len(graded["grades"])


@pytest.mark.slow
def test_verdicts_say_not_attempted_and_feedback_is_clean(graded):
    blank = [g for g in graded["grades"] if g["student"] == "blank"]
    assert all("not attempted yet" in g["message"] for g in blank)
    assert all("sandbox-check" not in g["message"] for g in graded["grades"])
    page = (graded["out"] / "feedback" / "perfect" / "00-welcome.html").read_text()
    assert "\x1b[" not in page and "4 / 4 points" in page


@pytest.mark.slow
def test_a_folder_name_that_is_not_utf8_is_graded_and_written(graded):
    mine = [g for g in graded["grades"] if g["student"] == "bad\ufffd\ufffdname"]
    assert [g["status"] for g in mine] == ["passed"] * 3
    folders = [p.name for p in (graded["out"] / "feedback").iterdir()]
    assert len([f for f in folders if f.startswith("bad__name-")]) == 1


@pytest.mark.slow
def test_csv_cells_that_look_like_formulas_are_neutralised(graded):
    text = (graded["out"] / "grades.csv").read_text()
    assert "\n'=HYPERLINK(1)," in text and "\n=HYPERLINK" not in text
    assert "\n'=HYPERLINK(1)," in (graded["out"] / "summary.csv").read_text()
    assert all(len(row["note"]) <= 200 for row in graded["summary"].values())


@pytest.mark.slow
def test_nothing_is_left_behind(graded):
    assert _left_behind("cheat-left-behind") == []
    assert _left_behind("cheat-detached-writer") == []
    assert list(graded["temporary"].iterdir()) == []  # no temporary folder left
    assert sorted(p.name for p in graded["out"].iterdir()) == [
        ".graded.json", "feedback", "gradebook.json", "grades.csv", "summary.csv"]
    assert graded["source_unchanged"]  # the checks' and the grader's source included


@pytest.mark.slow
def test_resume_keeps_what_is_unchanged_and_regrades_on_a_changed_option(graded, tmp_path):
    again: list[str] = []
    grade(graded["submissions"], graded["out"], graded["options"], jobs=2,
          progress=again.append)
    notebooks = len(graded["students"]) - len(NOT_GRADED) + 1  # and the non-UTF-8 folder
    assert again == [f"{notebooks} submission(s) already graded and unchanged: kept"]
    # a changed option that can change a grade: nothing is kept
    small = tmp_path / "subs"
    _copy_submissions(small, ["perfect"])
    first: list[str] = []
    grade(small, tmp_path / "out", graded["options"], jobs=1, progress=first.append)
    longer = Options(**{**graded["options"].__dict__, "cell_timeout": 11})
    second: list[str] = []
    grade(small, tmp_path / "out", longer, jobs=1, progress=second.append)
    assert not any("already graded" in m for m in second), second


@pytest.mark.slow
def test_extra_checks_are_graded_and_say_only_passed_or_failed(tmp_path):
    submissions = tmp_path / "submissions"
    _copy_submissions(submissions, ["perfect", "blank", "impersonate-hidden"])
    extra_dir = tmp_path / "extra"
    extra_dir.mkdir()
    hidden = _check('sandbox.check("welcome.greeter_defaults", points=5)', "instructor-defaults")
    nbformat.write(_solution(hidden), extra_dir / "00-welcome.ipynb")
    out = tmp_path / "grades"
    rows = grade(submissions, out, Options(exercises=ROOT / "exercises",
                                           extra_checks=extra_dir),
                 jobs=2, progress=lambda _: None)
    with open(out / "grades.csv") as f:
        extra = {g["student"]: g for g in csv.DictReader(f) if g["check_id"] ==
                 "instructor-defaults"}
    assert extra["perfect"]["status"] == "passed", [r for r in rows if r.student == "perfect"]
    assert (extra["perfect"]["status"], extra["perfect"]["points"]) == ("passed", "5")
    assert (extra["blank"]["status"], extra["blank"]["message"]) == ("failed", "")
    # a learner's cell with the hidden check's id is renamed, not taken for it
    assert (extra["impersonate-hidden"]["status"], extra["impersonate-hidden"]["points"]) == \
        ("failed", "0")
    page = (out / "feedback" / "blank" / "00-welcome.html").read_text()
    assert "instructor&#x27;s check: failed" in page and "greeter_defaults" not in page


def test_a_hidden_check_id_on_a_learners_cell_is_renamed():
    canonical = _canonical()
    impostor = copy.deepcopy(canonical)
    cell = new_code_cell("print('passed')", id="hidden-1", metadata={"tags": ["check"]})
    impostor.cells.append(cell)
    hidden = new_notebook(cells=[new_code_cell(
        'sandbox.check("welcome.shout_logs", points=1)', id="hidden-1",
        metadata={"tags": ["check"]})])
    repaired, notes = restore_checks(impostor, canonical, [hidden])
    mine = [c for c in repaired.cells if c.id == "hidden-1"]
    assert len(mine) == 1 and mine[0].source == 'sandbox.check("welcome.shout_logs", points=1)'
    assert "renamed" in " ".join(notes)


def test_of_several_copies_of_a_check_the_nearest_to_its_place_is_kept():
    canonical = _canonical()
    moved = copy.deepcopy(canonical)
    ids = [c.id for c in moved.cells]
    check = moved.cells[ids.index("check-greeter-answers")]
    early = copy.deepcopy(check)
    early.source = "print('early copy')"
    moved.cells.insert(0, early)  # a copy far above; the one in place stays where it is
    repaired, _ = restore_checks(moved, canonical, [])
    kept = [c.id for c in repaired.cells]
    assert kept.index("check-greeter-answers") == kept.index("ex00-greeter") + 1
    assert "early copy" not in "".join(c.source for c in repaired.cells)


@pytest.mark.parametrize("value, shown", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("3", "3"),
])
def test_safe_cell_neutralises_formula_starts(value, shown):
    assert safe_cell(value) == shown


@pytest.mark.parametrize("mutate, problem", [
    (lambda nb: nb["cells"][1]["metadata"].__setitem__("tags", 5), "does not follow"),
    (lambda nb: nb["cells"][1].pop("source"), "does not follow"),
])
def test_schema_errors_are_a_reason_not_a_crash(tmp_path, mutate, problem):
    import json

    raw = json.loads(nbformat.writes(_canonical()))
    mutate(raw)
    path = tmp_path / "00-welcome.ipynb"
    path.write_text(json.dumps(raw))
    with pytest.raises(BadSubmission, match=problem):
        read_submission(path)


def test_a_lambda_cells_placeholder_deploys_a_handler_that_says_not_answered():
    source = ("%%lambda greeter\n# BEGIN SOLUTION\ndef lambda_handler(event, context):\n"
              "    return 1\n# END SOLUTION")
    placeholder = strip_solutions(source, "nb")
    assert placeholder.startswith("%%lambda greeter\n# YOUR CODE HERE")
    assert placeholder.endswith("def lambda_handler(event, context):\n"
                                "    raise NotImplementedError(\"not answered yet\")")


# ---------------------------------------------------------------- the learner's token
def test_the_learners_token_cannot_stop_the_server_nor_turn_iam_off():
    from sandbox import client
    from sandbox.client import Admin
    from sandbox.errors import BadArgumentError, ServerError
    from sandbox.grading.worker import launch_server

    previous = client._current  # the session's sandbox, if any: given back at the end
    sandbox_, learner_token = launch_server()
    try:
        learner = Admin(sandbox_.endpoint_url, learner_token)
        assert learner.call("status")["iam_locked"] is True
        learner.call("reset")
        assert learner.call("clock", {"speed": 50})["speed"] == 50
        with pytest.raises(ServerError, match="only the process that started"):
            learner.call("stop")
        with pytest.raises(BadArgumentError, match="cannot be turned off"):
            learner.call("iam.enforcing", {"enforcing": False})
        # a learner cannot claim the owner's level through the body either
        with pytest.raises(BadArgumentError, match="cannot be turned off"):
            learner.call("iam.enforcing", {"enforcing": False, "_level": "owner"})
        assert learner.call("iam.enforcing")["enforcing"] is True
        with pytest.raises(ServerError, match="token"):
            Admin(sandbox_.endpoint_url, "not-a-token").call("status")
        assert sandbox_.admin.call("status")["pid"] == sandbox_.pid
    finally:
        sandbox_.stop()
        client._current = previous


def test_a_function_still_holding_the_placeholder_is_not_attempted(sb):
    from sandbox.course.magic import deploy as deploy_cell
    from sandbox.grading.authoring import LAMBDA_PLACEHOLDER
    from sandbox.grading.probes import require_function

    deploy_cell("job-worker", "\n".join(LAMBDA_PLACEHOLDER))
    with pytest.raises(NotAttempted, match="still the exercise's placeholder"):
        require_function("job-worker")
    deploy_cell("job-worker", "def lambda_handler(event, context):\n    return 1\n")
    assert require_function("job-worker")["FunctionName"] == "job-worker"


@pytest.mark.slow
def test_a_notebook_out_of_time_gets_one_line_naming_the_cell(tmp_path):
    submissions = tmp_path / "submissions"
    _copy_submissions(submissions, ["infinite-loop"])
    out = tmp_path / "grades"
    rows = grade(submissions, out, Options(exercises=ROOT / "exercises", cell_timeout=60,
                                           timeout=15), jobs=1, progress=lambda _: None)
    assert [r.status for r in rows] == ["passed", "passed", "timeout"], rows
    loop = [c.id for c in nbformat.read(submissions / "infinite-loop" / "00-welcome.ipynb",
                                        as_version=4).cells if "while True" in c.source][0]
    assert f"ran out of time (15 s) in cell 6 ({loop})" in rows[2].message
    with open(out / "summary.csv") as f:
        note = next(csv.DictReader(f))["note"]
    assert note == f"the notebook ran out of time in cell 6 ({loop})"


def test_a_check_reads_the_learners_variables_from_what_the_grader_provides():
    from sandbox.grading.checks import learner_value, needs, provided

    assert needs("permissions.denial_is_read") == ("missing_action", "denied_resource")
    with provided({"missing_action": "s3:PutObject"}):
        assert learner_value("missing_action") == "s3:PutObject"
        with pytest.raises(NotAttempted, match="denied_resource is not assigned"):
            learner_value("denied_resource")


@pytest.mark.slow
def test_without_a_working_jail_grading_goes_on_and_says_what_is_missing(tmp_path, monkeypatch):
    from sandbox.grading import jail

    monkeypatch.setattr(jail, "probe", lambda: jail.Probe(False, "bwrap is not installed"))
    submissions = tmp_path / "submissions"
    _copy_submissions(submissions, ["perfect"])
    messages: list[str] = []
    rows = grade(submissions, tmp_path / "grades", Options(exercises=ROOT / "exercises"),
                 jobs=1, progress=messages.append)
    assert [r.status for r in rows] == ["passed"] * 3
    assert any(m.startswith("WARNING: no jail: bwrap is not installed") for m in messages)
    with open(tmp_path / "grades" / "summary.csv") as f:
        assert "no jail: bwrap is not installed" in next(csv.DictReader(f))["note"]
