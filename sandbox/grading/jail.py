"""The jail a graded notebook's kernel runs in: bubblewrap (``bwrap``), unprivileged.

The kernel sees the machine read-only, minus what is hidden (the course's folder with its
``solutions/``, the checks' and the grader's source, the submissions folder, ``--out``, the
extra checks, the other submissions' work folders); it can write only its own work folder and a
private ``/tmp``. It has a PID namespace of its own (``--unshare-pid``): it cannot see or signal
the grader, its sandbox server or another submission, and every process it starts, detached or
not, ends when the kernel ends or its worker dies (``--die-with-parent``).

The network is the submission's own: the grader starts each submission's whole worker (the
grader's own code) in an outer jail, :func:`net_command`, with a network namespace of its own
(loopback only) and a PID namespace of its own; the worker, its kernel's jail and its sandbox
server's jail (and the server's Lambda execution environments, jailed in turn) share a
loopback that no other submission, and not the grader, can reach. The kernel reaches its
server and the worker reaches its kernel over that loopback; the grader talks to the worker
through files and a pipe only. Everything else is as outside (the whole file system, as the
grader sees it): the inner jails do the hiding.

Where bwrap is missing or cannot make namespaces (a container without user namespaces), the
kernel runs without a jail; where the outer jail cannot be made, submissions share this
machine's loopback. :func:`probe` says which protection is missing, once, and the grader
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
           "--out, may leave processes behind, and share this machine's loopback (no network "
           "isolation)")
NO_NET = ("no network isolation: {why}; submissions share this machine's loopback, so a kernel "
          "can reach another submission's sandbox server (its API Gateway routes, S3 websites) "
          "and Lambda Runtime API ports while both are graded")


@dataclass(frozen=True)
class Probe:
    works: bool
    why: str = ""  # when it does not work: what is missing
    net: bool = False  # whether each submission can have a network namespace of its own
    net_why: str = ""  # when it cannot: why

    @property
    def missing(self) -> str:
        """The protection missing, for the terminal and summary.csv ("" when none is)."""
        if not self.works:  # without bwrap, no namespace of any kind
            return NO_JAIL.format(why=self.why)
        return "" if self.net else NO_NET.format(why=self.net_why)


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
        return Probe(False, "bwrap cannot create namespaces here" + _said(done.stderr))
    # the outer jail with a jail inside it, as a worker runs its kernel and its server
    try:
        nested = subprocess.run([*net_command(), bwrap, "--ro-bind", "/", "/", "--proc",
                                 "/proc", "--dev", "/dev", "--unshare-pid", "--die-with-parent",
                                 "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Probe(True, net=False, net_why=f"bwrap did not run ({error})")
    if nested.returncode != 0:
        return Probe(True, net=False, net_why="bwrap cannot make a network namespace with a "
                     "jail inside it here" + _said(nested.stderr))
    return Probe(True, net=True)


def _said(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return f" ({lines[-1]})" if lines else ""


def net_command() -> list[str]:
    """The outer jail's bwrap arguments, for a submission's whole worker: a network namespace
    (bwrap brings its loopback up; nothing else is in it) and a PID namespace (when the worker
    ends, or the grader kills this jail, every process of the submission ends with it); the
    file system as it is (the worker is the grader's code; the kernel's and the server's own
    jails, inside, hide what they must not see)."""
    return [shutil.which("bwrap") or "bwrap", "--dev-bind", "/", "/", "--proc", "/proc",
            "--unshare-net", "--unshare-pid", "--die-with-parent", "--"]


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
