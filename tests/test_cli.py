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
