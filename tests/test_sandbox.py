"""The sandbox's contract: start, reset, stop, and never a request to real AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import boto3
import botocore.session
import pytest

import sandbox
from sandbox.safety import RealAWSRefused


def test_start_is_idempotent_and_describes_itself(sb):
    assert sandbox.start() is sb
    assert sb.endpoint_url.startswith("http://127.0.0.1:")
    assert sb.account_id == "123456789012"
    assert sb.region == "us-east-1"


def test_plain_boto3_reaches_the_sandbox(sb):
    boto3.client("sqs").create_queue(QueueName="orders")
    urls = boto3.client("sqs").list_queues()["QueueUrls"]
    assert urls == [f"{sb.endpoint_url}/123456789012/orders"]
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_server_listens_on_loopback_only(sb):
    import psutil

    listening = [c.laddr.ip for c in psutil.Process(sb.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and set(listening) == {"127.0.0.1"}


def test_reset_deletes_resources_and_environments(sb):
    from sandbox.testing import deploy, invoke

    boto3.client("s3").create_bucket(Bucket="photos")
    deploy("f", "def handler(e, c):\n    return 1\n")
    invoke("f")
    assert sb.admin.environments()
    sb.reset()
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert sb.admin.environments() == []


def test_a_client_aimed_at_real_aws_is_refused(sb):
    client = boto3.client("s3", endpoint_url="https://s3.amazonaws.com")
    with pytest.raises(RealAWSRefused, match="never talks to real AWS"):
        client.list_buckets()


def test_a_client_made_from_a_fresh_botocore_session_is_refused_too(sb):
    session = botocore.session.get_session()
    client = session.create_client("sts", region_name="eu-west-1",
                                   endpoint_url="https://sts.eu-west-1.amazonaws.com")
    with pytest.raises(RealAWSRefused):
        client.get_caller_identity()


def _machine_environment(**extra: str) -> dict[str, str]:
    """This machine's environment without the test session's own sandbox settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra)
    return env


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=120)


def test_machine_aws_settings_cannot_send_requests_elsewhere(tmp_path):
    """Profiles, keys, endpoint variables and config files of the machine are all set aside."""
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\nendpoint_url = https://example.com\n"
                      "[profile prod]\nregion = ap-south-1\n")
    env = _machine_environment(AWS_PROFILE="prod", AWS_CONFIG_FILE=str(config),
               AWS_ACCESS_KEY_ID="AKIAREALKEY", AWS_SECRET_ACCESS_KEY="real",
               AWS_ENDPOINT_URL_S3="https://s3.example.com",
               AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="true")
    result = _run("""
        import json, os, boto3, sandbox
        sb = sandbox.start()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="machine-test")
        print(json.dumps({"url": s3.meta.endpoint_url, "region": s3.meta.region_name,
                          "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]],
                          "endpoint": sb.endpoint_url}))
        sb.stop()
        print(json.dumps({k: os.environ.get(k) for k in
              ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]}))
    """, env)
    assert result.returncode == 0, result.stderr
    during, after = (json.loads(line) for line in result.stdout.splitlines()[-2:])
    assert during["url"] == during["endpoint"]
    assert during["region"] == "us-east-1"
    assert during["buckets"] == ["machine-test"]
    # stop() gives the process its own settings back
    assert after == {"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": "AKIAREALKEY",
                     "AWS_ENDPOINT_URL_S3": "https://s3.example.com", "AWS_ENDPOINT_URL": None}


def test_refuses_to_start_with_a_botocore_too_old_to_honour_endpoints(monkeypatch):
    import botocore

    from sandbox import safety
    from sandbox.errors import UnsafeEnvironmentError

    monkeypatch.setattr(botocore, "__version__", "1.29.0")
    with pytest.raises(UnsafeEnvironmentError, match="ignores AWS_ENDPOINT_URL"):
        safety.check_botocore()


def test_context_manager_stops_and_a_second_process_gets_its_own_sandbox():
    code = """
        import boto3, sandbox
        with sandbox.start() as sb:
            boto3.client("sqs").create_queue(QueueName="mine")
            print(sb.endpoint_url, len(boto3.client("sqs").list_queues().get("QueueUrls", [])))
        print(sandbox.current())
    """
    first = _run(code, _machine_environment())
    second = _run(code, _machine_environment())
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    (url1, n1), (url2, n2) = (r.stdout.split("\n")[0].split() for r in (first, second))
    assert n1 == n2 == "1"
    assert first.stdout.split("\n")[1] == "None"


def test_two_live_sandboxes_in_two_processes_do_not_share_state(sb):
    boto3.client("sqs").create_queue(QueueName="in-the-test-process")
    result = _run("""
        import boto3, sandbox
        sb = sandbox.start()
        print(boto3.client("sqs").list_queues().get("QueueUrls", []), sb.endpoint_url)
        sb.stop()
    """, _machine_environment())
    queues, url = result.stdout.rsplit(" ", 1)
    assert queues == "[]"
    assert url.strip() != sb.endpoint_url


def test_import_sandbox_stays_light():
    result = _run("""
        import sys, sandbox
        heavy = [m for m in ("moto", "boto3", "IPython", "ipywidgets", "werkzeug")
                 if m in sys.modules]
        print(heavy)
    """, _machine_environment())
    assert result.stdout.strip() == "[]", result.stderr


def test_clock_runs_waits_faster(sb):
    import time

    assert sb.clock.speed == 10000
    started = time.perf_counter()
    assert sb.clock.sleep(60)  # one simulated minute
    assert time.perf_counter() - started < 30  # not the 60 real seconds
    with pytest.raises(ValueError, match="positive"):
        sb.clock.speed = 0


@pytest.mark.parametrize("url", ["http://127.0.0.1.nip.io:4566/", "https://localhost.amazonaws.com/",
                                 "http://127.attacker.example/"])
def test_a_host_that_only_starts_like_loopback_is_refused(sb, url):
    client = boto3.client("s3", endpoint_url=url)
    with pytest.raises(RealAWSRefused, match="never talks to real AWS"):
        client.list_buckets()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P is Python 3.11's")
def test_a_learner_s_file_named_like_a_module_does_not_replace_it_in_the_server(tmp_path):
    """A notebook's folder may hold a file named like a module the server imports (a learner's
    werkzeug.py, say): the server is started without the caller's folder on its import path."""
    (tmp_path / "werkzeug.py").write_text("raise SystemExit('the learner's werkzeug.py ran')\n")
    script = ("import sandbox, boto3\n"
              "sb = sandbox.start()\n"
              "boto3.client('sqs').create_queue(QueueName='q')\n"
              "print(len(boto3.client('sqs').list_queues()['QueueUrls']))\n"
              "sb.stop()\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith(("SANDBOX_ENDPOINT", "SANDBOX_TOKEN"))})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"
