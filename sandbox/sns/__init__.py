"""SNS: what the sandbox adds to moto's SNS.

- deliveries (``subscriptions.py``): after ``Publish`` has answered, by this service's background
  deliverer (registered as "sns", so ``sb.settle()`` waits for it), each to an endpoint whose
  policy admits the topic, as AWS formats them; Lambda subscribers through Lambda's
  asynchronous queue;
- subscription filter policies (``filters.py``), every documented operator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .deliverer import Deliverer

if TYPE_CHECKING:
    from ..server.service import SandboxService


class SNSService:
    def __init__(self, sandbox: SandboxService):
        self.sandbox = sandbox
        self.deliverer = Deliverer(sandbox, "sns")

    def reset(self) -> None:
        self.deliverer.reset()

    def close(self) -> None:
        self.deliverer.close()


def install(sandbox: SandboxService) -> SNSService:
    return SNSService(sandbox)


def uninstall() -> None:
    pass
