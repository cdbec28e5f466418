"""The sandbox's own admin API: what the notebook's views need that no AWS API gives.

In the spirit of moto's ``/moto-api/``, but private: ``POST /_sandbox/<operation>`` with a JSON
body, answered with JSON, only for a caller that shows the server's token in
``X-Sandbox-Token`` (the process that started the server, and whoever it handed the token to;
never a function's code, whose environment does not carry it). Each operation is one function
below, registered by name; ``sandbox.client.Admin`` is its client.

Two tokens, two levels. The owner's token can do everything. The learner's token (handed to a
notebook's kernel when someone else owns the server, as the grader does) can do what a notebook
legitimately does (status, reset, the clock, the IAM trail, the Lambda views) but not stop the
server, and not turn IAM enforcement off when the server was started with ``--lock-iam``: a
graded notebook cannot make its checks run against a sandbox without IAM.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import BadArgumentError, SandboxError

if TYPE_CHECKING:
    from .service import SandboxService

PREFIX = "/_sandbox/"
TOKEN_HEADER = "HTTP_X_SANDBOX_TOKEN"

Operation = Callable[["SandboxService", dict[str, Any]], Any]
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(function: Operation) -> Operation:
        OPERATIONS[name] = function
        return function
    return register


# ---------------------------------------------------------------------- the operations
# what the learner's token may call; every other operation needs the owner's
LEARNER_OPERATIONS = frozenset({
    "status", "reset", "clock", "iam.decisions", "iam.enforcing", "lambda.environments",
    "lambda.retire", "lambda.reap", "lambda.wait_idle", "lambda.concurrency", "threads", "log",
    "deliveries", "deliveries.trace", "deliveries.settle", "services.loaded",
    "schedules", "schedules.automatic", "schedules.fire",
})


@operation("status")
def status(service: SandboxService, params: dict[str, Any]) -> dict[str, Any]:
    # the administrators' keys travel with the answer (describe): a client that attaches
    # acts with this server's keys, which no other process knows
    return {**service.describe(), "iam_locked": service.iam_locked}


@operation("reset")
def reset(service: SandboxService, params: dict[str, Any]) -> None:
    service.reset()


@operation("stop")
def stop(service: SandboxService, params: dict[str, Any]) -> None:
    # answer first: the server that carries this answer is what stops
    threading.Timer(0.05, service.stop).start()


@operation("clock")
def clock(service: SandboxService, params: dict[str, Any]) -> dict[str, float]:
    if "speed" in params:
        service.clock.speed = params["speed"]
    return {"speed": service.clock.speed}


@operation("iam.decisions")
def iam_decisions(service: SandboxService, params: dict[str, Any]) -> list[dict[str, Any]]:
    entries = service.iam.decisions(denied=params.get("denied"),
                                    principal=params.get("principal"))
    return [entry.to_dict() for entry in entries]


@operation("iam.enforcing")
def iam_enforcing(service: SandboxService, params: dict[str, Any]) -> dict[str, bool]:
    if "enforcing" in params:
        if service.iam_locked and not params["enforcing"] \
                and params.get("_level") != "owner":
            raise BadArgumentError(
                "IAM enforcement cannot be turned off in this sandbox: it was started locked "
                "(as the grader starts it), so your code is checked with IAM enforced, as on "
                "AWS. Give your roles the permissions they need instead.")
        service.iam.enforcing = bool(params["enforcing"])
    return {"enforcing": service.iam.enforcing}


@operation("iam.service_may")
def iam_service_may(service: SandboxService, params: dict[str, Any]) -> dict[str, bool]:
    """IAM's decision for a service acting for the learner (API Gateway invoking a function, S3
    notifying a queue), decided by the resource's policy and recorded like theirs."""
    allowed = service.iam.service_may(
        params["service"], params["action"], params["resource"],
        source_arn=params.get("source_arn"), source_account=params.get("source_account"),
        source=params.get("source", ""))
    return {"allowed": allowed}


@operation("lambda.environments")
def lambda_environments(service: SandboxService, params: dict[str, Any]) -> list[dict[str, Any]]:
    return service.lambda_runtime.describe_environments()


@operation("lambda.retire")
def lambda_retire(service: SandboxService, params: dict[str, Any]) -> None:
    """Retire a function's idle execution environments, as Lambda may at any moment."""
    service.lambda_runtime.pool.retire_function(params.get("account", service.account_id),
                                                params["function"])


@operation("lambda.reap")
def lambda_reap(service: SandboxService, params: dict[str, Any]) -> int:
    """Retire every environment idle for ``idle_seconds``, as Lambda does after idle minutes;
    how many."""
    return int(service.lambda_runtime.retire_idle_environments(float(params["idle_seconds"])))


@operation("lambda.isolation")
def lambda_isolation(service: SandboxService, params: dict[str, Any]) -> str:
    """Retire every environment and isolate the next ones so ("bwrap", "process", "auto")."""
    return str(service.lambda_runtime.use_isolation(str(params["isolation"])))


@operation("lambda.pool")
def lambda_pool(service: SandboxService, params: dict[str, Any]) -> dict[str, float]:
    """How long an idle environment is kept, and the warm pool's memory cap (until reset)."""
    return dict(service.lambda_runtime.configure_pool(
        idle_seconds=params.get("idle_seconds"), memory_cap_mb=params.get("memory_cap_mb")))


@operation("lambda.wait_idle")
def lambda_wait_idle(service: SandboxService, params: dict[str, Any]) -> dict[str, Any]:
    """Wait until every queued asynchronous invocation has run and been delivered."""
    invoker = service.lambda_runtime.async_invoker
    idle = invoker.wait_idle(float(params.get("timeout", 30.0)))
    return {"idle": idle, "delivery_failures": [str(f) for f in invoker.delivery_failures]}


@operation("deliveries")
def deliveries(service: SandboxService, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The hops events took between services, after hop number ``since``."""
    return [hop.as_dict() for hop in service.deliveries.since(int(params.get("since", 0)))]


@operation("deliveries.trace")
def deliveries_trace(service: SandboxService, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The hops of one event and of every event it caused."""
    event_id = params.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise BadArgumentError(f"trace needs an event's id (a message id, a request id), got "
                               f"{event_id!r}")
    return [hop.as_dict() for hop in service.deliveries.trace(event_id)]


@operation("deliveries.settle")
def deliveries_settle(service: SandboxService, params: dict[str, Any]) -> dict[str, Any]:
    """Wait until no event source has an event in hand; who is still busy if time ran out."""
    busy = service.deliveries.settle(float(params.get("timeout", 30.0)))
    return {"settled": not busy, "busy": busy}


@operation("lambda.concurrency")
def lambda_concurrency(service: SandboxService, params: dict[str, Any]) -> dict[str, int]:
    """The account's concurrency limit (1,000 by default, as a new AWS account may be raised to)."""
    pool = service.lambda_runtime.pool
    if "limit" in params:
        limit = params["limit"]
        if not isinstance(limit, int) or limit < 1:
            raise BadArgumentError(f"the concurrency limit must be a positive whole number, "
                                    f"got {limit!r}")
        service.concurrency_limit = pool.account_concurrency = limit
    return {"limit": pool.account_concurrency}


@operation("threads")
def threads(service: SandboxService, params: dict[str, Any]) -> dict[str, Any]:
    """The server's live threads, and the Step Functions engine's own (``TMP_THREADS``, which
    moto's interpreter keeps for the executions it runs): tests prove none outlives a reset."""
    import sys

    names = [thread.name for thread in threading.enumerate()]
    engine = sys.modules.get("moto.stepfunctions.parser.utils")
    running = [t.name for t in getattr(engine, "TMP_THREADS", []) if t.is_alive()]
    return {"threads": names, "stepfunctions": running}


@operation("log")
def log(service: SandboxService, params: dict[str, Any]) -> dict[str, str]:
    """The server's own log: what went wrong inside the sandbox, never shown in a notebook."""
    return {"log": service.server_log(int(params.get("bytes", 65536)))}


# ---------------------------------------------------------------------- the WSGI application
class AdminApp:
    def __init__(self, service: SandboxService, token: str, learner_token: str | None = None):
        self.service = service
        self.token = token
        # the service may carry a learner's token of its own (python -m sandbox.server sets it)
        self.learner_token = learner_token if learner_token is not None else \
            service.learner_token

    def level(self, given: str) -> str | None:
        """"owner", "learner", or None for a token that is neither."""
        if hmac.compare_digest(given.encode(), self.token.encode()):
            return "owner"
        if self.learner_token and hmac.compare_digest(given.encode(),
                                                      self.learner_token.encode()):
            return "learner"
        return None

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        level = self.level(environ.get(TOKEN_HEADER, ""))
        if level is None:
            return _answer(start_response, 403, {"error": {
                "type": "Forbidden", "message": "the admin API needs the server's token"}})
        name = environ.get("PATH_INFO", "")[len(PREFIX):]
        if level == "learner" and name in OPERATIONS and name not in LEARNER_OPERATIONS:
            return _answer(start_response, 403, {"error": {
                "type": "Forbidden", "message": f"{name!r} is not for a notebook: only the "
                "process that started this sandbox may call it"}})
        found = OPERATIONS.get(name)
        if found is None or environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 404, {"error": {
                "type": "NotFound", "message": f"no admin operation {name!r}: POST one of "
                f"{', '.join(sorted(OPERATIONS))}"}})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            params = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if not isinstance(params, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as error:
            return _answer(start_response, 400, {"error": {"type": "BadRequest",
                                                           "message": str(error)}})
        params.pop("_level", None)  # the level is the token's to say, never the caller's
        if level == "owner":
            params["_level"] = "owner"
        try:
            result = found(self.service, params)
        except SandboxError as error:
            return _answer(start_response, 400, {"error": {"type": type(error).__name__,
                                                           "message": str(error)}})
        return _answer(start_response, 200, {"result": result})


def _answer(start_response: Callable[..., Any], status: int,
            body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, default=str).encode()
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(data)))])
    return [data]


@operation("services.loaded")
def services_loaded(service: SandboxService, params: dict[str, Any]) -> list[str]:
    """The moto services whose models this server has loaded (moto loads them on a service's
    first request): a service not among them holds no resources, and the architecture diagram
    (sandbox/course/architecture.py) need not load it to find none."""
    import sys

    return sorted(name.split(".")[1] for name in list(sys.modules)
                  if name.startswith("moto.") and name.endswith(".models")
                  and name.count(".") == 2)
