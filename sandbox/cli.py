"""The ``course`` command.

    course doctor      start the sandbox, run a function, and say whether all is well

(``course check``, ``course grade`` and ``course build`` come with the grader.)
"""

from __future__ import annotations

import argparse
import sys
import time


def doctor() -> int:
    """Prove the set-up end to end: the sandbox starts, a function deploys, runs and logs."""
    started = time.perf_counter()
    import sandbox
    from sandbox.testing import deploy, invoke

    with sandbox.start() as sb:
        ready = time.perf_counter()
        print(f"sandbox      running at {sb.endpoint_url} (account {sb.account_id}, "
              f"{sb.region}), started in {(ready - started) * 1000:.0f} ms")
        deploy("course-doctor", "def handler(event, context):\n    print('ok')\n"
                                "    return {'echo': event}\n")
        cold_started = time.perf_counter()
        cold = invoke("course-doctor", {"n": 1})
        cold_ms = (time.perf_counter() - cold_started) * 1000
        warm_started = time.perf_counter()
        warm = invoke("course-doctor", {"n": 2})
        warm_ms = (time.perf_counter() - warm_started) * 1000
        healthy = (cold["Payload"] == {"echo": {"n": 1}} and warm["Payload"] == {"echo": {"n": 2}}
                   and "REPORT RequestId" in warm.get("Log", ""))
        print(f"lambda       cold invoke {cold_ms:.0f} ms, warm invoke {warm_ms:.1f} ms")
    print("all is well" if healthy else "something is wrong: the function did not answer as "
          "expected; run 'make test' to see what")
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course", description="Serverless Sandbox's tools.")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__import__('sandbox').__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("doctor", help="check that the sandbox works on this machine")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
