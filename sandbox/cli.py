"""The ``course`` command.

    course check NOTEBOOK              run a notebook's checks, print a score (students)
    course grade SUBMISSIONS --out DIR grade a class's submissions (instructors); --shard i/n,
                                       --merge DIRS..., --scheduler tcp://... beyond one machine
    course build [--check]             write exercises/ from solutions/ (course authors)
    course release DIR                 write the students' copy of the course (no solutions)
    course doctor                      check that the sandbox works on this machine
    course serve [--port N]            run a sandbox for the AWS CLI or any SDK (Ctrl+C stops)
    course deploy TEMPLATE [--param K=V] [--stack-name N]
                                       deploy a SAM or CloudFormation template into the
                                       sandbox that SANDBOX_ENDPOINT names (course serve's)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


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
    print(runtimes_report())
    print("all is well" if healthy else "something is wrong: the function did not answer as "
          "expected; run 'make test' to see what")
    return 0 if healthy else 1


def runtimes_report() -> str:
    """Which Python runtimes run on their own Python version here, and which do not."""
    from sandbox.runtime import interpreters

    lines: list[str] = []
    for found in interpreters.every_runtime():
        where = (f"Python {found.version} ({found.path})" if found.exact else
                 f"Python {found.version}, the sandbox's own: " + (found.passed_over or (
                     f"no Python {interpreters.wanted_version(found.runtime)} found (PATH, "
                     "pyenv, uv, conda)")))
        lines.append(f"{'runtime' if not lines else '':<12} {found.runtime:<11} runs on {where}")
    return "\n".join(lines)


def serve(port: int, clock_speed: float | None) -> int:
    """The sandbox's server in the foreground: its endpoint and credentials printed, Ctrl+C
    stops it (and every execution environment it started)."""
    from .server.__main__ import main as server_main

    argv = ["--banner", "--port", str(port)]
    if clock_speed is not None:
        argv += ["--clock-speed", str(clock_speed)]
    return server_main(argv)


def deploy_template(template: str, params: list[str], stack_name: str | None) -> int:
    """``sam deploy`` against the sandbox ``course serve`` runs (SANDBOX_ENDPOINT, and
    SANDBOX_TOKEN): packages, deploys by a change set, prints the outputs."""
    import os

    import sandbox
    from sandbox.errors import DeployError

    if not os.environ.get("SANDBOX_ENDPOINT"):
        print("course deploy: SANDBOX_ENDPOINT is not set. Run 'course serve' in another "
              "terminal and set the variables it prints (SANDBOX_ENDPOINT, SANDBOX_TOKEN, "
              "and the AWS_* ones), then deploy again.", file=sys.stderr)
        return 2
    parameters = {}
    for pair in params:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            print(f"course deploy: --param expects KEY=VALUE, got {pair!r}.", file=sys.stderr)
            return 2
        parameters[key] = value
    try:
        deployment = sandbox.deploy(template, parameters=parameters, stack_name=stack_name)
    except DeployError as error:
        print(f"course deploy: {error}", file=sys.stderr)
        return 1
    if deployment.changed:
        for change in deployment.changes:
            print(f"{change['Action']:<8} {change['ResourceType']:<40} "
                  f"{change['LogicalResourceId']}")
    else:
        print(f"No changes to deploy. Stack {deployment.stack_name} is up to date")
    print(f"Stack {deployment.stack_name}: {deployment.status}")
    for key, value in deployment.outputs.items():
        aws = deployment.aws_outputs[key]
        print(f"  {key} = {value}" + (f"   (on AWS: {aws})" if aws != value else ""))
    return 0


def _course_root(start: Path) -> Path:
    """The folder holding exercises/: this one or one above it."""
    for folder in [start, *start.parents]:
        if (folder / "exercises").is_dir() or (folder / "solutions").is_dir():
            return folder
    return start


def workspace(into: str | None) -> int:
    from .course.workspace import copy_exercises

    root = _course_root(Path.cwd())
    try:
        result = copy_exercises(root, Path(into) if into else None)
    except FileNotFoundError as e:
        print(f"course workspace: {e}", file=sys.stderr)
        return 1
    for path in result.copied:
        print(f"copied   {path}")
    for path in result.kept:
        print(f"kept     {path} (yours: never overwritten)")
    print("Work on the exercises there; course updates (git pull) will not touch them.")
    return 0


def build(check_only: bool, force: bool) -> int:
    from .grading.authoring import AuthoringError
    from .grading.authoring import build as build_exercises

    root = _course_root(Path.cwd())
    try:
        result = build_exercises(root, check_only=check_only, force=force)
    except AuthoringError as e:
        print(f"course build: {e}", file=sys.stderr)
        return 1
    for path in result.written:
        print(f"wrote {path.relative_to(root)}")
    for path in result.out_of_sync:
        print(f"out of sync: {path.relative_to(root)} (run 'course build')", file=sys.stderr)
    for path in result.refused:
        print(f"not overwritten: {path.relative_to(root)} has been worked on (it differs from "
              "what course build wrote). Move it aside, or pass --force to replace it and keep "
              "a .bak copy.", file=sys.stderr)
    if not (result.written or result.out_of_sync or result.refused):
        print(f"{len(result.unchanged)} exercise(s) up to date")
    return 1 if result.out_of_sync or result.refused else 0


def check(notebook: Path, cell_timeout: float, timeout: float) -> int:
    """Run a notebook as the grader does (its own kernel and sandbox, the checks run by the
    grader's side) and print each check's verdict, its hint whole."""
    import shutil
    import textwrap

    from .grading.grade import BadSubmission, Options, grade_one

    if not notebook.is_file():
        print(f"course check: no such notebook: {notebook}", file=sys.stderr)
        return 2
    canonical = _course_root(notebook.resolve().parent) / "exercises" / notebook.name
    if not canonical.is_file():
        canonical = notebook  # a notebook of the course's own (a solution): its own checks
    options = Options(exercises=canonical.parent, cell_timeout=cell_timeout, timeout=timeout)
    print(f"Running {notebook} in a fresh kernel...", flush=True)
    try:
        job = grade_one(notebook, options, canonical=canonical)
    except BadSubmission as bad:
        print(f"course check: {notebook} cannot be checked: {bad}", file=sys.stderr)
        return 2
    rows = job.rows or []
    if not rows:
        print(f"{notebook} has no check cells.")
        return 0
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    label = max(len(row.check_id) for row in rows)
    print()
    for row in rows:
        points = f"{row.points:g}/{row.max_points:g}"
        print(f"{row.check_id.ljust(label)}  {points:>7}  {row.status}")
        if row.status != "passed" and row.message:
            for line in row.message.splitlines():
                print(textwrap.fill(line, width=width, initial_indent="    ",
                                    subsequent_indent="    ") if line.strip() else "")
    print(f"\nTotal: {sum(r.points for r in rows):g}/{sum(r.max_points for r in rows):g}")
    for note in job.notes:
        print(f"note: {note}")
    return 0 if all(row.status == "passed" for row in rows) else 1


# what a student's copy of the course holds (course release): never solutions/, tests/ (whose
# submissions are worked answers) or an instructor's extra checks
RELEASED = ("lessons", "exercises", "sandbox", "README.md", "Makefile", "pyproject.toml",
            "environment.yml", "postBuild", ".gitignore", "LICENSE")


def release(target: Path) -> int:
    """Write the students' copy of the course into ``target`` (new or empty)."""
    import shutil

    root = _course_root(Path.cwd())
    if not (root / "exercises").is_dir() or not (root / "sandbox").is_dir():
        print(f"course release: run it from the course's folder (no exercises/ or sandbox/ in "
              f"{root})", file=sys.stderr)
        return 2
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"course release: {target} is not an empty folder: nothing written (a release "
              "never overwrites anything; give a new or empty folder)", file=sys.stderr)
        return 2
    if target.resolve() == root.resolve() or root.resolve() in target.resolve().parents:
        print("course release: the release must go outside the course's folder",
              file=sys.stderr)
        return 2
    target.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.bak")
    written = []
    for name in RELEASED:
        source = root / name
        if source.is_symlink() or not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(source, target / name)
        written.append(name)
    print(f"wrote the students' copy of the course to {target}: {', '.join(written)} "
          "(no solutions/, no tests/)")
    return 0


def grade(args: argparse.Namespace) -> int:
    from .grading.distribute import DistributeError, Shard, merge
    from .grading.grade import LOST, Options, summary_table
    from .grading.grade import grade as grade_all

    if args.merge:
        if args.submissions or args.shard or args.scheduler:
            print("course grade: --merge combines graded shards' folders: give it no "
                  "SUBMISSIONS, --shard or --scheduler", file=sys.stderr)
            return 2
        try:
            rows = merge([Path(folder) for folder in args.merge], Path(args.out))
        except DistributeError as e:
            print(f"course grade --merge: {e}", file=sys.stderr)
            return 2
        print()
        print(summary_table(rows))
        print(f"\nWrote {Path(args.out) / 'grades.csv'}, summary.csv and feedback/")
        return 1 if any(row.message.startswith(LOST) for row in rows) else 0
    if not args.submissions:
        print("course grade: give the SUBMISSIONS folder (or --merge SHARD_DIRS... to combine "
              "shards)", file=sys.stderr)
        return 2
    if args.scheduler and args.jobs:
        print("course grade: --jobs is for this machine; with --scheduler the Dask workers' "
              "threads set how many submissions are graded at once", file=sys.stderr)
        return 2
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        print(f"course grade: {submissions} is not a folder of <student>/<stem>.ipynb",
              file=sys.stderr)
        return 2
    exercises = Path(args.exercises) if args.exercises else \
        _course_root(Path.cwd()) / "exercises"
    if not exercises.is_dir():
        print(f"course grade: no exercises folder at {exercises}; run from the course folder "
              "or pass --exercises DIR", file=sys.stderr)
        return 2
    try:
        shard = Shard.parse(args.shard) if args.shard else None
    except DistributeError as e:
        print(f"course grade: {e}", file=sys.stderr)
        return 2
    options = Options(exercises=exercises, cell_timeout=args.cell_timeout, timeout=args.timeout,
                      memory_mb=args.memory or None,
                      extra_checks=Path(args.extra_checks) if args.extra_checks else None,
                      jail=not args.no_jail)
    import signal

    # a terminated grader still removes its temporary folder and stops its workers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        rows = grade_all(submissions, Path(args.out), options, jobs=args.jobs, shard=shard,
                         scheduler=args.scheduler)
    except DistributeError as e:
        print(f"course grade: {e}", file=sys.stderr)
        return 2
    print()
    print(summary_table(rows))
    print(f"\nWrote {Path(args.out) / 'grades.csv'}, summary.csv and feedback/")
    lost = sum(row.message.startswith(LOST) for row in rows)
    if lost:
        print(f"{lost} row(s) lost by the cluster: run the same command again to grade them",
              file=sys.stderr)
    return 1 if lost else 0


def samples(root: str, only: list[str], as_json: str | None) -> int:
    """Deploy each sample folder under ``root`` unchanged, drive it, print a table."""
    import json

    from .samples import SampleResult, find_samples, run_samples, table

    folder = Path(root)
    if not folder.is_dir() or not find_samples(folder):
        print(f"course samples: no folder under {folder} holds a template.yaml",
              file=sys.stderr)
        return 2

    def progress(result: SampleResult) -> None:
        print(result.row(), flush=True)

    results = run_samples(folder, only=only or None, progress=progress)
    print()
    print(table(results))
    if as_json:
        from dataclasses import asdict

        Path(as_json).write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 0 if all(r.status == "passed" for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course", description="Serverless Sandbox's tools.")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__import__('sandbox').__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check_parser = commands.add_parser("check", help="run a notebook's checks and score it")
    check_parser.add_argument("notebook")
    check_parser.add_argument("--cell-timeout", type=float, default=120)
    check_parser.add_argument("--timeout", type=float, default=900)
    grade_parser = commands.add_parser("grade", help="grade a folder of submissions")
    grade_parser.add_argument("submissions", nargs="?",
                              help="a folder of <student>/<stem>.ipynb")
    grade_parser.add_argument("--out", required=True, help="where grades and feedback go")
    grade_parser.add_argument("--jobs", type=int, default=None,
                              help="submissions graded at once (default: the number of cores)")
    grade_parser.add_argument("--cell-timeout", type=float, default=60,
                              help="seconds one cell may run (default 60)")
    grade_parser.add_argument("--timeout", type=float, default=600,
                              help="seconds a whole notebook may run (default 600)")
    grade_parser.add_argument("--memory", type=int, default=4096,
                              help="megabytes of address space per submission (0: no limit)")
    grade_parser.add_argument("--extra-checks", help="a folder of <stem>.ipynb holding the "
                              "instructor's own check cells, kept out of students' copies")
    grade_parser.add_argument("--exercises", help="the canonical exercises folder "
                              "(default: exercises/ of the course folder)")
    grade_parser.add_argument("--no-jail", action="store_true",
                              help="run kernels without the bubblewrap jail (not for a class: "
                                   "a submission could then read or harm the others)")
    grade_parser.add_argument("--scheduler", metavar="ADDRESS",
                              help="grade on the Dask cluster whose scheduler is at ADDRESS "
                                   "(tcp://host:8786; needs the [dask] extra here and on its "
                                   "workers)")
    grade_parser.add_argument("--shard", metavar="I/N",
                              help="grade only shard I of N (1/4 ... 4/4), by a hash of each "
                                   "submission's name; combine the shards with --merge")
    grade_parser.add_argument("--merge", nargs="+", metavar="SHARD_OUT",
                              help="combine the --out folders of every shard into one gradebook "
                                   "in --out (no SUBMISSIONS then)")
    build_parser = commands.add_parser("build", help="write exercises/ from solutions/")
    build_parser.add_argument("--check", action="store_true",
                              help="only say which exercises are out of sync (exit 1 if any)")
    build_parser.add_argument("--force", action="store_true",
                              help="replace exercises that were worked on (keeping a .bak)")
    release_parser = commands.add_parser(
        "release", help="write the students' copy of the course (no solutions) into DIR")
    release_parser.add_argument("dir", help="a new or empty folder")
    commands.add_parser("doctor", help="check that the sandbox works on this machine")
    workspace_parser = commands.add_parser(
        "workspace", help="copy the exercises you do not have yet into work/, your own folder")
    workspace_parser.add_argument("--into", default=None,
                                  help="the folder to copy into (default: work/ in the course)")
    serve_parser = commands.add_parser(
        "serve", help="run a sandbox in this terminal, for the AWS CLI or any SDK")
    serve_parser.add_argument("--port", type=int, default=0,
                              help="loopback port to listen on (default: a free one)")
    serve_parser.add_argument("--clock-speed", type=float, default=None,
                              help="how much faster than real time AWS's long waits pass "
                                   "(default 10000)")
    deploy_parser = commands.add_parser(
        "deploy", help="deploy a SAM or CloudFormation template into course serve's sandbox")
    deploy_parser.add_argument("template", help="template.yaml, or the folder holding it")
    deploy_parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                               help="a template parameter (repeatable)")
    deploy_parser.add_argument("--stack-name", default=None,
                               help="the stack's name (default: the template's folder name)")
    samples_parser = commands.add_parser(
        "samples", help="deploy folders of SAM samples unchanged and drive them (a table)")
    samples_parser.add_argument("dir", help="a sample folder, or a folder of them; an optional "
                                            "samples.json there says how to drive each")
    samples_parser.add_argument("--only", action="append", default=[], metavar="NAME",
                                help="run only this sample (repeatable)")
    samples_parser.add_argument("--json", default=None, metavar="FILE",
                                help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.command == "samples":
        return samples(args.dir, args.only, args.json)
    if args.command == "deploy":
        return deploy_template(args.template, args.param, args.stack_name)
    if args.command == "doctor":
        return doctor()
    if args.command == "serve":
        return serve(args.port, args.clock_speed)
    if args.command == "build":
        return build(args.check, args.force)
    if args.command == "workspace":
        return workspace(args.into)
    if args.command == "release":
        return release(Path(args.dir))
    if args.command == "check":
        return check(Path(args.notebook), args.cell_timeout, args.timeout)
    if args.command == "grade":
        return grade(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
