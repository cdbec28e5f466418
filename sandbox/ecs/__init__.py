"""Amazon ECS on Fargate: moto stores clusters, task definitions, tasks and services; the
sandbox checks Fargate task definitions as AWS does (``taskdefs.py``), drives each Fargate
task through its lifecycle on the sandbox clock and runs its Python containers as local
processes (``tasks.py``), sends their output to CloudWatch Logs with ``awslogs``, and keeps a
service's desired count of tasks running (``services.py``).

What a container sees: its task definition's environment (and RunTask's overrides), the task
role's credentials at a container credentials endpoint (``AWS_CONTAINER_CREDENTIALS_FULL_URI``
and ``AWS_CONTAINER_AUTHORIZATION_TOKEN``: ``credentials.py``; a session
``arn:aws:sts::<account>:assumed-role/<role>/<task id>``), ``AWS_REGION``,
``AWS_DEFAULT_REGION``, ``AWS_EXECUTION_ENV=AWS_ECS_FARGATE``, and, not on AWS,
``AWS_ENDPOINT_URL`` naming the sandbox and ``SANDBOX_CLOCK_SPEED`` (its ``time.sleep`` runs
on the sandbox clock: ``container.py``). Step Functions' ``ecs:runTask`` integration is
``stepfunctions.py``.
"""

from __future__ import annotations

import os
import shutil
import threading
from typing import TYPE_CHECKING, Any

from . import container as _container
from .credentials import CredentialsEndpoint
from .tasks import ECS_TASKS_PRINCIPAL, TaskRun

if TYPE_CHECKING:
    from ..clock import Clock
    from ..server.service import SandboxService
    from .tasks import ContainerRun

DEFAULT_STOP_REASON = "Task stopped by user"
# ECS's words when a task's role does not trust ecs-tasks.amazonaws.com (or does not exist), as a
# service's event quotes them ("failed to launch a task with (error ...)")
CANNOT_ASSUME = ("ECS was unable to assume the role '{role}' that was provided for this task. "
                 "Please verify that the role being passed has the proper trust relationship "
                 "and permissions and that your IAM user has permissions to pass this role.")
LOG_GROUP_MISSING = (
    "ResourceInitializationError: failed to validate logger args: create stream has been "
    "retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The "
    "specified log group does not exist. : exit status 1")
LOG_ACCESS_DENIED = (
    "ResourceInitializationError: failed to validate logger args: create stream has been "
    "retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: {role} "
    "is not authorized to perform: {action} on resource: {resource} : exit status 1")


class Ecs:
    """The running ECS extension: every Fargate task the sandbox drives, and the services'
    scheduler."""

    def __init__(self, service: SandboxService):
        from .services import ServiceScheduler

        self.service = service
        self.clock: Clock = service.clock
        self.work_dir = os.path.join(service._work_dir, "ecs")
        os.makedirs(self.work_dir, exist_ok=True)
        self.runs: dict[str, TaskRun] = {}
        self._lock = threading.Lock()
        self.credentials = CredentialsEndpoint()
        self.scheduler = ServiceScheduler(self)
        service.deliveries.register_busy("ecs", self.busy)

    # ---------------------------------------------------------------- tasks
    def adopt(self, backend: Any, task: Any, definition: Any) -> TaskRun:
        """The sandbox's run of a task moto has just stored; ``start()`` starts it."""
        run = TaskRun(self, backend, task, definition)
        with self._lock:
            self.runs[task.task_arn] = run
        return run

    def run_of(self, task: Any) -> TaskRun | None:
        with self._lock:
            return self.runs.get(task.task_arn)

    def busy(self) -> bool:
        with self._lock:
            runs = list(self.runs.values())
        return any(run.busy for run in runs)

    def task_stopped(self, run: TaskRun) -> None:
        self.credentials.forget(run.task_id)
        self.scheduler.wake()

    def start_problem(self, run: TaskRun) -> str:
        """Why the task cannot start (AWS's ResourceInitializationError), or ""."""
        from moto.logs.models import logs_backends

        from .. import iam

        role = getattr(run.definition, "execution_role_arn", "") or ""
        for container in run.containers:
            group, region, create, stream = self.log_target(run, container)
            if not group:
                continue
            logs = logs_backends[run.account_id][region]
            base = f"arn:aws:logs:{region}:{run.account_id}:log-group:{group}"
            wanted = [("logs:CreateLogStream", f"{base}:log-stream:{stream}")]
            if group not in logs.groups:
                if not create:
                    return LOG_GROUP_MISSING
                wanted.insert(0, ("logs:CreateLogGroup", f"{base}:log-stream:"))
            for action, resource in wanted:
                if not iam.role_may(role, action, resource, region=region,
                                    source=f"ECS awslogs for task {run.task_id}"):
                    session = role.replace(":iam::", ":sts::").replace(":role/",
                                                                       ":assumed-role/")
                    return LOG_ACCESS_DENIED.format(role=f"{session}/{run.task_id}",
                                                    action=action, resource=resource)
        return ""

    def log_target(self, run: TaskRun, container: ContainerRun) -> tuple[str, str, bool, str]:
        """(log group, region, create the group?, stream) of a container's ``awslogs``
        configuration; the group is "" without one. The stream is
        prefix/container-name/task-id ("Using the awslogs log driver", ECS Developer Guide)."""
        config = container.definition.get("logConfiguration") or {}
        if config.get("logDriver") != "awslogs":
            return "", "", False, ""
        options = config.get("options") or {}
        prefix = options.get("awslogs-stream-prefix", "")
        stream = f"{prefix}/{container.name}/{run.task_id}" if prefix else run.task_id
        return (options.get("awslogs-group", ""), options.get("awslogs-region", run.region),
                str(options.get("awslogs-create-group", "")).lower() == "true", stream)

    def write_log(self, container: ContainerRun, lines: list[tuple[int, str]]) -> None:
        from moto.logs.models import logs_backends

        run = container.task
        group, region, _, stream = self.log_target(run, container)
        if not group:
            return
        logs = logs_backends[run.account_id][region]
        logs.ensure_log_group(group)
        found = logs.groups[group]
        if stream not in found.streams:
            found.create_log_stream(stream)
        found.streams[stream].put_log_events(
            [{"timestamp": stamp, "message": text} for stamp, text in lines])

    def container_environment(self, run: TaskRun, container: ContainerRun) -> dict[str, str]:
        pool = self.service.lambda_runtime.pool
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": "/root" if os.path.isdir("/root") and os.access("/root", os.R_OK)
            else os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "AWS_REGION": run.region,
            "AWS_DEFAULT_REGION": run.region,
            "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
        }
        if not pool.sandboxed:  # without bubblewrap /tmp is the machine's: a folder of its own
            env["TMPDIR"] = run.scratch
        role = getattr(run.definition, "task_role_arn", "") or ""
        if role:  # RunTask has checked that ECS may assume it
            env.update(self.credentials.register(run.task_id, role, run.region))
        env.update(container.environment)
        env.update({
            # not on AWS: what makes the container's boto3 reach the sandbox and nothing else
            "AWS_ENDPOINT_URL": self.service.endpoint_url,
            "AWS_CONFIG_FILE": pool.empty_file,
            "AWS_SHARED_CREDENTIALS_FILE": pool.empty_file,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "SANDBOX_CLOCK_SPEED": repr(self.clock.speed),
            "SANDBOX_ECS_PATH": pool.runtime_packages,
        })
        return env

    @staticmethod
    def container_boot(pool: Any) -> str:
        """The container's starter, copied into the Lambda pool's folder: a bubblewrapped
        worker sees that folder under /tmp (the package may be installed anywhere)."""
        path = os.path.join(pool.work_dir, "ecs-container.py")
        if not os.path.exists(path):
            shutil.copyfile(_container.__file__, path + ".new")
            os.replace(path + ".new", path)
        return path

    # ---------------------------------------------------------------- the extension
    def _end_all(self) -> None:
        with self._lock:
            runs = list(self.runs.values())
            self.runs.clear()
        for run in runs:
            run.kill()

    def reset(self) -> None:
        self._end_all()
        self.credentials.clear()
        shutil.rmtree(os.path.join(self.work_dir, "tasks"), ignore_errors=True)

    def close(self) -> None:
        self.scheduler.close()
        self._end_all()
        self.credentials.close()


_running: Ecs | None = None


def install(service: SandboxService) -> Ecs:
    global _running
    _running = Ecs(service)
    return _running


def uninstall() -> None:
    global _running
    _running = None


def running() -> Ecs:
    from ..server.service import running_extension

    ecs: Ecs = running_extension("ecs")
    return ecs


# ---------------------------------------------------------------------- the seams
def run_task(original: Any) -> Any:
    """``EC2ContainerServiceBackend.run_task``: a Fargate task is checked as AWS checks it and
    then runs (moto stores it RUNNING and runs nothing)."""
    def run(self: Any, cluster_str: str, task_definition_str: str, count: int,
            overrides: Any, started_by: str, tags: Any, launch_type: str | None,
            networking_configuration: dict[str, Any] | None = None, *args: Any,
            **kwargs: Any) -> Any:
        from moto.ecs.exceptions import InvalidParameterException

        definition = self.describe_task_definition(task_definition_str)
        strategy = kwargs.get("capacity_provider_strategy") or (args[2] if len(args) > 2
                                                                else None)
        provider = (strategy or [{}])[0].get("capacityProvider") if strategy else None
        fargate = launch_type == "FARGATE" or provider in ("FARGATE", "FARGATE_SPOT")
        if fargate:
            if "FARGATE" not in (definition.compatibilities or []):
                raise InvalidParameterException(
                    "Task definition does not support launch_type FARGATE.")
            if not networking_configuration:
                raise InvalidParameterException(
                    "Network Configuration must be provided when networkMode 'awsvpc' is "
                    "specified.")
            vpc = dict(networking_configuration.get("awsvpcConfiguration") or {})
            if not vpc.get("subnets"):
                raise InvalidParameterException("subnets can not be empty.")
            vpc.setdefault("securityGroups", [])  # optional on AWS; moto's ENI needs the key
            networking_configuration = dict(networking_configuration,
                                            awsvpcConfiguration=vpc)
            _check_roles(definition, self.account_id)
        tasks = original(self, cluster_str, task_definition_str, count, overrides, started_by,
                         tags, launch_type, networking_configuration, *args, **kwargs)
        if fargate:
            ecs = running()
            # RunTask answers with each task as it was created (PROVISIONING), however far
            # its lifecycle has gone on the clock by the time the answer is written
            answer = []
            for task in tasks:
                run = ecs.adopt(self, task, definition)
                answer.append(_snapshot(task))
                run.start()
            return answer
        return tasks

    return run


def _snapshot(task: Any) -> Any:
    """A copy of a task and its containers as they are now, for an answer to serialize."""
    import copy

    found = copy.copy(task)
    found.containers = [copy.copy(container) for container in task.containers]
    return found


def _check_roles(definition: Any, account_id: str) -> None:
    """The task role and the execution role must exist and trust ecs-tasks.amazonaws.com
    ("Amazon ECS task IAM role", "Amazon ECS task execution IAM role")."""
    from moto.ecs.exceptions import EcsClientException

    from .. import iam

    for role in (getattr(definition, "task_role_arn", None),
                 getattr(definition, "execution_role_arn", None)):
        if role and not (iam.role_exists(role) and iam.service_may(
                ECS_TASKS_PRINCIPAL, "sts:AssumeRole", role, source_account=account_id,
                source=f"ECS assuming {role} for a task of {definition.family}")):
            raise EcsClientException(CANNOT_ASSUME.format(role=role))


def task_resource_requirements(task_definition: Any) -> dict[str, Any]:
    """What a task takes of a container instance (moto's placement on EC2): each container's
    cpu and memory (or memoryReservation), 0 where a container gives none, and its host
    ports."""
    found: dict[str, Any] = {"CPU": 0, "MEMORY": 0, "PORTS": [], "PORTS_UDP": []}
    for definition in task_definition.container_definitions:
        # CloudFormation passes capitalised properties, boto3 camelCase ones
        found["CPU"] += int(definition.get("cpu", definition.get("Cpu", 0)) or 0)
        memory = (definition.get("Memory") or definition.get("MemoryReservation")
                  or definition.get("memory") or definition.get("memoryReservation") or 0)
        found["MEMORY"] += int(memory)
        for mapping in definition.get("PortMappings", definition.get("portMappings")) or []:
            port = mapping.get("hostPort", mapping.get("HostPort"))
            if port is not None:
                found["PORTS"].append(port)
    return found


def create_service(original: Any) -> Any:
    """``EC2ContainerServiceBackend.create_service``: a Fargate service needs a network
    configuration, whose securityGroups are optional (moto's needs them), and its scheduler
    starts its tasks at once."""
    def create(self: Any, cluster_str: str, service_name: str, desired_count: int,
               *args: Any, **kwargs: Any) -> Any:
        from moto.ecs.exceptions import InvalidParameterException

        network = kwargs.get("network_configuration")
        launch_type = kwargs.get("launch_type") or (args[5] if len(args) > 5 else None)
        if launch_type == "FARGATE":
            if not network:
                raise InvalidParameterException(
                    "Network Configuration must be provided when networkMode 'awsvpc' is "
                    "specified.")
            vpc = dict(network.get("awsvpcConfiguration") or {})
            vpc.setdefault("securityGroups", [])
            vpc.setdefault("subnets", [])
            kwargs["network_configuration"] = dict(network, awsvpcConfiguration=vpc)
        service = original(self, cluster_str, service_name, desired_count, *args, **kwargs)
        running().scheduler.wake()
        return service

    return create


def stop_task(original: Any) -> Any:
    """``EC2ContainerServiceBackend.stop_task``: a running Fargate task stops through its
    lifecycle (SIGTERM, then SIGKILL after stopTimeout), stopCode UserInitiated; moto marks it
    STOPPED at once, and raises a bare Exception for a task it does not know."""
    def stop(self: Any, cluster_str: str, task_str: str, reason: str | None) -> Any:
        from moto.ecs.exceptions import InvalidParameterException

        cluster = self._get_cluster(cluster_str)
        task_id = task_str.split("/")[-1]
        for arn, task in (self.tasks.get(cluster.name) or {}).items():
            if arn.split("/")[-1] == task_id:
                run = running().run_of(task)
                if run is None:
                    return original(self, cluster_str, task_str, reason)
                run.request_stop("UserInitiated", reason or DEFAULT_STOP_REASON)
                return task
        raise InvalidParameterException("The referenced task was not found.")

    return stop


def describe_tasks_response(original: Any) -> Any:
    """``EC2ContainerServiceResponse.describe_tasks``: a task not found is a failure with reason
    MISSING (DescribeTasks, ECS API Reference; the tasks_stopped waiter fails on it); moto
    answers an empty list and no failure."""
    def describe(self: Any) -> Any:
        answer = original(self)
        result = getattr(answer, "result", None)
        if not isinstance(result, dict):
            return answer
        cluster = str(self._get_param("cluster", "default")).split("/")[-1]
        found = {task.task_arn.split("/")[-1] for task in result.get("tasks") or []}
        for wanted in self._get_param("tasks", []) or []:
            task_id = str(wanted).split("/")[-1]
            if task_id not in found:
                arn = wanted if str(wanted).startswith("arn:") else (
                    f"arn:aws:ecs:{self.region}:{self.current_account}:task/{cluster}/"
                    f"{task_id}")
                result.setdefault("failures", []).append({"arn": arn, "reason": "MISSING"})
        return answer

    return describe


def list_tasks(original: Any) -> Any:
    """``EC2ContainerServiceBackend.list_tasks``: the default desiredStatus filter is RUNNING
    and serviceName filters by the service's tasks (ListTasks, ECS API Reference); moto lists
    every task and ignores serviceName."""
    def list_(self: Any, cluster_str: str | None = None, container_instance: str | None = None,
              family: str | None = None, started_by: str | None = None,
              service_name: str | None = None, desiredStatus: str | None = None) -> Any:
        found = original(self, cluster_str, container_instance, family, started_by,
                         service_name, desiredStatus or "RUNNING")
        if service_name:
            found = [t for t in found if t.group == f"service:{service_name.split('/')[-1]}"]
        return found

    return list_
