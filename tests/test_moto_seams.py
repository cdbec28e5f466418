"""The places in moto the sandbox hooks. If a moto upgrade moves one, this fails first, loudly,
naming the seam (docs/moto-gaps.md says what each one fills).

Every patch is a row of ``sandbox/seams.py``: the rows are checked here against the pinned moto,
untouched (in a fresh process), so no patch exists without its seam test; ``apply()`` then
``restore()``, and a sandbox's start and stop, must leave moto exactly as it was; and no module
of the sandbox patches moto outside the registry.
"""

from __future__ import annotations

import ast
import inspect
import json
import pathlib
import subprocess
import sys
import textwrap
from importlib.metadata import version

import pytest

from sandbox import seams

PINNED_MOTO = "5.2.5"
PACKAGE = pathlib.Path(seams.__file__).parent


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_moto_is_the_pinned_version():
    assert version("moto") == PINNED_MOTO, (
        "moto moved: the sandbox patches its internals at the rows of sandbox/seams.py. "
        "Check each one, then update PINNED_MOTO and pyproject.toml together.")


# ---------------------------------------------------------------------- each row, in moto
CHECK_ROWS = """
import importlib, inspect, json, pathlib
import moto
from sandbox import seams

def parameters(value):
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return list(inspect.signature(inspect.unwrap(value)).parameters)

moto_root = pathlib.Path(moto.__file__).parent.parent
problems = {}
for seam in seams.SEAMS:
    found = problems.setdefault(seam.name, [])
    try:
        if seam.trigger:
            importlib.import_module(seam.trigger)
        module = importlib.import_module(seam.module)
        if not (moto_root / seam.upstream).is_file():
            found.append(f"upstream {seam.upstream} is no file of moto")
        if seam.each is not None:
            if not seams.resolve(seam.each)(module):
                found.append(f"{seam.each} finds no target")
            continue
        owner, name = seams.owner_of(seam, module)
        here = seams.inherited(owner, name)
        if seam.new:
            if here is not seams.ABSENT:
                found.append(f"moto now has {seam.attribute}: does the row still need to add it?")
        elif here is seams.ABSENT:
            found.append(f"{seam.module}.{seam.attribute} is gone")
            continue
        if seam.key is not None:
            if seam.key not in getattr(owner, name):
                found.append(f"{seam.attribute} has no entry {seam.key!r}")
            continue
        if seam.static and not isinstance(here, staticmethod):
            found.append(f"{seam.attribute} is no longer a staticmethod")
        if seam.parameters is not None and list(seam.parameters) != parameters(here):
            found.append(f"{seam.attribute} now takes {parameters(here)}, "
                         f"the row expects {list(seam.parameters)}")
        replacement = seams.resolve(seam.replacement)
        if seam.wraps:
            replacement = replacement(getattr(owner, name))
        if callable(getattr(owner, name, None)) and seam.parameters is not None:
            # the replacement accepts what moto passes to the original
            inspect.signature(replacement).bind(*seam.parameters)
        if seam.also_under and not any(
                vars(m).get(name) is getattr(owner, name) for m in seams.modules_under(
                    seam.also_under) if m is not owner):
            found.append(f"no module under {seam.also_under} imports {name}: drop also_under")
    except Exception as error:
        found.append(repr(error))
print(json.dumps(problems))
"""


@pytest.fixture(scope="module")
def row_problems() -> dict[str, list[str]]:
    return json.loads(_run(CHECK_ROWS))


@pytest.mark.parametrize("seam", seams.SEAMS, ids=[seam.name for seam in seams.SEAMS])
def test_each_row_is_where_the_sandbox_expects_it(row_problems, seam):
    assert row_problems[seam.name] == [], f"{seam.name} (why: {seam.why}): " + "; ".join(
        row_problems[seam.name])


def test_each_row_says_why():
    for seam in seams.SEAMS:
        assert seam.module.startswith("moto."), seam.name
        assert seam.upstream.startswith("moto/") and seam.upstream.endswith(".py"), seam.name
        assert seam.why.strip(), seam.name
        assert (seam.replacement is None) == (seam.each is not None or seam.remove), seam.name
    assert len({seam.name for seam in seams.SEAMS}) == len(seams.SEAMS), "a row is repeated"


# ---------------------------------------------------------------------- apply, restore
# Every patched place, as it is: identities, raw __dict__ values, inherited-ness, dict entries.
SNAPSHOT = """
import importlib, sys, types
from sandbox import seams

TYPES = (int, float, str, bool, type(None))

def load():
    for seam in seams.SEAMS:
        importlib.import_module(seam.trigger or seam.module)
        importlib.import_module(seam.module)

def places():
    found = []
    for seam in seams.SEAMS:
        module = sys.modules[seam.module]
        if seam.each is not None:
            found += [(owner, name) for owner, name, _ in seams.resolve(seam.each)(module)]
            continue
        owner, name = seams.owner_of(seam, module)
        if seam.key is not None:
            found.append((getattr(owner, name), seam.key))
            continue
        found.append((owner, name))
        if seam.also_under:
            found += [(m, name) for m in seams.modules_under(seam.also_under)
                      if name in vars(m)]
    return found

def snapshot(where):
    return [(owner, name, owner.get(name, seams.ABSENT) if isinstance(owner, dict)
             else seams.raw(owner, name)) for owner, name in where]

def changed(before, after):
    return [f"{getattr(o, '__name__', 'a dict')}.{n}: {v!r} became {w!r}"
            for (o, n, v), (_, _, w) in zip(before, after) if v is not w]

def fingerprint(value):
    if value is seams.ABSENT:
        return "absent"
    if isinstance(value, (staticmethod, classmethod)):
        return type(value).__name__ + " " + fingerprint(value.__func__)
    code = getattr(value, "__code__", None)
    if isinstance(code, types.CodeType):  # not __module__: functools.wraps copies it
        return f"{code.co_filename.split('site-packages')[-1]}:{code.co_firstlineno}"
    return repr(value) if isinstance(value, TYPES) else type(value).__name__

def sandbox_code_in_moto():
    # anything in moto's modules and classes that runs the sandbox's code
    root = seams.__file__.rsplit("/", 1)[0]
    found = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto.") or module is None:
            continue
        holders = [module] + [v for v in vars(module).values()
                              if isinstance(v, type) and v.__module__ == name]
        for holder in holders:
            for attribute, value in list(vars(holder).items()):
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                code = getattr(value, "__code__", None)
                if isinstance(code, types.CodeType) and code.co_filename.startswith(root):
                    found.append(f"{name}.{getattr(holder, '__name__', '')}.{attribute}")
    return found
"""


def test_apply_then_restore_puts_back_every_original():
    out = _run(SNAPSHOT + """
load()
where = places()
before = snapshot(where)
seams.apply()
patched = snapshot(where)
unpatched = [f"{o.__name__}.{n}" for (o, n, v), (_, _, w) in zip(before, patched)
             if v is w and not isinstance(o, dict)]
assert not unpatched, unpatched
assert all(o.get(n, seams.ABSENT) is seams.ABSENT for o, n, _ in patched if isinstance(o, dict))
assert sandbox_code_in_moto()
seams.restore()
assert not changed(before, snapshot(where)), changed(before, snapshot(where))
assert not sandbox_code_in_moto(), sandbox_code_in_moto()
# inherited attributes are inherited again, not copied down
from moto.awslambda.responses import LambdaResponse
assert "_enrich_response" not in vars(LambdaResponse)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend as Backend
assert isinstance(vars(Backend)["_validate_definition"], staticmethod)
from moto.iam.responses import IamResponse
assert not hasattr(IamResponse, "simulate_principal_policy")
print("restored", len(where))
""")
    assert out.startswith("restored"), out


def test_a_sandbox_start_and_stop_leave_moto_as_it_was():
    """Once with moto's modules loaded before start (applied at once), once loaded while the
    sandbox runs (applied when moto imports them), which a fresh process compares."""
    untouched = json.loads(_run(SNAPSHOT + """
import json
load()
print(json.dumps([fingerprint(v) for _, _, v in snapshot(places())]))
"""))
    out = _run(SNAPSHOT + """
import json
from sandbox.testing import in_process_service

sb = in_process_service()  # the server's side, in this process, where moto can be seen
sb.__enter__()
assert "moto.stepfunctions.parser.models" not in sys.modules  # lazy rows wait for moto
assert "moto.apigateway.models" not in sys.modules
load()
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
AmazonStateLanguageParser.parse(json.dumps({"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}))
assert sandbox_code_in_moto()
sb.__exit__(None, None, None)
assert not sandbox_code_in_moto(), sandbox_code_in_moto()
where = places()
print(json.dumps([fingerprint(v) for _, _, v in snapshot(where)]))
before = snapshot(where)
sb = in_process_service()
sb.__enter__()
sb.__exit__(None, None, None)
assert not changed(before, snapshot(where)), changed(before, snapshot(where))
""")
    assert json.loads(out) == untouched


def test_the_mechanism_on_a_package_of_its_own(tmp_path):
    """Each kind of row, on a package that only this test imports: a wrapped method, a module
    function imported by name before and after apply(), a dict entry, a new attribute, a lazy
    module."""
    package = tmp_path / "fakemoto"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "util.py").write_text(
        "def helper(x):\n    return x\nTABLE = {'$hash': 'stub', 'keep': 1}\n"
        "class Base:\n    def run(self, x):\n        return 'base'\n"
        "class Model(Base):\n    pass\n")
    (package / "early.py").write_text("from fakemoto.util import helper\n")
    (package / "late.py").write_text("from fakemoto.util import helper\n")
    (package / "heavy.py").write_text("class Engine:\n    def go(self):\n        return 1\n")
    (tmp_path / "sandboxside.py").write_text(
        "def helper(x):\n    return 'sandbox'\n"
        "def wrap_run(original):\n"
        "    def run(self, x):\n        return 'wrapped ' + original(self, x)\n    return run\n"
        "def go(self):\n    return 2\n"
        "def added(self):\n    return 'new'\n")
    out = _run(f"""
import sys
sys.path.insert(0, {str(tmp_path)!r})
from sandbox import seams
from sandbox.seams import Seam
import fakemoto.util as util, fakemoto.early as early

S = "sandboxside"
rows = [
    Seam("fakemoto.util", "helper", S + ":helper", "-", "x", also_under="fakemoto"),
    Seam("fakemoto.util", "Model.run", S + ":wrap_run", "-", "x", wraps=True),
    Seam("fakemoto.util", "TABLE", None, "-", "x", key="$hash", remove=True),
    Seam("fakemoto.util", "Model.added", S + ":added", "-", "x", new=True),
    Seam("fakemoto.heavy", "Engine.go", S + ":go", "-", "x", lazy=True),
]
helper, base_run = util.helper, util.Base.run
seams.apply(rows)
assert "fakemoto.heavy" not in sys.modules
import fakemoto.late as late, fakemoto.heavy as heavy
assert util.helper(1) == early.helper(1) == late.helper(1) == "sandbox"
assert util.Model().run(1) == "wrapped base" and "run" in vars(util.Model)
assert util.TABLE == {{"keep": 1}} and util.Model().added() == "new"
assert heavy.Engine().go() == 2
seams.restore()
assert util.helper is early.helper is late.helper is helper
assert "run" not in vars(util.Model) and util.Model.run is base_run
assert util.TABLE == {{"$hash": "stub", "keep": 1}} and not hasattr(util.Model, "added")
assert heavy.Engine().go() == 1
seams.apply(rows)  # and again: a second sandbox in the same process
assert late.helper(1) == "sandbox" and heavy.Engine().go() == 2
seams.restore()
assert late.helper is helper and heavy.Engine().go() == 1
print("ok")
""")
    assert out.strip() == "ok"


# ---------------------------------------------------------------------- no patch elsewhere
ALLOWED = {
    # moto's documented configuration (moto/core/config.py, "Configuration" in moto's docs),
    # set for Step Functions' real execution: a setting, not a patch
    ("server/service.py", "default_user_config"),
    # moto's list of the engine's threads (moto/stepfunctions/parser/utils.py), which moto's
    # own modules append theirs to: the sandbox's join it the same way, and reset prunes it
    ("stepfunctions/timing.py", "TMP_THREADS"),
    ("stepfunctions/executions.py", "TMP_THREADS"),
}
MUTATING_CALLS = {"pop", "update", "setdefault", "clear", "append", "extend", "remove",
                  "insert", "popitem", "__setitem__", "__delitem__"}


def moto_patches(source: str) -> list[tuple[int, str]]:
    """Where ``source`` assigns to, deletes or mutates something imported from moto."""
    tree = ast.parse(source)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names
                      if a.name.split(".")[0] == "moto"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "moto":
            bound |= {a.asname or a.name for a in node.names}
    for _ in range(3):  # names given a moto object: owner = Backend, stubs = module.table
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _root(node.value, through=ast.Attribute) in bound:
                bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = [t for t in node.targets if not isinstance(t, ast.Name)]
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target] if not isinstance(node.target, ast.Name) else []
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
                targets = [node.args[0]]
            elif isinstance(func, ast.Attribute) and func.attr in MUTATING_CALLS:
                targets = [func.value]
        found += [(node.lineno, ast.unparse(target)) for target in targets
                  if _root(target, through=(ast.Attribute, ast.Subscript)) in bound]
    return found


def _root(node: ast.expr, through: type | tuple[type, ...]) -> str | None:
    """The name an expression's chain of ``through`` nodes starts from."""
    while isinstance(node, through):
        node = node.value  # type: ignore[attr-defined]
    return node.id if isinstance(node, ast.Name) else None


def test_the_patch_finder_finds_patches():
    source = textwrap.dedent("""
        from moto.awslambda.models import LambdaFunction
        from moto.stepfunctions.parser.asl.component.intrinsic import jsonata as functions
        import moto.sts.models

        def install():
            LambdaFunction._invoke_lambda = run
            setattr(LambdaFunction, "invoke", run)
            moto.sts.models.STSBackend.get_caller_identity = run
            owner = LambdaFunction
            delattr(owner, "x")
            stubs = functions._DECLARATION_BY_VARIABLE_REFERENCE
            stubs.pop("$hash")
            functions._DECLARATION_BY_VARIABLE_REFERENCE["$uuid"] = None

        def fine(fn, api):
            fn.dead_letter_config = None  # an object's own data
            api.binaryMediaTypes.append("image/png")
            LambdaFunction(spec={}).update_configuration({})
    """)
    assert sorted(line for line, _ in moto_patches(source)) == [7, 8, 9, 11, 13, 14]


@pytest.mark.parametrize("path", sorted(p.relative_to(PACKAGE).as_posix()
                                        for p in PACKAGE.rglob("*.py")))
def test_no_module_patches_moto_outside_the_registry(path):
    if path == "seams.py":
        return
    found = [(line, text) for line, text in moto_patches((PACKAGE / path).read_text())
             if not any(path == allowed and name in text for allowed, name in ALLOWED)]
    assert not found, (f"sandbox/{path} changes moto at {found}: declare the patch as a row "
                       "of sandbox/seams.py instead")


# ---------------------------------------------------------------------- what the sandbox uses
USED = [
    # moto methods and attributes the sandbox calls or subclasses without patching them
    # (module, class, attribute, parameters it must take)
    ("moto.sts.models", "STSBackend", "assume_role",
     ["self", "region_name", "role_session_name", "role_arn", "policy", "duration",
      "external_id"]),
    ("moto.logs.models", "LogsBackend", "ensure_log_group", ["self", "log_group_name"]),
    ("moto.logs.models", "LogGroup", "create_log_stream", ["self", "log_stream_name"]),
    ("moto.logs.models", "LogStream", "put_log_events", ["self", "log_events"]),
    ("moto.moto_server.werkzeug_app", "MotoRequestHandler", "log_request", None),
    ("moto.moto_server.werkzeug_app", "MotoRequestHandler", "make_environ", ["self"]),
    ("moto.awslambda.models", "LambdaStorage", "_get_function_aliases", ["self", "function_name"]),
    ("moto.awslambda.models", "LambdaBackend", "get_function",
     ["self", "function_name_or_arn", "qualifier"]),
    ("moto.awslambda.models", "LambdaBackend", "layers_versions_by_arn",
     ["self", "layer_version_arn"]),
    ("moto.moto_api._internal.models", "MotoAPIBackend", "reset", ["self"]),
    ("botocore.httpsession", "URLLib3Session", "send", ["self", "request"]),
    ("moto.apigateway.models", "Resource", "get_path", ["self"]),
    ("moto.apigateway.models", "Method", "to_json", ["self"]),
    ("moto.apigateway.models", "Authorizer", "to_json", ["self"]),
    ("moto.stepfunctions.responses", "StepFunctionResponse", "stepfunction_backend", None),
    ("moto.stepfunctions.parser.asl.eval.environment", "Environment", "set_stop",
     ["self", "stop_date", "cause", "error"]),
    ("moto.stepfunctions.parser.asl.eval.event.event_manager", "EventManager",
     "_get_current_timestamp", []),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "CallbackEndpoint",
     "interrupt_all", ["self"]),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "HeartbeatEndpoint",
     "clear_and_wait", ["self"]),
    ("moto.stepfunctions.parser.asl.eval.callback.callback", "CallbackEndpoint", "wait",
     ["self", "timeout"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service", "StateTaskService", "_to_boto_request",
     ["self", "parameters", "structure_shape"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service", "StateTaskService", "_from_boto_response",
     ["self", "response", "structure_shape"]),
    ("moto.stepfunctions.parser.backend.execution", "Execution", "_get_start_execution_worker",
     ["self"]),
    ("moto.stepfunctions.parser.asl.eval.event.logging", "CloudWatchLoggingConfiguration",
     "extract_log_arn_parts_from", ["logging_configuration"]),
    ("moto.stepfunctions.parser.asl.eval.event.logging", "CloudWatchLoggingSession",
     "publish_history_log", ["self", "history_log"]),
    ("moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
     ".state_task_service_lambda", "StateTaskServiceLambda", "_error_cause_from_client_error",
     ["client_error"]),
    ("moto.iam.models", "IAMBackend", "get_policy_version", ["self", "policy_arn", "version_id"]),
    ("moto.iam.models", "AWSManagedPolicy", "from_data",
     ["cls", "name", "account_id", "region_name", "data"]),
    ("moto.iam.models", "IAMBackend", "get_user_from_access_key_id", ["self", "access_key_id"]),
    ("moto.sts.models", "STSBackend", "get_assumed_role_from_access_key",
     ["self", "access_key_id"]),
    ("moto.iam.responses", "IamResponse", "get_policy", ["self"]),
]


@pytest.mark.parametrize("module, cls, attribute, parameters", USED,
                         ids=[f"{c}.{a}" for _, c, a, _ in USED])
def test_what_the_sandbox_uses_is_where_it_expects_it(module, cls, attribute, parameters):
    owner = getattr(__import__(module, fromlist=[cls]), cls)
    value = seams.inherited(owner, attribute)
    assert value is not seams.ABSENT, f"{module}.{cls}.{attribute} is gone"
    if parameters is not None:
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        found = list(inspect.signature(inspect.unwrap(value)).parameters)
        assert found == parameters, f"{module}.{cls}.{attribute} now takes {found}"


def test_moto_still_lacks_what_the_sandbox_adds():
    """If moto starts doing one of these itself, the sandbox's patch can go."""
    from moto.awslambda import models, responses

    # read the files, not the (possibly patched) classes
    models_source, responses_source = inspect.getsource(models), inspect.getsource(responses)
    invoke_lambda = models_source.split("def _invoke_lambda(")[1].split("\n    def ")[0]
    assert "docker" in invoke_lambda  # moto still runs code only through Docker
    assert "DeadLetterConfig" not in models_source
    assert 'self._get_param("qualifier")' in responses_source
    assert "fn.event_invoke_config.append(event_config)" in models_source
