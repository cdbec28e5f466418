"""RegisterTaskDefinition as AWS checks a Fargate task definition (moto checks almost nothing).

A task definition whose ``requiresCompatibilities`` names ``FARGATE`` must use the ``awsvpc``
network mode, give task-level ``cpu`` and ``memory`` from the combinations Fargate supports
("Troubleshoot Amazon ECS task definition invalid CPU or memory errors", and the ``cpu`` and
``memory`` members of ``RegisterTaskDefinition``, Amazon ECS API Reference), and have an
``executionRoleArn`` when a container logs with ``awslogs``. The error codes and wording are
AWS's ``ClientException`` messages.
"""

from __future__ import annotations

import re
from typing import Any

# Fargate's task sizes (Linux): CPU units -> the memory sizes (MiB) it supports.
# "Troubleshoot Amazon ECS task definition invalid CPU or memory errors", Amazon ECS Developer
# Guide: 256 -> 0.5, 1, 2 GB; 512 -> 1-4 GB; 1024 -> 2-8 GB; 2048 -> 4-16 GB and 4096 -> 8-30 GB
# in 1 GB steps; 8192 -> 16-60 GB in 4 GB steps; 16384 -> 32-120 GB in 8 GB steps.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

INVALID_CPU = ("Invalid 'cpu' setting for task. For more information, see the Troubleshooting "
               "section of the Amazon ECS Developer Guide.")
INVALID_MEMORY = ("Invalid 'memory' setting for task. For more information, see the "
                  "Troubleshooting section of the Amazon ECS Developer Guide.")
NO_CONFIGURATION = ("No Fargate configuration exists for given values: {cpu} CPU, {memory} "
                    "memory. See the Amazon ECS documentation for the valid values.")
CPU_REQUIRED = "Fargate requires that 'cpu' be defined at the task level."
MEMORY_REQUIRED = "Fargate requires that 'memory' be defined at the task level."
NETWORK_MODE = "Fargate only supports network mode \u2018awsvpc\u2019."
AWSLOGS_ROLE = ("Fargate requires task definition to have execution role ARN to support log "
                "driver awslogs.")


def cpu_units(value: Any) -> int | None:
    """Task ``cpu`` as CPU units: "256", 256, "1 vCPU", "0.5 vcpu" (AWS converts vCPUs when
    the task definition is registered); None when it is neither."""
    text = str(value).strip()
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*vcpu", text, re.IGNORECASE)
    if found:
        return round(float(found.group(1)) * 1024)
    return int(text) if text.isdigit() else None


def memory_mib(value: Any) -> int | None:
    """Task ``memory`` in MiB: "1024", 1024, "1GB", "1 GB", "0.5 GB"; None when neither."""
    text = str(value).strip()
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*gb", text, re.IGNORECASE)
    if found:
        return round(float(found.group(1)) * 1024)
    return int(text) if text.isdigit() else None


def fargate_size_error(cpu: Any, memory: Any) -> str | None:
    """AWS's message for a task size Fargate does not offer; None when it offers it."""
    if cpu in (None, ""):
        return CPU_REQUIRED
    if memory in (None, ""):
        return MEMORY_REQUIRED
    units, mib = cpu_units(cpu), memory_mib(memory)
    if units is None or units not in FARGATE_SIZES:
        return INVALID_CPU
    if mib is None:
        return INVALID_MEMORY
    if mib not in FARGATE_SIZES[units]:
        return NO_CONFIGURATION.format(cpu=units, memory=mib)
    return None


def register_task_definition(original: Any) -> Any:
    """``EC2ContainerServiceBackend.register_task_definition``: a Fargate task definition is
    checked as AWS checks it; its cpu and memory are stored as AWS stores them (units, MiB)."""
    def register(self: Any, family: str, container_definitions: list[dict[str, Any]],
                 *args: Any, **kwargs: Any) -> Any:
        from moto.ecs.exceptions import EcsClientException

        compatibilities = kwargs.get("requires_compatibilities") or []
        if "FARGATE" in compatibilities:
            mode = kwargs.get("network_mode")
            if mode not in (None, "awsvpc"):
                raise EcsClientException(NETWORK_MODE)
            problem = fargate_size_error(kwargs.get("cpu"), kwargs.get("memory"))
            if problem:
                raise EcsClientException(problem)
            kwargs["cpu"] = str(cpu_units(kwargs["cpu"]))
            kwargs["memory"] = str(memory_mib(kwargs["memory"]))
            uses_awslogs = any((definition.get("logConfiguration") or {}).get("logDriver")
                               == "awslogs" for definition in container_definitions)
            if uses_awslogs and not kwargs.get("execution_role_arn"):
                raise EcsClientException(AWSLOGS_ROLE)
        return original(self, family, container_definitions, *args, **kwargs)

    return register
