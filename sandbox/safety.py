"""Nothing reaches real AWS: every botocore request in this process must go to loopback.

The environment variables set by ``Sandbox`` point boto3 at the sandbox; this guard is the
second lock: a client built with another endpoint (or before ``start()``) is refused at send.
"""

from __future__ import annotations

from .errors import UnsafeEnvironmentError
from .runtime import bootstrap

RealAWSRefused = bootstrap.RealAWSRefused
MIN_BOTOCORE = (1, 31)  # the first botocore to honour AWS_ENDPOINT_URL for every service


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


def install() -> None:
    import botocore.httpsession

    bootstrap.install_guard(botocore.httpsession)


def uninstall() -> None:
    import botocore.httpsession

    bootstrap.remove_guard(botocore.httpsession)
