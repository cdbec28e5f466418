"""``python -m sandbox.grading.worker TASK.json``: grade one notebook, out of the learner's reach.

The grader starts one worker per submission, a process of its own. The worker

1. starts the submission's sandbox server itself (``python -m sandbox.server --lock-iam``,
   outside any jail) and keeps the owner's token; boto3 in this process reaches that server;
2. starts the notebook's kernel meanwhile (in the bubblewrap jail, :mod:`sandbox.grading.jail`,
   where it works);
3. runs its own first cell in the kernel: ``SANDBOX_ENDPOINT`` and the server's *learner*
   token, then ``import sandbox; sandbox.start()``, which attaches to that server (the kernel
   can neither stop it nor turn IAM off; a notebook whose set-up cell was deleted or rewritten
   still deploys with ``%%lambda``); then the notebook, cell by cell, with nbclient;
4. at each official check cell, runs that check function itself, here, against the sandbox
   (the kernel never runs the check cell: nothing a cell did to the kernel, its modules, its
   output or its files can make a failing check pass); a check that reads a learner's variable
   gets its value from the kernel as JSON data, printed by code the worker sends;
5. writes the verdicts to the result file the grader named, which the kernel cannot see.

Whatever happens, the kernel, the jail, the sandbox server and every process they started are
gone when the worker ends.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# the kernel starts while the server does (each takes a while); this first cell then names the
# server to it, and attaches: sandbox.start() finds SANDBOX_ENDPOINT and SANDBOX_TOKEN
PRELOAD = ("import os as _os\n_os.environ.update({env!r})\ndel _os\n"
           "import sandbox\nsandbox.start()")
MAX_NOTES = 20
# the learner's variables, as data: the worker's own code, run in the kernel
ASK = ("print({nonce!r} + __import__('json').dumps({{_n: globals()[_n] for _n in {names!r} "
       "if _n in globals()}}, default=repr))")


def spawn_server(hide: list[Path] | None = None) -> Callable[[], tuple[Any, str]]:
    """Start this worker's sandbox server (IAM locked on); the function returned waits until
    it answers and gives the Sandbox handle (boto3 here then reaches it) and the learner's
    token for the kernel. (Started from the main thread: bwrap's --die-with-parent follows the
    thread that started it.)

    With ``hide`` (grading with the jail), the server runs in a bubblewrap jail of its own that
    hides the same folders as the kernel's: the learner's Lambda functions run in the server's
    execution environments, and must not read solutions/ or a classmate's work either."""
    from .. import client
    from . import jail

    launching = client.launch_server(
        ["--lock-iam"],
        wrap=(lambda folder: jail.command(Path(folder), hide)) if hide is not None else None,
        environment=lambda folder: {"TMPDIR": folder})

    def ready() -> tuple[Any, str]:
        sandbox, line = launching.wait()
        client._current = sandbox  # the checks' current(): this worker's sandbox
        return sandbox, line["learner_token"]

    return ready


def launch_server(hide: list[Path] | None = None) -> tuple[Any, str]:
    """:func:`spawn_server`, waited for."""
    return spawn_server(hide)()


def kernel_manager(work_dir: Path, jail_args: list[str] | None) -> Any:
    """A kernel manager whose kernel runs jailed (when ``jail_args``) in ``work_dir``."""
    from jupyter_client.manager import AsyncKernelManager

    class JailedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            command = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
            if jail_args:
                # in its PID namespace the kernel's parent is pid 1, which ipykernel's parent
                # poller takes for "my parent died"; the jail's --die-with-parent does its job
                command.append("--IPKernelApp.parent_handle=0")
            return [*(jail_args or []), *command]

    manager = JailedKernelManager(kernel_name="python3")
    manager.connection_file = str(work_dir / ".kernel.json")
    # interrupt by a message on the control channel: a signal to the process group would
    # reach bwrap (the group's leader), which ends the whole jail instead of the cell
    spec = manager.kernel_spec
    if spec is not None:
        spec.interrupt_mode = "message"
    return manager


def kernel_environment(work_dir: Path, jailed: bool) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "SANDBOX_", "JUPYTER", "IPYTHON", "PYTEST"))}
    private = work_dir / ".home"
    private.mkdir(exist_ok=True)
    env.update(HOME=str(private),
               IPYTHONDIR=str(private / ".ipython"), JUPYTER_CONFIG_DIR=str(private / ".jupyter"),
               JUPYTER_DATA_DIR=str(private / ".local"), JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_RUNTIME_DIR=str(private / ".runtime"), PYTHONWARNINGS="ignore",
               MPLBACKEND="Agg", TMPDIR="/tmp" if jailed else str(work_dir))
    return env


def _text(outputs: list[Any], error: bool = False) -> str:
    pieces = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            pieces.append(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            pieces.append(output.get("data", {}).get("text/plain", ""))
        elif kind == "error" and error:
            pieces.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(pieces)


def _error(cell: Any) -> str:
    from .grade import strip_ansi

    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return strip_ansi(f"{output.get('ename')}: {output.get('evalue')}")[:200]
    return ""


class Grader:
    """The worker's state for one notebook."""

    def __init__(self, task: dict[str, Any]):
        self.task = task
        self.cell_timeout = float(task["cell_timeout"])
        self.deadline = time.monotonic() + float(task["timeout"])
        self.checks: dict[str, str] = {c["id"]: c["name"] for c in task["checks"]}
        self.verdicts: dict[str, dict[str, str]] = {}
        self.notes: list[str] = []
        self.client: Any = None
        self.kernel_alive = True

    # ------------------------------------------------------------ the kernel
    def execute(self, cell: Any, index: int, store_history: bool = True,
                timeout: float | None = None) -> str:
        """Run a cell in the kernel: "ok", "error", "timeout", "deadline" or "dead"."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        remaining = self.deadline - time.monotonic()
        limit = min(timeout or self.cell_timeout, remaining)
        if limit <= 0:
            return "deadline"
        self.client.timeout = max(1, int(limit + 0.999))
        try:
            self.client.execute_cell(cell, index, store_history=store_history)
        except CellTimeoutError:
            if time.monotonic() >= self.deadline - 0.5:
                return "deadline"
            with contextlib.suppress(Exception):  # the next cell may run once it stops
                from jupyter_core.utils import run_sync

                run_sync(self.client.km.interrupt_kernel)()
            return "timeout"
        except DeadKernelError:
            self.kernel_alive = False
            return "dead"
        except Exception as error:  # noqa: BLE001 (nbclient's failures are many)
            self.kernel_alive = False
            self.notes.append(f"the kernel stopped answering ({type(error).__name__})")
            return "dead"
        return "error" if any(o.get("output_type") == "error" for o in cell.outputs) else "ok"

    def ask(self, names: tuple[str, ...], index: int) -> dict[str, Any]:
        """The learner's variables ``names``, as JSON data, from the kernel's namespace."""
        from nbformat.v4 import new_code_cell

        if not names or not self.kernel_alive:
            return {}
        nonce = secrets.token_hex(8)
        cell = new_code_cell(ASK.format(nonce=nonce, names=list(names)))
        if self.execute(cell, index, store_history=False, timeout=20) not in ("ok", "error"):
            return {}
        for line in _text(cell.outputs).splitlines():
            if line.startswith(nonce):
                try:
                    values = json.loads(line[len(nonce):])
                except ValueError:
                    return {}
                return {name: values[name] for name in names
                        if isinstance(values, dict) and name in values}
        return {}

    # ------------------------------------------------------------ a check, here
    def run_check(self, cell_id: str, index: int) -> None:
        from .checks import CheckFailed, NotAttempted, find, needs, provided

        name = self.checks[cell_id]
        try:
            wanted = needs(name)
        except Exception as error:  # noqa: BLE001 (an unknown check: the course's mistake)
            self.verdicts[cell_id] = {"status": "error", "message": str(error), "output": ""}
            return
        values = self.ask(wanted, index)
        label = name.rpartition(".")[2].replace("_", " ")
        outcome: dict[str, str] = {}
        printed = io.StringIO()

        def check() -> None:
            try:
                with provided(values), contextlib.redirect_stdout(printed):
                    find(name)()
            except NotAttempted as failure:
                failure.check_name = label
                outcome.update(status="failed", message="\n".join(failure.lines()))
            except CheckFailed as failure:
                failure.check_name = label
                outcome.update(status="failed", message="\n".join(failure.lines()))
            except BaseException as error:  # noqa: BLE001 (whatever a check hit is its verdict)
                outcome.update(status="error", message=f"the check could not finish: "
                               f"{type(error).__name__}: {error}"[:500])
            else:
                outcome.update(status="passed", message="")

        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.verdicts[cell_id] = self.deadline_verdict()
            return
        thread = threading.Thread(target=check, name=f"check-{name}", daemon=True)
        thread.start()
        thread.join(min(self.cell_timeout, remaining))
        if thread.is_alive():
            outcome = {"status": "timeout", "message": f"the check did not finish within "
                       f"{min(self.cell_timeout, remaining):g} s"}
        self.verdicts[cell_id] = {**outcome, "output": printed.getvalue()[-5000:]}

    def deadline_verdict(self) -> dict[str, str]:
        return {"status": "timeout", "output": "",
                "message": f"not run: the notebook ran out of time ({self.task['timeout']:g} s) "
                           f"in cell {self.timed_out_at}"}

    # ------------------------------------------------------------ the notebook
    timed_out_at = ""
    attach: dict[str, str] = {}  # SANDBOX_ENDPOINT and SANDBOX_TOKEN for the kernel

    def run(self, notebook: Any) -> None:
        from nbformat.v4 import new_code_cell

        preload = new_code_cell(PRELOAD.format(env=self.attach))
        if self.execute(preload, 0, store_history=False, timeout=max(self.cell_timeout, 60)) \
                != "ok":
            self.notes.append("the kernel could not attach to its sandbox: "
                              + (_error(preload) or "no answer"))
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            where = f"{index} ({cell.get('id', '?')})"
            if cell.get("id") in self.checks:
                if self.timed_out_at:
                    self.verdicts[cell.id] = self.deadline_verdict()
                elif not self.kernel_alive:
                    self.verdicts[cell.id] = {
                        "status": "not-run", "output": "",
                        "message": f"not run: the kernel died in cell {self.died_in}"}
                else:
                    self.run_check(cell.id, index)
                continue
            if self.timed_out_at or not self.kernel_alive:
                continue
            outcome = self.execute(cell, index)
            if outcome == "deadline":
                self.timed_out_at = where
                self.notes.append(f"the notebook ran out of time in cell {where}")
            elif outcome == "timeout":
                self.notes.append(f"cell {where} ran longer than {self.cell_timeout:g} s "
                                  "and was interrupted")
            elif outcome == "dead":
                self.died_in = where
                self.notes.append(f"the kernel died in cell {where}")
            elif outcome == "error":
                self.notes.append(f"cell {where}: {_error(cell)}")

    died_in = ""


def grade(task: dict[str, Any]) -> dict[str, Any]:
    from . import jail

    work_dir = Path(task["work_dir"])
    jail_args = jail.command(work_dir, [Path(p) for p in task["hide"]]) if task["jail"] \
        else None
    # the server boots while this process imports what runs the kernel
    server_ready = spawn_server([Path(p) for p in task["hide"]] if jail_args else None)
    server: dict[str, Any] = {}
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(task["notebook"], as_version=4)
    grader = Grader(task)
    env = kernel_environment(work_dir, jailed=bool(jail_args))
    try:
        manager = kernel_manager(work_dir, jail_args)
        client = NotebookClient(notebook, km=manager, timeout=int(task["cell_timeout"]),
                                allow_errors=True, interrupt_on_timeout=False,
                                record_timing=False, startup_timeout=120,
                                shutdown_kernel="immediate")
        grader.client = client
        try:
            with client.setup_kernel(env=env, cwd=str(work_dir)):
                try:
                    server["sandbox"], server["token"] = server_ready()
                    grader.attach = {"SANDBOX_ENDPOINT": server["sandbox"].endpoint_url,
                                     "SANDBOX_TOKEN": server["token"]}
                    grader.run(notebook)
                finally:
                    with contextlib.suppress(Exception):
                        client._cleanup_kernel()
        except Exception as error:  # noqa: BLE001 (the kernel did not start: say why)
            if not grader.verdicts:
                grader.notes.append(f"the notebook could not be run: "
                                    f"{type(error).__name__}: {error}"[:300])
    finally:
        if "sandbox" not in server:  # the kernel never started: the server still must stop
            with contextlib.suppress(Exception):
                server["sandbox"], server["token"] = server_ready()
        if "sandbox" in server:
            server["sandbox"].stop()
    notes = grader.notes  # a notebook of 5,000 failing cells gets a note, not a book
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"... and {len(notes) - MAX_NOTES} more"]
    return {"verdicts": grader.verdicts, "notes": notes, "timed_out_at": grader.timed_out_at}


def _watch_grader() -> None:
    """stdin is the grader's pipe: end of file means the grader is gone, and so is this
    worker (its kernel's jail and its server end with it)."""
    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(3)

    threading.Thread(target=watch, name="grader-watch", daemon=True).start()


# jsonschema (imported by nbformat, which nbclient imports) loads rfc3987_syntax where it is
# installed, for its "iri" format checker, and that compiles 39 grammars on import: 0.7 s of CPU
# in every worker, half of a worker's CPU. The worker validates nothing (the grader has
# validated the notebook; nbformat's schemas use no "iri" format): jsonschema goes without it,
# as it does wherever rfc3987_syntax is not installed.
UNUSED_MODULES = ("rfc3987_syntax",)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # import: ImportError
    task = json.loads(Path(argv[0]).read_text())
    if not os.isatty(0) and task.get("watch_grader", True):
        _watch_grader()
    if task.get("memory_bytes"):  # inherited by the kernel, the server and its functions
        limit = int(task["memory_bytes"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result = grade(task)
    out = Path(task["result"])
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps(result))
    partial.replace(out)  # whole or not at all
    return 0


if __name__ == "__main__":
    sys.exit(main())
