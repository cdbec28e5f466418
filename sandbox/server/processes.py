"""Processes have owners: the server outlives none of its owners, and nothing outlives it.

The server becomes a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``), so a process that a
handler started and abandoned is reparented to the server rather than to init, and is found and
ended with the rest when the server ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

import psutil

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make orphaned descendants this process's children (Linux only); whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        status: int = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # prctl(2): 0 or -1
        return status == 0
    except (OSError, AttributeError):
        return False


def kill_descendants(rounds: int = 5) -> int:
    """SIGKILL every descendant of this process, again until none is left (a descendant may
    fork while it is being killed); how many were killed."""
    killed = 0
    me = psutil.Process()
    for _ in range(rounds):
        try:
            found = me.children(recursive=True)
        except psutil.Error:
            return killed
        if not found:
            break
        for process in found:
            try:
                process.send_signal(signal.SIGKILL)
                killed += 1
            except psutil.Error:
                pass
        psutil.wait_procs(found, timeout=1)
    reap_children()
    return killed


def reap_children() -> None:
    """Collect the exit status of any child that has ended (orphans reparented here). Only at
    the end: meanwhile it would take statuses that subprocess.Popen objects are waiting for."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
