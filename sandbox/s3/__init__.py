"""S3: what the sandbox adds to moto's S3.

- the static website endpoint (``website.py``): moto stores a bucket's website configuration
  but serves no website; the sandbox's router hands website requests here.
- event notifications (``notifications.py``), delivered in the background by this service's
  deliverer (registered as "s3-notifications", so ``sb.settle()`` waits for it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sns.deliverer import Deliverer
from . import website

if TYPE_CHECKING:
    from ..server.service import SandboxService

WEBSITE = "website"  # the router's name for website requests (sandbox/server/router.py)


class S3Service:
    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        sandbox.router.serve(WEBSITE, website.route)
        self.deliverer = Deliverer(sandbox, "s3-notifications")

    def reset(self) -> None:
        self.deliverer.reset()

    def close(self) -> None:
        self.deliverer.close()
        self.sandbox.router.withdraw(WEBSITE)


def install(sandbox: SandboxService) -> S3Service:
    return S3Service(sandbox)


def uninstall() -> None:
    pass
