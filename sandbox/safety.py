"""Nothing reaches real AWS: every botocore request in this process must go to loopback.

The environment variables set by ``Sandbox`` point boto3 at the sandbox; this guard is the
second lock: a client built with another endpoint (or before ``start()``) is refused at send.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .accounts import REGION, Keys
from .errors import UnsafeEnvironmentError
from .runtime import bootstrap

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Sequence

    from _typeshed import ReadableBuffer

    # what socket.connect and socket.getaddrinfo take and give (typeshed's own, private, names)
    Address = tuple[Any, ...] | str | ReadableBuffer
    AddressInfo = Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]]

RealAWSRefused = bootstrap.RealAWSRefused
MIN_BOTOCORE = (1, 31)  # the first botocore to honour AWS_ENDPOINT_URL for every service

# Variables that could send a boto3 request elsewhere than the sandbox, or change who sends it.
CLEARED_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_CA_BUNDLE", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy",
)


def aws_environment(endpoint_url: str, config_file: str, keys: Keys) -> dict[str, str | None]:
    """The variables that make plain boto3 in a process reach the sandbox at ``endpoint_url``
    as the holder of ``keys``, and nothing else (None: the variable is unset); ``config_file``
    is an empty file."""
    wanted: dict[str, str | None] = {name: None for name in CLEARED_VARIABLES}
    wanted.update({name: None for name in os.environ if name.startswith("AWS_ENDPOINT_URL_")})
    wanted.update({
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": keys.access_key_id,
        "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": config_file,
        "AWS_SHARED_CREDENTIALS_FILE": config_file,
        "AWS_EC2_METADATA_DISABLED": "true",
        # some operations prefix their host (StartSyncExecution: "sync-states..."):
        # botocore would put the prefix in front of 127.0.0.1, which no resolver knows
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    })
    return wanted


def forget_boto3_default_session() -> None:
    """boto3's default session read the environment when it was made: make the next
    ``boto3.client()`` read it again."""
    import sys

    boto3: Any = sys.modules.get("boto3")  # untyped: mypy knows no DEFAULT_SESSION
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None


def apply_environment(wanted: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or unset, for None) these variables in this process; what they were before."""
    saved = {name: os.environ.get(name) for name in wanted}
    for name, value in wanted.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return saved


def check_botocore() -> None:
    import botocore
    import botocore.httpsession

    version = tuple(int(part) for part in botocore.__version__.split(".")[:2])
    if version < MIN_BOTOCORE:
        raise UnsafeEnvironmentError(
            f"botocore {botocore.__version__} ignores AWS_ENDPOINT_URL, so the sandbox cannot "
            "keep boto3 away from real AWS. Install the pinned versions: make lab (or pip "
            "install -e .).")
    if not callable(getattr(botocore.httpsession.URLLib3Session, "send", None)):
        raise UnsafeEnvironmentError(
            "botocore.httpsession.URLLib3Session.send is gone, so the sandbox cannot guard "
            "boto3's requests. Install the pinned botocore.")


_installed = [0]  # how many sandboxes of this process rely on the guard


def install() -> None:
    import botocore.httpsession

    _installed[0] += 1
    bootstrap.install_guard(botocore.httpsession)


def uninstall() -> None:
    import botocore.httpsession

    _installed[0] = max(0, _installed[0] - 1)
    if not _installed[0]:
        bootstrap.remove_guard(botocore.httpsession)


# ---------------------------------------------------------------- the server sends nothing away
class OffMachineRefused(ConnectionRefusedError):
    """The sandbox's server refused to open a connection to anything but loopback."""


is_loopback_host = bootstrap.is_loopback_host


_network_originals: dict[str, Callable[..., Any]] = {}


def guard_network() -> None:
    """In the sandbox's server process: every socket may connect to loopback only, and only
    loopback names are resolved, whatever moto's code tries (SNS HTTP subscriptions, EventBridge
    API destinations, Firehose HTTP endpoints post with ``requests``). A learner's handler runs
    in another process and is not guarded (README: known differences)."""
    import socket

    if _network_originals:
        return
    connect, connect_ex, getaddrinfo = (socket.socket.connect, socket.socket.connect_ex,
                                        socket.getaddrinfo)
    _network_originals.update(connect=connect, connect_ex=connect_ex, getaddrinfo=getaddrinfo)

    def refuse(address: object) -> None:
        raise OffMachineRefused(
            f"The sandbox's server never connects to another machine: {address!r} is not on "
            "loopback. Endpoints the sandbox calls (SNS HTTP subscriptions, API destinations) "
            "must be on this machine, http://127.0.0.1:<port>/...")

    def allowed(sock: socket.socket, address: Address) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # a Unix socket is this machine's
        host = address[0] if isinstance(address, tuple) else str(address)
        return is_loopback_host(str(host))

    def guarded_connect(self: socket.socket, address: Address) -> None:
        if not allowed(self, address):
            refuse(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Address) -> int:
        if not allowed(self, address):
            refuse(address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: bytes | str | None, port: bytes | str | int | None,
                            *args: int, **kwargs: int) -> AddressInfo:
        if host is not None:
            name = host.decode() if isinstance(host, bytes) else str(host)
            if not is_loopback_host(name):
                raise socket.gaierror(socket.EAI_NONAME, f"the sandbox's server resolves only "
                                      f"loopback names, not {name!r}")
        return getaddrinfo(host, port, *args, **kwargs)

    # Patched on purpose, on the class: every socket of this process is guarded. typeshed
    # declares these on the private _socket.socket, with per-platform literal families.
    socket.socket.connect = guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]


def unguard_network() -> None:
    import socket

    if not _network_originals:
        return
    # the originals, put back where guard_network patched them
    socket.socket.connect = _network_originals["connect"]  # type: ignore[method-assign]
    socket.socket.connect_ex = _network_originals["connect_ex"]  # type: ignore[method-assign]
    socket.getaddrinfo = _network_originals["getaddrinfo"]
    _network_originals.clear()
