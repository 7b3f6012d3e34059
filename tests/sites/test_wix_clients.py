"""`client_for` keeps one HTTP session per process and host: connections reused from task to
task, no cookie carried from one site's answer to another site's request, the environment's
proxy still honoured. Against a real HTTP server that records what reaches it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sites import wix_clients
from sites.wix_clients import client_for
from tests.factories import make_site

EMPTY_LIST = {"backups": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}}


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections open, as Wix's front ends do
    seen: list[dict] = []

    def do_GET(self) -> None:
        type(self).seen.append(
            {"path": self.path, "cookie": self.headers.get("Cookie"), "peer": self.client_address}
        )
        body = json.dumps(EMPTY_LIST).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "wix-session=from-one-site; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    server.shutdown()
    server.server_close()


def list_once(site) -> None:
    with client_for(site) as client:
        client.list_backups()


def test_tasks_reuse_one_connection_and_carry_no_cookie_between_sites(
    recorder, settings, owner, db
):
    url, seen = recorder
    settings.WIX_ALLOWED_BASE_URLS = [url]
    one = make_site(owner, "One", api_base_url=url)
    other = make_site(owner, "Other", api_base_url=url)
    list_once(one)
    list_once(other)
    list_once(one)
    assert len(seen) == 3
    assert [s["cookie"] for s in seen] == [None, None, None]
    assert len({s["peer"] for s in seen}) == 1  # one TCP connection for the three calls


def test_an_idle_connection_is_not_reused(recorder, settings, owner, db, monkeypatch):
    url, seen = recorder
    settings.WIX_ALLOWED_BASE_URLS = [url]
    monkeypatch.setattr(wix_clients, "_IDLE_SECONDS", -1.0)  # every connection counts as idle
    site = make_site(owner, api_base_url=url)
    list_once(site)
    list_once(site)
    assert len({s["peer"] for s in seen}) == 2


def test_another_thread_gets_its_own_session(recorder, settings, owner, db):
    url, _ = recorder
    settings.WIX_ALLOWED_BASE_URLS = [url]
    site = make_site(owner, api_base_url=url)
    list_once(site)
    sessions = []

    def in_thread() -> None:
        with client_for(site) as client:
            sessions.append(client._session)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    with client_for(site) as client:
        assert sessions[0] is not client._session


def test_the_environments_proxy_is_still_used(recorder, settings, owner, db, monkeypatch):
    proxy, seen = recorder
    wix = "http://wix-behind-a-proxy.invalid"
    settings.WIX_ALLOWED_BASE_URLS = [wix]
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    list_once(make_site(owner, api_base_url=wix))
    # A proxy receives the absolute URL in the request line.
    assert seen[0]["path"].startswith(wix + "/")
