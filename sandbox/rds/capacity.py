"""Aurora Serverless v2 capacity: a documented MODEL of ACUs following load, with auto-pause.

AWS scales an Aurora Serverless v2 instance continuously between the cluster's
``MinCapacity`` and ``MaxCapacity`` (ACUs, half-ACU steps) from CPU, memory and connections,
and, where ``MinCapacity`` is 0, pauses it after ``SecondsUntilAutoPause`` seconds without user
connections and resumes it when a connection arrives (about 15 seconds; "Scaling to Zero ACUs
with automatic pause and resume for Aurora Serverless v2"). A laptop's PostgreSQL does not grow
or shrink; the sandbox models the number instead, and says so:

- load = the server's client connections (a handler's, the Data API's, a proxy's) + the
  statements running (read from the backends' process titles, or the Data API's own count,
  whichever is higher);
- target = 0.5 + 0.5 x connections + 1 x statements running, in half-ACU steps, between
  ``MinCapacity`` (0.5 at least while not paused) and ``MaxCapacity``;
- up at once; down by half an ACU per :data:`SCALE_DOWN_SECONDS` of the sandbox clock;
- paused (0 ACU) after ``SecondsUntilAutoPause`` seconds of the sandbox clock with no
  connection when ``MinCapacity`` is 0. A Data API call then fails with
  ``DatabaseResumingException`` and starts the resume, which takes :data:`RESUME_SECONDS` of
  the sandbox clock; a direct connection also starts it, but is not delayed (the sandbox does
  not hold a connection while the server resumes: README, "Known differences").

The figure is published as CloudWatch's ``ServerlessDatabaseCapacity`` (namespace
``AWS/RDS``, dimensions ``DBClusterIdentifier`` and, per instance, ``DBInstanceIdentifier``),
one statistic set a minute as RDS sends its metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Aurora
    from .clusters import Cluster

NAMESPACE = "AWS/RDS"
METRIC = "ServerlessDatabaseCapacity"
SAMPLE_SECONDS = 0.1  # real seconds between two readings of the load
SCALE_DOWN_SECONDS = 15.0  # simulated seconds per half-ACU step down
RESUME_SECONDS = 15.0  # simulated: "resuming ... typically takes about 15 seconds"
_metric_lock = threading.Lock()


@dataclass
class Load:
    """One cluster's capacity state."""

    acu: float
    in_flight: int = 0
    connections: int = 0
    idle_since: float = field(default_factory=time.monotonic)  # real time of the last activity
    last_down: float = field(default_factory=time.monotonic)
    paused: bool = False
    resuming_until: float | None = None  # real time the resume completes
    history: list[tuple[float, float]] = field(default_factory=list)  # (time, acu) changes


def target_acu(connections: int, in_flight: int, minimum: float, maximum: float) -> float:
    """The model's capacity for a load (see the module's docstring)."""
    wanted = 0.5 + 0.5 * connections + 1.0 * in_flight
    wanted = round(wanted * 2) / 2
    return max(max(minimum, 0.5), min(maximum, wanted))


IDLE = ("idle", "idle in transaction", "idle in transaction (aborted)", "authentication")


def backends(postmaster: int) -> tuple[int, int]:
    """(client connections, of which running a statement) of the PostgreSQL server whose
    postmaster is ``postmaster``, the sandbox's own superuser's left out. Read from Linux:
    the postmaster's children (``/proc/<pid>/task/<pid>/children``) and each backend's
    process title, which PostgreSQL keeps as ``postgres: <user> <database> <host>(<port>)
    <activity>`` (``update_process_title``, on by default)."""
    from .postgres import ADMIN_USER

    try:
        with open(f"/proc/{postmaster}/task/{postmaster}/children") as listing:
            children = listing.read().split()
    except OSError:
        return 0, 0
    connections = running = 0
    for child in children:
        try:
            with open(f"/proc/{child}/cmdline", "rb") as command:
                title = command.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue  # ended meanwhile
        if not title.startswith("postgres: "):
            continue
        parts = title[len("postgres: "):].split(" ")
        at = next((i for i, part in enumerate(parts) if part.endswith(")") and "(" in part), -1)
        if at < 2 or parts[0] == ADMIN_USER:
            continue  # a background process (checkpointer, io worker, ...), or the sandbox's
        connections += 1
        if " ".join(parts[at + 1:]).strip() not in IDLE:
            running += 1
    return connections, running


class Capacity:
    """Every backed cluster's capacity, sampled by one background thread."""

    def __init__(self, aurora: Aurora):
        self.aurora = aurora
        self.loads: dict[str, Load] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the model's inputs
    def load_of(self, cluster: Cluster) -> Load:
        with self._lock:
            load = self.loads.get(cluster.arn)
            if load is None:
                load = self.loads[cluster.arn] = Load(acu=max(cluster.min_capacity, 0.5))
            if self._thread is None:
                self._thread = threading.Thread(target=self._sample_forever,
                                                name="sandbox-aurora-capacity", daemon=True)
                self._thread.start()
            return load

    @contextmanager
    def busy(self, cluster: Cluster) -> Iterator[None]:
        """A Data API statement runs on ``cluster`` meanwhile."""
        load = self.load_of(cluster)
        with self._lock:
            load.in_flight += 1
            load.idle_since = time.monotonic()
        self.sample(cluster)
        try:
            yield
        finally:
            with self._lock:
                load.in_flight -= 1
                load.idle_since = time.monotonic()

    def resume_or_raise(self, cluster: Cluster) -> None:
        """A Data API call reaching a paused cluster starts its resume and is refused with
        DatabaseResumingException, as AWS's is; once resumed, calls go through."""
        from .data import _error

        self.sample(cluster)
        load = self.load_of(cluster)
        with self._lock:
            if not load.paused:
                return
            if load.resuming_until is None:
                load.resuming_until = time.monotonic() + self._real(RESUME_SECONDS)
        raise _error("DatabaseResumingException",
                     f"The Aurora DB instance of {cluster.identifier} is resuming after a "
                     "pause (MinCapacity 0 and no connections for SecondsUntilAutoPause). "
                     "Please try your call again in a few seconds.")

    def _real(self, simulated: float) -> float:
        return float(self.aurora.service.clock.real_seconds(simulated))

    # ------------------------------------------------------------------ the model
    def sample(self, cluster: Cluster) -> float:
        """Read the load and move the capacity; the capacity now."""
        if not cluster.prepared.is_set() or cluster.error or cluster.deleted or cluster.stopped:
            return 0.0
        load = self.load_of(cluster)
        process = cluster.server.process
        connections, running = backends(process.pid) if process is not None else (0, 0)
        now = time.monotonic()
        with self._lock:
            load.connections = connections
            running = max(running, load.in_flight)
            if connections or running:
                load.idle_since = now
            if load.paused:
                if load.resuming_until is None and connections:
                    load.resuming_until = now + self._real(RESUME_SECONDS)
                if load.resuming_until is not None and now >= load.resuming_until:
                    load.paused, load.resuming_until = False, None
                    load.idle_since = now
                    load.acu = target_acu(connections, running, cluster.min_capacity,
                                          cluster.max_capacity)
                    load.last_down = now
                else:
                    load.acu = 0.0
            elif (cluster.min_capacity == 0 and not connections and not running
                  and now - load.idle_since >= self._real(cluster.seconds_until_auto_pause)):
                load.paused, load.acu = True, 0.0
            else:
                wanted = target_acu(connections, running, cluster.min_capacity,
                                    cluster.max_capacity)
                if wanted >= load.acu:
                    load.acu, load.last_down = wanted, now
                else:
                    steps = int((now - load.last_down) / self._real(SCALE_DOWN_SECONDS))
                    if steps:
                        load.acu = max(wanted, load.acu - 0.5 * steps)
                        load.last_down = now
            if not load.history or load.history[-1][1] != load.acu:
                load.history.append((time.time(), load.acu))
                del load.history[:-1000]
            acu = load.acu
        self._publish(cluster, acu)
        return acu

    def _sample_forever(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for cluster in list(self.aurora.clusters.values()):
                try:
                    self.sample(cluster)
                except Exception:  # a cluster deleted meanwhile; the next round goes on
                    pass

    def _publish(self, cluster: Cluster, acu: float) -> None:
        from moto.cloudwatch.models import MetricAggregatedDatum, cloudwatch_backends

        backend = cloudwatch_backends[cluster.account][cluster.region]
        minute = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
        dimension_sets = [[{"Name": "DBClusterIdentifier", "Value": cluster.identifier}]]
        dimension_sets += [[{"Name": "DBInstanceIdentifier", "Value": name}]
                           for name in _instances(cluster)]
        with _metric_lock:
            sets: dict[Any, Any] = backend.__dict__.setdefault("_sandbox_rds_minutes", {})
            for dimensions in dimension_sets:
                key = (minute, tuple((d["Name"], d["Value"]) for d in dimensions))
                found = sets.get(key)
                if found is None:
                    found = sets[key] = MetricAggregatedDatum(
                        NAMESPACE, METRIC, acu, acu, 0, 0.0, dimensions, minute, "None")
                    backend.metric_data.append(found)
                found.sample_count += 1
                found.sum += acu
                found.min, found.max = min(found.min, acu), max(found.max, acu)

    # ------------------------------------------------------------------ life
    def forget(self, arn: str) -> None:
        with self._lock:
            self.loads.pop(arn, None)

    def reset(self) -> None:
        with self._lock:
            self.loads.clear()

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(2)


def _instances(cluster: Cluster) -> list[str]:
    from .data import _moto_cluster

    found = _moto_cluster(cluster.arn)
    if found is None:
        return []
    return [member.db_instance_identifier for member in getattr(found, "_members", [])]
