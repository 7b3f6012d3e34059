"""API key and app OAuth (contract, "Authentication"), the shared token cache, and that no secret
ever reaches a log."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache as django_cache

from wixapi import (
    ApiKeyAuth,
    AppOAuth,
    MemoryTokenCache,
    WixAuthError,
    WixNotFound,
    WixProtocolError,
    WixValidationError,
)

EMPTY_PAGE = {"backups": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}}
BACKUP = {
    "id": "8af59df8-4915-45d1-b4d3-a31592d9311c",
    "requestedDate": "2022-07-27T13:14:59.903407Z",
    "status": "PENDING",
    "type": "ON_DEMAND",
}


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def token(value: str, expires_in: int = 14400):
    return {"access_token": value, "token_type": "Bearer", "expires_in": expires_in}


def api_calls(wire):
    return [r for r in wire.requests if r.path != "/oauth2/token"]


def token_calls(wire):
    return [r for r in wire.requests if r.path == "/oauth2/token"]


def test_api_key_auth_keeps_the_key_out_of_its_repr():
    auth = ApiKeyAuth(api_key="IST.very-secret", site_id="site-1")

    assert "very-secret" not in repr(auth)
    assert "site-1" in repr(auth)


@pytest.mark.parametrize("bad", ["", "key\r\nX-Evil: 1", "key\n"])
def test_a_secret_that_could_inject_headers_is_refused(bad):
    with pytest.raises(ValueError, match="single-line"):
        ApiKeyAuth(api_key=bad, site_id="site-1")
    with pytest.raises(ValueError, match="single-line"):
        AppOAuth("app", bad, "instance")


def test_an_unknown_api_key_is_an_auth_error_and_is_not_sent_twice(wire, client):
    wire.reply(wire.error(401, message="unknown key"))

    with pytest.raises(WixAuthError):
        client.list_backups()

    assert len(wire.requests) == 1


def test_one_token_serves_many_calls(wire, make_client):
    client = make_client(auth=AppOAuth("app", "secret", "inst"))
    wire.reply(wire.json(token("tok-1")), *[wire.json(EMPTY_PAGE) for _ in range(3)])

    for _ in range(3):
        client.list_backups()

    assert len(token_calls(wire)) == 1
    assert [r.headers["authorization"] for r in api_calls(wire)] == ["tok-1"] * 3


@pytest.mark.parametrize(
    ("expires_in", "still_fresh_at", "refreshed_at"),
    [
        (14400, 14400 - 301, 14400 - 299),  # 4 hours: refreshed 5 minutes early
        (100, 89, 91),  # short-lived: refreshed a tenth of its lifetime early
    ],
)
def test_a_token_is_refreshed_shortly_before_it_expires(
    wire, make_client, expires_in, still_fresh_at, refreshed_at
):
    clock = Clock()
    start = clock.now
    client = make_client(auth=AppOAuth("app", "secret", "inst", clock=clock))
    wire.reply(
        wire.json(token("tok-1", expires_in)),
        wire.json(EMPTY_PAGE),
        wire.json(EMPTY_PAGE),
        wire.json(token("tok-2", expires_in)),
        wire.json(EMPTY_PAGE),
    )

    client.list_backups()
    clock.now = start + still_fresh_at
    client.list_backups()
    clock.now = start + refreshed_at
    client.list_backups()

    assert [r.headers["authorization"] for r in api_calls(wire)] == ["tok-1", "tok-1", "tok-2"]
    assert len(token_calls(wire)) == 2


def test_after_a_401_a_new_token_is_fetched_once_and_the_get_replayed(wire, make_client):
    client = make_client(auth=AppOAuth("app", "secret", "inst"))
    wire.reply(
        wire.json(token("revoked")),
        wire.error(401),
        wire.json(token("tok-2")),
        wire.json(EMPTY_PAGE),
    )

    assert client.list_backups().items == ()
    assert [r.headers["authorization"] for r in api_calls(wire)] == ["revoked", "tok-2"]


def test_after_a_401_a_post_is_replayed_once_because_wix_refused_it_unseen(wire, make_client):
    client = make_client(auth=AppOAuth("app", "secret", "inst"))
    wire.reply(
        wire.json(token("revoked")),
        wire.error(401),
        wire.json(token("tok-2")),
        wire.json({"backup": BACKUP}),
    )

    assert client.create_backup().id == BACKUP["id"]
    assert [(r.method, r.headers["authorization"]) for r in api_calls(wire)] == [
        ("POST", "revoked"),
        ("POST", "tok-2"),
    ]


def test_a_second_401_in_a_row_is_raised_not_looped_on(wire, make_client, sleeps):
    client = make_client(auth=AppOAuth("app", "secret", "inst"))
    wire.reply(
        wire.json(token("tok-1")),
        wire.error(401),
        wire.json(token("tok-2")),
        wire.error(401, request_id="rq-401"),
    )

    with pytest.raises(WixAuthError) as caught:
        client.list_backups()

    assert caught.value.request_id == "rq-401"
    assert len(wire.requests) == 4
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "error_class"), [(401, WixAuthError), (400, WixValidationError)]
)
def test_refused_app_credentials_raise_without_calling_the_api(
    wire, make_client, status, error_class
):
    client = make_client(auth=AppOAuth("app", "wrong-secret", "inst"))
    wire.reply(wire.error(status, message="invalid client"))

    with pytest.raises(error_class):
        client.list_backups()

    assert api_calls(wire) == []


@pytest.mark.parametrize(
    "answer",
    [
        {"token_type": "Bearer", "expires_in": 14400},
        {"access_token": "", "expires_in": 14400},
        {"access_token": "tok\r\nX: y", "expires_in": 14400},
        {"access_token": "tok", "expires_in": 0},
        {"access_token": "tok", "expires_in": "14400"},
        {"access_token": "tok"},
        ["tok"],
    ],
)
def test_a_token_answer_off_contract_is_a_protocol_error(wire, make_client, answer):
    client = make_client(auth=AppOAuth("app", "secret", "inst"))
    wire.reply(wire.json(answer))

    with pytest.raises(WixProtocolError):
        client.list_backups()

    assert api_calls(wire) == []


def test_processes_sharing_a_cache_share_one_token(wire, make_client):
    shared = MemoryTokenCache()
    first = make_client(auth=AppOAuth("app", "secret", "inst", token_cache=shared))
    second = make_client(auth=AppOAuth("app", "secret", "inst", token_cache=shared))
    wire.reply(wire.json(token("tok-1")), wire.json(EMPTY_PAGE), wire.json(EMPTY_PAGE))

    first.list_backups()
    second.list_backups()

    assert len(token_calls(wire)) == 1


def test_djangos_cache_serves_as_the_token_cache(wire, make_client):
    django_cache.clear()
    auth = AppOAuth("app", "secret", "inst", token_cache=django_cache)
    client = make_client(auth=auth)
    wire.reply(wire.json(token("tok-1")), wire.json(EMPTY_PAGE))

    client.list_backups()

    entry = django_cache.get(auth.cache_key(wire.url))
    assert entry["access_token"] == "tok-1"
    django_cache.clear()


def test_after_a_401_a_token_another_process_already_renewed_is_used_without_fetching(
    wire, make_client
):
    shared = MemoryTokenCache()
    ours = AppOAuth("app", "secret", "inst", token_cache=shared)
    client = make_client(auth=ours)
    other_process = make_client(auth=AppOAuth("app", "secret", "inst", token_cache=shared))
    wire.reply(wire.json(token("old")), wire.json(EMPTY_PAGE))
    client.list_backups()
    # The other process meets a 401 with "old" first and puts "new" in the shared cache.
    wire.reply(wire.error(401), wire.json(token("new")), wire.json(EMPTY_PAGE))
    other_process.list_backups()
    fetched_so_far = len(token_calls(wire))

    # Our own request made with "old" now draws its 401.
    fresh = ours.headers_after_401(client, {"Authorization": "old"})

    assert fresh == {"Authorization": "new"}
    assert len(token_calls(wire)) == fetched_so_far == 2


def test_the_cache_key_names_base_url_app_and_instance_but_not_the_secret():
    auth = AppOAuth("app-1", "s3cr3t-value", "inst-1")

    key = auth.cache_key("https://www.wixapis.com")

    assert "s3cr3t" not in key
    assert key == AppOAuth("app-1", "other-secret", "inst-1").cache_key("https://www.wixapis.com")
    assert key != auth.cache_key("http://127.0.0.1:8000/sandbox")
    assert key != AppOAuth("app-2", "s3cr3t-value", "inst-1").cache_key("https://www.wixapis.com")
    assert key != AppOAuth("app-1", "s3cr3t-value", "inst-2").cache_key("https://www.wixapis.com")
    assert len(key) < 100 and " " not in key


@pytest.mark.parametrize(
    "garbage",
    ["tok", {"access_token": 5, "refresh_at": 1e12}, {"access_token": "tok"}, ["tok", 1e12]],
)
def test_garbage_in_the_shared_cache_is_ignored(wire, make_client, garbage):
    shared = MemoryTokenCache()
    auth = AppOAuth("app", "secret", "inst", token_cache=shared)
    client = make_client(auth=auth)
    shared.set(auth.cache_key(wire.url), garbage, None)
    wire.reply(wire.json(token("tok-1")), wire.json(EMPTY_PAGE))

    client.list_backups()

    assert api_calls(wire)[0].headers["authorization"] == "tok-1"


def test_memory_token_cache_forgets_entries_after_their_timeout():
    clock = Clock(0.0)
    cache = MemoryTokenCache(clock=clock)
    cache.set("kept", 1, None)
    cache.set("short", 2, 10)
    cache.set("never", 3, 0)

    clock.now = 9.9
    assert (cache.get("kept"), cache.get("short"), cache.get("never")) == (1, 2, None)
    clock.now = 10.0
    assert (cache.get("kept"), cache.get("short")) == (1, None)


def test_app_oauth_keeps_the_secret_out_of_its_repr():
    assert "s3cr3t" not in repr(AppOAuth("app", "s3cr3t", "inst"))


def test_a_clients_repr_names_its_base_url_and_site_but_no_secret(make_client):
    client = make_client(auth=ApiKeyAuth(api_key="IST.s3cr3t", site_id="site-9"))

    assert "site-9" in repr(client) and "127.0.0.1" in repr(client)
    assert "s3cr3t" not in repr(client)


def test_debug_log_names_method_path_status_and_request_id_but_no_secret(wire, make_client, caplog):
    client = make_client(auth=AppOAuth("app", "client-s3cr3t", "inst"))
    wire.reply(
        wire.json(token("tok-s3cr3t")),
        wire.raw(b'{"backup": {}}', 200, {"X-Wix-Request-Id": "rq-ok"}),
        wire.error(404, "BACKUP_NOT_FOUND", request_id="rq-404"),
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(WixProtocolError):
        client.create_backup()
    with pytest.raises(WixNotFound):
        client.delete_backup("11384bcd-2106-416d-8ec6-19fbb7d92c20")

    ours = [r.getMessage() for r in caplog.records if r.name == "wixapi"]
    assert any("POST /oauth2/token -> 200" in m for m in ours)
    assert any(
        "POST /wix-data/v2/backups -> 200 WixProtocolError" in m and "rq-ok" in m for m in ours
    )
    assert any("DELETE /wix-data/v2/backups/" in m and "404" in m and "rq-404" in m for m in ours)
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "wixapi")
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "s3cr3t" not in everything
