"""The sandbox: a local AWS on loopback that this process's boto3, and every handler, talks to."""

from __future__ import annotations

import importlib
import os
import tempfile
import threading
from typing import Any

from .clock import DEFAULT_SPEED, Clock
from .errors import SandboxStoppedError

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ACCESS_KEY_ID = "AKIASANDBOXLEARNER01"  # the notebook's identity; not a real key
SECRET_ACCESS_KEY = "sandbox-secret-access-key"

# Variables that could send a boto3 request elsewhere than the sandbox, or change who sends it.
_CLEARED_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy",
)

# The service extensions: modules of this package, each with install(sandbox) -> a state object
# that has reset() and close(), and uninstall(); they hook moto by rows of sandbox/seams.py.
EXTENSIONS = [
    "iam",  # first: its hook decides every request before the other routes and moto see it
    "awslambda",
    "logs",
    "apigateway",
    "stepfunctions",
]

_lock = threading.RLock()
_current: Sandbox | None = None


def start(*, clock_speed: float = DEFAULT_SPEED, concurrency_limit: int = 1000,
          enforce_iam: bool = True) -> Sandbox:
    """Start the sandbox, or return the one already running in this process.

    IAM is enforced as on AWS: the notebook is the account's administrator, and everything
    a function, a state machine or a service does for it is checked against its role and the
    resource's policy. ``enforce_iam=False`` allows every request (and says so)."""
    global _current
    with _lock:
        if _current is None:
            sandbox = Sandbox(clock_speed=clock_speed, concurrency_limit=concurrency_limit,
                              enforce_iam=enforce_iam)
            sandbox._start()
            _current = sandbox
        return _current


def current() -> Sandbox | None:
    """The running sandbox, if any."""
    return _current


class Sandbox:
    """A running local AWS. Use ``sandbox.start()`` to get one."""

    account_id = ACCOUNT_ID
    region = REGION

    def __init__(self, *, clock_speed: float, concurrency_limit: int,
                 enforce_iam: bool = True):
        self.clock = Clock(clock_speed)
        self.enforce_iam = enforce_iam
        self.concurrency_limit = concurrency_limit
        self.endpoint_url = ""
        self._server: Any = None
        self._saved_environment: dict[str, str | None] = {}
        self._work_dir = ""
        self.extensions: dict[str, Any] = {}
        self._running = False
        self._restore_moto: Any = None

    # ---------------------------------------------------------------- life cycle
    def _start(self) -> None:
        from . import safety

        safety.check_botocore()
        from .server import Server

        self._work_dir = tempfile.mkdtemp(prefix="serverless-sandbox-")
        self._server = Server()
        self.endpoint_url = self._server.url
        self._point_boto3_here()
        safety.install()
        self._configure_moto()
        for name in EXTENSIONS:
            self.extensions[name] = importlib.import_module(f".{name}", __package__).install(self)
        from . import seams

        seams.apply()  # every patch of moto, declared in sandbox/seams.py
        self._running = True
        _register_magic()

    def _point_boto3_here(self) -> None:
        """Make plain ``boto3.client("lambda")`` reach this sandbox, and nothing else."""
        empty = os.path.join(self._work_dir, "aws-config")
        open(empty, "w").close()
        wanted: dict[str, str | None] = {name: None for name in _CLEARED_VARIABLES}
        wanted.update({name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")})
        wanted.update({
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_CONFIG_FILE": empty,
            "AWS_SHARED_CREDENTIALS_FILE": empty,
            "AWS_EC2_METADATA_DISABLED": "true",
            # some operations prefix their host (StartSyncExecution: "sync-states..."):
            # botocore would put the prefix in front of 127.0.0.1, which no resolver knows
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            # moto's Step Functions engine calls other services at localhost:$MOTO_PORT
            # (moto/stepfunctions/parser/asl/utils/boto_client.py): this server
            "MOTO_PORT": self.endpoint_url.rsplit(":", 1)[1],
        })
        for name, value in wanted.items():
            self._saved_environment.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_boto3_default_session()

    def _configure_moto(self) -> None:
        from moto.core.config import default_user_config

        saved = dict(default_user_config["stepfunctions"])
        self._restore_moto = lambda: default_user_config["stepfunctions"].update(saved)
        # state machines run for real (moto only pretends, by default)
        default_user_config["stepfunctions"]["execute_state_machine"] = True

    def reset(self) -> None:
        """Delete every resource; end every execution environment and background thread."""
        self._require_running()
        self.clock.stop()
        for extension in self.extensions.values():
            extension.reset()
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.clock.restart()

    def stop(self) -> None:
        """Reset, shut the server down and restore this process's environment."""
        global _current
        with _lock:
            if not self._running:
                return
            self.clock.stop()
            for extension in self.extensions.values():
                extension.close()
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
            self._server.stop()
            from . import safety, seams

            seams.restore()
            for name in reversed(EXTENSIONS):
                importlib.import_module(f".{name}", __package__).uninstall()
            self.extensions.clear()
            safety.uninstall()
            self._restore_moto()
            for name, value in self._saved_environment.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_environment.clear()
            _forget_boto3_default_session()
            import shutil

            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._running = False
            if _current is self:
                _current = None

    def _require_running(self) -> None:
        if not self._running:
            raise SandboxStoppedError(
                "This sandbox was stopped. Start a new one with sandbox.start().")

    @property
    def lambda_runtime(self) -> Any:
        """The Lambda service's execution environments and event queue."""
        return self.extensions["awslambda"]

    @property
    def iam(self) -> Any:
        """IAM as the sandbox enforces it: ``decisions()``, ``denials()``, ``session(account)``,
        and ``enforcing`` (settable)."""
        return self.extensions["iam"]

    @property
    def running(self) -> bool:
        return self._running

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        iam = "" if self.enforce_iam else ", IAM not enforced"
        return (f"<Sandbox {state} at {self.endpoint_url} account {self.account_id} "
                f"{self.region}{iam}>")

    # ---------------------------------------------------------------- conveniences
    def api_url(self, api_id: str, stage: str) -> str:
        """The base URL that invokes a deployed REST or HTTP API stage over real HTTP:
        ``<endpoint>/restapis/<api_id>/<stage>/_user_request_``; append the resource path
        (``sb.api_url(api_id, "prod") + "/items/42"``). For an HTTP API's ``$default`` stage
        pass ``"$default"``. While the sandbox runs, ``requests`` also reaches the API at its
        AWS URL, ``https://<api_id>.execute-api.<region>.amazonaws.com/<stage>/...``."""
        self._require_running()
        return self.extensions["apigateway"].api_url(api_id, stage)

    def website_url(self, bucket: str) -> str:
        """The URL of an S3 bucket's static website (website hosting configured), served by
        the sandbox on loopback, for a browser on this machine."""
        self._require_running()
        return self.extensions["apigateway"].website_url(bucket)


def _register_magic() -> None:
    """In IPython, ``sandbox.start()`` makes ``%%lambda`` available."""
    import sys

    if "IPython" not in sys.modules:
        return
    ipython = sys.modules["IPython"].get_ipython()
    if ipython is not None:
        from .magic import register

        register(ipython)


def _forget_boto3_default_session() -> None:
    import sys

    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None
