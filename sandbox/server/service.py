"""The sandbox as a service: moto, the extensions and the Lambda runtime, in the server process.

``python -m sandbox.server`` (``__main__.py``) builds one :class:`SandboxService`, starts it and
serves it until its owner goes away. Nothing else in this process is the learner's: the
notebook is a client on loopback like any SDK, and handlers run in execution environments this
process supervises.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Protocol, cast

from .. import safety, seams
from ..accounts import ACCOUNT_ID, REGION, Keys, administrator_keys
from ..clock import Clock
from ..errors import ServerError
from .admin import AdminApp
from .deliveries import Deliveries
from .http import HttpServer
from .router import ADMIN, Router

if TYPE_CHECKING:
    from ..awslambda import LambdaRuntime
    from ..iam import Enforcer

# The service extensions: modules of this package, each with install(service) -> an Extension,
# and uninstall(); they hook moto by rows of sandbox/seams.py. IAM first: it decides every
# request.
EXTENSIONS = ["iam", "awslambda", "logs", "s3", "apigateway", "stepfunctions", "sns", "events",
              "scheduler", "appsync", "rds", "rdsproxy", "ecs"]


class Extension(Protocol):
    """What an extension's install() gives back: its state, which reset() empties."""

    def reset(self) -> None: ...

    def close(self) -> None: ...


class ExtensionModule(Protocol):
    """An extension's module (a name in EXTENSIONS): installs on a service, and uninstalls."""

    def install(self, service: SandboxService, /) -> Extension: ...

    def uninstall(self) -> None: ...


if TYPE_CHECKING:  # mypy checks each extension's module against the protocol
    from .. import (
        apigateway,
        appsync,
        awslambda,
        ecs,
        events,
        iam,
        logs,
        rds,
        rdsproxy,
        s3,
        scheduler,
        stepfunctions,
    )

    _EXTENSION_MODULES: tuple[ExtensionModule, ...] = (iam, awslambda, logs, s3, apigateway,
                                                       stepfunctions, events, scheduler,
                                                       appsync, rds, rdsproxy, ecs)


def _extension(name: str) -> ExtensionModule:
    return cast(ExtensionModule, importlib.import_module(f"..{name}", __package__))


_current: SandboxService | None = None


def current() -> SandboxService | None:
    """The service this process runs, for extensions acting on the sandbox's behalf."""
    return _current


def running_extension(name: str) -> Any:
    """The running service's extension ``name`` (``"awslambda"``): how moto's seams, which moto
    calls without any state of ours, find the sandbox. There is no other registry of them."""
    service = _current
    extension = None if service is None else service.extensions.get(name)
    if extension is None:
        from ..errors import ServerError

        raise ServerError(f"the sandbox's {name} extension is not running: the sandbox has "
                          "stopped. Run sandbox.start() again.")
    return extension


class SandboxService:
    """A running local AWS: moto behind one router, its extensions, its clock."""

    account_id = ACCOUNT_ID
    region = REGION

    def __init__(self, *, clock_speed: float, concurrency_limit: int, enforce_iam: bool,
                 token: str, port: int = 0, learner_token: str = "",
                 iam_locked: bool = False):
        self.clock = Clock(clock_speed)
        self.enforce_iam = enforce_iam
        self.concurrency_limit = concurrency_limit
        self.token = token  # the owner's: every admin operation
        self.learner_token = learner_token  # a notebook's when another process owns the server
        self.iam_locked = iam_locked  # a learner token may not turn enforcement off
        self.admin_keys: dict[str, Keys] = administrator_keys()  # account -> its administrator's
        self.port = port
        self.endpoint_url = ""
        self.extensions: dict[str, Extension] = {}
        # every event's hops between services, and who may still be delivering one
        self.deliveries = Deliveries()
        self._work_dir = ""
        self._server: HttpServer | None = None
        self._router: Router | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._restore_moto: Any = None
        self._saved_environment: dict[str, str | None] = {}

    # ---------------------------------------------------------------- life cycle
    def start(self) -> None:
        global _current
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        safety.check_botocore()
        safety.guard_network()
        self._work_dir = tempfile.mkdtemp(prefix="serverless-sandbox-")
        router = self._router = Router(DomainDispatcherApplication(create_backend_app))
        router.serve(ADMIN, lambda environ: AdminApp(self, self.token))
        self._server = HttpServer(router, self.port)
        self.endpoint_url = self._server.url
        config = os.path.join(self._work_dir, "aws-config")
        open(config, "w").close()
        environment = safety.aws_environment(self.endpoint_url, config,
                                             self.admin_keys[ACCOUNT_ID])
        # moto's Step Functions engine calls other services at localhost:$MOTO_PORT
        # (moto/stepfunctions/parser/asl/utils/boto_client.py): this server
        environment["MOTO_PORT"] = str(self._server.port)
        self._saved_environment = safety.apply_environment(environment)
        safety.forget_boto3_default_session()
        safety.install()
        self._configure_moto()
        _current = self
        for name in EXTENSIONS:
            self.extensions[name] = _extension(name).install(self)
        seams.apply()  # every patch of moto, declared in sandbox/seams.py

    def _configure_moto(self) -> None:
        from moto.core.config import default_user_config

        saved = default_user_config["stepfunctions"].copy()
        self._restore_moto = lambda: default_user_config["stepfunctions"].update(saved)
        # state machines run for real (moto only pretends, by default)
        default_user_config["stepfunctions"]["execute_state_machine"] = True

    def reset(self) -> None:
        """Delete every resource; end every execution environment and background thread."""
        from moto.moto_api._internal.models import moto_api_backend

        with self._lock:
            self.clock.stop()
            for extension in self.extensions.values():
                extension.reset()
            moto_api_backend.reset()
            self.deliveries.clear()
            self.clock.restart()

    def stop(self) -> None:
        """End every execution environment and thread, and the HTTP server; idempotent."""
        global _current
        from moto.moto_api._internal.models import moto_api_backend

        with self._lock:
            if self._stopped.is_set():
                return
            self.clock.stop()
            for extension in self.extensions.values():
                extension.close()
            moto_api_backend.reset()
            if self._server is not None:
                self._server.stop()
            seams.restore()
            for name in reversed(list(self.extensions)):
                _extension(name).uninstall()
            self.extensions.clear()
            safety.uninstall()
            safety.unguard_network()
            if self._restore_moto is not None:
                self._restore_moto()
            safety.apply_environment(self._saved_environment)
            safety.forget_boto3_default_session()
            self.remove_work_dir()
            if _current is self:
                _current = None
            self._stopped.set()

    def remove_work_dir(self) -> None:
        if self._work_dir:
            shutil.rmtree(self._work_dir, ignore_errors=True)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the service has stopped."""
        return self._stopped.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def router(self) -> Router:
        """Every request's first stop, where extensions take their routes; made by start()."""
        if self._router is None:
            raise ServerError("the sandbox service has no router before start(): call start() "
                              "first; extensions are installed by it")
        return self._router

    # ---------------------------------------------------------------- views
    @property
    def lambda_runtime(self) -> LambdaRuntime:
        """The Lambda service's execution environments and event queue."""
        return cast("LambdaRuntime", self.extensions["awslambda"])

    @property
    def iam(self) -> Enforcer:
        """IAM as the sandbox enforces it."""
        return cast("Enforcer", self.extensions["iam"])

    def account_of_admin_key(self, access_key_id: str) -> str | None:
        """Which account's administrator holds this access key, if any."""
        for account, keys in self.admin_keys.items():
            if keys.access_key_id == access_key_id:
                return account
        return None

    def describe(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "endpoint_url": self.endpoint_url,
                "administrators": {account: {"access_key_id": keys.access_key_id,
                                             "secret_access_key": keys.secret_access_key}
                                   for account, keys in self.admin_keys.items()},
                "account_id": self.account_id, "region": self.region,
                "clock_speed": self.clock.speed, "enforce_iam": self.enforce_iam,
                "concurrency_limit": self.concurrency_limit}

    def server_log(self, size: int) -> str:
        path = os.environ.get("SANDBOX_SERVER_LOG", "")
        if not path or not os.path.exists(path):
            return ""
        with open(path, "rb") as log:
            log.seek(max(0, os.path.getsize(path) - size))
            return log.read().decode("utf-8", "replace")
