"""ECS services on Fargate: the service scheduler keeps ``desiredCount`` tasks running.

"Amazon ECS services" (ECS Developer Guide): the scheduler starts tasks until the service runs
its desired count, and replaces a task that stops. Here it looks at every active Fargate
service every ``LOOK_SECONDS`` of the sandbox clock (and at once when one of its tasks stops),
starts the missing tasks (group ``service:<name>``, startedBy the deployment's ID), stops the
extra ones (stopCode ``ServiceSchedulerInitiated``) after UpdateService lowers the count, and all
of them after DeleteService. ``runningCount`` and ``pendingCount`` are counted from the tasks.
"""

from __future__ import annotations

import sys
import threading
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Ecs

LOOK_SECONDS = 5.0  # simulated seconds between two looks at the services
MIN_REAL_SECONDS = 0.1  # however fast the clock, no busier than this (as the ESM pollers)


class ServiceScheduler:
    def __init__(self, ecs: Ecs):
        self.ecs = ecs
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ecs-services", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(max(MIN_REAL_SECONDS, self.ecs.clock.real_seconds(LOOK_SECONDS)))
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                self.look()
            except Exception:  # noqa: BLE001  a reset midway; the next look starts afresh
                pass

    def look(self) -> None:
        models = sys.modules.get("moto.ecs.models")
        if models is None:  # no ECS request yet: no service (and moto's ECS stays unloaded)
            return
        for regions in list(models.ecs_backends.values()):
            for backend in list(regions.values()):
                for service in list(backend.services.values()):
                    if (service.launch_type or "") == "FARGATE":
                        self._keep(backend, service)

    def _keep(self, backend: Any, service: Any) -> None:
        group = f"service:{service.name}"
        tasks = [t for t in list(backend.tasks.get(service.cluster_name, {}).values())
                 if t.group == group and t.desired_status == "RUNNING"]
        wanted = service.desired_count if service.status == "ACTIVE" else 0
        if len(tasks) > wanted:
            for task in sorted(tasks, key=lambda t: t.created_at, reverse=True)[
                    :len(tasks) - wanted]:
                run = self.ecs.run_of(task)
                if run is not None:
                    run.request_stop("ServiceSchedulerInitiated",
                                     f"Scaling activity initiated by (deployment "
                                     f"{self._deployment(service)})")
                    self._event(service, f"(service {service.name}) has stopped 1 running "
                                         f"tasks: (task {task.id}).")
        elif len(tasks) < wanted and service.task_definition:
            try:
                started = backend.run_task(
                    service.cluster_name, service.task_definition, wanted - len(tasks), None,
                    self._deployment(service), None, "FARGATE",
                    service.network_configuration or None, group, service.platform_version)
            except Exception as error:  # noqa: BLE001  what RunTask refused, the service says
                message = getattr(error, "message", "") or str(error)
                text = f"(service {service.name}) failed to launch a task with (error {message})."
                if not service.events or service.events[0]["message"] != text:
                    self._event(service, text)
                started = []
            if started:
                ids = ", ".join(f"(task {t.id})" for t in started)
                self._event(service, f"(service {service.name}) has started {len(started)} "
                                     f"tasks: {ids}.")
        tasks = [t for t in list(backend.tasks.get(service.cluster_name, {}).values())
                 if t.group == group and t.last_status != "STOPPED"]
        service.running_count = sum(1 for t in tasks if t.last_status == "RUNNING")
        service.pending_count = sum(1 for t in tasks if t.last_status in (
            "PROVISIONING", "PENDING", "ACTIVATING"))
        for deployment in service.deployments[:1]:
            deployment["runningCount"] = service.running_count
            deployment["pendingCount"] = service.pending_count
            deployment["desiredCount"] = service.desired_count
            done = service.running_count == service.desired_count and not service.pending_count
            deployment["rolloutState"] = "COMPLETED" if done else "IN_PROGRESS"
            deployment["rolloutStateReason"] = (
                f"ECS deployment {deployment['id']} completed." if done
                else f"ECS deployment {deployment['id']} in progress.")

    @staticmethod
    def _deployment(service: Any) -> str:
        return str(service.deployments[0]["id"]) if service.deployments else "ecs-svc/0"

    @staticmethod
    def _event(service: Any, message: str) -> None:
        # DescribeServices lists a service's newest events first
        service.events.insert(0, {"id": str(uuid.uuid4()), "message": message,
                                  "createdAt": datetime.now(timezone.utc)})
        del service.events[100:]
