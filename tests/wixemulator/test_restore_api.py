import uuid

from wixemulator import services as emu
from wixemulator.models import EmuCollection

from .conftest import item_data, set_all


def ready_backup(wix):
    backup = wix.create_backup()
    wix.wait()
    return backup


def test_full_restore_brings_back_every_collection_once_completed(wix):
    site = wix.creds.site_id
    before_product = item_data(site, "Products", "product-0001")
    backup = ready_backup(wix)
    set_all(site, "Products", "stock", 0)
    set_all(site, "Customers", "orders", -1)

    answer = wix.restore(backup["id"])

    assert answer.status_code == 200
    restoration = answer.json()["restoration"]
    assert restoration["status"] == "PENDING"
    assert restoration["backup"]["id"] == backup["id"]
    assert restoration["backup"]["status"] == "READY"
    assert restoration["restorationCollections"] == [
        {"dataCollectionId": "BlogPosts"},
        {"dataCollectionId": "Customers"},
        {"dataCollectionId": "Events"},
        {"dataCollectionId": "Products"},
    ]
    # Content is replaced only when the restoration completes.
    assert item_data(site, "Products", "product-0001")["stock"] == 0

    wix.wait()
    listed = wix.restorations()
    assert [r["status"] for r in listed] == ["COMPLETED"]
    assert listed[0]["finishedDate"]
    assert item_data(site, "Products", "product-0001") == before_product
    assert item_data(site, "Customers", "customer-001")["orders"] >= 0


def test_restore_removes_items_added_after_the_backup(wix):
    site = wix.creds.site_id
    backup = ready_backup(wix)
    products = EmuCollection.objects.get(site_id=site, collection_id="Products")
    products.items.create(item_id="product-new", data={"name": "New"})
    wix.restore(backup["id"])
    wix.wait()
    wix.restorations()
    assert not products.items.filter(item_id="product-new").exists()


def test_partial_restore_restores_only_the_chosen_collections(wix):
    site = wix.creds.site_id
    original = item_data(site, "Products", "product-0007")
    backup = ready_backup(wix)
    set_all(site, "Products", "stock", -5)
    set_all(site, "Customers", "orders", -1)

    answer = wix.restore(backup["id"], [{"dataCollectionId": "Products"}])
    assert answer.status_code == 200
    assert answer.json()["restoration"]["restorationCollections"] == [
        {"dataCollectionId": "Products"}
    ]
    wix.wait()
    assert wix.restorations()[0]["status"] == "COMPLETED"

    assert item_data(site, "Products", "product-0007") == original
    assert item_data(site, "Customers", "customer-001")["orders"] == -1


def test_partial_restore_into_another_collection_leaves_the_source_alone(wix):
    site = wix.creds.site_id
    original = item_data(site, "Products", "product-0042")
    backup = ready_backup(wix)
    set_all(site, "Products", "stock", 0)

    answer = wix.restore(
        backup["id"],
        [
            {
                "dataCollectionId": "Products",
                "restoreDestination": {
                    "dataCollectionId": "ProductsRecovered",
                    "displayName": "Products (recovered)",
                },
            }
        ],
    )
    assert answer.status_code == 200
    wix.wait()
    wix.restorations()

    recovered = EmuCollection.objects.get(site_id=site, collection_id="ProductsRecovered")
    assert recovered.display_name == "Products (recovered)"
    assert recovered.items.count() == 300
    assert item_data(site, "ProductsRecovered", "product-0042") == original
    assert item_data(site, "Products", "product-0042")["stock"] == 0


def test_restore_of_a_pending_backup_is_refused_not_ready(wix):
    backup = wix.create_backup()
    answer = wix.restore(backup["id"])
    assert answer.status_code == 428
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_READY"
    assert wix.restorations() == []


def test_restore_of_a_deleted_or_failed_backup_is_refused_not_ready(wix):
    backup = ready_backup(wix)
    wix.delete(backup["id"])
    wix.wait()
    assert wix.restore(backup["id"]).status_code == 428
    emu.set_faults(wix.creds.site_id, fail_rate=1.0)
    failed = ready_backup(wix)
    answer = wix.restore(failed["id"], [{"dataCollectionId": "Products"}])
    assert answer.status_code == 428
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_READY"


def test_a_second_restoration_while_one_is_pending_is_a_conflict(wix):
    backup = ready_backup(wix)
    assert wix.restore(backup["id"]).status_code == 200
    answer = wix.restore(backup["id"], [{"dataCollectionId": "Products"}])
    assert answer.status_code == 409
    assert answer.json()["details"]["applicationError"]["code"] == "RESTORATION_IN_PROGRESS"
    assert len(wix.restorations()) == 1
    wix.wait()
    assert wix.restore(backup["id"]).status_code == 200


def test_a_backup_in_use_by_a_pending_restoration_cannot_be_deleted(wix):
    backup = ready_backup(wix)
    wix.restore(backup["id"])
    answer = wix.delete(backup["id"])
    assert answer.status_code == 428
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_IN_USE"
    wix.wait()
    assert wix.delete(backup["id"]).status_code == 200


def test_failed_restorations_change_nothing(wix):
    site = wix.creds.site_id
    backup = ready_backup(wix)
    set_all(site, "Products", "stock", 0)
    emu.set_faults(site, fail_rate=1.0)
    wix.restore(backup["id"])
    wix.wait()
    assert wix.restorations()[0]["status"] == "FAILED"
    assert item_data(site, "Products", "product-0001")["stock"] == 0


def test_restorations_list_filters_on_status_and_pages(wix):
    backup = ready_backup(wix)
    wix.restore(backup["id"])
    wix.wait()
    wix.restore(backup["id"])
    assert [r["status"] for r in wix.restorations(status="PENDING")] == ["PENDING"]
    assert [r["status"] for r in wix.restorations(status="COMPLETED")] == ["COMPLETED"]
    page = wix.call(
        "GET", "/wix-data/v2/backups/restorations", params={"paging.limit": 1, "paging.offset": 1}
    ).json()
    assert page["pagingMetadata"] == {"count": 1, "offset": 1, "total": 2}
    assert page["restorations"][0]["status"] == "COMPLETED"


def test_restore_of_a_collection_not_in_the_backup_is_invalid(wix):
    backup = ready_backup(wix)
    answer = wix.restore(backup["id"], [{"dataCollectionId": "Nope"}])
    assert answer.status_code == 400
    violation = answer.json()["details"]["validationError"]["fieldViolations"][0]
    assert violation["field"] == "restorationCollections[0].dataCollectionId"
    assert wix.restorations() == []


def test_unknown_backup_restore_is_404(wix):
    answer = wix.restore(str(uuid.uuid4()))
    assert answer.status_code == 404
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_FOUND"


def test_it_refuses_restore_of_a_backup_being_deleted(wix):
    backup = ready_backup(wix)
    assert wix.delete(backup["id"]).status_code == 200
    assert wix.backup(backup["id"])["status"] == "READY"  # the delete is still under way

    for answer in (
        wix.restore(backup["id"]),
        wix.restore(backup["id"], [{"dataCollectionId": "Products"}]),
    ):
        assert answer.status_code == 428
        assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_READY"
    assert wix.restorations() == []


def test_it_refuses_restore_of_a_deleted_backup(wix):
    backup = ready_backup(wix)
    wix.delete(backup["id"])
    wix.wait()
    assert wix.backup(backup["id"])["status"] == "DELETED"
    answer = wix.restore(backup["id"])
    assert answer.status_code == 428
    assert answer.json()["details"]["applicationError"]["code"] == "BACKUP_NOT_READY"
