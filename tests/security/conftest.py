"""Fixtures of the security tests: a stand-in for a hostile host or a hostile Wix over real HTTP."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Re-exported so the flows test can drive Debian's Chromium like tests/browser does.
from tests.browser.conftest import browser, page, staff_page  # noqa: F401


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeHost:
    """An HTTP server on 127.0.0.1 that records every request and answers what it is told."""

    url: str
    requests: list[Seen] = field(default_factory=list)
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    def answer(self, status: int, body: Any, **headers: str) -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.headers = {"Content-Type": "application/json", **headers}


def _serve() -> Iterator[FakeHost]:
    host: FakeHost

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            host.requests.append(Seen(self.command, self.path, dict(self.headers)))
            self.send_response(host.status)
            for name, value in host.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(host.body)))
            self.end_headers()
            self.wfile.write(host.body)

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host = FakeHost(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_host() -> Iterator[FakeHost]:
    yield from _serve()


@pytest.fixture
def other_host() -> Iterator[FakeHost]:
    yield from _serve()
