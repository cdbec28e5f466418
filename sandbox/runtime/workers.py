"""Worker processes: a supervisor between the sandbox and the learner's code, in bubblewrap when
the machine allows it.

A worker starts as a *spare* (``supervisor.py``, and the runtime it has forked, which has
imported ``bootstrap.py`` and waits); an environment gives it an assignment, which the supervisor
passes to that runtime.
When the runtime ends, or the environment asks, the supervisor kills every process the runtime
left behind and reports the runtime's wait status on a pipe of its own. So a handler can end only
its own environment: it never sees the sandbox's process (not its PID, not its argv), and what it
starts (children, daemons, new sessions) dies with the environment.

With bubblewrap (``bwrap``), each worker gets a PID namespace whose PID 1 is the supervisor (the
kernel ignores a SIGKILL sent to it from inside, and kills every process in the namespace when it
ends) and a private ``/tmp`` of the function's ``EphemeralStorage`` size, as on AWS. Without it
(containers without user namespaces, such as Binder), the supervisor is a child subreaper and
``TMPDIR`` is a folder per environment, while ``/tmp`` is the machine's.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from typing import Any

from . import bootstrap as _bootstrap
from . import supervisor as _supervisor
from .supervisor import children, descendants

BOOTSTRAP = os.path.abspath(_bootstrap.__file__)
SUPERVISOR = os.path.abspath(_supervisor.__file__)
DEFAULT_TMP_MB = 512  # Lambda's default EphemeralStorage size (512 to 10,240 MB)
ISOLATION_VARIABLE = "SANDBOX_RUNTIME_ISOLATION"  # "auto" (default), "bwrap" or "process"

_bwrap_works: bool | None = None
_probe_lock = threading.Lock()


def bwrap_works() -> bool:
    """Whether bubblewrap can give a worker a PID namespace here (asked once, then cached)."""
    global _bwrap_works
    with _probe_lock:
        if _bwrap_works is None:
            try:
                python = [sys.prefix, sys.base_prefix, sys.executable]
                probe = subprocess.run(
                    bwrap_command(1, python) + [
                        sys.executable, "-I", "-S", "-c",
                        "import os, sys; sys.exit(os.getpid() != 1)"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, timeout=10)
                _bwrap_works = probe.returncode == 0
            except (OSError, subprocess.SubprocessError):
                _bwrap_works = False
        return _bwrap_works


def isolation(wanted: str | None = None) -> str:
    """How workers are isolated: "bwrap" or "process". ``wanted`` (or the variable
    ISOLATION_VARIABLE) may ask for "process" (a supervisor only) or "auto" (bwrap where it
    works); "bwrap" where it does not work is refused."""
    wanted = wanted or os.environ.get(ISOLATION_VARIABLE) or "auto"
    if wanted not in ("auto", "bwrap", "process"):
        raise ValueError(f"isolation must be 'auto', 'bwrap' or 'process', not {wanted!r}")
    if wanted == "process":
        return "process"
    if wanted == "bwrap" and not bwrap_works():
        from ..errors import IsolationUnavailableError

        raise IsolationUnavailableError(
            "bubblewrap (bwrap) cannot make a PID namespace on this machine (is it installed? "
            "does the kernel allow user namespaces?): use isolation 'process' or 'auto'.")
    return "bwrap" if bwrap_works() else "process"


def _under_tmp(path: str) -> bool:
    real = os.path.realpath(path)
    return real == "/tmp" or real.startswith("/tmp/")


def bwrap_command(tmp_mb: int, visible: list[str]) -> list[str]:
    """bubblewrap's arguments: the machine's file system read-only (Lambda's is, but for /tmp),
    a PID namespace whose PID 1 is the supervisor, a private writable /tmp of ``tmp_mb``, and the
    folders under /tmp a worker must see (read-only)."""
    command = ["bwrap", "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev", "--unshare-pid",
               "--die-with-parent", "--as-pid-1", "--proc", "/proc",
               "--size", str(tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for path in dict.fromkeys(os.path.realpath(p) for p in visible if _under_tmp(p)):
        command += ["--ro-bind", path, path]
    return command


# ---------------------------------------------------------------- what Linux tells of a process
def status_kb_of_file(path: str, field_name: bytes) -> int:
    try:
        with open(path, "rb") as status:
            for line in status:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _rss_and_peak_kb(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM of a process in kB, read at once; zeros when it is gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
                    break  # VmRSS comes after VmHWM
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


# Go's names of the signals (syscall.Signal.String(), zerrors_linux_amd64.go): Lambda's platform
# is written in Go and says "Runtime exited with error: signal: <name>".
GO_SIGNAL_NAMES = {
    1: "hangup", 2: "interrupt", 3: "quit", 4: "illegal instruction",
    5: "trace/breakpoint trap", 6: "aborted", 7: "bus error", 8: "floating point exception",
    9: "killed", 10: "user defined signal 1", 11: "segmentation fault",
    12: "user defined signal 2", 13: "broken pipe", 14: "alarm clock", 15: "terminated",
    16: "stack fault", 17: "child exited", 18: "continued", 19: "stopped (signal)",
    20: "stopped", 21: "stopped (tty input)", 22: "stopped (tty output)",
    23: "urgent I/O condition", 24: "CPU time limit exceeded", 25: "file size limit exceeded",
    26: "virtual timer expired", 27: "profiling timer expired", 28: "window changed",
    29: "I/O possible", 30: "power failure", 31: "bad system call",
}


def exit_reason(wait_status: int) -> str:
    """What Go's os.ProcessState says of a wait status: "exit status 3", "signal: killed"."""
    if os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        return "signal: " + GO_SIGNAL_NAMES.get(number, f"signal {number}")
    return f"exit status {os.waitstatus_to_exitcode(wait_status)}"


# ---------------------------------------------------------------- one worker
class Worker:
    """A supervisor process, its log pipe (the runtime's stdout and stderr, and the platform's
    lines) and its status pipe."""

    def __init__(self, python: str, *, tmp_mb: int = DEFAULT_TMP_MB, sandboxed: bool,
                 visible: list[str]):
        self.tmp_mb = tmp_mb
        self.sandboxed = sandboxed
        self.log_read, self.log_write = os.pipe()
        self._status_read, status_write = os.pipe()
        os.set_blocking(self._status_read, False)
        command = [python, "-I", "-S", "-u", SUPERVISOR, "--status-fd", str(status_write)]
        if sandboxed:
            command = bwrap_command(tmp_mb, visible) + command
        try:
            self.process = subprocess.Popen(
                # -S: no site-packages; the function sees the standard library, its own code, its
                # layers and what Lambda's runtime ships (runtime_packages), nothing else
                command, stdin=subprocess.PIPE, stdout=self.log_write, stderr=self.log_write,
                start_new_session=True, close_fds=True, pass_fds=(status_write,),
                env={"PATH": os.environ.get("PATH", "")})
        finally:
            os.close(status_write)
        self._status_buffer = b""
        self._supervisor = 0 if sandboxed else self.process.pid
        self.closed = False

    # ---------------------------------------------------------------- orders
    def send(self, line: bytes) -> None:
        """One line to the supervisor: an assignment (JSON) or "kill"."""
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line + b"\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            pass  # it is gone; its status says so

    def kill_runtime(self) -> None:
        """End the runtime and everything it started; the supervisor stays for the next."""
        self.send(b"kill")

    # ---------------------------------------------------------------- what became of it
    @property
    def supervisor_pid(self) -> int:
        """The supervisor's PID as this process sees it (inside bwrap: bwrap's child)."""
        if not self._supervisor:
            found = children(self.process.pid)
            if found:
                self._supervisor = found[0]
        return self._supervisor

    def runtime_pids(self) -> list[int]:
        """The runtime and every process below the supervisor."""
        supervisor = self.supervisor_pid
        return descendants(supervisor) if supervisor else []

    def memory_kb(self) -> int:
        """The environment's memory: all its processes' resident sets, or the largest peak of
        one of them if that is more (a peak can fall between two looks)."""
        total = peak = 0
        for pid in self.runtime_pids():
            rss, hwm = _rss_and_peak_kb(pid)
            total += rss
            peak = max(peak, hwm)
        return max(total, peak)

    def gone(self) -> bool:
        """Whether the supervisor itself has ended (killed from outside)."""
        return self.process.poll() is not None

    def runtime_status(self, timeout: float = 0.0) -> int | None:
        """The runtime's wait status, once the supervisor has reported it (and killed what
        the runtime left)."""
        if b"\n" not in self._status_buffer:
            if timeout and not select.select([self._status_read], [], [], timeout)[0]:
                return self._fallback_status()
            try:
                self._status_buffer += os.read(self._status_read, 4096)
            except (BlockingIOError, OSError):
                pass
        if b"\n" not in self._status_buffer:
            return self._fallback_status()
        line, _, self._status_buffer = self._status_buffer.partition(b"\n")
        return int(line)

    def _fallback_status(self) -> int | None:
        # the supervisor itself died (a handler killed it where there is no namespace)
        code = self.process.poll()
        if code is None:
            return None
        return (-code) & 0x7F if code < 0 else (code & 0xFF) << 8

    # ---------------------------------------------------------------- the end
    def terminate(self) -> None:
        """End the supervisor and every process of this worker, then free its pipes."""
        if self.closed:
            return
        self.closed = True
        self.signal_end()
        self.wait_end()
        self.close_pipes()

    def signal_end(self) -> None:
        if self.sandboxed:
            # PID 1 of the namespace: when it dies, the kernel kills everyone in it, and bwrap
            # (which waits for it) exits only after that
            target = self.supervisor_pid or self.process.pid
            _kill(target, signal.SIGKILL)
            if target != self.process.pid:
                return
        else:
            _kill(self.process.pid, signal.SIGTERM)  # it kills its descendants, then exits

    def wait_end(self) -> None:
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            _kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if not self.sandboxed:
            # a handler may have killed its supervisor: what it left is still in its group
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close_pipes(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        for fd in (self._status_read, self.log_write):
            try:
                os.close(fd)
            except OSError:
                pass

    def describe(self) -> dict[str, Any]:
        return {"pid": self.process.pid, "supervisor_pid": self.supervisor_pid,
                "runtime_pids": self.runtime_pids(), "sandboxed": self.sandboxed,
                "tmp_mb": self.tmp_mb}


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
