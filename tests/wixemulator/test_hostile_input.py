import uuid

import pytest

from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuRestoration

from .conftest import BACKUPS, RESTORATIONS


def assert_wix_400(answer, field=None):
    assert answer.status_code == 400, answer.text
    assert answer.headers["X-Wix-Request-Id"]
    body = answer.json()
    assert body["message"]
    if field is not None:
        violations = body["details"]["validationError"]["fieldViolations"]
        assert violations[0]["field"] == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("paging.limit=1001", "paging.limit"),
        ("paging.limit=-1", "paging.limit"),
        ("paging.limit=ten", "paging.limit"),
        ("paging.offset=-5", "paging.offset"),
        ("status=ready", "status"),
        ("type=WEEKLY", "type"),
        ("status[]=READY", None),
    ],
)
def test_bad_list_queries_are_wix_style_400s(wix, query, field):
    answer = wix.call("GET", f"{BACKUPS}?{query}")
    if query.startswith("status[]"):
        # Unknown parameters are ignored, as on Wix: brackets are not the SDK's encoding.
        assert answer.status_code == 200
        return
    assert_wix_400(answer, field)


def test_page_of_1000_is_allowed(wix):
    assert wix.call("GET", BACKUPS, params={"paging.limit": 1000}).status_code == 200


def test_more_than_ten_statuses_is_refused(wix):
    answer = wix.call("GET", BACKUPS + "?" + "&".join(["status=READY"] * 11))
    assert_wix_400(answer, "status")


def test_a_huge_status_list_is_refused_without_a_500(wix):
    # 1,000 values fit in a request line: the emulator itself answers with Wix's format.
    answer = wix.call("GET", BACKUPS + "?" + "&".join(["status=READY"] * 1000))
    assert_wix_400(answer)
    # 10,000 do not fit in the request line Django's server accepts (64 KiB): the server refuses
    # it before the emulator runs; it must still be a 4xx, never a 500.
    answer = wix.call("GET", BACKUPS + "?" + "&".join(["status=READY"] * 10_000))
    assert 400 <= answer.status_code < 500


@pytest.mark.parametrize("body", [b"{", b"[1,2]", b'"text"', b"\xff\xfe"])
def test_bad_json_bodies_are_refused_and_change_nothing(wix, body):
    backup = wix.create_backup()
    wix.wait()
    for path in (f"{BACKUPS}/{backup['id']}/restore", f"{BACKUPS}/{backup['id']}/partial-restore"):
        answer = wix.call("POST", path, data=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert answer.json()["message"]
    assert not EmuRestoration.objects.exists()


@pytest.mark.parametrize(
    "collections",
    [
        None,
        [],
        "Products",
        [{"dataCollectionId": ""}],
        [{"dataCollectionId": 5}],
        [{"dataCollectionId": "Products", "restoreDestination": "x"}],
        [{"dataCollectionId": "Products", "restoreDestination": {"displayName": "x"}}],
        [{"dataCollectionId": "Products"}, {"dataCollectionId": "Products"}],
        [{"dataCollectionId": "Products"}] * 1001,
    ],
)
def test_bad_partial_restore_bodies_are_refused(wix, collections):
    backup = wix.create_backup()
    wix.wait()
    body = {"backupId": backup["id"]}
    if collections is not None:
        body["restorationCollections"] = collections
    answer = wix.call("POST", f"{BACKUPS}/{backup['id']}/partial-restore", json=body)
    assert_wix_400(answer)
    assert not EmuRestoration.objects.exists()


def test_a_body_backup_id_that_differs_from_the_path_is_refused(wix):
    backup = wix.create_backup()
    wix.wait()
    answer = wix.call(
        "POST", f"{BACKUPS}/{backup['id']}/restore", json={"backupId": str(uuid.uuid4())}
    )
    assert_wix_400(answer, "backupId")


@pytest.mark.parametrize("bad_id", ["123", "not-a-guid", "%00", "' OR 1=1 --"])
def test_malformed_ids_are_400_on_every_endpoint(wix, bad_id):
    for method, path in (
        ("POST", f"{BACKUPS}/{bad_id}/restore"),
        ("POST", f"{BACKUPS}/{bad_id}/partial-restore"),
        ("DELETE", f"{BACKUPS}/{bad_id}"),
    ):
        answer = wix.call(
            method, path, json={"restorationCollections": [{"dataCollectionId": "P"}]}
        )
        assert_wix_400(answer, "backupId")


def test_ids_of_another_site_are_not_found_and_untouched(wix):
    other = emu.create_site(name="Other", demo_data=False)
    emu.set_delays(other.site_id, backup_seconds=0)
    theirs = emu.take_auto_backup(other.site_id)

    for method, path in (
        ("POST", f"{BACKUPS}/{theirs.id}/restore"),
        ("DELETE", f"{BACKUPS}/{theirs.id}"),
    ):
        answer = wix.call(method, path, json={})
        assert answer.status_code == 404
        assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_FOUND"
    theirs.refresh_from_db()
    assert theirs.delete_requested_at is None
    assert not EmuRestoration.objects.exists()
    assert wix.backups() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", BACKUPS),
        ("PATCH", BACKUPS),
        ("DELETE", BACKUPS),
        ("POST", RESTORATIONS),
        ("GET", f"{BACKUPS}/{uuid.UUID(int=1)}/restore"),
        ("POST", f"{BACKUPS}/{uuid.UUID(int=1)}"),
    ],
)
def test_wrong_methods_are_wix_style_405s_that_change_nothing(wix, method, path):
    answer = wix.call(method, path, json={})
    assert answer.status_code == 405
    assert answer.headers["X-Wix-Request-Id"]
    assert answer.json()["message"]
    assert not EmuBackup.objects.exists()


def test_unknown_api_paths_are_wix_style_404s(wix):
    answer = wix.call("GET", "/wix-data/v3/whatever")
    assert answer.status_code == 404
    assert answer.headers["X-Wix-Request-Id"]
    assert answer.json()["details"]["applicationError"]["code"] == "NOT_FOUND"


def test_an_oversized_body_is_refused(wix):
    backup = wix.create_backup()
    wix.wait()
    huge = b'{"backupId": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    answer = wix.call("POST", f"{BACKUPS}/{backup['id']}/restore", data=huge)
    assert_wix_400(answer, "body")
