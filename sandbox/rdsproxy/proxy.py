"""A proxy endpoint: a loopback listener speaking PostgreSQL's protocol, multiplexing its clients'
transactions onto the pool's database connections ("RDS Proxy concepts and terminology", RDS
User Guide: "transaction-level reuse", "pinning").

A client authenticates to the proxy (cleartext password: a Secrets Manager secret's password, or
an IAM authentication token, as RDS Proxy takes either); its session holds no database connection
while it is idle outside a transaction. When it sends a statement the session borrows one, and
gives it back when the database reports ReadyForQuery with status ``I`` (idle, no transaction
open) and nothing more of the client's is in flight. A statement that changes session state
other clients must not see (``SET``, ``PREPARE``, a named prepared statement, a temporary table,
``LISTEN``, ...; "Avoiding pinning an RDS Proxy", PostgreSQL section) pins the session to its
connection until the client disconnects; that connection is then closed, not reused.

Why threads, not asyncio: each client session is a short, straight-line loop (read, borrow,
forward) that blocks on its sockets, the pool's wait for a free connection is one
``threading.Condition.wait(timeout)``, and the sandbox's server is already threaded; fifty
Lambda clients are fifty threads, which costs less than the database's fifty processes would.
"""

from __future__ import annotations

import itertools
import re
import secrets
import select
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import wire
from .pool import BorrowTimeout, Key, Pool, ServerConnection

# RDS Proxy's own words when the borrow timeout expires (clients report
# "Timed-out waiting to acquire database connection"); the proxy then drops the connection.
BORROW_TIMEOUT_MESSAGE = "Timed-out waiting to acquire database connection"
BORROW_TIMEOUT_HINT = ("Every database connection the proxy may open (MaxConnectionsPercent of "
                       "max_connections) stayed in use for ConnectionBorrowTimeout. Keep "
                       "transactions short, avoid statements that pin a session, or raise "
                       "ConnectionBorrowTimeout with modify_db_proxy_target_group.")

# Statements that change session state ("Avoiding pinning an RDS Proxy", PostgreSQL):
# SET (not SET LOCAL / SET TRANSACTION, which end with the transaction), RESET, PREPARE, EXECUTE,
# DEALLOCATE, DISCARD, DECLARE (cursors), LISTEN, LOAD, temporary tables, sequences and views.
_PINNING_STATEMENT = re.compile(
    r"^\s*(?:SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS?\b)|SET\s+SESSION\b|RESET\b|PREPARE\b|"
    r"EXECUTE\b|DEALLOCATE\b|DISCARD\b|DECLARE\b|LISTEN\b|LOAD\b|"
    r"CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?TEMP(?:ORARY)?\b)", re.IGNORECASE)
# Functions whose effect outlives the transaction: sequences' session values, advisory locks,
# set_config.
_PINNING_CALL = re.compile(
    r"\b(?:nextval|setval|currval|lastval|pg_advisory_lock\w*|pg_try_advisory_lock\w*|"
    r"set_config)\s*\(", re.IGNORECASE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRINGS = re.compile(r"'(?:[^']|'')*'")


def pinning_reason(statement_name: str, sql: str) -> str | None:
    """Why this statement pins the session (RDS Proxy's reason, in words), or None."""
    if statement_name:
        return "A named prepared statement was created (extended query protocol)"
    text = _STRINGS.sub("''", _COMMENTS.sub(" ", sql))
    for statement in text.split(";"):
        found = _PINNING_STATEMENT.match(statement)
        if found:
            word = found.group(0).split()[0].upper()
            return f"A {word} statement changed the session's state"
    call = _PINNING_CALL.search(text)
    if call:
        return f"The function {call.group(0).rstrip('( ').lower()}() changes session state"
    return None


def _names_unnamed_statement(kind: bytes, raw: bytes) -> bool:
    """Whether a Bind or Describe message refers to the unnamed prepared statement."""
    body = raw[5:]
    if kind == b"D":
        return body[:2] == b"S\0"
    _portal, _, rest = body.partition(b"\0")  # Bind: portal name, then statement name
    return rest[:1] == b"\0"


class AuthFailed(Exception):
    """The client's credentials were refused; the message is what the client is told."""


# (user, password given, database) -> the password to open database connections with.
Authenticator = Callable[[str, str, str], str]


@dataclass
class Stats:
    """What a proxy has done, for describe_db_proxy_targets, the tests and the lesson."""

    clients: int = 0
    client_total: int = 0
    pinned_total: int = 0
    pin_reasons: list[str] = field(default_factory=list)


class ProxyEndpoint:
    """One proxy's listener on 127.0.0.1 and the sessions of its clients."""

    def __init__(self, name: str, target: Callable[[], tuple[str, int]],
                 authenticate: Authenticator, pool_settings: Callable[[], dict[str, Any]],
                 listener: socket.socket | None = None):
        self.name = name
        self.target = target
        self.authenticate = authenticate
        self.pool_settings = pool_settings
        self.max_connections: int | None = None  # read from the database at the first connection
        self.pool = Pool(self._open, self._limit, self._idle_limit, self._borrow_timeout)
        self.stats = Stats()
        self.server_parameters: dict[str, str] = {}
        self.sessions: dict[tuple[int, int], _Session] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        if listener is None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
        self.listener = listener
        self.listener.listen(512)
        self.host, self.port = self.listener.getsockname()[:2]
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, name=f"rdsproxy-{name}", daemon=True)
        self._thread.start()

    # -- the pool's bounds, from the target group's ConnectionPoolConfig -----------------------

    def _limit(self) -> int:
        if self.max_connections is None:
            return 1  # until the first connection has read the database's max_connections
        settings = self.pool_settings()
        return int(self.max_connections * settings["MaxConnectionsPercent"] // 100)

    def _idle_limit(self) -> int:
        settings = self.pool_settings()
        return int((self.max_connections or 100) * settings["MaxIdleConnectionsPercent"] // 100)

    def _borrow_timeout(self) -> float:
        return float(self.pool_settings()["ConnectionBorrowTimeout"])

    def _open(self, key: Key, password: str) -> ServerConnection:
        from .pool import connect

        host, port = self.target()
        user, database, parameters = key
        try:
            connection = connect(host, port, user, password, database, dict(parameters))
        except OSError as error:
            # The client hears why, as a PostgreSQL error, rather than a dropped connection.
            raise wire.PgError({"S": "FATAL", "C": wire.CONNECTION_FAILURE, "M": (
                f"The proxy could not reach its target database at {host}:{port} "
                f"({error.strerror or error}). Is the cluster available "
                "(describe_db_proxy_targets shows its health)?")}) from None
        if self.max_connections is None:
            self.max_connections = int(connection.simple_query("SHOW max_connections")[0][0] or 0)
        if not self.server_parameters:
            self.server_parameters = dict(connection.parameters)
        init_query = self.pool_settings().get("InitQuery")
        if init_query:
            connection.simple_query(str(init_query))
        return connection

    # -- the listener ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name=f"rdsproxy-{self.name}-client").start()

    def _serve(self, client: socket.socket) -> None:
        session = _Session(self, client)
        try:
            session.run()
        except (OSError, wire.WireError):
            pass
        finally:
            session.finish()

    def stop(self) -> None:
        """Stop listening, drop every client, close every database connection."""
        self._stopping = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self._lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            session.drop()
        self.pool.close()

    def cancel(self, pid: int, secret: int) -> None:
        """A CancelRequest from a client: passed to the database connection its session holds."""
        with self._lock:
            session = self.sessions.get((pid, secret))
        held = session.server if session else None
        if held is None:
            return
        host, port = self.target()
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(struct.pack("!iiii", 16, wire.CANCEL_REQUEST, held.pid, held.secret))


class _Session:
    """One client connection to the proxy."""

    def __init__(self, proxy: ProxyEndpoint, client: socket.socket):
        self.proxy = proxy
        self.client = client
        self.reader = wire.Reader(client)
        self.server: ServerConnection | None = None
        self.server_reader: wire.Reader | None = None
        self.key: Key | None = None
        self.password = ""
        self.pinned: str | None = None
        self.in_flight = 0  # Sync / Query / FunctionCall sent, ReadyForQuery not yet back
        self.unsynced = False  # extended-protocol messages sent since the last Sync
        self.transaction = b"I"
        self.discarding = False
        self.unnamed_parse: bytes | None = None  # the client's last Parse of the unnamed statement
        self.unnamed_here = False  # ... sent on the connection it holds now
        self.hidden_parse_completes = 0
        self.ident = (0, 0)
        self.counted = False

    def run(self) -> None:
        parameters = self._startup()
        if parameters is None:
            return
        user = parameters.pop("user", "")
        database = parameters.pop("database", user)
        parameters.pop("application_name", None)  # per client; not a reason for another pool
        parameters.pop("replication", None)
        self.key = (user, database, tuple(sorted(parameters.items())))
        self.client.sendall(wire.authentication(3))  # AuthenticationCleartextPassword
        kind, body = self.reader.read_message()
        if kind != b"p":
            return
        given = body.rstrip(b"\0").decode(errors="replace")
        try:
            self.password = self.proxy.authenticate(user, given, database)
        except AuthFailed as failure:
            self.client.sendall(wire.error_response(wire.INVALID_PASSWORD, str(failure)))
            return
        if not self.proxy.server_parameters:
            # The first client: open one connection to learn the server's parameters.
            try:
                self.proxy.pool.give_back(self.proxy.pool.borrow(self.key, self.password), True)
            except BorrowTimeout:
                self._refuse_borrow()
                return
            except wire.PgError as error:
                self.client.sendall(wire.error_response(error.code or wire.CONNECTION_FAILURE,
                                                        error.message))
                return
        out = wire.authentication(0)
        for name, value in self.proxy.server_parameters.items():
            out += wire.parameter_status(name, value)
        with self.proxy._lock:
            while True:
                self.ident = (next(self.proxy._ids), secrets.randbits(31))
                if self.ident not in self.proxy.sessions:
                    break
            self.proxy.sessions[self.ident] = self
            self.proxy.stats.clients += 1
            self.proxy.stats.client_total += 1
            self.counted = True
        out += wire.backend_key_data(*self.ident) + wire.ready_for_query()
        self.client.sendall(out)
        self._relay()

    def _startup(self) -> dict[str, str] | None:
        while True:
            body = self.reader.read_startup()
            code, parameters = wire.parse_startup(body)
            if code in (wire.SSL_REQUEST, wire.GSSENC_REQUEST):
                # No TLS on loopback: "N" tells the client to go on in plain text (or give up,
                # if it requires TLS); RequireTLS is accepted by the API but not enforced.
                self.client.sendall(b"N")
                continue
            if code == wire.CANCEL_REQUEST:
                pid, secret = struct.unpack_from("!ii", body, 4)
                self.proxy.cancel(pid, secret)
                return None
            if code != wire.PROTOCOL_3:
                self.client.sendall(wire.error_response(
                    wire.PROTOCOL_VIOLATION, f"unsupported frontend protocol {code >> 16}."
                    f"{code & 0xFFFF}: the proxy speaks 3.0"))
                return None
            return parameters

    def _relay(self) -> None:
        while True:
            sockets = [self.client] if self.server is None else [self.client, self.server.sock]
            readable, _, _ = select.select(sockets, [], [])
            if self.server is not None and self.server.sock in readable:
                if not self._from_server():
                    return
            if self.client in readable:
                if not self.reader.fill():
                    return
                for kind, raw in self.reader.messages():
                    if not self._from_client(kind, raw):
                        return

    def _from_client(self, kind: bytes, raw: bytes) -> bool:
        if kind == b"X":
            return False
        if self.discarding:
            # After a refused extended-protocol message, skip to the Sync, as PostgreSQL does
            # after an error ("Extended Query", protocol flow).
            if kind == b"S":
                self.discarding = False
                self.client.sendall(wire.ready_for_query(self.transaction))
            return True
        if self.server is None:
            assert self.key is not None
            try:
                self.server = self.proxy.pool.borrow(self.key, self.password)
            except (BorrowTimeout, wire.PgError) as error:
                # The statement fails and the session stays: drivers (pg8000) read an error up
                # to the next ReadyForQuery, so the client sees the message, not a dropped
                # connection.
                if isinstance(error, BorrowTimeout):
                    failure = wire.error_response(wire.CONNECTION_FAILURE, BORROW_TIMEOUT_MESSAGE,
                                                  severity="ERROR", hint=BORROW_TIMEOUT_HINT)
                else:
                    failure = wire.error_response(error.code or wire.CONNECTION_FAILURE,
                                                  error.message, severity="ERROR")
                if kind == b"S" or kind == b"Q":
                    self.client.sendall(failure + wire.ready_for_query(self.transaction))
                else:
                    self.client.sendall(failure)
                    self.discarding = True
                return True
            self.server_reader = wire.Reader(self.server.sock)
            self.unnamed_here = False
        if kind == b"P" and raw[5:6] == b"\0":
            self.unnamed_parse = raw
            self.unnamed_here = True
        elif kind in (b"B", b"D") and _names_unnamed_statement(kind, raw) \
                and not self.unnamed_here and self.unnamed_parse is not None:
            # A driver may parse the unnamed statement, Sync, then describe or bind it (pg8000
            # does): the Sync gave the connection back, so this one has not seen the Parse. It
            # is parsed again here, and its ParseComplete kept from the client.
            self.server.sock.sendall(self.unnamed_parse)
            self.unnamed_here = True
            self.hidden_parse_completes += 1
        if kind in (b"Q", b"P") and self.pinned is None:
            reason = pinning_reason(*wire.query_text(kind, raw))
            if reason:
                self.pinned = reason
                self.proxy.stats.pinned_total += 1
                self.proxy.stats.pin_reasons.append(reason)
        if kind in (b"Q", b"S", b"F"):
            self.in_flight += 1
            self.unsynced = False
        elif kind in (b"P", b"B", b"E", b"D", b"C", b"H"):
            self.unsynced = True
        self.server.sock.sendall(raw)
        return True

    def _from_server(self) -> bool:
        assert self.server is not None and self.server_reader is not None
        if not self.server_reader.fill():
            self.client.sendall(wire.error_response(
                wire.CONNECTION_FAILURE, "the proxy lost its connection to the database"))
            self.server.closed = True
            self.proxy.pool.give_back(self.server, reusable=False)
            self.server = None
            return False
        out = b""
        release = False
        for kind, raw in self.server_reader.messages():
            if kind == b"1" and self.hidden_parse_completes:
                self.hidden_parse_completes -= 1
                continue
            out += raw
            if kind == b"Z":
                self.hidden_parse_completes = 0
                self.in_flight = max(0, self.in_flight - 1)
                self.transaction = raw[5:6]
                release = (self.in_flight == 0 and not self.unsynced and self.transaction == b"I"
                           and self.pinned is None and not self.server_reader.buffer)
        if release:
            # Transaction-level reuse: the connection goes back before the client hears it is
            # idle, so its next statement may be served by any connection.
            self.proxy.pool.give_back(self.server, reusable=True)
            self.server = None
            self.server_reader = None
        self.client.sendall(out)
        return True

    def _refuse_borrow(self) -> None:
        self.client.sendall(wire.error_response(wire.CONNECTION_FAILURE, BORROW_TIMEOUT_MESSAGE,
                                                hint=BORROW_TIMEOUT_HINT))

    def drop(self) -> None:
        try:
            self.client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def finish(self) -> None:
        if self.server is not None:
            # A client gone mid-transaction or pinned leaves state behind: close, do not reuse.
            reusable = (self.pinned is None and self.transaction == b"I"
                        and self.in_flight == 0 and not self.unsynced)
            self.proxy.pool.give_back(self.server, reusable=reusable)
            self.server = None
        with self.proxy._lock:
            if self.counted:
                self.proxy.stats.clients -= 1
                self.counted = False
            self.proxy.sessions.pop(self.ident, None)
        self.client.close()
