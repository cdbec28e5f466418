"""The PostgreSQL frontend/backend protocol (version 3.0), as much of it as a pooling proxy needs.

A message is a type byte, an Int32 length that counts itself, and a body ("Message Formats",
PostgreSQL documentation, chapter 53.7); the start-up packet has no type byte. The proxy reads
whole messages, looks inside only the few it must understand (start-up, authentication,
``Query``, ``Parse``, ``ReadyForQuery``, ``ErrorResponse``), and forwards the rest as bytes.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

PROTOCOL_3 = 196608  # 3 << 16
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

# SQLSTATE codes the proxy gives or reads ("PostgreSQL Error Codes", appendix A).
TOO_MANY_CONNECTIONS = "53300"
INVALID_PASSWORD = "28P01"
CONNECTION_FAILURE = "08006"
PROTOCOL_VIOLATION = "08P01"


class WireError(Exception):
    """The peer closed the connection or sent something that is not protocol 3.0."""


@dataclass
class PgError(Exception):
    """An ErrorResponse: the fields PostgreSQL sends (S severity, C SQLSTATE, M message)."""

    fields: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.fields.get("C", "")

    @property
    def message(self) -> str:
        return self.fields.get("M", "")

    def __str__(self) -> str:
        return f"{self.fields.get('S', 'ERROR')}: {self.message} (SQLSTATE {self.code})"


class Reader:
    """Whole messages from a socket, buffered: ``feed()`` what recv gave, ``messages()`` out."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()

    def fill(self) -> bool:
        """One recv into the buffer; False when the peer has closed."""
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buffer += data
        return True

    def messages(self) -> Iterator[tuple[bytes, bytes]]:
        """The complete (type, raw message) pairs buffered so far; raw includes the header."""
        while len(self.buffer) >= 5:
            length = struct.unpack_from("!i", self.buffer, 1)[0]
            if length < 4:
                raise WireError(f"a message with length {length}")
            end = 1 + length
            if len(self.buffer) < end:
                return
            raw = bytes(self.buffer[:end])
            del self.buffer[:end]
            yield raw[:1], raw

    def read_message(self) -> tuple[bytes, bytes]:
        """Block until one whole message is in: (type, body without the header)."""
        while True:
            for kind, raw in self.messages():
                return kind, raw[5:]
            if not self.fill():
                raise WireError("the connection was closed")

    def read_startup(self) -> bytes:
        """The start-up packet (no type byte): its body after the length."""
        while len(self.buffer) < 4 or len(self.buffer) < struct.unpack_from("!i", self.buffer)[0]:
            if not self.fill():
                raise WireError("the connection was closed before its start-up packet")
            if len(self.buffer) >= 4 and not 8 <= struct.unpack_from("!i", self.buffer)[0] <= 10000:
                raise WireError("a start-up packet of an impossible length")
        length = struct.unpack_from("!i", self.buffer)[0]
        body = bytes(self.buffer[4:length])
        del self.buffer[:length]
        return body


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def startup_packet(parameters: dict[str, str]) -> bytes:
    body = struct.pack("!i", PROTOCOL_3)
    for key, value in parameters.items():
        body += cstring(key) + cstring(value)
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def parse_startup(body: bytes) -> tuple[int, dict[str, str]]:
    """(protocol code, parameters) of a start-up packet's body."""
    code = struct.unpack_from("!i", body)[0]
    parameters: dict[str, str] = {}
    if code == PROTOCOL_3:
        parts = body[4:].split(b"\0")
        for key, value in zip(parts[0::2], parts[1::2], strict=False):
            if not key:
                break
            parameters[key.decode()] = value.decode()
    return code, parameters


def authentication(code: int, data: bytes = b"") -> bytes:
    return message(b"R", struct.pack("!i", code) + data)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstring(name) + cstring(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, secret))


def ready_for_query(status: bytes = b"I") -> bytes:
    return message(b"Z", status)


def error_response(code: str, text: str, severity: str = "FATAL", detail: str = "",
                   hint: str = "") -> bytes:
    body = cstring("S" + severity) + cstring("V" + severity) + cstring("C" + code)
    body += cstring("M" + text)
    if detail:
        body += cstring("D" + detail)
    if hint:
        body += cstring("H" + hint)
    return message(b"E", body + b"\0")


def parse_error(body: bytes) -> PgError:
    fields: dict[str, str] = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return PgError(fields)


def query_text(kind: bytes, raw: bytes) -> tuple[str, str]:
    """(statement name, SQL) of a Query ('Q', no name) or Parse ('P') message."""
    body = raw[5:]
    if kind == b"Q":
        return "", body.split(b"\0", 1)[0].decode(errors="replace")
    name, _, rest = body.partition(b"\0")
    return name.decode(errors="replace"), rest.split(b"\0", 1)[0].decode(errors="replace")


def send_all(sock: socket.socket, data: bytes) -> None:
    sock.sendall(data)
