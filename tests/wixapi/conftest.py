"""A scripted HTTP server on a real local socket, for pinning exactly what the client sends and for
answers no well-behaved server gives (cut off, gigantic, trickling, dropped).

Each test queues the answers the server gives, in order; every request is recorded raw.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import socketserver
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from wixapi import ApiKeyAuth, WixBackupsClient

Action = Callable[[socket.socket], None]


@dataclass
class Captured:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


def _read_request(sock: socket.socket) -> Captured | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Captured(method, target, headers, rest[:length])


def _response(
    status: int, body: bytes, headers: dict[str, str], length: int | None = None
) -> bytes:
    lines = [f"HTTP/1.1 {status} Scripted", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --- answers ----------------------------------------------------------------------------------


def answer_json(
    body: Any = None, status: int = 200, headers: dict[str, str] | None = None
) -> Action:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return answer_raw(raw, status, {"Content-Type": "application/json", **(headers or {})})


def answer_raw(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Action:
    def act(sock: socket.socket) -> None:
        sock.sendall(_response(status, body, headers or {}, length=len(body)))

    return act


def answer_error(
    status: int,
    code: str | None = None,
    message: str = "scripted failure",
    request_id: str | None = "req-1",
    headers: dict[str, str] | None = None,
) -> Action:
    details = {"applicationError": {"code": code, "description": message, "data": {}}}
    body = {"message": message, "details": details if code else {}}
    extra = {"X-Wix-Request-Id": request_id} if request_id else {}
    return answer_json(body, status, {**extra, **(headers or {})})


def answer_cut_off(body: bytes, declared: int) -> Action:
    """Headers promise `declared` bytes; the connection closes after `body`."""

    def act(sock: socket.socket) -> None:
        sock.sendall(_response(200, body, {"Content-Type": "application/json"}, length=declared))

    return act


def answer_broken_chunks() -> Action:
    def act(sock: socket.socket) -> None:
        head = _response(200, b"", {"Transfer-Encoding": "chunked"})
        sock.sendall(head + b'10\r\n{"backups": [\r\nzz\r\n')

    return act


def answer_endless_chunks(total_bytes: int) -> Action:
    """A chunked body that goes on for `total_bytes`, with no Content-Length to refuse early."""

    def act(sock: socket.socket) -> None:
        sock.sendall(_response(200, b"", {"Transfer-Encoding": "chunked"}))
        piece = b" " * 65536
        sent = 0
        while sent < total_bytes:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        sock.sendall(b"0\r\n\r\n")

    return act


def answer_gzip_bomb(decompressed_bytes: int) -> Action:
    compressed = gzip.compress(b'{"backups": [' + b" " * decompressed_bytes + b"]}")
    return answer_raw(compressed, 200, {"Content-Encoding": "gzip"})


def answer_trickle(body: bytes, interval: float) -> Action:
    """Sends `body` one byte at a time, `interval` seconds apart."""

    def act(sock: socket.socket) -> None:
        sock.sendall(_response(200, b"", {}, length=len(body)))
        for byte in body:
            time.sleep(interval)
            sock.sendall(bytes([byte]))

    return act


def answer_headers_then_stall(seconds: float) -> Action:
    def act(sock: socket.socket) -> None:
        sock.sendall(_response(200, b"", {}, length=100))
        time.sleep(seconds)

    return act


def answer_nothing_for(seconds: float) -> Action:
    def act(sock: socket.socket) -> None:
        time.sleep(seconds)

    return act


def answer_drop() -> Action:
    """Close the connection without a word."""

    def act(sock: socket.socket) -> None:
        pass

    return act


def answer_reset() -> Action:
    """Abort the connection (TCP RST) without answering."""

    def act(sock: socket.socket) -> None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    return act


# --- the server -----------------------------------------------------------------------------


class WireServer:
    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self._script: deque[Action] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- scripting ------------------------------------------------------------------------------

    json = staticmethod(answer_json)
    raw = staticmethod(answer_raw)
    error = staticmethod(answer_error)
    cut_off = staticmethod(answer_cut_off)
    broken_chunks = staticmethod(answer_broken_chunks)
    endless_chunks = staticmethod(answer_endless_chunks)
    gzip_bomb = staticmethod(answer_gzip_bomb)
    trickle = staticmethod(answer_trickle)
    headers_then_stall = staticmethod(answer_headers_then_stall)
    nothing_for = staticmethod(answer_nothing_for)
    drop = staticmethod(answer_drop)
    reset = staticmethod(answer_reset)

    def reply(self, *actions: Action) -> None:
        with self._lock:
            self._script.extend(actions)

    @property
    def unanswered(self) -> int:
        return len(self._script)

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        try:
            captured = _read_request(sock)
        except (OSError, ValueError):
            return
        if captured is None:
            return
        with self._lock:
            self.requests.append(captured)
            action = self._script.popleft() if self._script else None
        # The client may hang up first (it gave up waiting): that is what some tests want.
        with contextlib.suppress(OSError):
            if action is None:
                sock.sendall(_response(599, b"no scripted answer", {}))
            else:
                action(sock)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer()
    yield server
    server.close()


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the client would have slept, recorded instead of slept."""
    return []


@pytest.fixture
def make_client(wire: WireServer, sleeps: list[float]) -> Iterator[Callable[..., WixBackupsClient]]:
    clients: list[WixBackupsClient] = []

    def make(**options: Any) -> WixBackupsClient:
        options.setdefault("auth", ApiKeyAuth(api_key="IST.key-secret", site_id="site-1"))
        options.setdefault("read_timeout", 5.0)
        options.setdefault("sleep", sleeps.append)
        options.setdefault("jitter", lambda: 0.5)
        client = WixBackupsClient(base_url=options.pop("base_url", wire.url), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., WixBackupsClient]) -> WixBackupsClient:
    return make_client()
