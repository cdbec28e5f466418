"""What starts a Python container's command in the sandbox: ``python [options] -c code | -m
module | script [args]``, as the image's ``python`` would run it. Standard library only: it runs
as ``python -I -S container.py <the command's arguments>``.

Before it runs the command it puts the AWS SDK (``SANDBOX_ECS_PATH``) on the import path and
puts the container on the sandbox clock (``SANDBOX_CLOCK_SPEED``): ``time.sleep(s)`` waits
``s / speed`` real seconds, and ``time.time``, ``time.monotonic`` and ``time.perf_counter``
(and their ``_ns`` forms) move on by the whole ``s``, so a job that sleeps 20 minutes sleeps 20
minutes of the task's time. The sleeps are reported on stderr in lines the sandbox reads and
keeps out of the container's log (every 50 ms at most, and at exit), so that the task's
timestamps include it. A sleep takes at least a millisecond of real time, so that a polling
loop (``while True: ...; time.sleep(1)``) does not spin.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

MARK = "\x1eSANDBOX_CLOCK "  # a line the sandbox takes out of the log: simulated seconds slept
STARTED = "\x1eSANDBOX_STARTED"  # the container's command is about to run
MIN_REAL_SLEEP = 0.001  # real seconds a sleep takes at least (a loop sleeps 1,000 times a s)
REPORT_SECONDS = 0.05  # how often, at most, the sleeps are reported (and at exit)
_flush: list[Any] = []  # the clock's report, for an exit that skips atexit


def _clocked(speed: float) -> None:
    import atexit

    real_sleep, real_time, real_monotonic, real_perf = (
        time.sleep, time.time, time.monotonic, time.perf_counter)
    skipped = [0.0, 0.0]  # simulated seconds not waited for in real time; not yet reported
    reported = [real_monotonic()]

    def report() -> None:
        if skipped[1]:
            try:
                os.write(2, f"{MARK}{skipped[1]!r}\n".encode())
            except OSError:
                pass
            skipped[1] = 0.0
        reported[0] = real_monotonic()

    def sleep(seconds: float) -> None:
        if seconds < 0:
            real_sleep(seconds)  # the ValueError Python gives
        # at least MIN_REAL_SLEEP a call: a polling loop stays a polling loop, not a spin
        real = max(seconds / speed, min(seconds, MIN_REAL_SLEEP))
        real_sleep(real)
        skipped[0] += seconds - real
        skipped[1] += seconds - real
        if real_monotonic() - reported[0] >= REPORT_SECONDS:
            report()

    atexit.register(report)
    _flush.append(report)
    time.sleep = sleep  # type: ignore[assignment]  # a float is what a sleep takes
    time.time = lambda: real_time() + skipped[0]
    time.monotonic = lambda: real_monotonic() + skipped[0]
    time.perf_counter = lambda: real_perf() + skipped[0]
    time.time_ns = lambda: int(time.time() * 1e9)
    time.monotonic_ns = lambda: int(time.monotonic() * 1e9)
    time.perf_counter_ns = lambda: int(time.perf_counter() * 1e9)


def _trimmed(error: BaseException) -> None:
    """Print the traceback as python does, without this module's and runpy's frames."""
    import traceback

    tb = error.__traceback__
    here = os.path.abspath(__file__)
    while tb is not None and (os.path.abspath(tb.tb_frame.f_code.co_filename) == here
                              or "runpy" in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)


def main(argv: list[str]) -> None:
    import runpy

    os.write(2, (STARTED + "\n").encode())

    for path in filter(None, os.environ.pop("SANDBOX_ECS_PATH", "").split(os.pathsep)):
        sys.path.append(path)
    speed = float(os.environ.pop("SANDBOX_CLOCK_SPEED", "1") or 1)
    if speed != 1:
        _clocked(speed)
    args = list(argv)
    while args and args[0].startswith("-") and args[0] not in ("-c", "-m", "-"):
        option = args.pop(0)
        if option in ("-W", "-X") and args:  # options with a value: not used here
            args.pop(0)
    try:
        if not args or args[0] == "-":
            sys.argv = args or [""]
            sys.path.insert(0, "")
            code = sys.stdin.read() if not sys.stdin.isatty() else ""
            exec(compile(code, "<stdin>", "exec"), {"__name__": "__main__"})
        elif args[0] == "-c":
            if len(args) < 2:
                print("Argument expected for the -c option", file=sys.stderr)
                sys.exit(2)
            sys.argv = ["-c", *args[2:]]
            sys.path.insert(0, "")
            exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
        elif args[0] == "-m":
            if len(args) < 2:
                print("Argument expected for the -m option", file=sys.stderr)
                sys.exit(2)
            sys.argv = [args[1], *args[2:]]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = args
            sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
            if not os.path.exists(args[0]):
                print(f"{sys.executable}: can't open file {os.path.abspath(args[0])!r}: "
                      "[Errno 2] No such file or directory", file=sys.stderr)
                sys.exit(2)
            runpy.run_path(args[0], run_name="__main__")
    except SystemExit:
        raise
    except BaseException as error:  # as python reports an uncaught exception: exit status 1
        _trimmed(error)
        sys.stderr.flush()
        for flush in _flush:
            flush()
        os._exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
