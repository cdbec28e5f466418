"""The proxy's pool of database connections, bounded as RDS Proxy bounds it.

"RDS Proxy connection considerations" (RDS User Guide): the proxy opens at most
``MaxConnectionsPercent`` of the database's ``max_connections``, keeps at most
``MaxIdleConnectionsPercent`` of them idle, and a client that needs a connection while all are
in use waits up to ``ConnectionBorrowTimeout`` before the proxy gives up on it. The pool reads
``max_connections`` from the database itself (``SHOW max_connections``), so the bound follows the
server's real setting.

Connections are keyed by (user, database, start-up parameters): a connection opened for one user
is never lent to another. When the database refuses a new connection because it is full
(SQLSTATE 53300: other clients hold the rest), the pool waits for one of its own to come back,
as RDS Proxy queues rather than fail.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import wire

Key = tuple[str, str, tuple[tuple[str, str], ...]]


class BorrowTimeout(Exception):
    """No database connection came free within ConnectionBorrowTimeout."""


@dataclass
class ServerConnection:
    """One authenticated connection to the database."""

    sock: socket.socket
    key: Key
    parameters: dict[str, str] = field(default_factory=dict)
    pid: int = 0
    secret: int = 0
    closed: bool = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.sendall(wire.message(b"X"))
        except OSError:
            pass
        self.sock.close()

    def simple_query(self, sql: str) -> list[list[str | None]]:
        """Run one statement by the simple protocol; its rows as text (for the pool's own use)."""
        self.sock.sendall(wire.message(b"Q", wire.cstring(sql)))
        reader = wire.Reader(self.sock)
        rows: list[list[str | None]] = []
        failure: wire.PgError | None = None
        while True:
            kind, body = reader.read_message()
            if kind == b"D":
                count = struct.unpack_from("!h", body)[0]
                offset, row = 2, list[str | None]()
                for _ in range(count):
                    size = struct.unpack_from("!i", body, offset)[0]
                    offset += 4
                    if size < 0:
                        row.append(None)
                    else:
                        row.append(body[offset:offset + size].decode())
                        offset += size
                rows.append(row)
            elif kind == b"E":
                failure = wire.parse_error(body)
            elif kind == b"Z":
                if failure is not None:
                    raise failure
                return rows


def connect(host: str, port: int, user: str, password: str, database: str,
            parameters: dict[str, str], timeout: float = 10.0) -> ServerConnection:
    """Open and authenticate one connection (trust, cleartext, MD5 or SCRAM-SHA-256, as the
    server asks); raises wire.PgError with the server's own error when it refuses."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    startup = {"user": user, "database": database, **parameters}
    key: Key = (user, database, tuple(sorted(parameters.items())))
    connection = ServerConnection(sock, key)
    try:
        sock.sendall(wire.startup_packet(startup))
        reader = wire.Reader(sock)
        _authenticate(sock, reader, user, password)
        while True:
            kind, body = reader.read_message()
            if kind == b"S":
                name, value = body.split(b"\0")[:2]
                connection.parameters[name.decode()] = value.decode()
            elif kind == b"K":
                connection.pid, connection.secret = struct.unpack("!ii", body)
            elif kind == b"E":
                raise wire.parse_error(body)
            elif kind == b"Z":
                break
        sock.settimeout(None)
        return connection
    except BaseException:
        sock.close()
        raise


def _authenticate(sock: socket.socket, reader: wire.Reader, user: str, password: str) -> None:
    scram = None
    while True:
        kind, body = reader.read_message()
        if kind == b"E":
            raise wire.parse_error(body)
        if kind != b"R":
            raise wire.WireError(f"expected an authentication request, got {kind!r}")
        code = struct.unpack_from("!i", body)[0]
        if code == 0:
            return
        if code == 3:  # cleartext
            sock.sendall(wire.message(b"p", wire.cstring(password)))
        elif code == 5:  # MD5: md5(md5(password + user) + salt)
            inner = hashlib.md5((password + user).encode()).hexdigest().encode()
            outer = hashlib.md5(inner + body[4:8]).hexdigest()
            sock.sendall(wire.message(b"p", wire.cstring("md5" + outer)))
        elif code == 10:  # SASL: the mechanisms the server offers
            import scramp  # type: ignore[import-untyped]  # (pg8000's dependency; no py.typed)

            mechanisms = [m.decode() for m in body[4:].split(b"\0") if m]
            scram = scramp.ScramClient(mechanisms, user, password)
            first = scram.get_client_first().encode()
            sock.sendall(wire.message(b"p", wire.cstring(scram.mechanism_name)
                                      + struct.pack("!i", len(first)) + first))
        elif code == 11 and scram is not None:  # SASLContinue
            scram.set_server_first(body[4:].decode())
            sock.sendall(wire.message(b"p", scram.get_client_final().encode()))
        elif code == 12 and scram is not None:  # SASLFinal
            scram.set_server_final(body[4:].decode())
        else:
            raise wire.WireError(f"the database asked for authentication method {code}, "
                                 "which the proxy does not speak")


class Pool:
    """Database connections shared by the proxy's clients, at most ``limit()`` open at once."""

    def __init__(self, opener: Callable[[Key, str], ServerConnection],
                 limit: Callable[[], int], idle_limit: Callable[[], int],
                 borrow_timeout: Callable[[], float]):
        self.opener = opener
        self.limit = limit
        self.idle_limit = idle_limit
        self.borrow_timeout = borrow_timeout
        self.idle: list[ServerConnection] = []
        self.busy = 0  # connections lent to clients
        self.opening = 0  # connections being opened
        self.full_at: int | None = None  # the database refused a connection with this many open
        self.condition = threading.Condition()
        self.closed = False
        # The figures describe_db_proxy_targets and the tests read.
        self.borrowed_total = 0
        self.opened_total = 0
        self.timeouts = 0
        self.peak_open = 0

    @property
    def open(self) -> int:
        return len(self.idle) + self.busy + self.opening

    def _bound(self) -> int:
        bound = max(1, self.limit())
        return min(bound, self.full_at) if self.full_at else bound

    def borrow(self, key: Key, password: str) -> ServerConnection:
        """A connection for ``key``: an idle one, a new one while under the bound, or the first
        one given back; BorrowTimeout when none comes within the borrow timeout."""
        deadline = time.monotonic() + self.borrow_timeout()
        while True:
            with self.condition:
                while True:
                    if self.closed:
                        raise BorrowTimeout("the proxy is stopping")
                    for index, candidate in enumerate(self.idle):
                        if candidate.key == key:
                            del self.idle[index]
                            self.busy += 1
                            self.borrowed_total += 1
                            return candidate
                    if self.open < self._bound():
                        self.opening += 1
                        break
                    if self.idle:  # full of another user's idle connections: make room
                        self.idle.pop(0).close()
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self.timeouts += 1
                        raise BorrowTimeout()
                    self.condition.wait(remaining)
            try:
                connection = self.opener(key, password)
            except wire.PgError as error:
                with self.condition:
                    self.opening -= 1
                    if error.code != wire.TOO_MANY_CONNECTIONS or self.open == 0:
                        self.condition.notify()
                        raise
                    # The database is full (other clients hold the rest): wait for one of ours.
                    self.full_at = max(1, self.open)
                continue
            except BaseException:
                with self.condition:
                    self.opening -= 1
                    self.condition.notify()
                raise
            with self.condition:
                self.opening -= 1
                self.busy += 1
                self.borrowed_total += 1
                self.opened_total += 1
                self.peak_open = max(self.peak_open, self.open)
                self.condition.notify_all()  # the bound may have grown (max_connections known)
                return connection

    def give_back(self, connection: ServerConnection, reusable: bool) -> None:
        """Return a borrowed connection: kept idle when its session state can be shared,
        otherwise (pinned, mid-transaction, broken) closed."""
        with self.condition:
            self.busy -= 1
            if reusable and not connection.closed and not self.closed \
                    and len(self.idle) < self.idle_limit():
                self.idle.append(connection)
            else:
                connection.close()
                if self.full_at is not None:
                    self.full_at = None  # a slot came free on the database: try it again
            self.condition.notify()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            for connection in self.idle:
                connection.close()
            self.idle.clear()
            self.condition.notify_all()
