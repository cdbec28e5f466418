"""A background deliverer: the producer's call hands an event over and answers at once.

S3 and SNS deliver after the request that caused the event has answered (S3 User Guide,
"Amazon S3 Event Notifications": notifications are delivered asynchronously, typically within
seconds; SNS answers ``Publish`` once it has stored the message). moto delivers inside the
producer's call, so a slow destination made ``PutObject`` and ``Publish`` slow. Each service
that delivers keeps one :class:`Deliverer`: one thread that runs the deliveries handed to it in
the order they came (an SNS FIFO topic's order is kept), registered with the service's record of
deliveries so that ``sb.settle()`` waits for it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..server.service import SandboxService

log = logging.getLogger(__name__)


class Deliverer:
    def __init__(self, sandbox: SandboxService, name: str):
        self.name = name
        self._jobs: deque[Callable[[], None]] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = 0  # jobs in hand
        self._stopping = False
        self._deliveries = sandbox.deliveries
        self._deliveries.register_busy(name, self.busy)

    def put(self, job: Callable[[], None]) -> None:
        """Run ``job`` in the background, after the jobs already handed over."""
        with self._cond:
            if self._stopping:
                return
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def hold(self) -> Callable[[], None]:
        """Count as busy until the returned function is called (a delivery that runs in a
        thread of its own, such as an HTTP post with its retries)."""
        with self._cond:
            self._running += 1
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

        return release

    def busy(self) -> bool:
        with self._cond:
            return bool(self._jobs) or self._running > 0

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job = self._jobs.popleft()
                self._running += 1
            try:
                job()
            except Exception:  # one failed delivery must not stop the others
                log.exception("%s: a delivery failed", self.name)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def reset(self) -> None:
        """Forget the deliveries not yet made (the sandbox's resources are going)."""
        with self._cond:
            self._jobs.clear()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10)
        self._deliveries.unregister_busy(self.name)
