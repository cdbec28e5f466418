"""The jail a graded notebook's kernel runs in: bubblewrap (``bwrap``), unprivileged.

The kernel sees the machine read-only, minus what is hidden (the course's folder with its
``solutions/``, the checks' and the grader's source, the submissions folder, ``--out``, the
extra checks, the other submissions' work folders); it can write only its own work folder and a
private ``/tmp``. It has a PID namespace of its own (``--unshare-pid``): it cannot see or signal
the grader, its sandbox server or another submission, and every process it starts, detached or
not, ends when the kernel ends or its worker dies (``--die-with-parent``). The network is shared:
the kernel reaches its sandbox server and the worker over loopback.

Where bwrap is missing or cannot make namespaces (a container without user namespaces), the
kernel runs without a jail; :func:`probe` says which protection is missing, once, and the grader
reports it in the terminal and in summary.csv.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import sandbox

NO_JAIL = ("no jail: {why}; submissions' kernels can read other submissions, solutions/ and "
           "--out, and may leave processes behind")


@dataclass(frozen=True)
class Probe:
    works: bool
    why: str = ""  # when it does not work: what is missing

    @property
    def missing(self) -> str:
        """The protection missing, for the terminal and summary.csv ("" when none is)."""
        return "" if self.works else NO_JAIL.format(why=self.why)


@functools.lru_cache(maxsize=1)
def probe() -> Probe:
    """Whether bwrap can jail a process here (tried once per grader process)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Probe(False, "bubblewrap (bwrap) is not installed (Debian: apt install "
                     "bubblewrap)")
    try:
        done = subprocess.run([bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                               "--unshare-pid", "--die-with-parent", "true"],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Probe(False, f"bwrap did not run ({error})")
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Probe(False, "bwrap cannot create namespaces here"
                     + (f" ({said[-1]})" if said else ""))
    return Probe(True)


def package_root() -> Path:
    return Path(sandbox.__file__).resolve().parent


def course_source_hidden() -> list[Path]:
    """What of the package a kernel must not read: the checks and the grader."""
    root = package_root()
    return [root / "checks", root / "grading"]


def command(work_dir: Path, hide: list[Path]) -> list[str]:
    """The bwrap arguments that run a command jailed, ``work_dir`` its only writable folder.

    ``hide`` are folders the kernel must not see (each gets an empty tmpfs over it); what the
    kernel needs under a hidden folder (the package, the Python environment) is bound back
    read-only on top."""
    args = [shutil.which("bwrap") or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev",
            "--proc", "/proc", "--tmpfs", "/tmp", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts", "--die-with-parent"]
    hidden = sorted({Path(os.path.realpath(p)) for p in hide if p and os.path.exists(p)},
                    key=lambda p: len(p.parts))
    for path in hidden:
        if path.is_dir():
            args += ["--tmpfs", str(path)]
        else:  # a file: an empty one in its place
            args += ["--ro-bind", "/dev/null", str(path)]
    package = package_root()
    needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), package]
    for path in needed:
        if any(path != h and h in path.parents or path == h for h in hidden):
            args += ["--ro-bind", str(path), str(path)]
    # the package came back whole: its checks and grader are hidden again on top
    for path in course_source_hidden():
        if path.is_dir():
            args += ["--tmpfs", str(path)]
    work = os.path.realpath(work_dir)
    args += ["--bind", work, work, "--chdir", work, "--"]
    return args
