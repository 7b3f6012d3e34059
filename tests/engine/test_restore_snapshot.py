"""Restores from a snapshot, end to end: a real worker on both queues, real Redis and PostgreSQL,
the emulator over HTTP. After items are edited, deleted and added in the emulated site, each mode
must leave exactly the data it promises, write only what differs, and be undone by its Undo."""

import pytest

from sites import engine
from sites.models import Activity, Operation, RestoreRun, Snapshot
from wixemulator import services as emu
from wixemulator.models import EmuCollection, EmuItem, EmuRequestLog

from ..conftest import ready_backup, wait_finished
from ..processes import wait_for

SAVE = "/wix-data/v2/bulk/items/save"
REMOVE = "/wix-data/v2/bulk/items/remove"


def data(creds, collection: str) -> dict[str, dict]:
    """The emulated collection's items: {id: own fields}."""
    return {
        item.item_id: item.data
        for item in EmuItem.objects.filter(
            collection__site__site_id=creds.site_id, collection__collection_id=collection
        )
    }


def edit(creds, collection: str, *, change=(), delete=(), add=()) -> None:
    """What the site's owner (or its visitors) did since the snapshot."""
    items = EmuItem.objects.filter(
        collection__site__site_id=creds.site_id, collection__collection_id=collection
    )
    for item in items.filter(item_id__in=change):
        item.data = {**item.data, "title": f"edited {item.item_id}"}
        item.save(update_fields=["data"])
    items.filter(item_id__in=delete).delete()
    target = EmuCollection.objects.get(site__site_id=creds.site_id, collection_id=collection)
    for item_id in add:
        EmuItem.objects.create(collection=target, item_id=item_id, data={"title": "new"})


def calls(creds, path: str) -> int:
    return EmuRequestLog.objects.filter(
        site__site_id=creds.site_id, path__endswith=path, status=200
    ).count()


def snapshot_of(site, owner) -> Snapshot:
    operation = engine.snapshot_request(site=site, user=owner)
    (operation,) = wait_finished([operation])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    return Snapshot.objects.get(operation=operation)


def restored(operation: Operation) -> tuple[Operation, RestoreRun]:
    (operation,) = wait_finished([operation])
    return operation, RestoreRun.objects.select_related("safety").get(operation=operation)


@pytest.fixture
def edited(connect, owner):
    """A site, a snapshot of it, then 3 products edited, 2 deleted and 2 added, 1 customer
    deleted; with the data at each moment."""
    site, creds = connect("Restore")
    snapshot = snapshot_of(site, owner)
    before = {c: data(creds, c) for c in ("Products", "Customers")}
    products = sorted(before["Products"])
    edit(
        creds,
        "Products",
        change=products[:3],
        delete=products[3:5],
        add=["added-1", "added-2"],
    )
    edit(creds, "Customers", delete=sorted(before["Customers"])[:1])
    after = {c: data(creds, c) for c in ("Products", "Customers")}
    return site, creds, snapshot, before, after


def test_whole_collections_give_the_snapshot_data_exactly_and_undo_brings_back_the_edits(
    edited, owner
):
    site, creds, snapshot, before, after = edited
    operation = engine.snapshot_restore_request(
        site=site,
        snapshot=snapshot,
        mode=RestoreRun.Mode.WHOLE,
        collections=["Products", "Customers"],
        user=owner,
    )
    operation, run = restored(operation)
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    assert data(creds, "Products") == before["Products"]
    assert data(creds, "Customers") == before["Customers"]
    # Only what differs was written: one save per collection, one remove, nothing else.
    assert calls(creds, SAVE) == 2 and calls(creds, REMOVE) == 1
    assert run.counts == {
        "Customers": {"restored": 1, "reverted": 0, "removed": 0, "failed": 0},
        "Products": {"restored": 2, "reverted": 3, "removed": 2, "failed": 0},
    }
    # The safety snapshot read the edited site before the restore wrote anything.
    assert run.safety.state == Snapshot.State.COMPLETE
    assert run.safety.item_count == snapshot.item_count - 1
    entry = Activity.objects.get(operation=operation)
    assert entry.actor == owner and entry.outcome == Activity.SUCCEEDED
    assert entry.message == "Restore Customers, Products from the snapshot"
    assert entry.detail == (
        "Whole collections: Customers: 1 brought back; "
        "Products: 2 brought back, 3 reverted, 2 removed"
    )

    undo = engine.restore_undo_request(operation=operation, user=owner)
    undo, undo_run = restored(undo)
    assert undo.state == Operation.State.SUCCEEDED, undo.error
    assert undo_run.undo_of_id == operation.pk and undo_run.source == run.safety
    assert data(creds, "Products") == after["Products"]
    assert data(creds, "Customers") == after["Customers"]
    assert Activity.objects.get(operation=undo).message == (
        "Undo a restore: restore Customers, Products from the safety snapshot"
    )
    with pytest.raises(engine.OperationRefused, match="already undone"):
        engine.restore_undo_request(operation=operation, user=owner)


def test_merge_brings_back_deleted_and_changed_items_and_keeps_the_added_ones(edited, owner):
    site, creds, snapshot, before, after = edited
    operation = engine.snapshot_restore_request(
        site=site, snapshot=snapshot, mode=RestoreRun.Mode.MERGE, collections=["Products"]
    )
    operation, run = restored(operation)
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    products = data(creds, "Products")
    assert products == {
        **before["Products"],
        "added-1": {"title": "new"},
        "added-2": {"title": "new"},
    }
    assert data(creds, "Customers") == after["Customers"]  # not chosen: untouched
    assert calls(creds, SAVE) == 1 and calls(creds, REMOVE) == 0
    assert run.counts["Products"] == {"restored": 2, "reverted": 3, "removed": 0, "failed": 0}


def test_chosen_items_change_only_those(edited, owner):
    site, creds, snapshot, before, after = edited
    products = sorted(before["Products"])
    changed, deleted, untouched_change = products[0], products[3], products[1]
    operation = engine.snapshot_restore_request(
        site=site,
        snapshot=snapshot,
        mode=RestoreRun.Mode.ITEMS,
        items={"Products": [changed, deleted, "added-1"], "Customers": []},
    )
    operation, run = restored(operation)
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    now = data(creds, "Products")
    assert now[changed] == before["Products"][changed]
    assert now[deleted] == before["Products"][deleted]
    assert "added-1" not in now and now["added-2"] == {"title": "new"}
    assert now[untouched_change] == after["Products"][untouched_change]
    assert products[4] not in now
    assert data(creds, "Customers") == after["Customers"]
    assert run.collections == ["Products"]
    assert run.counts["Products"] == {"restored": 1, "reverted": 1, "removed": 1, "failed": 0}


def test_a_second_restore_of_the_site_is_refused_while_one_runs(edited, owner):
    site, creds, snapshot, _, _ = edited
    emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=0.3)
    first = engine.snapshot_restore_request(
        site=site, snapshot=snapshot, mode=RestoreRun.Mode.MERGE, collections=["Products"]
    )
    # A double click is the same restore; another restore is refused, and the log says so.
    assert (
        engine.snapshot_restore_request(
            site=site, snapshot=snapshot, mode=RestoreRun.Mode.MERGE, collections=["Products"]
        )
        == first
    )
    with pytest.raises(engine.OperationRefused, match="A restore of this site is already running"):
        engine.snapshot_restore_request(
            site=site, snapshot=snapshot, mode=RestoreRun.Mode.WHOLE, collections=["Customers"]
        )
    refused = Activity.objects.get(site=site, outcome=Activity.FAILED)
    assert refused.message == "Restore Customers from the snapshot (refused)"
    assert refused.kind == Activity.RESTORE
    emu.set_faults(creds.site_id)
    (first,) = wait_finished([first])
    assert first.state == Operation.State.SUCCEEDED, first.error


def test_a_worker_killed_and_wix_failing_mid_write_resume_without_writing_twice(
    workers, connect, owner
):
    # 300 products brought back in three calls of 100 (the workers' WBM_RESTORE_BULK_ITEMS).
    site, creds = connect("Crash")
    snapshot = snapshot_of(site, owner)
    before = data(creds, "Products")
    assert len(before) == 300
    edit(creds, "Products", delete=list(before))
    emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=0.5)
    operation = engine.snapshot_restore_request(
        site=site, snapshot=snapshot, mode=RestoreRun.Mode.WHOLE, collections=["Products"]
    )
    run = RestoreRun.objects.get(operation=operation)

    def first_call_checkpointed() -> bool:
        run.refresh_from_db()
        assert not Operation.objects.get(pk=operation.pk).is_finished
        return run.position.get("done", 0) >= 100

    wait_for(first_call_checkpointed, 120, interval=0.05, what="the first bulk call")
    workers.worker.kill()
    assert 100 <= len(data(creds, "Products")) < 300
    # Wix fails the next two calls too: the restore retries and goes on from its checkpoint.
    emu.set_faults(creds.site_id, error_rate=1.0, count=2)
    workers.worker.start()
    (operation,) = wait_finished([operation])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    assert data(creds, "Products") == before
    run.refresh_from_db()
    assert run.counts["Products"] == {"restored": 300, "reverted": 0, "removed": 0, "failed": 0}
    # The first call is never sent again; the second at most twice (when the worker died while
    # Wix was writing it: the same values again), and the failed calls wrote nothing.
    assert 3 <= calls(creds, SAVE) <= 4
    failed = EmuRequestLog.objects.filter(
        site__site_id=creds.site_id, path__endswith=SAVE, status__gte=500
    ).count()
    assert failed == 2


def test_wix_refusing_a_collection_mid_restore_says_which_items_are_left(edited, owner):
    site, creds, snapshot, before, _ = edited
    EmuCollection.objects.filter(site__site_id=creds.site_id, collection_id="Products").update(
        writable=False
    )
    operation = engine.snapshot_restore_request(
        site=site,
        snapshot=snapshot,
        mode=RestoreRun.Mode.WHOLE,
        collections=["Products", "Customers"],
    )
    operation, run = restored(operation)
    assert operation.state == Operation.State.FAILED
    # Customers comes first and was written; Products was refused: its 5 items are named.
    assert data(creds, "Customers") == before["Customers"]
    assert run.left["count"] == 7
    assert {i["collection"] for i in run.left["items"]} == {"Products"}
    assert "Not yet written: 7 of Products" in operation.error


def test_undo_of_a_wix_restore_brings_back_the_data_it_overwrote(connect, owner):
    site, creds = connect("Wix restore", backup=1, restore=1)
    backup = ready_backup(site, owner)
    before = data(creds, "Products")
    edit(creds, "Products", change=sorted(before)[:3], add=["added-1"])
    edited = data(creds, "Products")
    operation = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup
    )
    operation, run = restored(operation)
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    assert data(creds, "Products") == before  # Wix put the backup back
    # Its safety snapshot was complete before Wix was asked.
    assert run.mode == RestoreRun.Mode.WIX and run.safety.state == Snapshot.State.COMPLETE
    assert run.safety.finished_at <= operation.attempt_started_at

    undo = engine.restore_undo_request(operation=operation, user=owner)
    undo, undo_run = restored(undo)
    assert undo.state == Operation.State.SUCCEEDED, undo.error
    assert undo_run.source == run.safety and undo_run.mode == RestoreRun.Mode.WHOLE
    assert "Products" in undo_run.collections
    assert data(creds, "Products") == edited
    assert undo_run.counts["Products"] == {"restored": 1, "reverted": 3, "removed": 0, "failed": 0}


def test_an_item_wix_refuses_alone_is_named_and_the_others_are_written(connect, owner):
    site, creds = connect("Big item")
    products = EmuCollection.objects.get(site__site_id=creds.site_id, collection_id="Products")
    # Kept by the snapshot as Wix returned it, but over the 500 KB Wix takes back in a write.
    EmuItem.objects.create(collection=products, item_id="huge", data={"notes": "x" * 600_000})
    snapshot = snapshot_of(site, owner)
    before = data(creds, "Products")
    edit(creds, "Products", delete=["huge", "product-0001"])
    operation = engine.snapshot_restore_request(
        site=site, snapshot=snapshot, mode=RestoreRun.Mode.MERGE, collections=["Products"]
    )
    operation, run = restored(operation)
    assert operation.state == Operation.State.FAILED
    assert operation.error.startswith("1 item could not be written: Products huge (")
    assert "500 KB" in operation.error
    assert run.counts["Products"] == {"restored": 1, "reverted": 0, "removed": 0, "failed": 1}
    assert run.left["items"][0]["item_id"] == "huge"
    now = data(creds, "Products")
    assert now["product-0001"] == before["product-0001"] and "huge" not in now
