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
