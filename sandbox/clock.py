"""The sandbox's clock: AWS's long waits (retry delays, Wait states) without making anyone wait.

AWS retries a failed asynchronous invocation after about a minute, then two; a Step Functions
Wait state may wait an hour. The sandbox performs such waits on this clock, which runs them
``speed`` times faster than real time (default 10,000: a minute passes in 6 ms, an hour in
0.36 s). What a handler does
itself (``time.sleep`` in a function, its timeout) always takes real time.

Set it with ``sandbox.start(clock_speed=...)`` or ``sb.clock.speed = ...``; 1 is real time.
"""

from __future__ import annotations

import threading

from .errors import BadArgumentError

DEFAULT_SPEED = 10000.0


class Clock:
    def __init__(self, speed: float = DEFAULT_SPEED):
        self.speed = speed
        self._stopped = threading.Event()

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise BadArgumentError(f"clock speed must be a positive number, got {value!r}")
        self._speed = float(value)

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` of simulated time; False if the sandbox stopped meanwhile."""
        return not self._stopped.wait(max(0.0, seconds) / self._speed)

    def real_seconds(self, simulated: float) -> float:
        return simulated / self._speed

    def stop(self) -> None:
        """Wake every sleeper at once (reset and stop use it)."""
        self._stopped.set()

    def restart(self) -> None:
        self._stopped = threading.Event()

    def __repr__(self) -> str:
        return f"Clock(speed={self._speed:g})"
