"""Simulated time for executions: a one-hour Wait finishes in moments, its history shows an hour.

Each execution has its own timeline (``ExecutionClock``), a discrete-event clock: it follows real
time while any real work is in flight (a Task state calling a function or a service, a ``.sync``
task following a nested execution), and only when everything in flight is waiting (Wait states,
retry intervals, ``.waitForTaskToken`` tasks with a ``TimeoutSeconds`` or ``HeartbeatSeconds``)
does it run ``sandbox.clock.speed`` times faster toward the next timer (10,000 by default, so an
hour passes in 0.36 s; ``sb.clock.speed = 1`` waits in real time). Simulated time never outruns
real work: a Parallel racing a 1 s function against a 5 s Wait sees the function win, as on AWS.
History timestamps, ``stopDate``, Wait ``Timestamp`` targets, the execution's ``TimeoutSeconds``
and a Task's ``TimeoutSeconds`` and ``HeartbeatSeconds`` are read on this timeline. A task doing
real work (a Lambda handler running, a service call) keeps real time: its ``TimeoutSeconds`` is
reached after as many real seconds. moto waits for all of them in real time, with
``threading.Event.wait``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import threading
import time
from collections.abc import Iterator
from typing import Any

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_POLL = 1.0  # real seconds: the longest a sleeper goes without checking that it should go on


class ExecutionClock:
    """One execution's timeline: real time, plus the time its waits skipped.

    While a wait is in progress the timeline runs ``speed`` times faster, but never past the end
    of a wait or a timeout's deadline: it pauses there until the waiter has woken, so that the
    history shows each wait exactly as long as asked, however late the thread wakes.
    """

    def __init__(self, sandbox_clock: Any, start: datetime.datetime):
        self._speed_source = sandbox_clock
        self._cond = threading.Condition()
        self._anchor_real = time.monotonic()
        self._anchor = start.timestamp()
        self._latest = self._anchor
        self._ends: list[float] = []  # where each wait in progress ends
        self._deadlines: list[float] = []  # where each timeout in progress fires
        self._working = 0  # real work in flight (tasks running): time may not skip ahead
        self._halted = False

    # ---------------------------------------------------------------- reading
    def _rate(self) -> float:
        if self._halted:
            return 0.0
        return self._speed_source.speed if self._ends and not self._working else 1.0

    def _set_working(self, change: int) -> None:
        with self._cond:
            self._reanchor()  # the time so far accrued at the old rate
            self._working += change
            self._cond.notify_all()  # sleepers and deadlines: the rate has changed

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Real work in flight: the timeline keeps real time until it ends."""
        self._set_working(1)
        try:
            yield
        finally:
            self._set_working(-1)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Inside real work, a stretch that only waits (a callback's token): time may skip."""
        self._set_working(-1)
        try:
            yield
        finally:
            self._set_working(1)

    def _peek(self) -> float:
        at = self._anchor + (time.monotonic() - self._anchor_real) * self._rate()
        if self._ends:
            at = min([at, *self._ends, *self._deadlines])
        return at

    def _reanchor(self, at: float | None = None) -> None:
        at = self._peek() if at is None else at
        self._anchor, self._anchor_real = at, time.monotonic()

    def now(self) -> datetime.datetime:
        """The execution's current time (never earlier than a time it has already shown)."""
        with self._cond:
            self._latest = max(self._peek(), self._latest)
            return datetime.datetime.fromtimestamp(self._latest, datetime.timezone.utc)

    def halt(self) -> None:
        """The execution ended (stopped, timed out): its time stops where it is."""
        with self._cond:
            self._reanchor()
            self._halted = True
            self._cond.notify_all()

    # ---------------------------------------------------------------- waiting
    def sleep(self, env: Any, seconds: float, until: threading.Event | None = None) -> bool:
        """Wait ``seconds`` of simulated time, until the execution stops or ``until`` is set
        (the answer says whether it was)."""
        if seconds <= 0:
            return until is not None and until.is_set()
        wake = env.program_state_event if until is None else until
        with self._cond:
            self._reanchor()
            end = self._anchor + seconds
            self._ends.append(end)
            self._cond.notify_all()  # waiters with a deadline: time now runs faster
        try:
            while env.is_running() and not (until is not None and until.is_set()):
                with self._cond:
                    left = end - self._peek()
                if left <= 0:
                    break
                wake.wait(min(left / self._speed_source.speed, _POLL))
            return until is not None and until.is_set()
        finally:
            with self._cond:
                self._reanchor()
                self._ends.remove(end)
                self._cond.notify_all()

    def event(self) -> Event:
        return Event(self)

    def deadline(self, seconds: float) -> float:
        """Start a timeout of ``seconds`` of simulated time; ``wait`` for it."""
        with self._cond:
            deadline = self._peek() + seconds
            self._deadlines.append(deadline)
            return deadline

    def remaining(self, deadline: float) -> float:
        """Simulated seconds from now to ``deadline``."""
        with self._cond:
            return deadline - self._peek()

    def wait(self, event: Event, deadline: float | None, halt: bool = True) -> bool:
        """Wait until ``event`` is set, or until ``deadline``: then the execution's time is
        there (and halts there, with ``halt``), and the answer is False."""
        with self._cond:
            try:
                while not event.is_set():
                    if deadline is None:
                        self._cond.wait(_POLL)
                        continue
                    left = deadline - self._peek()
                    if left <= 0:
                        self._reanchor(deadline)
                        self._halted = halt
                        return False
                    self._cond.wait(min(left / (self._rate() or 1.0), _POLL))
                return True
            finally:
                if deadline is not None:
                    self._deadlines.remove(deadline)
                self._cond.notify_all()


class Event:
    """An event whose ``set`` wakes the clock's waiters."""

    def __init__(self, clock: ExecutionClock):
        self._clock = clock
        self._set = False

    def set(self) -> None:
        with self._clock._cond:
            self._set = True
            self._clock._cond.notify_all()

    def is_set(self) -> bool:
        return self._set


# ---------------------------------------------------------------- finding an execution's clock
def attach(env: Any, clock: ExecutionClock) -> None:
    """Put ``clock`` on an evaluation environment: its frames share the event manager."""
    env.event_manager._sandbox_clock = clock
    env.event_manager._get_current_timestamp = clock.now  # history timestamps


def clock_of(env: Any) -> ExecutionClock:
    clock = getattr(env.event_manager, "_sandbox_clock", None)
    if clock is None:  # an environment the sandbox did not start (moto's TestState API)
        from ..clock import Clock

        clock = ExecutionClock(Clock(1.0), datetime.datetime.now(datetime.timezone.utc))
        attach(env, clock)
    return clock


# ---------------------------------------------------------------- the patched moto methods
def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    """``WaitFunction._wait_interval``: a Wait state's wait, on the execution's clock."""
    clock_of(env).sleep(env, wait_seconds)


def timestamp_wait_seconds(self: Any, env: Any) -> int:
    """``Timestamp._get_wait_seconds``: seconds from the execution's now to the Timestamp.

    moto subtracts the local wall clock, without a time zone, from the UTC target
    (parser/asl/component/state/wait/wait_function/timestamp.py)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )

    self.string.eval(env=env)
    timestamp_str: str = env.stack.pop()
    timestamp = self._from_timestamp_string(timestamp=timestamp_str)
    if timestamp is None:
        raise FailureEventException(self._create_failure_event(env, timestamp_str))
    target = timestamp.replace(tzinfo=datetime.timezone.utc)
    return int((target - clock_of(env).now()).total_seconds())


def retrier_eval_body(self: Any, env: Any) -> None:
    """``RetrierDecl._eval_body`` with its interval slept on the execution's clock; moto's
    (parser/asl/component/common/retry/retrier_decl.py) calls ``time.sleep``."""
    from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import (
        MaxAttemptsOutcome,
    )
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import (
        RetrierOutcome,
    )

    self.error_equals.eval(env)
    if not env.stack.pop():
        env.stack.append(RetrierOutcome.Skipped)
        return
    self.max_attempts.eval(env=env)
    if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
        env.stack.append(RetrierOutcome.Failed)
        return
    self.interval_seconds.eval(env=env)
    self.backoff_rate.eval(env=env)
    self.max_delay_seconds.eval(env=env)
    self.jitter_strategy.eval(env=env)
    interval_seconds: float = env.stack.pop()
    clock = clock_of(env)
    # a Task's retry interval only waits: its timeline may skip ahead (state_eval_body)
    with clock.waiting() if getattr(env, "sandbox_task_at_work", False) \
            else contextlib.nullcontext():
        clock.sleep(env, interval_seconds)
    env.stack.append(RetrierOutcome.Executed)


def evaluate_with_timeout(self: Any, env: Any) -> None:
    """``ExecutionState._evaluate_with_timeout``: the task's ``TimeoutSeconds`` counted on the
    execution's clock; moto's (parser/asl/component/state/exec/execute_state.py) waits for the
    task's thread in real time. The rest is moto's."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.utils import TMP_THREADS

    self.timeout.eval(env=env)
    timeout_seconds: int = env.stack.pop()
    clock = clock_of(env)
    frame = env.open_frame()
    frame.states.reset(input_value=env.states.get_input())
    frame.stack = copy.deepcopy(env.stack)
    outputs: list[Any] = []
    failures: list[Exception] = []
    done = clock.event()
    deadline = clock.deadline(timeout_seconds)
    frame.sandbox_task_deadline = deadline  # a callback's wait ends there, not later

    def run() -> None:
        try:
            self._eval_execution(frame)
            outputs.extend(frame.stack)
        except Exception as failure:
            failures.append(failure)
        finally:
            done.set()

    worker = threading.Thread(target=run, name="sfn-task", daemon=True)
    TMP_THREADS.append(worker)
    worker.start()
    on_time = clock.wait(done, deadline, halt=False)
    frame.set_ended()
    env.close_frame(frame)
    if not on_time:  # whatever the task's thread says as it leaves
        _interrupt_callback(env)  # its waiting thread ends now, not at its own timeout
        raise EvalTimeoutError()
    if failures:
        raise failures.pop()
    env.stack.append(outputs.pop())
    if not self._is_language_query_jsonpath():
        env.states.set_result(env.stack[-1])
    if self.assign_decl:
        self.assign_decl.eval(env=env)
    if self.result_selector:
        self.result_selector.eval(env=env)
    if self.result_path:
        self.result_path.eval(env)
    else:
        env.states.reset(input_value=env.stack.pop())


def state_eval_body(original: Any) -> Any:
    """Wrap ``CommonStateField._eval_body``: a Task state, from entered to exited, is real work
    (its function or service runs in real time), so the execution's timeline keeps real time
    until it has exited; a Parallel or Map state only holds its branches, whose own states say
    whether they work or wait."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )

    @functools.wraps(original)
    def eval_body(self: Any, env: Any) -> None:
        if not isinstance(self, StateTask):
            return original(self, env)  # type: ignore[no-any-return]
        env.sandbox_task_at_work = True  # its retrier's intervals wait (retrier_eval_body)
        try:
            with clock_of(env).working():
                original(self, env)
        finally:
            env.sandbox_task_at_work = False

    return eval_body


def _interrupt_callback(env: Any) -> None:
    token = env.states.context_object.context_object_data.get("Task", {}).get("Token")
    endpoint = env.callback_pool_manager.get(token) if token else None
    if endpoint is not None:
        endpoint.interrupt_all()


def eval_wait_for_task_token(self: Any, env: Any, timeout_seconds: int, callback_endpoint: Any,
                             heartbeat_endpoint: Any) -> Any:
    """``StateTaskServiceCallback._eval_wait_for_task_token``: wait for the token on the
    execution's clock, which runs fast toward the task's ``TimeoutSeconds`` or the next
    ``HeartbeatSeconds`` (moto waits in real time). A task with neither waits in real time: its
    default timeout is 99999999 s, and nothing on its timeline is due before."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackOutcomeTimedOut,
        HeartbeatTimedOut,
    )

    clock = clock_of(env)
    deadline = getattr(env, "sandbox_task_deadline", None)
    with clock.waiting():  # waiting for a token is not work: the timeline may skip ahead
        if deadline is None or heartbeat_endpoint is None and self.timeout.is_default_value():
            callback_endpoint.wait(timeout=timeout_seconds)
        elif heartbeat_endpoint is None:
            clock.sleep(env, clock.remaining(deadline), until=callback_endpoint._notify_event)
        else:
            while env.is_running() and callback_endpoint.get_outcome() is None:
                if not _heartbeat(clock, env, heartbeat_endpoint, deadline):
                    return HeartbeatTimedOut()
    outcome = callback_endpoint.get_outcome()
    if outcome is None:
        return CallbackOutcomeTimedOut(callback_id=callback_endpoint.callback_id)
    return outcome


def _heartbeat(clock: ExecutionClock, env: Any, endpoint: Any, deadline: float) -> bool:
    """False if ``HeartbeatSeconds`` passed on the clock without a heartbeat (or the outcome);
    moto's ``HeartbeatEndpoint.clear_and_wait`` (parser/asl/eval/callback/callback.py)."""
    beat = endpoint._next_heartbeat_event
    with endpoint._mutex:
        if beat.is_set():
            beat.clear()
            return True
    left = clock.remaining(deadline)
    if left <= 0:  # the task's own timeout is due: it ends this wait, as States.Timeout
        env.program_state_event.wait(_POLL)
        return True
    if clock.sleep(env, min(endpoint._heartbeat_seconds, left), until=beat):
        return True
    return endpoint._heartbeat_seconds >= left or not env.is_running()


def program_eval(self: Any, env: Any) -> None:
    """``Program.eval``: the execution's ``TimeoutSeconds`` counted on its clock; moto's
    (parser/asl/component/program/program.py) joins the worker thread in real time."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.utils import TMP_THREADS

    timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
    env.next_state_name = self.start_at.start_at_name
    clock = clock_of(env)
    done = clock.event()
    deadline = None if timeout is None else clock.deadline(timeout)

    def run() -> None:
        try:
            EvalComponent.eval(self, env)
        finally:
            done.set()

    worker = threading.Thread(target=run, name="sfn-program", daemon=True)
    TMP_THREADS.append(worker)
    worker.start()
    if not clock.wait(done, deadline):
        env.set_timed_out()
        worker.join(5)  # it records ExecutionTimedOut as it leaves its current state


def reflect_stop_date(original: Any) -> Any:
    """Wrap ``BaseExecutionWorkerCommunication.terminated``: ``stopDate`` on the clock."""

    @functools.wraps(original)
    def terminated(self: Any) -> None:
        from .status_events import emit

        original(self)
        env = self.execution.exec_worker.env
        if env is not None:
            self.execution.stop_date = clock_of(env).now()
        emit(self.execution)  # SUCCEEDED, FAILED, TIMED_OUT or ABORTED, on the default bus

    return terminated
