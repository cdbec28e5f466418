"""The supervisor of one execution environment: a small process between the sandbox and the
learner's code, standard library only (it runs with ``python -I -S``).

It forks the runtime (which imports ``bootstrap.py`` and waits), passes it the sandbox's
assignment, and when the runtime ends (or the sandbox asks: "kill" on stdin, end of stdin,
SIGTERM) it kills every process the runtime left behind, writes the runtime's wait status on its
status pipe, and forks the next runtime, ready for the next assignment (Lambda's reset after a
timeout or a crash keeps the environment, and its /tmp).

The runtime never sees the sandbox: inside bubblewrap the supervisor is PID 1 of a PID namespace
(the kernel ignores a SIGKILL sent to it from inside, and kills every process in the namespace
when it ends); without bubblewrap it is a child subreaper, so orphans come back to it, and it
dies with the sandbox (parent-death signal) after killing them. It imports little, so that it
costs little memory: the runtime's modules are imported in the runtime, before its assignment.
"""

from __future__ import annotations  # annotations stay text: some name what only mypy imports

import os
import select
import signal
import sys

# typing is imported by the type checker only: a runtime import would cost every environment's
# supervisor its memory (mypy reads any name TYPE_CHECKING as true)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
BOOTSTRAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap.py")


def _prctl(option: int, value: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_HAS_CHILDREN_FILES = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")


def children(pid: int) -> list[int]:
    """The PIDs of a process's children (Linux: /proc/<pid>/task/*/children, or, on a kernel
    without those files, every /proc/<pid>/stat's parent)."""
    if not _HAS_CHILDREN_FILES:
        return _children_by_scan(pid)
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(child) for child in f.read().split()]
        except (OSError, ValueError):
            pass
    return found


def _children_by_scan(pid: int) -> list[int]:
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                if int(f.read().rsplit(b")", 1)[1].split()[1]) == pid:
                    found.append(int(name))
        except (OSError, ValueError, IndexError):
            pass
    return found


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children(child)
    return found


def kill_descendants() -> None:
    """SIGKILL every process below this one, until none is left (reaping them all)."""
    me = os.getpid()
    while True:
        if me == 1:
            try:
                os.kill(-1, signal.SIGKILL)  # PID 1 of a namespace: everyone else in it
            except ProcessLookupError:
                pass
        else:
            todo = children(me)
            while todo:
                pid = todo.pop()
                todo += children(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            os.waitpid(-1, 0)  # the orphans of the killed come back to us: look again
        except ChildProcessError:
            return


def _run_runtime(assignment_fd: int) -> NoReturn:
    """The runtime's life: import the bootstrap, wait for the assignment, run it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_lambda_bootstrap", BOOTSTRAP)
    if spec is None or spec.loader is None:  # (never: BOOTSTRAP is the .py file beside this one)
        raise ImportError(f"cannot load the runtime's bootstrap from {BOOTSTRAP}")
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(assignment_fd, 65536)
        if not chunk:  # the supervisor is gone
            os._exit(0)
        line += chunk
    os.close(assignment_fd)
    import json

    bootstrap.run(json.loads(line))
    os._exit(0)


class Supervisor:
    def __init__(self, status_fd: int):
        self.status_fd = status_fd
        self.buffer = b""
        self.runtime = 0
        self.assignment_fd = -1

    def read_line(self) -> bytes:
        """The next line the sandbox wrote on stdin; at its end (the sandbox is gone), the end."""
        while b"\n" not in self.buffer:
            chunk = os.read(0, 65536)
            if not chunk:
                self.end()
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def end(self, *_: object) -> NoReturn:  # also the SIGTERM handler
        kill_descendants()
        os._exit(0)

    def run(self) -> NoReturn:
        if os.getpid() != 1:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
            _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)  # the sandbox died: end it all
        signal.signal(signal.SIGTERM, self.end)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.fork_runtime()
        while True:
            line = self.read_line()
            if not line.startswith(b"{"):
                continue  # a "kill" for a runtime already gone
            try:
                os.write(self.assignment_fd, line + b"\n")
            except OSError:
                pass  # the runtime is gone already: its status says how
            os.close(self.assignment_fd)
            status = self.watch(self.runtime)
            kill_descendants()
            os.write(self.status_fd, b"%d\n" % status)
            self.fork_runtime()

    def fork_runtime(self) -> None:
        """The next runtime, forked now so that it is ready (modules imported) when needed."""
        assignment_read, self.assignment_fd = os.pipe()
        me = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(self.assignment_fd)
                os.close(self.status_fd)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                if me != 1:  # (in a namespace, its PID 1 ending ends everyone)
                    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                    if os.getppid() != me:  # the supervisor died before the line above
                        os._exit(0)
                null = os.open(os.devnull, os.O_RDONLY)  # stdin is the supervisor's
                os.dup2(null, 0)
                os.close(null)
            except BaseException:
                os._exit(1)
            _run_runtime(assignment_read)
        os.close(assignment_read)
        self.runtime = pid

    def watch(self, pid: int) -> int:
        """The runtime's wait status, once it ends by itself or is killed on request."""
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        while True:
            watched = [0] if pidfd is None else [0, pidfd]
            ready = select.select(watched, [], [], 0.02 if pidfd is None else 1.0)[0]
            status = self.reap(pid)
            if status is not None:
                if pidfd is not None:
                    os.close(pidfd)
                return status
            if 0 in ready:
                chunk = os.read(0, 65536)
                if not chunk:
                    self.end()
                *lines, self.buffer = (self.buffer + chunk).split(b"\n")
                kept = [line for line in lines if line != b"kill"]
                if len(kept) < len(lines):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                if kept:  # (not expected while a runtime runs) kept for read_line
                    self.buffer = b"\n".join(kept) + b"\n" + self.buffer

    def reap(self, pid: int) -> int | None:
        """Reap what has ended (the runtime's orphans too); the runtime's status if it has."""
        found: int | None = None
        while True:
            try:
                done, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return found
            if done == 0:
                return found
            if done == pid:
                found = status


def main() -> NoReturn:
    status_fd = int(sys.argv[sys.argv.index("--status-fd") + 1])
    Supervisor(status_fd).run()


if __name__ == "__main__":
    main()
