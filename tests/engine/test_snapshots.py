"""Snapshots as operations, end to end: a real worker consuming the snapshot queue on real Redis
and PostgreSQL, the emulator over HTTP, the store a folder of the test's own."""

from pathlib import Path

from django.conf import settings

from sites import engine
from sites.models import Activity, Backup, Operation, Snapshot
from sites.snapshots import list_pending, list_snapshots, manifest_entries, read_manifest
from wixemulator import services as emu
from wixemulator.models import EmuCollection, EmuRequestLog

from ..conftest import wait_finished
from ..processes import wait_for

DEMO = {"BlogPosts": 24, "Customers": 60, "Events": 12, "Products": 300, "Stores/Products": 40}
QUERY = "/wix-data/v2/items/query"
COLLECTIONS = "/wix-data/v2/collections"


def take(site, owner) -> tuple[Operation, Snapshot]:
    operation = engine.snapshot_request(site=site, user=owner)
    (operation,) = wait_finished([operation])
    return operation, Snapshot.objects.get(operation=operation)


def data_calls(site_id: str, path: str) -> int:
    return EmuRequestLog.objects.filter(
        site__site_id=site_id, path__endswith=path, status=200
    ).count()


def progress_shown(snapshot: Snapshot) -> bool:
    snapshot.refresh_from_db()
    return snapshot.progress_items > 0


def test_a_snapshot_of_the_demo_site_completes_with_its_counts_and_activity(connect, owner):
    site, creds = connect("Demo")
    version = type(site).objects.get(pk=site.pk).version
    first = engine.snapshot_request(site=site, user=owner)
    # A second click while it runs is the same snapshot.
    assert engine.snapshot_request(site=site, user=owner) == first
    (operation,) = wait_finished([first])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    snapshot = Snapshot.objects.get(operation=operation)
    assert snapshot.state == Snapshot.State.COMPLETE and snapshot.finished_at
    assert snapshot.item_count == sum(DEMO.values()) and snapshot.collection_count == 5
    assert {c["id"]: c["items"] for c in snapshot.collections} == DEMO
    assert {c["status"] for c in snapshot.collections} == {"complete"}
    # Items, schemas, and one segment (the list of its entries) per collection.
    assert snapshot.new_bytes > 0 and snapshot.new_objects == sum(DEMO.values()) + 5 + 5
    assert (snapshot.collections_done, snapshot.collections_total) == (5, 5)
    # Wix calls: one list of collections, one query per page (every collection fits in one).
    assert data_calls(creds.site_id, COLLECTIONS) == 1
    assert data_calls(creds.site_id, QUERY) == 5
    # In storage: the site's own part of the store, the manifest written, nothing pending.
    store = engine.site_store(site.pk)
    assert store.backend.root == Path(settings.WBM_SNAPSHOT_STORAGE) / "sites" / str(site.pk)
    assert list_snapshots(store) == [snapshot.storage_id] and list_pending(store) == []
    assert read_manifest(store, snapshot.storage_id).items == snapshot.item_count
    outcomes = list(Activity.objects.filter(operation=operation).values_list("outcome", "message"))
    # One entry per action: the request's, now saying how it went.
    assert outcomes == [(Activity.SUCCEEDED, "Take a snapshot")]
    assert type(site).objects.get(pk=site.pk).version > version

    # A second snapshot of unchanged data stores nothing new: compared with the first (its
    # parent), it names the same segments and writes only its manifest.
    _, second = take(site, owner)
    assert second.state == Snapshot.State.COMPLETE
    assert second.item_count == snapshot.item_count
    assert second.new_objects == 0 and second.new_bytes == 0


def test_back_up_now_takes_a_linked_snapshot_when_the_setting_is_on(connect, owner):
    site, _ = connect("Linked")
    backup_op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    snapshot = Snapshot.objects.get(backup_operation=backup_op)
    finished = {op.kind: op for op in wait_finished([backup_op, snapshot.operation])}
    backup_op = finished[Operation.Kind.CREATE_BACKUP]
    assert {op.state for op in finished.values()} == {Operation.State.SUCCEEDED}
    snapshot.refresh_from_db()
    backup = Backup.objects.get(site=site, wix_id=backup_op.backup_wix_id)
    assert snapshot.state == Snapshot.State.COMPLETE and snapshot.backup == backup

    engine.snapshot_settings_set(site=site, user=owner, with_backup=False)
    site.refresh_from_db()
    assert site.snapshot_with_backup is False
    second = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    (second,) = wait_finished([second])
    assert second.state == Operation.State.SUCCEEDED
    assert not Snapshot.objects.filter(backup_operation=second).exists()
    assert Snapshot.objects.filter(site=site).count() == 1


def test_a_worker_killed_mid_snapshot_resumes_without_reading_finished_pages_again(
    workers, connect, owner
):
    # 5,000 more items: two pages in each native collection; slow answers keep the worker
    # inside the snapshot when it dies.
    site, creds = connect("Crash", items=5000)
    emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=0.5)
    operation = engine.snapshot_request(site=site, user=owner)
    snapshot = Snapshot.objects.get(operation=operation)
    wait_for(lambda: progress_shown(snapshot), 60, what="a first page checkpointed")
    workers.worker.kill()
    snapshot.refresh_from_db()
    assert snapshot.state == Snapshot.State.RUNNING
    before = data_calls(creds.site_id, QUERY)
    emu.set_faults(creds.site_id)
    workers.worker.start()

    (operation,) = wait_finished([operation])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    snapshot.refresh_from_db()
    counts = {c["id"]: c["items"] for c in snapshot.collections}
    assert counts == {k: v + (1250 if k != "Stores/Products" else 0) for k, v in DEMO.items()}
    pages = sum(-(-n // (100 if k == "Stores/Products" else 1000)) for k, n in counts.items())
    # Every page read once, but those in hand when the worker died (never checkpointed: the one
    # being stored and the next, read ahead), and the collections listed once (the checkpoint
    # holds them).
    assert pages <= data_calls(creds.site_id, QUERY) <= pages + 2
    assert before < pages
    assert data_calls(creds.site_id, COLLECTIONS) == 1
    entries = list(manifest_entries(engine.site_store(site.pk), snapshot_manifest(snapshot)))
    assert len({(e.collection, e.item_id) for e in entries}) == len(entries) == 5436


def snapshot_manifest(snapshot: Snapshot):
    return read_manifest(engine.site_store(snapshot.site_id), snapshot.storage_id)


def test_wix_errors_mid_snapshot_are_retried_and_it_completes(connect, owner):
    site, creds = connect("Flaky")
    # More failures in a row than the client retries a read: the engine's own retry follows.
    emu.set_faults(creds.site_id, error_rate=1.0, count=4)
    operation, snapshot = take(site, owner)
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    assert operation.attempts >= 1 and operation.error == ""
    assert {c["id"]: c["items"] for c in snapshot.collections} == DEMO
    failed = EmuRequestLog.objects.filter(site__site_id=creds.site_id, status__gte=500).count()
    assert failed == 4


def test_a_collection_deleted_during_the_snapshot_is_recorded_missing(connect, owner):
    site, creds = connect("Vanishing")
    emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=0.5)
    operation = engine.snapshot_request(site=site, user=owner)
    snapshot = Snapshot.objects.get(operation=operation)
    # Collections are read in the list's order (by id): Products comes after BlogPosts.
    wait_for(lambda: progress_shown(snapshot), 60, what="the first collection read")
    EmuCollection.objects.filter(site__site_id=creds.site_id, collection_id="Products").delete()
    emu.set_faults(creds.site_id)
    (operation,) = wait_finished([operation])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    snapshot.refresh_from_db()
    (missing,) = snapshot.missing_collections
    assert missing["id"] == "Products" and missing["items"] == 0
    assert "WDE0025" in missing["reason"]
    note = Activity.objects.get(operation=operation, outcome=Activity.INFO)
    assert "Products" in note.detail


def test_storage_that_cannot_be_written_fails_clearly_and_shows_nothing_complete(connect, owner):
    site, _ = connect("No room")
    # A file where the site's folder should be: nothing can be written below it.
    root = Path(settings.WBM_SNAPSHOT_STORAGE) / "sites"
    root.mkdir(parents=True)
    (root / str(site.pk)).write_text("in the way")
    operation, snapshot = take(site, owner)
    assert operation.state == Operation.State.FAILED
    assert snapshot.state == Snapshot.State.FAILED and snapshot.item_count is None
    assert str(root / str(site.pk)) in operation.error and operation.error == snapshot.error
    assert site.api_base_url not in operation.error
    failed = Activity.objects.get(operation=operation, outcome=Activity.FAILED)
    assert failed.detail == operation.error
    assert not Snapshot.objects.filter(site=site, state=Snapshot.State.COMPLETE).exists()
