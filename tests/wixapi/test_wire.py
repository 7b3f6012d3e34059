"""What goes out on the wire, byte for byte where it matters (wix-backups-api.md, "Endpoints")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from wixapi import (
    USER_AGENT,
    AppOAuth,
    BackupStatus,
    BackupType,
    RestorationStatus,
    RestoreCollection,
    WixBackupsClient,
    WixProtocolError,
)

BACKUP_ID = "11384bcd-2106-416d-8ec6-19fbb7d92c20"

READY_BACKUP = {
    "id": BACKUP_ID,
    "requestedDate": "2022-05-25T15:10:56.394Z",
    "startedDate": "2022-05-25T15:10:56.603Z",
    "finishedDate": "2022-05-25T15:10:56.913Z",
    "deletedDate": None,
    "sizeInBytes": "1584",
    "status": "READY",
    "type": "ON_DEMAND",
    "collections": [],
}
RESTORATION = {
    "id": "0bd30197-2012-4c35-a4f0-a0d5ef7ecea0",
    "requestedDate": "2022-05-26T07:17:02.209Z",
    "startedDate": None,
    "finishedDate": None,
    "backup": READY_BACKUP,
    "status": "PENDING",
    "restorationCollections": [],
}
EMPTY_BACKUPS = {"backups": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}}
EMPTY_RESTORATIONS = {"restorations": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}}


def test_create_posts_an_empty_object_to_the_backups_path(wire, client):
    wire.reply(wire.json({"backup": READY_BACKUP}))

    client.create_backup()

    (sent,) = wire.requests
    assert (sent.method, sent.target) == ("POST", "/wix-data/v2/backups")
    assert sent.body == b"{}"
    assert sent.headers["content-type"] == "application/json"


def test_every_request_carries_the_api_key_site_id_and_product_user_agent(wire, client):
    wire.reply(wire.json(EMPTY_BACKUPS))

    client.list_backups()

    headers = wire.requests[0].headers
    # The raw key, no "Bearer" prefix (contract, "Authentication").
    assert headers["authorization"] == "IST.key-secret"
    assert headers["wix-site-id"] == "site-1"
    assert headers["user-agent"] == USER_AGENT
    assert headers["user-agent"].startswith("wix-backup-manager/0.1.0 ")
    assert headers["accept"] == "application/json"


def test_list_backups_repeats_array_keys_and_flattens_paging_with_dots(wire, client):
    wire.reply(wire.json(EMPTY_BACKUPS))

    client.list_backups(
        status=[BackupStatus.READY, "PENDING"], type=[BackupType.AUTO], limit=50, offset=0
    )

    (sent,) = wire.requests
    assert sent.method == "GET"
    assert sent.target == (
        "/wix-data/v2/backups?status=READY&status=PENDING&type=AUTO&paging.limit=50&paging.offset=0"
    )
    assert sent.body == b""
    assert "content-type" not in sent.headers


def test_list_backups_leaves_out_what_is_none(wire, client):
    wire.reply(wire.json(EMPTY_BACKUPS), wire.json(EMPTY_BACKUPS))

    client.list_backups()
    client.list_backups(status=None, type=None, limit=None, offset=7)

    assert [r.target for r in wire.requests] == [
        "/wix-data/v2/backups",
        "/wix-data/v2/backups?paging.offset=7",
    ]


def test_a_lone_status_string_is_one_filter_not_one_per_letter(wire, client):
    wire.reply(wire.json(EMPTY_BACKUPS))

    client.list_backups(status="READY")

    assert wire.requests[0].query == "status=READY"


def test_restore_posts_the_id_in_path_and_body(wire, client):
    wire.reply(wire.json({"restoration": RESTORATION}))

    client.restore_backup(BACKUP_ID)

    (sent,) = wire.requests
    assert (sent.method, sent.target) == ("POST", f"/wix-data/v2/backups/{BACKUP_ID}/restore")
    assert sent.body == json.dumps({"backupId": BACKUP_ID}, separators=(",", ":")).encode()
    assert sent.headers["content-type"] == "application/json"


def test_partial_restore_sends_destinations_only_when_given(wire, client):
    wire.reply(wire.json({"restoration": RESTORATION}))

    client.restore_partial_backup(
        BACKUP_ID,
        [
            RestoreCollection("Products"),
            RestoreCollection("Orders", destination_id="OrdersCopy"),
            RestoreCollection("Stores/Members", "MembersOld", destination_display_name="Old"),
        ],
    )

    (sent,) = wire.requests
    assert (sent.method, sent.target) == (
        "POST",
        f"/wix-data/v2/backups/{BACKUP_ID}/partial-restore",
    )
    assert sent.json() == {
        "backupId": BACKUP_ID,
        "restorationCollections": [
            {"dataCollectionId": "Products"},
            {
                "dataCollectionId": "Orders",
                "restoreDestination": {"dataCollectionId": "OrdersCopy"},
            },
            {
                "dataCollectionId": "Stores/Members",
                "restoreDestination": {"dataCollectionId": "MembersOld", "displayName": "Old"},
            },
        ],
    }


def test_list_restorations_encodes_status_and_paging(wire, client):
    wire.reply(wire.json(EMPTY_RESTORATIONS))

    client.list_restorations(
        status=[RestorationStatus.PENDING, RestorationStatus.COMPLETED], limit=5, offset=10
    )

    (sent,) = wire.requests
    assert sent.method == "GET"
    assert sent.target == (
        "/wix-data/v2/backups/restorations?status=PENDING&status=COMPLETED"
        "&paging.limit=5&paging.offset=10"
    )


def test_delete_sends_the_id_in_path_and_query_and_no_body(wire, client):
    wire.reply(wire.json({}))

    assert client.delete_backup(BACKUP_ID) is None

    (sent,) = wire.requests
    assert sent.method == "DELETE"
    assert sent.target == f"/wix-data/v2/backups/{BACKUP_ID}?backupId={BACKUP_ID}"
    assert sent.body == b""


def test_base_url_path_prefix_and_trailing_slash_are_kept_as_given(wire, make_client):
    client = make_client(base_url=wire.url + "/sandbox/")
    wire.reply(wire.json(EMPTY_BACKUPS))

    client.list_backups()

    assert wire.requests[0].target == "/sandbox/wix-data/v2/backups"


@pytest.mark.parametrize(
    "hostile_id",
    [
        "../restorations",
        "a/b",
        "a?b=c",
        "a#b",
        "a%2Fb",
        "",
        " x",
        "x\r\nHost: evil",
        "restorations",
    ],
)
def test_an_id_that_could_change_the_path_is_refused_before_anything_is_sent(
    wire, client, hostile_id
):
    for call in (client.restore_backup, client.delete_backup):
        with pytest.raises(ValueError, match="not a Wix backup id"):
            call(hostile_id)
    with pytest.raises(ValueError, match="not a Wix backup id"):
        client.restore_partial_backup(hostile_id, [RestoreCollection("Products")])

    assert wire.requests == []


def test_partial_restore_refuses_an_empty_or_oversized_selection_locally(wire, client):
    with pytest.raises(ValueError, match="1 to 1000"):
        client.restore_partial_backup(BACKUP_ID, [])
    with pytest.raises(ValueError, match="1 to 1000"):
        client.restore_partial_backup(BACKUP_ID, [RestoreCollection(f"c{i}") for i in range(1001)])

    assert wire.requests == []


def test_restore_collection_refuses_a_display_name_without_destination():
    with pytest.raises(ValueError, match="destination_id"):
        RestoreCollection("Products", destination_display_name="Copy")


def test_oauth_token_request_is_the_client_credentials_json_without_authorization(
    wire, make_client
):
    client = make_client(auth=AppOAuth("app-1", "app-secret-1", "inst-1"))
    wire.reply(
        wire.json({"access_token": "tok-1", "token_type": "Bearer", "expires_in": 14400}),
        wire.json(EMPTY_BACKUPS),
    )

    client.list_backups()

    token_request, api_request = wire.requests
    assert (token_request.method, token_request.target) == ("POST", "/oauth2/token")
    assert token_request.json() == {
        "grant_type": "client_credentials",
        "client_id": "app-1",
        "client_secret": "app-secret-1",
        "instance_id": "inst-1",
    }
    assert token_request.headers["content-type"] == "application/json"
    assert "authorization" not in token_request.headers
    assert api_request.headers["authorization"] == "tok-1"
    assert "wix-site-id" not in api_request.headers


def test_a_redirect_is_not_followed_so_credentials_stay_put(wire, client):
    wire.reply(wire.raw(b"", 302, {"Location": "http://127.0.0.1:9/elsewhere"}))

    with pytest.raises(WixProtocolError, match="HTTP 302"):
        client.list_backups()

    assert len(wire.requests) == 1


@pytest.mark.parametrize("base_url", ["ftp://example.com", "www.wixapis.com", "https://", ""])
def test_a_base_url_that_is_not_http_is_refused(base_url):
    with pytest.raises(ValueError, match="base_url"):
        WixBackupsClient(base_url=base_url, auth=AppOAuth("a", "b", "c"))


def test_the_package_imports_without_django():
    code = (
        "import sys, wixapi, wixapi.transport, wixapi.backups, wixapi.data, wixapi.auth;"
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - our own interpreter
