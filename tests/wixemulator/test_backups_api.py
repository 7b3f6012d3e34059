import re
import uuid

from wixemulator import services as emu
from wixemulator.models import EmuRequestLog

from .conftest import BACKUPS

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_create_answers_a_pending_on_demand_backup_listing_every_collection(wix):
    answer = wix.call("POST", BACKUPS, json={})

    assert answer.status_code == 200
    assert answer.headers["X-Wix-Request-Id"]
    backup = answer.json()["backup"]
    uuid.UUID(backup["id"])
    assert backup["status"] == "PENDING"
    assert backup["type"] == "ON_DEMAND"
    assert TIMESTAMP.match(backup["requestedDate"])
    assert backup["finishedDate"] is None
    assert backup["sizeInBytes"] is None
    assert backup["deletedDate"] is None
    # The site's own collections; a Wix app's collection (Stores/Products) is the app's.
    assert backup["collections"] == [
        {"id": "BlogPosts", "displayName": "Blog Posts"},
        {"id": "Customers", "displayName": "Customers"},
        {"id": "Events", "displayName": "Events"},
        {"id": "Products", "displayName": "Products"},
    ]


def test_create_ignores_whatever_body_it_is_sent(wix):
    answer = wix.call("POST", BACKUPS, data=b"not json at all")
    assert answer.status_code == 200
    assert answer.json()["backup"]["status"] == "PENDING"


def test_backup_turns_ready_on_the_clock_with_its_real_size_as_a_string(wix):
    created = wix.create_backup()
    assert wix.backup(created["id"])["status"] == "PENDING"

    wix.wait()
    ready = wix.backup(created["id"])

    assert ready["status"] == "READY"
    assert TIMESTAMP.match(ready["startedDate"])
    assert TIMESTAMP.match(ready["finishedDate"])
    assert ready["sizeInBytes"].isdigit()
    # The size is that of the snapshot: the demo store holds a few hundred items.
    assert 20_000 < int(ready["sizeInBytes"]) < 200_000


def test_size_follows_the_content(wix):
    small = wix.create_backup()
    for item in list(emu.EmuItem.objects.filter(collection__site_id=wix.creds.site_id)[:100]):
        item.delete()
    smaller = wix.create_backup()
    wix.wait()
    assert int(wix.backup(smaller["id"])["sizeInBytes"]) < int(
        wix.backup(small["id"])["sizeInBytes"]
    )


def test_list_is_newest_first_with_paging_metadata(wix):
    ids = [wix.create_backup()["id"] for _ in range(3)]
    answer = wix.call("GET", BACKUPS, params={"paging.limit": 2, "paging.offset": 0}).json()

    assert [b["id"] for b in answer["backups"]] == [ids[2], ids[1]]
    assert answer["pagingMetadata"] == {"count": 2, "offset": 0, "total": 3}

    second = wix.call("GET", BACKUPS, params={"paging.limit": 2, "paging.offset": 2}).json()
    assert [b["id"] for b in second["backups"]] == [ids[0]]
    assert second["pagingMetadata"] == {"count": 1, "offset": 2, "total": 3}


def test_list_filters_on_repeated_status_and_type_keys(wix):
    first = wix.create_backup()
    wix.wait()
    second = wix.create_backup()
    emu.take_auto_backup(wix.creds.site_id)

    ready = wix.call("GET", f"{BACKUPS}?status=READY").json()["backups"]
    assert [b["id"] for b in ready] == [first["id"]]

    both = wix.call("GET", f"{BACKUPS}?status=READY&status=PENDING&type=ON_DEMAND").json()
    assert {b["id"] for b in both["backups"]} == {first["id"], second["id"]}
    assert both["pagingMetadata"]["total"] == 2

    auto = wix.call("GET", f"{BACKUPS}?type=AUTO").json()["backups"]
    assert [b["type"] for b in auto] == ["AUTO"]


def test_default_page_is_50(wix):
    for _ in range(55):
        emu.take_auto_backup(wix.creds.site_id)
    answer = wix.call("GET", BACKUPS).json()
    assert answer["pagingMetadata"] == {"count": 50, "offset": 0, "total": 55}


def test_a_fourth_on_demand_backup_evicts_the_oldest_at_once(wix):
    first, second, third = (wix.create_backup() for _ in range(3))
    wix.wait()
    auto = emu.take_auto_backup(wix.creds.site_id)

    fourth = wix.create_backup()

    statuses = {b["id"]: b["status"] for b in wix.backups(**{"paging.limit": 100})}
    assert statuses[first["id"]] == "DELETED"
    assert statuses[second["id"]] == "READY"
    assert statuses[third["id"]] == "READY"
    assert statuses[fourth["id"]] == "PENDING"
    assert statuses[str(auto.id)] in {"PENDING", "READY"}  # AUTO never counts, never evicted
    evicted = wix.backup(first["id"])
    assert TIMESTAMP.match(evicted["deletedDate"])


def test_failed_backups_do_not_hold_a_slot(wix):
    emu.set_faults(wix.creds.site_id, fail_rate=1.0)
    failed = wix.create_backup()
    emu.set_faults(wix.creds.site_id)
    wix.wait()
    assert wix.backup(failed["id"])["status"] == "FAILED"
    assert wix.backup(failed["id"])["sizeInBytes"] is None
    kept = [wix.create_backup() for _ in range(3)]
    statuses = {b["id"]: b["status"] for b in wix.backups()}
    assert all(statuses[b["id"]] == "PENDING" for b in kept)
    assert statuses[failed["id"]] == "FAILED"


def test_delete_answers_empty_and_the_backup_turns_deleted_after_the_delay(wix):
    backup = wix.create_backup()
    wix.wait()

    answer = wix.delete(backup["id"])

    assert answer.status_code == 200
    assert answer.json() == {}
    assert wix.backup(backup["id"])["status"] == "READY"  # the delete delay has not passed
    wix.wait()
    deleted = wix.backup(backup["id"])
    assert deleted["status"] == "DELETED"
    assert TIMESTAMP.match(deleted["deletedDate"])
    # Deleting again changes nothing and is not an error.
    assert wix.delete(backup["id"]).status_code == 200


def test_a_deleted_backup_frees_its_slot(wix):
    first, second, third = (wix.create_backup() for _ in range(3))
    wix.wait()
    wix.delete(second["id"])
    wix.create_backup()
    statuses = {b["id"]: b["status"] for b in wix.backups()}
    assert statuses[first["id"]] == "READY"  # not evicted: the deleted one freed a slot
    assert statuses[third["id"]] == "READY"


def test_delete_of_a_pending_backup_is_refused_as_in_use(wix):
    backup = wix.create_backup()
    answer = wix.delete(backup["id"])
    assert answer.status_code == 428
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_IN_USE"
    assert wix.backup(backup["id"])["status"] == "PENDING"


def test_unknown_backup_is_404_backup_not_found(wix):
    answer = wix.delete(str(uuid.uuid4()))
    assert answer.status_code == 404
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_FOUND"
    assert answer.headers["X-Wix-Request-Id"]


def test_auto_backups_appear_every_seven_days_and_only_four_are_kept(wix):
    wix.wait(7 * 86400 + 60)
    autos = wix.backups(type="AUTO")
    assert len(autos) == 1
    assert autos[0]["status"] == "READY"

    wix.wait(5 * 7 * 86400)
    autos = wix.backups(type="AUTO")
    assert len(autos) == 6
    assert [b["status"] for b in autos] == ["READY"] * 4 + ["DELETED"] * 2


def test_every_request_is_logged_for_its_site(wix):
    wix.create_backup()
    wix.backups()
    logged = list(
        EmuRequestLog.objects.filter(site_id=wix.creds.site_id).values_list("method", "status")
    )
    assert logged == [("POST", 200), ("GET", 200)]
