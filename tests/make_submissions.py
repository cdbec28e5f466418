"""Writes tests/submissions/: one student per way a submission can go wrong, for exercise 00.

Run it again after exercise 00 changes: ``.venv/bin/python tests/make_submissions.py``.
Each folder is a student; tests/test_grading.py asserts the grader's verdict on each.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "submissions"
STEM = "00-welcome.ipynb"


def solved() -> nbformat.NotebookNode:
    """The solution as a learner would hand it in: their code in place of the placeholders."""
    exercise = nbformat.read(ROOT / "exercises" / STEM, as_version=4)
    solution = nbformat.read(ROOT / "solutions" / STEM, as_version=4)
    answers = {cell.id: cell.source.replace("# BEGIN SOLUTION\n", "").replace(
        "\n# END SOLUTION", "") for cell in solution.cells}
    for cell in exercise.cells:
        if "# YOUR CODE HERE" in cell.source:
            cell.source = answers[cell.id]
    return exercise


def blank() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "exercises" / STEM, as_version=4)


def index_of(notebook: nbformat.NotebookNode, cell_id: str) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if cell.id == cell_id)


def with_cell_after(notebook, after_id: str, source: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    cell = new_code_cell(source)
    notebook.cells.insert(index_of(notebook, after_id) + 1, cell)
    return notebook


def write(student: str, notebook=None, raw: bytes | None = None, name: str = STEM) -> None:
    folder = OUT / student
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        (folder / name).write_bytes(raw)
    else:
        nbformat.write(notebook, folder / name)


# One-cell cheats. Each is written twice: on the blank exercise, right after the set-up cell (it
# must get 0), and on the solved one, after the work and before the last check (it must keep
# every point: the cheat lowers no honest grade).
CHEATS = {
    "rebind-check": "import sandbox\n"
                    "sandbox.check = lambda *args, **kwargs: print('\u2714 passed')",
    "patch-registry": "import sandbox.grading.checks as registry\n"
                      "registry.find = lambda name: (lambda: None)",
    "patch-sys-modules": "import sys, types\n"
                         "fake = types.ModuleType('sandbox')\n"
                         "fake.check = lambda *args, **kwargs: print('passed')\n"
                         "fake.start = lambda *args, **kwargs: None\n"
                         "sys.modules['sandbox'] = fake",
    "patch-builtins": "import builtins\n"
                      "class Quiet(BaseException):\n    pass\n"
                      "builtins.AssertionError = builtins.Exception = Quiet\n"
                      "builtins.print = lambda *args, **kwargs: None",
    "patch-botocore": "import botocore.client, io, json\n"
                      "def fake(self, operation, params):\n"
                      "    body = {'message': 'Hello, ' + json.loads(params.get('Payload', '{}'))"
                      ".get('name', 'world') + '!'}\n"
                      "    return {'StatusCode': 200, 'Payload': io.BytesIO(json.dumps(body)"
                      ".encode()), 'ResponseMetadata': {'RequestId': 'x'}, 'LogResult': '',"
                      " 'Configuration': {}, 'FunctionName': 'greeter'}\n"
                      "botocore.client.BaseClient._make_api_call = fake",
    "input-transformer": "def skip_checks(lines):\n"
                         "    return ['pass\\n'] if any('sandbox.check' in line for line in "
                         "lines) else lines\n"
                         "get_ipython().input_transformers_post.append(skip_checks)",
    "silence-tracebacks": "ip = get_ipython()\n"
                          "ip.set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
                          "ip.showtraceback = lambda *args, **kwargs: None",
    "run-solution": "import json, pathlib, sandbox\n"
                    "root = pathlib.Path(sandbox.__file__).resolve().parent.parent\n"
                    "solution = json.loads((root / 'solutions' / '00-welcome.ipynb')"
                    ".read_text())\n"
                    "for cell in solution['cells']:\n"
                    "    source = ''.join(cell['source'])\n"
                    "    if source.startswith('%%lambda'):\n"
                    "        get_ipython().run_cell(source.replace('# BEGIN SOLUTION\\n', '')"
                    ".replace('# END SOLUTION\\n', ''))",
    "rewrite-check-source": "import pathlib, sandbox\n"
                            "checks = pathlib.Path(sandbox.__file__).resolve().parent / "
                            "'checks' / 'welcome.py'\n"
                            "text = checks.read_text()\n"
                            "checks.write_text(text.replace('def greeter_answers() -> None:',"
                            " 'def greeter_answers() -> None:\\n    return'))",
    "fake-results": "import glob, json, os, subprocess, sys\n"
                    "for path in glob.glob('/tmp/sandbox-grade-*/private/*/'):\n"
                    "    open(path + 'result.json', 'w').write(json.dumps({'verdicts': {}}))\n"
                    "# a detached process that keeps writing passing results after the run\n"
                    "subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: "
                    "time.sleep(1)', 'cheat-detached-writer'], start_new_session=True)",
    "disable-iam": "import sandbox\nsb = sandbox.start()\nsb.iam.enforcing = False",
}

LAMBDA_READS_SOLUTION = '''import pathlib, sandbox
from sandbox.course.magic import deploy
solution = pathlib.Path(sandbox.__file__).resolve().parent.parent / "solutions" / "00-welcome.ipynb"
CODE = """import json
_cells = json.load(open({path!r}))["cells"]
_source = [''.join(c["source"]) for c in _cells
           if ''.join(c["source"]).startswith("%%lambda {name}")][0]
exec(_source.split(chr(10), 1)[1])
"""
for name in ("greeter",):
    print(deploy(f"{name} --handler lambda_handler", CODE.format(path=str(solution), name=name)))
'''

# Cheats that only a blank exercise can try (on solved work they replace the learner's own
# functions, so they would lower the grade by themselves).
BLANK_ONLY_CHEATS = {
    # the functions' own code reads the solution notebook: Lambda code runs in the sandbox
    # server's execution environments, which the grader jails too
    "lambda-reads-solution": LAMBDA_READS_SOLUTION,
}

# Reaching past its own loopback, for 4 s: every listening socket the kernel can see (Linux lists
# them in /proc/net/tcp) that is not its own server or kernel and answers as a sandbox server (a
# classmate's, graded at the same time: its API Gateway routes and S3 websites are on that
# port), and every port of 47000-47099, where tests/test_grading.py listens outside any
# namespace. It only knocks (a token-less admin call answers 403); whatever it reaches, it ends
# its own kernel, so its grade shows it: 0 if it reached anything, full marks if not.
REACH_CLASSMATES = '''import http.client, json, os, socket, time
from concurrent.futures import ThreadPoolExecutor
import ipykernel.connect
own = {int(sb.endpoint_url.rsplit(":", 1)[1].strip("/"))}
info = json.loads(ipykernel.connect.get_connection_info())
own |= {info[k] for k in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")}

def listening():
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports - own

def a_sandbox_server(port):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("POST", "/_sandbox/status", body=b"{}")
        return b"server's token" in connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False

def the_tests_listener(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as knock:
            knock.settimeout(1)
            return knock.recv(64).startswith(b"sandbox-test-listener")
    except OSError:
        return False

reached, until = False, time.monotonic() + 4
with ThreadPoolExecutor(64) as knocking:  # a busy machine listens on many ports
    while not reached and time.monotonic() < until:
        reached = any(knocking.map(the_tests_listener, set(range(47000, 47100)) - own)) \\
            or any(knocking.map(a_sandbox_server, listening()))
        time.sleep(0.2)
if reached:
    os._exit(9)
print("reached nothing")'''

# Attacks on classmates and on the grader; each also does the exercise right, and must keep
# its own points while the classmates keep theirs.
ATTACKS = {
    "kill-parent": "import os, signal\n"
                   "for pid in (os.getppid(), 1):\n"
                   "    try:\n        os.kill(pid, signal.SIGKILL)\n"
                   "    except OSError:\n        pass",
    "overwrite-classmates": "import glob\n"
                            "for path in glob.glob('/tmp/**/submissions/*/*.ipynb', "
                            "recursive=True):\n"
                            "    try:\n        open(path, 'w').write('{}')\n"
                            "    except OSError:\n        pass\n"
                            "for folder in glob.glob('/tmp/**/grades', recursive=True):\n"
                            "    try:\n        open(folder + '/grades.csv', 'w').write('x')\n"
                            "    except OSError:\n        pass",
    "plant-module": "import glob, os\n"
                    "for folder in glob.glob('/tmp/**/submissions/*/', recursive=True) + "
                    "glob.glob('../*/'):\n"
                    "    try:\n"
                    "        open(os.path.join(folder, 'sandbox.py'), 'w').write("
                    "'raise SystemExit(1)')\n"
                    "    except OSError:\n        pass",
    "remove-parent-folder": "import shutil\nshutil.rmtree('..', ignore_errors=True)",
    "leave-process": "import subprocess, sys\n"
                     "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
                     "'cheat-left-behind'], start_new_session=True)",
    "stop-sandbox": "import sandbox\nsb = sandbox.start()\n"
                    "try:\n    sb.admin.call('stop')\nexcept Exception as error:\n"
                    "    print(error)",
    "reach-classmates": REACH_CLASSMATES,
}


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    write("perfect", solved())
    write("blank", blank())
    partial = solved()
    partial.cells[index_of(partial, "ex00-shout")] = blank().cells[index_of(blank(), "ex00-shout")]
    write("partial", partial)
    # a hung cell, then task 2 done after it
    write("infinite-loop", with_cell_after(solved(), "check-greeter-defaults",
                                           "while True:\n    pass"))
    write("kernel-exit", with_cell_after(solved(), "check-greeter-answers",
                                         "import os\nos._exit(1)"))
    write("segfault", with_cell_after(solved(), "check-greeter-answers",
                                      "import ctypes\nctypes.string_at(0)"))
    write("memory-blowup", with_cell_after(solved(), "check-greeter-defaults",
                                           "hog = bytearray(64 * 1024**3)"))
    write("malformed-json", raw=b'{"cells": [ this is not json')
    write("empty-file", raw=b"")
    v3 = {"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": [
        {"cell_type": "code", "language": "python", "input": cell.source, "outputs": [],
         "metadata": {}}
        for cell in solved().cells if cell.cell_type == "code"]}]}
    write("nbformat-3", raw=json.dumps(v3).encode())
    write("unknown-stem", solved(), name="99-not-an-exercise.ipynb")
    deleted = solved()
    del deleted.cells[index_of(deleted, "check-shout-logs")]
    write("deleted-check", deleted)
    edited = solved()
    edited.cells[index_of(edited, "check-greeter-answers")].source = 'print("passed")'
    # ...and the greeter answers wrongly, so only the official check can tell
    edited.cells[index_of(edited, "ex00-greeter")].source = (
        "%%lambda greeter\ndef lambda_handler(event, context):\n    return 'hi'")
    write("edited-check", edited)
    duplicated = solved()
    at = index_of(duplicated, "check-shout-logs")
    duplicated.cells.insert(at, copy.deepcopy(duplicated.cells[at]))
    duplicated.cells.insert(at, copy.deepcopy(duplicated.cells[at]))
    # raw JSON: nbformat.write would give the copies new ids, and the point is that they don't
    write("duplicated-check", raw=json.dumps(duplicated, indent=1).encode())
    retyped = solved()
    at = index_of(retyped, "check-greeter-defaults")
    retyped.cells[at] = new_code_cell(retyped.cells[at].source)  # a new id, untagged
    write("retyped-check", retyped)
    markdown = solved()
    at = index_of(markdown, "check-shout-logs")
    turned = new_markdown_cell(markdown.cells[at].source)
    turned.id = "check-shout-logs"
    markdown.cells[at] = turned
    write("check-as-markdown", markdown)
    write("huge-output", with_cell_after(solved(), "ex00-setup",
                                         "print('x' * 5_000_000)"))
    write("stderr-warnings", with_cell_after(solved(), "ex00-setup",
                                             "import sys, warnings\n"
                                             "warnings.warn('this costs no points')\n"
                                             "print('noise', file=sys.stderr)"))
    write("writes-files", with_cell_after(solved(), "ex00-setup",
                                          "from pathlib import Path\n"
                                          "Path('scratch.txt').write_text('here')\n"
                                          "Path('../escaped.txt').write_text('next door')\n"
                                          "Path('00-welcome.ipynb').write_text('overwritten')"))
    inserted = solved()
    for i in range(3):  # inserted, split and reordered work cells change nothing
        inserted.cells.insert(2, new_code_cell(f"note_{i} = {i}"))
    write("inserted-cells", inserted)

    for name, source in CHEATS.items():
        write(f"cheat-{name}-blank", with_cell_after(blank(), "ex00-setup", source))
        write(f"cheat-{name}-solved", with_cell_after(solved(), "ex00-shout", source))
    for name, source in BLANK_ONLY_CHEATS.items():  # after the placeholder it replaces
        write(f"cheat-{name}-blank", with_cell_after(blank(), "ex00-greeter", source))
    for name, source in ATTACKS.items():
        write(f"attack-{name}", with_cell_after(solved(), "ex00-setup", source))
    # right work whose greeter answers right only in a Lambda environment of its own PID
    # namespace (bubblewrap's: the supervisor is PID 1): the non-root grading test's witness that
    # execution environments are jailed inside the submission's server jail and network jail
    jailed = solved()
    greeter = jailed.cells[index_of(jailed, "ex00-greeter")]
    greeter.source = greeter.source.replace(
        "def lambda_handler(event, context):\n",
        "import os\n\n\ndef lambda_handler(event, context):\n"
        "    if os.getppid() != 1:  # no PID namespace of its own: answers wrong\n"
        "        return {\"message\": \"not in a jail\"}\n")
    write("lambda-jailed", jailed)
    setup_rewritten = solved()
    setup_rewritten.cells[index_of(setup_rewritten, "ex00-setup")].source = (
        "import boto3\nfrom sandbox import start\n\nsb = start()")
    write("setup-from-import", setup_rewritten)
    setup_deleted = solved()
    del setup_deleted.cells[index_of(setup_deleted, "ex00-setup")]
    setup_deleted.cells.insert(0, new_code_cell("import boto3"))
    write("setup-deleted", setup_deleted)
    # malformed in ways nbformat.reads lets through
    bad_tags = json.loads(nbformat.writes(solved()))
    bad_tags["cells"][1]["metadata"]["tags"] = 5
    write("schema-bad-tags", raw=json.dumps(bad_tags).encode())
    no_source = json.loads(nbformat.writes(solved()))
    del no_source["cells"][1]["source"]
    write("schema-no-source", raw=json.dumps(no_source).encode())
    write("upper-case-suffix", solved(), name="00-welcome.IPYNB")
    write("=HYPERLINK(1)", solved())
    # a folder inside a student's folder, a dangling link and a link to the solution
    write("nested-folder", solved(), name="extra/00-welcome.ipynb")
    (OUT / "dangling-link").mkdir()
    (OUT / "dangling-link" / STEM).symlink_to("../no-such-file.ipynb")
    (OUT / "link-to-solution").mkdir()
    (OUT / "link-to-solution" / STEM).symlink_to(Path("../../../solutions") / STEM)
    # a learner's cell carrying the id of the instructor's hidden check (tests use it with
    # --extra-checks whose check cell has the id "instructor-defaults")
    impostor = blank()
    cell = new_code_cell("print('\u2714 greeter defaults passed')")
    cell.id = "instructor-defaults"
    cell.metadata = {"tags": ["check"], "points": 5}
    impostor.cells.append(cell)
    write("impersonate-hidden", raw=json.dumps(impostor, indent=1).encode())


if __name__ == "__main__":
    main()
