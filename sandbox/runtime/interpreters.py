"""Which interpreter runs each Python runtime: that exact Python version, where the machine has
one.

On AWS, ``python3.12`` is CPython 3.12: code using PEP 701 f-strings runs there and fails on 3.11.
The sandbox runs a function on the interpreter of its runtime's version when it finds one (the
sandbox's own; ``python3.X`` on PATH; pyenv, uv-managed and conda interpreters), started with
``-I -S`` so that only the standard library and the runtime's packages (boto3 and what it needs,
``pool.RUNTIME_PACKAGES``) are importable, as on AWS. Where none is found, the function runs on
the sandbox's own interpreter and says so in its log at its first INIT, and ``course doctor``
lists which runtimes run on their own version. ``SANDBOX_PYTHON_3_12=/path/to/python3.12`` names
one explicitly; ``SANDBOX_EXACT_PYTHON=0`` runs every runtime on the sandbox's own interpreter
(what a machine with no other Python does).
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .reports import PYTHON_RUNTIMES

ONLY_OWN_VARIABLE = "SANDBOX_EXACT_PYTHON"


@dataclass(frozen=True)
class Interpreter:
    runtime: str  # "python3.12"
    path: str  # the interpreter that runs it
    version: str  # "3.12": the interpreter's own
    exact: bool  # whether that is the runtime's version
    # why an interpreter of the runtime's version that exists is not used ("" otherwise)
    passed_over: str = ""

    @property
    def own(self) -> bool:
        """Whether it is the sandbox's own interpreter (a spare worker runs it without exec)."""
        return self.path == sys.executable

    def note(self) -> str:
        """What a function's log says when the version is not the runtime's ("" when it is)."""
        if self.exact:
            return ""
        wanted = wanted_version(self.runtime)
        why = self.passed_over or (
            f"no Python {wanted} was found on this machine (PATH, pyenv, uv, conda; or set "
            f"SANDBOX_PYTHON_{wanted.replace('.', '_')})")
        return (f"SANDBOX_NOTE {self.runtime} runs on Python {self.version} here: {why}. Code "
                f"needing Python {wanted} may fail here and not on AWS.\n")


def wanted_version(runtime: str) -> str:
    return runtime.removeprefix("python")


def _candidates(version: str) -> list[str]:
    """Where an interpreter of ``version`` ("3.12") may be, most specific first."""
    name = f"python{version}"
    found = [os.environ.get(f"SANDBOX_PYTHON_{version.replace('.', '_')}", "")]
    found.append(shutil.which(name) or "")
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    uv = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser("~/.local/share/uv/python")
    patterns = [os.path.join(pyenv, "versions", f"{version}.*", "bin", name),
                os.path.join(uv, f"cpython-{version}.*", "bin", name)]
    conda = os.environ.get("CONDA_PREFIX", "")
    for root in filter(None, [conda, os.path.dirname(os.path.dirname(conda)) if conda else "",
                              os.path.expanduser("~/miniconda3"),
                              os.path.expanduser("~/anaconda3"),
                              os.path.expanduser("~/miniforge3")]):
        patterns += [os.path.join(root, "bin", name), os.path.join(root, "envs", "*", "bin", name)]
    for pattern in patterns:
        # the newest patch release first: 3.12.10 before 3.12.9
        found += sorted(glob.glob(pattern), key=_patch_order, reverse=True)
    return [path for path in dict.fromkeys(found) if path and os.access(path, os.X_OK)]


def _patch_order(path: str) -> tuple[int, ...]:
    for part in path.split(os.sep):
        pieces = part.removeprefix("cpython-").split("-")[0].split(".")
        if len(pieces) >= 3 and all(p.isdigit() for p in pieces[:3]):
            return tuple(int(p) for p in pieces[:3])
    return (0,)


def _version_of(path: str) -> str | None:
    try:
        done = subprocess.run([path, "-I", "-S", "-c",
                               "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def for_runtime(runtime: str) -> Interpreter:
    """The interpreter that runs ``runtime`` here (looked for once per process)."""
    wanted = wanted_version(runtime)
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    if wanted == own:
        return Interpreter(runtime, sys.executable, own, True)
    if os.environ.get(ONLY_OWN_VARIABLE) == "0":  # the sandbox's interpreter for every runtime
        return Interpreter(runtime, sys.executable, own, False)
    passed_over = ""
    for path in _candidates(wanted):
        if _version_of(path) == wanted:
            problem = _runtime_packages_problem(path)
            if not problem:
                return Interpreter(runtime, path, wanted, True)
            passed_over = (f"Python {wanted} was found ({path}), but the boto3 the sandbox "
                           f"gives functions does not import on it ({problem})")
    return Interpreter(runtime, sys.executable, own, False, passed_over)


def _runtime_packages_problem(path: str) -> str:
    """Why the runtime's packages (the sandbox's own boto3 and what it needs, which every
    function imports from) do not import on the interpreter at ``path``; "" when they do. AWS's
    python3.9 comes with a boto3 that runs on 3.9; the sandbox's may no longer."""
    import tempfile

    from .pool import runtime_packages

    with tempfile.TemporaryDirectory(prefix="sandbox-runtime-packages-") as folder:
        runtime_packages(folder)
        try:
            done = subprocess.run([path, "-I", "-S", "-c", "import sys; sys.path.insert(0, "
                                   f"{folder!r}); import boto3, botocore.session"],
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            return str(error)
    if done.returncode == 0:
        return ""
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def every_runtime() -> list[Interpreter]:
    """Each Python runtime's interpreter, for ``course doctor``."""
    return [for_runtime(runtime) for runtime in PYTHON_RUNTIMES]
