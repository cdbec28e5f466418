"""Writes tests/submissions/: one student per way a submission can go wrong, for exercise 00.

Run it again after exercise 00 changes: ``.venv/bin/python tests/make_submissions.py``.
Each folder is a student; tests/test_grading.py asserts the grader's verdict on each.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "submissions"
STEM = "00-welcome.ipynb"


def solved() -> nbformat.NotebookNode:
    """The solution as a learner would hand it in: their code in place of the placeholders."""
    exercise = nbformat.read(ROOT / "exercises" / STEM, as_version=4)
    solution = nbformat.read(ROOT / "solutions" / STEM, as_version=4)
    answers = {cell.id: cell.source.replace("# BEGIN SOLUTION\n", "").replace(
        "\n# END SOLUTION", "") for cell in solution.cells}
    for cell in exercise.cells:
        if "# YOUR CODE HERE" in cell.source:
            cell.source = answers[cell.id]
    return exercise


def blank() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "exercises" / STEM, as_version=4)


def index_of(notebook: nbformat.NotebookNode, cell_id: str) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if cell.id == cell_id)


def with_cell_after(notebook, after_id: str, source: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    cell = new_code_cell(source)
    notebook.cells.insert(index_of(notebook, after_id) + 1, cell)
    return notebook


def write(student: str, notebook=None, raw: bytes | None = None, name: str = STEM) -> None:
    folder = OUT / student
    folder.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        (folder / name).write_bytes(raw)
    else:
        nbformat.write(notebook, folder / name)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    write("perfect", solved())
    write("blank", blank())
    partial = solved()
    partial.cells[index_of(partial, "ex00-shout")] = blank().cells[index_of(blank(), "ex00-shout")]
    write("partial", partial)
    # a hung cell, then task 2 done after it
    write("infinite-loop", with_cell_after(solved(), "check-greeter-defaults",
                                           "while True:\n    pass"))
    write("kernel-exit", with_cell_after(solved(), "check-greeter-answers",
                                         "import os\nos._exit(1)"))
    write("segfault", with_cell_after(solved(), "check-greeter-answers",
                                      "import ctypes\nctypes.string_at(0)"))
    write("memory-blowup", with_cell_after(solved(), "check-greeter-defaults",
                                           "hog = bytearray(64 * 1024**3)"))
    write("malformed-json", raw=b'{"cells": [ this is not json')
    write("empty-file", raw=b"")
    v3 = {"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": [
        {"cell_type": "code", "language": "python", "input": cell.source, "outputs": [],
         "metadata": {}}
        for cell in solved().cells if cell.cell_type == "code"]}]}
    write("nbformat-3", raw=json.dumps(v3).encode())
    write("unknown-stem", solved(), name="99-not-an-exercise.ipynb")
    deleted = solved()
    del deleted.cells[index_of(deleted, "check-shout-logs")]
    write("deleted-check", deleted)
    edited = solved()
    edited.cells[index_of(edited, "check-greeter-answers")].source = 'print("passed")'
    # ...and the greeter answers wrongly, so only the official check can tell
    edited.cells[index_of(edited, "ex00-greeter")].source = (
        "%%lambda greeter\ndef lambda_handler(event, context):\n    return 'hi'")
    write("edited-check", edited)
    duplicated = solved()
    at = index_of(duplicated, "check-shout-logs")
    duplicated.cells.insert(at, copy.deepcopy(duplicated.cells[at]))
    duplicated.cells.insert(at, copy.deepcopy(duplicated.cells[at]))
    # raw JSON: nbformat.write would give the copies new ids, and the point is that they don't
    write("duplicated-check", raw=json.dumps(duplicated, indent=1).encode())
    retyped = solved()
    at = index_of(retyped, "check-greeter-defaults")
    retyped.cells[at] = new_code_cell(retyped.cells[at].source)  # a new id, untagged
    write("retyped-check", retyped)
    markdown = solved()
    at = index_of(markdown, "check-shout-logs")
    turned = new_markdown_cell(markdown.cells[at].source)
    turned.id = "check-shout-logs"
    markdown.cells[at] = turned
    write("check-as-markdown", markdown)
    write("huge-output", with_cell_after(solved(), "ex00-setup",
                                         "print('x' * 5_000_000)"))
    write("stderr-warnings", with_cell_after(solved(), "ex00-setup",
                                             "import sys, warnings\n"
                                             "warnings.warn('this costs no points')\n"
                                             "print('noise', file=sys.stderr)"))
    write("writes-files", with_cell_after(solved(), "ex00-setup",
                                          "from pathlib import Path\n"
                                          "Path('scratch.txt').write_text('here')\n"
                                          "Path('../escaped.txt').write_text('next door')\n"
                                          "Path('00-welcome.ipynb').write_text('overwritten')"))
    inserted = solved()
    for i in range(3):  # inserted, split and reordered work cells change nothing
        inserted.cells.insert(2, new_code_cell(f"note_{i} = {i}"))
    write("inserted-cells", inserted)


if __name__ == "__main__":
    main()
