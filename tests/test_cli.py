from __future__ import annotations

import os
import subprocess
import sys

from sandbox.cli import main


def test_doctor_runs_a_function_end_to_end():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-m", "sandbox.cli", "doctor"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sandbox      running at http://127.0.0.1:" in result.stdout
    assert "cold invoke" in result.stdout and "all is well" in result.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "doctor" in capsys.readouterr().out


def test_workspace_copies_each_exercise_once_and_never_overwrites(tmp_path, monkeypatch, capsys):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "00-welcome.ipynb").write_text("{}")
    (tmp_path / "exercises" / "01-lambda-anatomy.ipynb").write_text('{"cells": []}')
    monkeypatch.chdir(tmp_path)
    assert main(["workspace"]) == 0
    mine = tmp_path / "work" / "00-welcome.ipynb"
    assert mine.read_text() == "{}"
    mine.write_text('{"my": "work"}')
    (tmp_path / "exercises" / "02-lambda-execution-model.ipynb").write_text("{}")  # an update
    assert main(["workspace"]) == 0
    assert mine.read_text() == '{"my": "work"}'
    assert (tmp_path / "work" / "02-lambda-execution-model.ipynb").exists()
    out = capsys.readouterr().out
    assert "kept" in out and "never overwritten" in out


def test_workspace_outside_the_course_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["workspace"]) == 1
    assert "run this in the course's folder" in capsys.readouterr().err


def test_the_workspace_folder_is_ignored_by_git():
    from pathlib import Path

    ignored = (Path(__file__).resolve().parent.parent / ".gitignore").read_text().split()
    assert "work/" in ignored


def test_release_writes_the_students_copy_without_solutions(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    target = tmp_path / "release"
    assert main(["release", str(target)]) == 0
    names = sorted(p.name for p in target.iterdir())
    assert "solutions" not in names and "tests" not in names
    assert {"lessons", "exercises", "sandbox", "README.md", "pyproject.toml"} <= set(names)
    assert (target / "sandbox" / "checks" / "welcome.py").is_file()
    assert not list(target.rglob("__pycache__"))
    # never into a folder that holds anything
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep")
    assert main(["release", str(tmp_path / "busy")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["mine.txt"]


def test_check_prints_each_hint_whole_and_wrapped():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SANDBOX_"))}
    env["COLUMNS"] = "70"
    result = subprocess.run([sys.executable, "-m", "sandbox.cli", "check",
                             str(root / "tests" / "submissions" / "partial" / "00-welcome.ipynb")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr  # not every check passed
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines if line.startswith("    ")) <= 70  # hints wrapped
    assert "sandbox-check" not in result.stdout
    text = " ".join(line.strip() for line in lines)
    assert "check-shout-logs 0/1 failed" in " ".join(text.split())
    assert "Total: 3/4" in result.stdout
    hint = text[text.index("✘ shout logs"):text.index("Total")]
    assert hint.rstrip().endswith(".")  # the hint whole, not cut mid-word
