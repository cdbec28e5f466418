"""Binder's environment, proven as far as it can be here.

Binder (repo2docker) builds a conda environment from environment.yml, then runs postBuild. conda
cannot run here, but the pins can: this builds a Python 3.12 virtual environment (the version
environment.yml asks for) from environment.yml's pip list, runs postBuild in it as repo2docker
does (on a copy of the repository, as Binder clones it), then checks what a learner on Binder
gets: JupyterLab's settings where JupyterLab reads them, lesson 00 run by nbval with its outputs
as committed, and exercise 00's checks passing on its solution through `course check`.

It installs from PyPI (from pip's cache after the first run), so it takes minutes: `make test`
leaves it out and `make binder-check` (which CI runs after `make test`) runs it. It skips, saying
why, where no Python 3.12 is found; set SANDBOX_PYTHON312 to choose one.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via jupyter-events); no stubs here

ROOT = Path(__file__).resolve().parent.parent
VERSION = (3, 12)
ENABLED = "SANDBOX_BINDER_CHECK"  # set by make binder-check

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not os.environ.get(ENABLED), reason="builds an environment from PyPI: run make binder-check")]


def _version(python: str) -> tuple[int, int] | None:
    try:
        answer = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                                capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = answer.stdout.split()
    return int(major), int(minor)


def candidates() -> list[str]:
    """Pythons that may be 3.12: $SANDBOX_PYTHON312, python3.12 on PATH, pyenv's, uv's."""
    found = [os.environ.get("SANDBOX_PYTHON312", ""), shutil.which("python3.12") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    found += sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"), reverse=True)
    uv = shutil.which("uv")
    if uv:
        answer = subprocess.run([uv, "python", "find", "3.12"], capture_output=True, text=True,
                                timeout=60)
        found.append(answer.stdout.strip() if answer.returncode == 0 else "")
    return [python for python in dict.fromkeys(found) if python]


def find_python312() -> str | None:
    return next((python for python in candidates() if _version(python) == VERSION), None)


def environment_pins() -> list[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.12" in environment["dependencies"], "environment.yml's Python changed"
    return [line for entry in environment["dependencies"] if isinstance(entry, dict)
            for line in entry.get("pip", [])]


def copy_of_the_repository(into: Path) -> Path:
    """The repository's files as a clone has them (tracked and not ignored), nothing built."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float,
         what: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    print(f"{what}: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, (
        f"{what} failed (exit {done.returncode}): {' '.join(command)}\n"
        f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder outside /tmp: the grader runs a notebook's kernel in a jail with an empty /tmp
    of its own (sandbox/grading/jail.py), where an environment under /tmp would vanish. Binder's
    is in /srv/conda."""
    where = Path(tempfile.mkdtemp(prefix="binder-check-",
                                  dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_binders_environment_installs_and_runs_lesson_00_and_an_exercise_check(
        place: Path) -> None:
    tmp_path = place
    python = find_python312()
    if python is None:
        pytest.skip(f"no Python {VERSION[0]}.{VERSION[1]} found (looked at "
                    f"{', '.join(candidates()) or 'python3.12 on PATH, pyenv, uv'}); set "
                    "SANDBOX_PYTHON312")
    repository = copy_of_the_repository(tmp_path / "repo")
    prefix = tmp_path / "env"
    subprocess.run([python, "-m", "venv", str(prefix)], check=True, timeout=300)
    # as in an activated environment (repo2docker puts its environment first on PATH), and
    # nothing of this machine's Jupyter or sandbox settings
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "SANDBOX_", "JUPYTER", "IPYTHON", "PYTHON",
                                  "VIRTUAL_ENV", "NB_PYTHON_PREFIX"))}
    home = tmp_path / "home"
    for folder in ("config", "data", "runtime", "lab-user-settings", "ipython"):
        (home / folder).mkdir(parents=True)  # IPython warns of a folder it cannot create
    env.update(PATH=f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}",
               VIRTUAL_ENV=str(prefix), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "lab-user-settings"),
               IPYTHONDIR=str(home / "ipython"))
    bin_python = str(prefix / "bin" / "python")
    _run([bin_python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet",
          *environment_pins()], repository, env, 1800, "pip install environment.yml's pins")
    _run(["bash", "postBuild"], repository, env, 600, "postBuild")

    # postBuild installed the course and its JupyterLab settings where this JupyterLab reads them
    where = _run([bin_python, "-c", "import sandbox, sys; from jupyterlab.commands import "
                  "get_app_dir; print(sandbox.__file__); print(get_app_dir()); print(sys.prefix)"],
                 repository, env, 120, "import the course").stdout.split()
    assert Path(where[0]).is_relative_to(repository), "the course is not the copy's, editable"
    assert Path(where[1]) == Path(where[2]) / "share" / "jupyter" / "lab"
    installed = Path(where[1]) / "settings" / "overrides.json"
    assert installed.read_text() == (ROOT / "lab-settings" / "overrides.json").read_text()
    version = _run([bin_python, "-c", "import sys; print(*sys.version_info[:2])"],
                   repository, env, 60, "the environment's Python").stdout.split()
    assert tuple(map(int, version)) == VERSION

    _run([bin_python, "-m", "pytest", "-p", "no:cacheprovider", "--nbval",
          "lessons/00-welcome.ipynb", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"],
         repository, env, 900, "nbval on lesson 00")
    checked = _run([str(prefix / "bin" / "course"), "check", "solutions/00-welcome.ipynb"],
                   repository, env, 900, "course check on exercise 00's solution")
    total = checked.stdout.strip().splitlines()[-1]
    assert total.startswith("Total: "), checked.stdout
    got, _, out_of = total.removeprefix("Total: ").partition("/")
    assert float(got) == float(out_of) > 0, checked.stdout
