"""Each Python runtime runs on its own Python version where the machine has one, and Lambda's
runtime table decides what may be created
(docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)."""

import base64
import json
from datetime import date

import boto3
import pytest

import sandbox
from sandbox.awslambda.configuration import runtime_refused
from sandbox.runtime import interpreters
from sandbox.runtime.reports import PYTHON_RUNTIMES
from sandbox.testing import deploy

VERSION = "import sys\ndef handler(event, context):\n    return list(sys.version_info[:2])\n"
# PEP 701 (Python 3.12): the same quotes inside an f-string's replacement field
PEP_701 = 'def handler(event, context):\n    name = "x"\n    return f"{f"{name}"}"\n'


def _logs(name):
    logs = boto3.client("logs")
    group = f"/aws/lambda/{name}"
    events = logs.filter_log_events(logGroupName=group)["events"]
    return "".join(event["message"] for event in events)


@pytest.fixture
def fallback(monkeypatch):
    """A sandbox of its own whose functions all run on its own interpreter, as on a machine with
    no other Python (the session's sandbox is stopped first: one sandbox per process)."""
    running = sandbox.current()
    if running is not None:
        running.stop()
    monkeypatch.setenv(interpreters.ONLY_OWN_VARIABLE, "0")
    with sandbox.start() as sb:
        yield sb


def test_the_runtime_table_has_every_python_runtime_lambda_offers():
    assert PYTHON_RUNTIMES == ("python3.9", "python3.10", "python3.11", "python3.12",
                               "python3.13", "python3.14")


@pytest.mark.parametrize("runtime", ["python3.9", "python3.12", "python3.13"])
def test_a_function_runs_on_its_runtimes_python_where_the_machine_has_it(sb, runtime):
    found = interpreters.for_runtime(runtime)
    if not found.exact:
        pytest.skip(found.passed_over
                    or f"no Python {interpreters.wanted_version(runtime)} on this machine")
    name = "v" + runtime.replace(".", "")
    deploy(name, VERSION, runtime=runtime)
    answer = boto3.client("lambda").invoke(FunctionName=name)
    assert json.loads(answer["Payload"].read()) == [int(n) for n in runtime[6:].split(".")]
    assert "SANDBOX_NOTE" not in _logs(name)


@pytest.mark.parametrize("runtime", PYTHON_RUNTIMES)
def test_a_function_that_imports_boto3_runs_on_every_runtime(sb, runtime):
    """Every function may import boto3 (AWS's Python runtimes include it). Where the machine's
    Python of the runtime's version cannot import the sandbox's boto3 (3.9, for a boto3 that
    dropped it), the function runs on the sandbox's own Python instead, and its log says why."""
    name = "b" + runtime.replace(".", "")
    deploy(name, "import boto3\n" + VERSION, runtime=runtime)
    answer = boto3.client("lambda").invoke(FunctionName=name)
    assert "FunctionError" not in answer, answer["Payload"].read()
    found = interpreters.for_runtime(runtime)
    assert json.loads(answer["Payload"].read()) == [int(n) for n in found.version.split(".")]
    if found.passed_over:
        assert not found.exact and found.passed_over in _logs(name)


def test_pep_701_runs_on_python312_as_on_aws(sb):
    if not interpreters.for_runtime("python3.12").exact:
        pytest.skip("no Python 3.12 on this machine")
    deploy("fstrings", PEP_701, runtime="python3.12")
    answer = boto3.client("lambda").invoke(FunctionName="fstrings")
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == "x"


def test_only_the_runtimes_packages_are_importable_on_another_python(sb):
    if not interpreters.for_runtime("python3.12").exact:
        pytest.skip("no Python 3.12 on this machine")
    deploy("imports", "import boto3\ndef handler(event, context):\n"
                      "    try:\n        import moto\n    except ImportError:\n"
                      "        return 'no moto'\n    return 'moto'\n", runtime="python3.12")
    answer = boto3.client("lambda").invoke(FunctionName="imports")
    assert json.loads(answer["Payload"].read()) == "no moto"


def test_without_the_runtimes_python_the_function_says_so_once_in_its_init(fallback):
    deploy("fallback", VERSION, runtime="python3.12")
    lam = boto3.client("lambda")
    lam.invoke(FunctionName="fallback")
    fallback.admin.retire_environments("fallback")
    lam.invoke(FunctionName="fallback")  # a second cold start: no second note
    logs = _logs("fallback")
    if interpreters.for_runtime("python3.12").own:
        assert "SANDBOX_NOTE" not in logs  # the sandbox itself runs on 3.12
    else:
        assert logs.count("SANDBOX_NOTE python3.12 runs on Python") == 1
        assert logs.count("INIT_START") == 2
        assert logs.index("SANDBOX_NOTE") > logs.index("INIT_START")


def test_a_runtime_past_its_block_date_is_refused_with_lambdas_message(sb):
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as refused:
        deploy("old", VERSION, runtime="python3.8")
    assert str(refused.value).endswith(
        "The runtime parameter of python3.8 is no longer supported for creating or updating AWS "
        "Lambda functions. We recommend you use the new runtime (python3.14) while creating or "
        "updating functions.")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        deploy("older", VERSION, runtime="python3.7")


def test_deprecation_blocks_creation_then_updates_on_lambdas_dates():
    # python3.9: deprecated 2025-12-15; creation blocked from 2027-02-01, updates from 2027-03-03
    assert runtime_refused("python3.9", creating=True, today=date(2027, 1, 31)) == ""
    assert runtime_refused("python3.9", creating=True, today=date(2027, 2, 1)) != ""
    assert runtime_refused("python3.9", creating=False, today=date(2027, 2, 1)) == ""
    assert runtime_refused("python3.9", creating=False, today=date(2027, 3, 3)) != ""
    assert runtime_refused("python3.12", creating=True, today=date(2027, 3, 3)) == ""


def test_updating_a_function_onto_a_blocked_runtime_is_refused(sb):
    deploy("moving", VERSION, runtime="python3.12")
    lam = boto3.client("lambda")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_configuration(FunctionName="moving", Runtime="python3.8")
    assert lam.get_function_configuration(FunctionName="moving")["Runtime"] == "python3.12"


def test_course_doctor_lists_where_each_runtime_runs():
    from sandbox.cli import runtimes_report

    report = runtimes_report()
    for runtime in PYTHON_RUNTIMES:
        assert f" {runtime} " in report
    own = interpreters.for_runtime("python3.14")
    assert ("no Python 3.14 found" in report) == (not own.exact)


def test_log_tail_of_a_fallback_function_is_unchanged(fallback):
    """The note is an INIT line: Invoke's 4 KB tail (START to REPORT) never carries it."""
    deploy("tail", VERSION, runtime="python3.12")
    answer = boto3.client("lambda").invoke(FunctionName="tail", LogType="Tail")
    assert "SANDBOX_NOTE" not in base64.b64decode(answer["LogResult"]).decode()
