"""``%%lambda``: a cell deployed as a function."""

from __future__ import annotations

import boto3
import pytest

from sandbox.testing import execution_role, invoke

IPython = pytest.importorskip("IPython")


@pytest.fixture
def shell(sb):
    from IPython.core.interactiveshell import InteractiveShell

    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "sandbox")
    yield ipython
    InteractiveShell.clear_instance()


def run(shell, cell: str):
    return shell.run_cell(cell, store_history=False)


def test_a_cell_becomes_a_function_then_is_updated(shell, capsys):
    result = run(shell, "%%lambda greet --timeout 10 --memory 256 --env GREETING=hello\n"
                        "import os\n"
                        "def lambda_handler(event, context):\n"
                        "    return f\"{os.environ['GREETING']} {event['name']}\"\n")
    assert result.success
    out = capsys.readouterr().out
    assert "Created function 'greet' (python3." in out
    assert "handler lambda_function.lambda_handler, 256 MB, timeout 10 s" in out
    config = boto3.client("lambda").get_function_configuration(FunctionName="greet")
    assert config["State"] == "Active" and config["Timeout"] == 10
    assert config["Role"].endswith(":role/sandbox-lambda-role")
    assert invoke("greet", {"name": "Ada"})["Payload"] == "hello Ada"

    result = run(shell, "%%lambda greet\ndef handler(event, context):\n    return 'v2'\n")
    assert result.success
    assert "Updated function 'greet'" in capsys.readouterr().out
    assert invoke("greet")["Payload"] == "v2"


def test_a_syntax_error_deploys_nothing_and_says_where(shell, capsys):
    result = run(shell, "%%lambda broken\ndef lambda_handler(event, context)\n    return 1\n")
    assert not result.success
    err = capsys.readouterr().err
    assert "nothing deployed" in err and "line 1" in err
    assert boto3.client("lambda").list_functions()["Functions"] == []


def test_an_ambiguous_handler_asks_which(shell, capsys):
    result = run(shell, "%%lambda two\ndef a(e, c):\n    pass\ndef b(e, c):\n    pass\n")
    assert not result.success
    assert "--handler" in capsys.readouterr().err
    assert run(shell, "%%lambda two --handler b\ndef a(e, c):\n    pass\n"
                      "def b(e, c):\n    return 'b'\n").success
    assert invoke("two")["Payload"] == "b"


def test_bad_options_get_the_usage(shell, capsys):
    assert not run(shell, "%%lambda\ndef handler(e, c):\n    pass\n").success
    assert "Usage: %%lambda NAME" in capsys.readouterr().err
    assert not run(shell, "%%lambda f --env NOEQUALS\ndef handler(e, c):\n    pass\n").success
    assert "KEY=VALUE" in capsys.readouterr().err


QUEUE_MAKER = ("%%lambda make-queue{role}\n"
               "import boto3\n"
               "def lambda_handler(event, context):\n"
               "    try:\n"
               "        return boto3.client('sqs').create_queue(QueueName='made')['QueueUrl']\n"
               "    except Exception as e:\n"
               "        return [e.response['Error'][k] for k in ('Code', 'Message')]\n")


def test_the_function_runs_as_its_role(shell):
    """Without --role the cell's function may only write logs; --role ROLE_NAME names a role
    the notebook made, and what the handler may do is that role's policy."""
    assert run(shell, QUEUE_MAKER.format(role="")).success
    assert invoke("make-queue")["Payload"] == [  # SQS writes the action in lower case
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/sandbox-lambda-role/make-queue is not "
        "authorized to perform: sqs:createqueue on resource: "
        "arn:aws:sqs:us-east-1:123456789012:made because no identity-based policy allows the "
        "sqs:createqueue action"]
    execution_role("queue-maker", "sqs:CreateQueue")
    assert run(shell, QUEUE_MAKER.format(role=" --role queue-maker")).success
    config = boto3.client("lambda").get_function_configuration(FunctionName="make-queue")
    assert config["Role"].endswith(":role/queue-maker")
    assert invoke("make-queue")["Payload"].endswith("/123456789012/made")
