"""Amazon ECS on Fargate: task definitions checked as AWS checks them, tasks that move through
the documented lifecycle on the sandbox clock, Python containers that run, awslogs, services.

AWS documents cited:
- "Troubleshoot Amazon ECS task definition invalid CPU or memory errors" (ECS Developer Guide):
  the Fargate cpu/memory table.
- "Amazon ECS task lifecycle" (ECS Developer Guide): PROVISIONING, PENDING, ACTIVATING,
  RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED.
- "Task" and "Container" data types, StopTask, ListTasks (ECS API Reference): stopCode,
  stoppedReason, exitCode, the timestamps; ListTasks' default desiredStatus RUNNING.
- "Using the awslogs log driver" (ECS Developer Guide): stream prefix/container/task-id.
- "Amazon ECS task IAM role" (ECS Developer Guide): the role trusts ecs-tasks.amazonaws.com.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import botocore.exceptions
import pytest

from sandbox.ecs.taskdefs import FARGATE_SIZES, fargate_size_error
from sandbox.ecs.tasks import python_runtime

REGION = "us-east-1"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def _role(name: str, *actions: str) -> str:
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if actions:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
    return str(arn)


def _network() -> dict[str, Any]:
    subnet = boto3.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    return {"awsvpcConfiguration": {"subnets": [subnet]}}


def _register(family: str, command: list[str] | None, *, image: str = "python:3.12",
              log_group: str | None = None, task_role: str | None = None,
              execution_role: str | None = None, **container: Any) -> str:
    definition: dict[str, Any] = {"name": "app", "image": image, **container}
    if command is not None:
        definition["command"] = command
    if log_group:
        definition["logConfiguration"] = {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": REGION,
            "awslogs-stream-prefix": "ecs"}}
    extra: dict[str, Any] = {}
    if task_role:
        extra["taskRoleArn"] = task_role
    if execution_role:
        extra["executionRoleArn"] = execution_role
    arn = boto3.client("ecs").register_task_definition(
        family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", containerDefinitions=[definition], **extra)["taskDefinition"]
    return str(arn["taskDefinitionArn"])


def _run(definition: str, cluster: str = "jobs", **kwargs: Any) -> str:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    task = ecs.run_task(cluster=cluster, taskDefinition=definition, launchType="FARGATE",
                        networkConfiguration=_network(), **kwargs)["tasks"][0]
    return str(task["taskArn"])


def _until(arn: str, status: str, cluster: str = "jobs", limit: float = 60.0,
           seen: list[str] | None = None) -> dict[str, Any]:
    ecs = boto3.client("ecs")
    deadline = time.monotonic() + limit
    while True:
        task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if seen is not None and (not seen or seen[-1] != task["lastStatus"]):
            seen.append(task["lastStatus"])
        if task["lastStatus"] == status or time.monotonic() > deadline:
            return dict(task)
        time.sleep(0.005)


# ---------------------------------------------------------------------- task definitions
def test_the_fargate_size_table_is_awss() -> None:
    """Each CPU value's memory range and step, as the troubleshooting page's table gives them
    (MiB)."""
    assert FARGATE_SIZES[256] == (512, 1024, 2048)
    assert FARGATE_SIZES[512] == (1024, 2048, 3072, 4096)
    assert FARGATE_SIZES[1024] == tuple(range(2048, 8193, 1024))
    assert FARGATE_SIZES[2048][0] == 4096 and FARGATE_SIZES[2048][-1] == 16384
    assert FARGATE_SIZES[4096][0] == 8192 and FARGATE_SIZES[4096][-1] == 30720
    assert 20480 in FARGATE_SIZES[8192] and 18432 not in FARGATE_SIZES[8192]  # 4 GB steps
    assert FARGATE_SIZES[16384] == tuple(range(32768, 122881, 8192))  # 8 GB steps
    assert fargate_size_error("1 vCPU", "2 GB") is None  # vCPU and GB are converted
    assert fargate_size_error("0.25 vcpu", "0.5GB") is None


@pytest.mark.parametrize(("cpu", "memory", "message"), [
    ("256", "4096", "No Fargate configuration exists for given values: 256 CPU, 4096 memory."),
    ("512", "512", "No Fargate configuration exists for given values: 512 CPU, 512 memory."),
    ("300", "1024", "Invalid 'cpu' setting for task."),
    (None, "1024", "Fargate requires that 'cpu' be defined at the task level."),
    ("256", None, "Fargate requires that 'memory' be defined at the task level."),
])
def test_a_size_fargate_does_not_offer_is_refused(sb: Any, cpu: str | None,
                                                  memory: str | None, message: str) -> None:
    size = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value}
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        boto3.client("ecs").register_task_definition(
            family="f", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
            containerDefinitions=[{"name": "app", "image": "python:3.12", "memory": 512}],
            **size)
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert message in caught.value.response["Error"]["Message"]


def test_fargate_needs_awsvpc_and_an_execution_role_for_awslogs(sb: Any) -> None:
    ecs = boto3.client("ecs")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ecs.register_task_definition(
            family="f", requiresCompatibilities=["FARGATE"], networkMode="bridge", cpu="256",
            memory="512", containerDefinitions=[{"name": "app", "image": "python:3.12"}])
    assert caught.value.response["Error"]["Message"] == \
        "Fargate only supports network mode \u2018awsvpc\u2019."
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _register("f", None, log_group="/ecs/f")
    assert caught.value.response["Error"]["Message"] == (
        "Fargate requires task definition to have execution role ARN to support log driver "
        "awslogs.")


def test_a_valid_definition_stores_units_and_mib(sb: Any) -> None:
    definition = boto3.client("ecs").register_task_definition(
        family="f", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="1 vCPU",
        memory="3 GB", containerDefinitions=[{"name": "app", "image": "python:3.12"}]
    )["taskDefinition"]
    assert (definition["cpu"], definition["memory"]) == ("1024", "3072")


def test_which_images_are_python_images() -> None:
    assert python_runtime("python:3.12") == "python3.12"
    assert python_runtime("python:3.11-slim") == "python3.11"
    assert python_runtime("public.ecr.aws/lambda/python:3.13") == "python3.13"
    assert python_runtime("public.ecr.aws/docker/library/python:3.12-alpine") == "python3.12"
    assert python_runtime("python") == ""  # no version: the sandbox's own interpreter
    assert python_runtime("nginx:latest") is None
    assert python_runtime("myregistry.example/python-tools:1") is None


# ---------------------------------------------------------------------- tasks
def test_a_python_task_runs_through_the_lifecycle_and_its_exit_code_is_kept(sb: Any) -> None:
    definition = _register("job", ["python", "-c", "import sys; print('working'); sys.exit(3)"])
    arn = _run(definition)
    seen: list[str] = []
    task = _until(arn, "STOPPED", seen=seen)
    assert task["lastStatus"] == "STOPPED" and task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["containers"][0]["exitCode"] == 3
    assert task["containers"][0]["lastStatus"] == "STOPPED"
    order = ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
             "DEPROVISIONING", "STOPPED"]
    assert [s for s in order if s in seen] == seen  # never out of the documented order
    stamps = [task[k] for k in ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt",
                                "stoppingAt", "stoppedAt")]
    assert stamps == sorted(stamps)


def test_a_script_on_this_machine_runs_with_its_arguments(sb: Any, tmp_path: Any) -> None:
    """Code may reach a container as a file the command names (the container sees this
    machine's files, read-only), run as python runs a script, or as a module (-m) of its
    workingDirectory."""
    (tmp_path / "job.py").write_text("import sys\nprint('args', sys.argv[1:])\nsys.exit(7)\n")
    (tmp_path / "report.py").write_text("print('module', __name__)\n")
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/ecs/scripts")
    role = _role("execution", "logs:CreateLogStream", "logs:PutLogEvents")
    script = _run(_register("script", ["python3", str(tmp_path / "job.py"), "a", "b"],
                            log_group="/ecs/scripts", execution_role=role))
    module = _run(_register("module", ["python", "-m", "report"], workingDirectory=str(tmp_path),
                            log_group="/ecs/scripts", execution_role=role))
    assert _until(script, "STOPPED")["containers"][0]["exitCode"] == 7
    assert _until(module, "STOPPED")["containers"][0]["exitCode"] == 0
    messages = [e["message"] for e in logs.filter_log_events(logGroupName="/ecs/scripts")["events"]]
    assert sorted(messages) == ["args ['a', 'b']", "module __main__"]


def test_run_task_answers_provisioning_and_a_stop_before_running_ends_it(sb: Any) -> None:
    """RunTask's answer is the task as created (lastStatus PROVISIONING, desired RUNNING); a
    task stopped before it runs never starts (no startedAt)."""
    sb.clock.speed = 1  # real time: the task stays PROVISIONING for 10 s
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="jobs")
    task = ecs.run_task(cluster="jobs", taskDefinition=_register("job", ["python", "-c", "1"]),
                        launchType="FARGATE", networkConfiguration=_network())["tasks"][0]
    assert (task["lastStatus"], task["desiredStatus"]) == ("PROVISIONING", "RUNNING")
    assert task["containers"][0]["lastStatus"] == "PENDING"
    sb.clock.speed = 10000
    ecs.stop_task(cluster="jobs", task=task["taskArn"])
    stopped = _until(task["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "UserInitiated"
    assert "startedAt" not in stopped and "exitCode" not in stopped["containers"][0]


def test_run_task_overrides_replace_the_command_and_add_environment(sb: Any) -> None:
    """RunTask's containerOverrides (ContainerOverride, ECS API Reference): the command
    replaces the definition's; environment variables are added to (and win over) its own."""
    definition = _register("job", ["python", "-c", "raise SystemExit(1)"],
                           environment=[{"name": "MODE", "value": "default"},
                                        {"name": "KEEP", "value": "kept"}])
    code = ("import os, sys; sys.exit(0 if (os.environ['MODE'], os.environ['KEEP']) == "
            "('override', 'kept') else 4)")
    arn = _run(definition, overrides={"containerOverrides": [{
        "name": "app", "command": ["python", "-c", code],
        "environment": [{"name": "MODE", "value": "override"}]}]})
    assert _until(arn, "STOPPED")["containers"][0]["exitCode"] == 0


def test_a_job_sleeping_20_minutes_takes_20_minutes_of_task_time(sb: Any) -> None:
    """Longer than Lambda's 15-minute limit: the container's time.sleep runs on the sandbox
    clock, and startedAt..stoppingAt shows the time the job took."""
    code = ("import time; t = time.time(); time.sleep(1200); "
            "print('slept', round(time.time() - t))")
    arn = _run(_register("long", ["python3", "-c", code]))
    task = _until(arn, "STOPPED")
    ran = (task["stoppingAt"] - task["startedAt"]).total_seconds()
    assert 1200 <= ran < 1200 + 60
    assert task["containers"][0]["exitCode"] == 0


def test_the_container_gets_the_task_roles_credentials_and_reaches_the_sandbox(sb: Any) -> None:
    """The SDK in the container finds the task role's session at the container credentials
    endpoint (a loopback AWS_CONTAINER_CREDENTIALS_FULL_URI here), not in AWS_* keys."""
    boto3.client("s3").create_bucket(Bucket="reports")
    role = _role("job-role", "s3:PutObject")
    code = ("import boto3, os\n"
            "assert 'AWS_ACCESS_KEY_ID' not in os.environ\n"
            "assert os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'].startswith("
            "'http://127.0.0.1:')\n"
            "boto3.client('s3').put_object(Bucket='reports', Key='r.txt', Body=b'done')\n"
            "print(boto3.client('sts').get_caller_identity()['Arn'])")
    arn = _run(_register("writer", ["python", "-c", code], task_role=role))
    task = _until(arn, "STOPPED")
    assert task["containers"][0]["exitCode"] == 0, task
    body = boto3.client("s3").get_object(Bucket="reports", Key="r.txt")["Body"].read()
    assert body == b"done"


def test_the_credentials_endpoint_wants_the_tasks_token(sb: Any) -> None:
    role = _role("job-role")
    code = ("import os, urllib.request, urllib.error\n"
            "uri = os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\n"
            "try:\n"
            "    urllib.request.urlopen(uri)\n"
            "except urllib.error.HTTPError as e:\n"
            "    assert e.code == 403\n"
            "else:\n"
            "    raise SystemExit(5)\n"
            "request = urllib.request.Request(uri, headers={'Authorization': "
            "os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN']})\n"
            "import json; answer = json.load(urllib.request.urlopen(request))\n"
            "assert set(answer) == {'AccessKeyId', 'SecretAccessKey', 'Token', 'Expiration', "
            "'RoleArn'}, answer\n")
    task = _until(_run(_register("probe", ["python", "-c", code], task_role=role)), "STOPPED")
    assert task["containers"][0]["exitCode"] == 0


def test_a_role_that_does_not_trust_ecs_tasks_is_refused(sb: Any) -> None:
    """"Amazon ECS task IAM role": the role's trust policy must allow ecs-tasks.amazonaws.com."""
    arn = boto3.client("iam").create_role(
        RoleName="lambda-only", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    definition = _register("job", ["python", "-c", "pass"], task_role=arn)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        _run(definition)
    assert caught.value.response["Error"]["Message"].startswith(
        f"ECS was unable to assume the role '{arn}' that was provided for this task.")


def test_a_task_without_a_role_has_no_credentials(sb: Any) -> None:
    code = ("import boto3, sys; sys.exit(0 if boto3.session.Session().get_credentials() is None "
            "else 9)")
    task = _until(_run(_register("anonymous", ["python", "-c", code])), "STOPPED")
    assert task["containers"][0]["exitCode"] == 0


def test_awslogs_sends_the_output_to_the_stream_prefix_container_task(sb: Any) -> None:
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="/ecs/job")
    role = _role("execution", "logs:CreateLogStream", "logs:PutLogEvents")
    arn = _run(_register("job", ["python", "-c", "print('line one'); print('line two')"],
                         log_group="/ecs/job", execution_role=role))
    _until(arn, "STOPPED")
    task_id = arn.split("/")[-1]
    events = logs.get_log_events(logGroupName="/ecs/job",
                                 logStreamName=f"ecs/app/{task_id}")["events"]
    assert [e["message"] for e in events] == ["line one", "line two"]


def test_a_missing_log_group_fails_the_task_to_start(sb: Any) -> None:
    role = _role("execution", "logs:CreateLogStream", "logs:PutLogEvents")
    arn = _run(_register("job", ["python", "-c", "pass"], log_group="/ecs/missing",
                         execution_role=role))
    task = _until(arn, "STOPPED")
    assert task["stopCode"] == "TaskFailedToStart"
    assert "The specified log group does not exist" in task["stoppedReason"]
    assert "startedAt" not in task


def test_awslogs_create_group_makes_the_group_with_the_execution_roles_permission(
        sb: Any) -> None:
    """"awslogs-create-group": "true" creates the log group; the execution role needs
    logs:CreateLogGroup for it ("Using the awslogs log driver")."""
    role = _role("execution", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
    definition = boto3.client("ecs").register_task_definition(
        family="made", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", executionRoleArn=role, containerDefinitions=[{
            "name": "app", "image": "python:3.12", "command": ["python", "-c", "print('hi')"],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/made", "awslogs-region": REGION,
                "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}}]
    )["taskDefinition"]["taskDefinitionArn"]
    arn = _run(definition)
    assert _until(arn, "STOPPED")["containers"][0]["exitCode"] == 0
    events = boto3.client("logs").filter_log_events(logGroupName="/ecs/made")["events"]
    assert [e["message"] for e in events] == ["hi"]


def test_an_essential_containers_exit_stops_its_sidecar(sb: Any) -> None:
    """A task stops when an essential container exits; the others are stopped (SIGTERM)."""
    ecs = boto3.client("ecs")
    definition = ecs.register_task_definition(
        family="pair", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", containerDefinitions=[
            {"name": "main", "image": "python:3.12", "essential": True,
             "command": ["python", "-c", "import time; time.sleep(30)"]},
            {"name": "sidecar", "image": "python:3.12", "essential": False,
             "command": ["python", "-c", "import time\nwhile True: time.sleep(1)"]}],
    )["taskDefinition"]["taskDefinitionArn"]
    task = _until(_run(definition), "STOPPED")
    codes = {c["name"]: c.get("exitCode") for c in task["containers"]}
    assert codes == {"main": 0, "sidecar": 143}
    assert task["stopCode"] == "EssentialContainerExited"


def test_stop_task_stops_a_running_container_with_sigterm(sb: Any) -> None:
    arn = _run(_register("server", ["python", "-c", "import time\nwhile True: time.sleep(1)"]))
    _until(arn, "RUNNING")
    stopped = boto3.client("ecs").stop_task(cluster="jobs", task=arn, reason="done for today")
    assert stopped["task"]["desiredStatus"] == "STOPPED"
    task = _until(arn, "STOPPED")
    assert task["stopCode"] == "UserInitiated"
    assert task["stoppedReason"] == "done for today"
    assert task["containers"][0]["exitCode"] == 143  # 128 + SIGTERM, as Docker reports it


def test_a_container_ignoring_sigterm_is_killed_after_its_stop_timeout(sb: Any) -> None:
    code = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "while True: time.sleep(1)")
    arn = _run(_register("stubborn", ["python", "-c", code], stopTimeout=2))
    _until(arn, "RUNNING")
    time.sleep(0.5)  # the process has set its handler (it runs in real time)
    boto3.client("ecs").stop_task(cluster="jobs", task=arn)
    task = _until(arn, "STOPPED")
    assert task["containers"][0]["exitCode"] == 137  # 128 + SIGKILL


def test_a_container_over_its_memory_is_killed(sb: Any) -> None:
    code = "import time\nhog = b'x' * (200 * 1024 * 1024)\ntime.sleep(600)"
    arn = _run(_register("hog", ["python", "-c", code], memory=64))
    task = _until(arn, "STOPPED")
    container = task["containers"][0]
    assert container["exitCode"] == 137
    assert container["reason"] == "OutOfMemoryError: Container killed due to memory usage"
    assert task["stopCode"] == "EssentialContainerExited"


def test_settle_waits_for_a_standalone_task_to_stop(sb: Any) -> None:
    arn = _run(_register("job", ["python", "-c", "import time; time.sleep(60)"]))
    assert sb.settle()
    task = boto3.client("ecs").describe_tasks(cluster="jobs", tasks=[arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED"


def test_another_image_is_accepted_runs_nothing_and_says_so(sb: Any) -> None:
    arn = _run(_register("web", None, image="nginx:latest"))
    task = _until(arn, "RUNNING")
    assert task["lastStatus"] == "RUNNING"
    assert "not a Python image" in task["containers"][0]["reason"]
    boto3.client("ecs").stop_task(cluster="jobs", task=arn)
    assert _until(arn, "STOPPED")["stopCode"] == "UserInitiated"


def test_list_tasks_lists_running_tasks_by_default(sb: Any) -> None:
    ecs = boto3.client("ecs")
    done = _run(_register("quick", ["python", "-c", "pass"]))
    _until(done, "STOPPED")
    web = _run(_register("web", None, image="nginx:latest"))
    assert ecs.list_tasks(cluster="jobs")["taskArns"] == [web]
    assert ecs.list_tasks(cluster="jobs", desiredStatus="STOPPED")["taskArns"] == [done]


def test_describe_tasks_reports_a_missing_task(sb: Any) -> None:
    """DescribeTasks: a task it does not find is a failure, reason MISSING."""
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="jobs")
    answer = ecs.describe_tasks(cluster="jobs", tasks=["0123456789abcdef"])
    assert answer["tasks"] == []
    assert answer["failures"] == [{
        "arn": "arn:aws:ecs:us-east-1:123456789012:task/jobs/0123456789abcdef",
        "reason": "MISSING"}]


def test_run_task_refuses_what_aws_refuses(sb: Any) -> None:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="jobs")
    definition = _register("job", ["python", "-c", "pass"])
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ecs.run_task(cluster="jobs", taskDefinition=definition, launchType="FARGATE")
    assert "Network Configuration must be provided" in caught.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        ecs.run_task(cluster="jobs", taskDefinition=definition, launchType="FARGATE",
                     networkConfiguration={"awsvpcConfiguration": {"subnets": []}})
    assert caught.value.response["Error"]["Message"] == "subnets can not be empty."


# ---------------------------------------------------------------------- services
def _service_tasks(service: str, status: str = "RUNNING") -> list[dict[str, Any]]:
    ecs = boto3.client("ecs")
    arns = ecs.list_tasks(cluster="jobs", serviceName=service, desiredStatus=status)["taskArns"]
    return list(ecs.describe_tasks(cluster="jobs", tasks=arns)["tasks"]) if arns else []


def _wait(condition: Any, limit: float = 60.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def test_a_service_keeps_its_desired_count_running_and_replaces_a_stopped_task(sb: Any) -> None:
    """"Amazon ECS services": the scheduler runs desiredCount tasks and replaces one that
    stops."""
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="jobs")
    definition = _register("worker", ["python", "-c", "import time\nwhile True: time.sleep(5)"])
    ecs.create_service(cluster="jobs", serviceName="workers", taskDefinition=definition,
                       desiredCount=2, launchType="FARGATE", networkConfiguration=_network())
    running = _wait(lambda: [t for t in _service_tasks("workers")
                             if t["lastStatus"] == "RUNNING"] if len(
        _service_tasks("workers")) == 2 and all(
        t["lastStatus"] == "RUNNING" for t in _service_tasks("workers")) else [])
    assert len(running) == 2
    assert all(t["group"] == "service:workers" for t in running)
    service = _wait(lambda: [s for s in ecs.describe_services(
        cluster="jobs", services=["workers"])["services"] if s["runningCount"] == 2])
    assert service and service[0]["pendingCount"] == 0
    gone = running[0]["taskArn"]
    ecs.stop_task(cluster="jobs", task=gone)
    assert _until(gone, "STOPPED")["stopCode"] == "UserInitiated"
    replaced = _wait(lambda: len([t for t in _service_tasks("workers")
                                  if t["taskArn"] != gone]) == 2)
    assert replaced
    events = ecs.describe_services(cluster="jobs", services=["workers"])["services"][0]["events"]
    assert any("has started 1 tasks" in e["message"] for e in events)


def test_update_service_scales_in_and_delete_service_stops_the_rest(sb: Any) -> None:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="jobs")
    definition = _register("web", None, image="nginx:latest")
    ecs.create_service(cluster="jobs", serviceName="web", taskDefinition=definition,
                       desiredCount=3, launchType="FARGATE", networkConfiguration=_network())
    assert _wait(lambda: len(_service_tasks("web")) == 3)
    ecs.update_service(cluster="jobs", service="web", desiredCount=1)
    assert _wait(lambda: len(_service_tasks("web")) == 1)
    stopped = _wait(lambda: [t for t in _service_tasks("web", "STOPPED")
                             if t["lastStatus"] == "STOPPED"] if len(
        _service_tasks("web", "STOPPED")) == 2 else [])
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    ecs.update_service(cluster="jobs", service="web", desiredCount=0)
    ecs.delete_service(cluster="jobs", service="web")
    assert _wait(lambda: not _service_tasks("web"))


def test_reset_ends_every_running_container(sb: Any) -> None:
    import psutil

    arn = _run(_register("server", ["python", "-c", "import time\nwhile True: time.sleep(1)"]))
    _until(arn, "RUNNING")
    code = "ecs-container.py"
    before = [p for p in psutil.process_iter(["cmdline"])
              if any(code in part for part in p.info["cmdline"] or [])]
    assert before  # the container's process, started by the sandbox's server
    sb.reset()
    assert _wait(lambda: not [p for p in psutil.process_iter(["cmdline"])
                              if any(code in part for part in p.info["cmdline"] or [])], 10)


def test_step_functions_runs_a_fargate_task_to_its_end(sb: Any) -> None:
    """"Manage Amazon ECS or Fargate tasks with Step Functions": ecs:runTask.sync takes its
    parameters in PascalCase, waits for the task to stop and outputs its description."""
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="machine", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="machine", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Resource": "*",
            "Action": ["ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask", "iam:PassRole"]}]}))
    boto3.client("ecs").create_cluster(clusterName="jobs")
    definition = _register("job", ["python", "-c", "import time; time.sleep(1200)"])
    machine = boto3.client("stepfunctions").create_state_machine(
        name="long-job", roleArn=role, definition=json.dumps({
            "StartAt": "Run", "States": {"Run": {
                "Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": True,
                "Parameters": {"Cluster": "jobs", "TaskDefinition": definition,
                               "LaunchType": "FARGATE",
                               "NetworkConfiguration": {
                                   "AwsvpcConfiguration": _network()["awsvpcConfiguration"]}},
            }}}))["stateMachineArn"]
    sfn = boto3.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    found = _wait(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=execution)), 60)
    assert found and found["status"] == "SUCCEEDED", (found.get("error"), found.get("cause"))
    output = json.loads(found["output"])
    assert output["LastStatus"] == "STOPPED"
    assert output["Containers"][0]["ExitCode"] == 0
    assert output["StartedBy"] == "AWS Step Functions"
    assert output["StoppedAt"] - output["StartedAt"] >= 1200 * 1000  # epoch milliseconds
