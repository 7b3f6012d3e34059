"""Snapshots' pin, delete, retention and garbage collection, step by step: the engine's own
functions called in this process (as a worker calls them) against the emulator over HTTP and a
folder store of the test's own; the clock the collector sees is moved, never waited for."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from sites import engine, rules
from sites.models import Activity, Operation, Snapshot
from sites.snapshots import (
    RetentionRules,
    list_pending,
    list_snapshots,
    manifest_entries,
    read_manifest,
    take_snapshot,
    verify_snapshot,
)
from sites.snapshots.packs import pack_key
from sites.wix_clients import data_client_for
from wixemulator.models import EmuItem


class Interrupt(Exception):
    """A worker stopping part way, wherever it was."""


@pytest.fixture
def shop(store, settings, tmp_path: Path):
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")
    site, creds = store
    return site, creds


def snapshot_now(site, owner, *, age: timedelta = timedelta(0)) -> Snapshot:
    """A snapshot taken through the engine's own task code, here, then dated `age` ago."""
    operation = engine.snapshot_request(site=site, user=owner)
    engine.snapshot_operation_run(operation_id=operation.pk)
    snapshot = Snapshot.objects.get(operation=operation)
    assert snapshot.state == Snapshot.State.COMPLETE, snapshot.error
    Snapshot.objects.filter(pk=snapshot.pk).update(started_at=snapshot.started_at - age)
    snapshot.refresh_from_db()
    return snapshot


def change_a_product(site_id: str, value: int) -> None:
    item = EmuItem.objects.get(
        collection__site__site_id=site_id,
        collection__collection_id="Products",
        item_id="product-0001",
    )
    item.data = {**item.data, "stock": value}
    item.save()


def digests(site, snapshot: Snapshot) -> set[str]:
    store = engine.site_store(site.pk)
    return {e.digest for e in manifest_entries(store, read_manifest(store, snapshot.storage_id))}


def packs_of(site, snapshot: Snapshot, digests: set[str]) -> set[str]:
    """The keys of the packs holding the snapshot's items of those hashes."""
    store = engine.site_store(site.pk)
    manifest = read_manifest(store, snapshot.storage_id)
    return {pack_key(e.pack) for e in manifest_entries(store, manifest) if e.digest in digests}


def test_retention_prunes_what_the_dry_run_said_and_never_a_pinned_one(shop, owner):
    site, creds = shop
    snapshots = []
    for days in (4, 3, 2, 1, 0):  # oldest first; each sees one product changed
        change_a_product(creds.site_id, 1000 + days)
        snapshots.append(snapshot_now(site, owner, age=timedelta(days=days)))
    oldest, day3, day2, day1, newest = snapshots
    engine.snapshot_pin(snapshot=oldest, pinned=True, user=owner)
    only_in_day3 = digests(site, day3) - set().union(
        *(digests(site, s) for s in (oldest, day2, day1, newest))
    )
    assert len(only_in_day3) == 1
    day3_packs = packs_of(site, day3, only_in_day3)

    new_rules = RetentionRules(keep_last=2, daily=0, weekly=0, monthly=0)
    preview = rules.retention_preview(site, new_rules)
    assert [s.pk for s in preview.pruned] == [day2.pk, day3.pk]
    assert dict((s.pk, why) for s, why in preview.kept) == {
        newest.pk: "last 1",
        day1.pk: "last 2",
        oldest.pk: "pinned",
    }
    # The dry run changed nothing.
    assert Snapshot.objects.filter(site=site).count() == 5

    engine.snapshot_settings_set(site=site, user=owner, keep_last=2, daily=0, weekly=0, monthly=0)
    # The collector's grace has passed for everything written so far.
    result = engine.snapshots_prune(site_id=site.pk, now=timezone.now() + timedelta(hours=2))
    assert set(result.removed) == {day2.storage_id, day3.storage_id}
    assert set(Snapshot.objects.filter(site=site)) == {oldest, day1, newest}
    store = engine.site_store(site.pk)
    assert set(list_snapshots(store)) == {oldest.storage_id, day1.storage_id, newest.storage_id}
    assert result.objects_deleted >= 1
    # The product's value only day3 held was in a pack of its own: gone with it.
    assert day3_packs and not any(store.backend.exists(key) for key in day3_packs)
    for kept in (oldest, day1, newest):
        assert verify_snapshot(store, kept.storage_id).ok
    removed = Activity.objects.filter(site=site, message="Retention removed the snapshot")
    assert sorted(a.backup_at for a in removed) == sorted([day3.started_at, day2.started_at])


def test_rules_that_keep_nothing_are_refused_and_change_nothing(shop, owner):
    site, _ = shop
    with pytest.raises(engine.OperationRefused, match=r"(?i)at least one"):
        engine.snapshot_settings_set(site=site, keep_last=0, daily=0, weekly=0, monthly=0)
    site.refresh_from_db()
    assert site.snapshot_keep_last == RetentionRules().keep_last


def test_gc_keeps_what_an_interrupted_snapshot_wrote_and_skips_while_one_is_written(shop, owner):
    site, creds = shop
    first = snapshot_now(site, owner, age=timedelta(days=1))
    store = engine.site_store(site.pk)
    change_a_product(creds.site_id, 7)

    def stop_after_products(progress):
        if progress.collection_id == "Products":
            raise Interrupt

    # A snapshot cut short after the page holding the changed product: its object is named by
    # the pending part alone.
    with data_client_for(site) as client, pytest.raises(Interrupt):
        take_snapshot(
            client, store, "interrupted", progress=stop_after_products, parent=first.storage_id
        )
    assert list_pending(store) == ["interrupted"]
    later = timezone.now() + timedelta(days=3)
    engine.snapshots_prune(site_id=site.pk, now=later)
    with data_client_for(site) as client:
        resumed = take_snapshot(client, store, "interrupted")
    # The changed product's object, written before the interruption and named only by the
    # pending part, survived the collector: the resume (which does not read that page again)
    # left a snapshot whose every object reads back.
    assert resumed.new_objects == 1 + 1  # the product, and the delta of Products' entries
    assert resumed.parent == first.storage_id
    assert verify_snapshot(store, "interrupted").ok

    # While the site's storage is held (a snapshot being written), a prune does nothing at all.
    Snapshot.objects.filter(pk=first.pk).update(pinned=False)
    engine.snapshot_settings_set(site=site, keep_last=1, daily=0, weekly=0, monthly=0)
    second = snapshot_now(site, owner)
    until = engine.snapshot_run.claim_site_store(site.pk, timezone.now())
    assert until is not None
    held = engine.snapshots_prune(site_id=site.pk, now=later)
    assert held.ran is False and Snapshot.objects.filter(pk=first.pk).exists()
    engine.snapshot_run.release_site_store(site.pk, until)
    done = engine.snapshots_prune(site_id=site.pk, now=later)
    assert done.removed == (first.storage_id,)
    assert verify_snapshot(store, second.storage_id).ok


def test_pin_and_delete(shop, owner):
    site, _ = shop
    snapshot = snapshot_now(site, owner)
    engine.snapshot_pin(snapshot=snapshot, pinned=True, user=owner)
    with pytest.raises(engine.OperationRefused, match="pinned"):
        engine.snapshot_delete(snapshot=snapshot, user=owner)
    engine.snapshot_pin(snapshot=snapshot, pinned=False, user=owner)
    store = engine.site_store(site.pk)
    engine.snapshot_delete(snapshot=snapshot, user=owner)
    assert not Snapshot.objects.filter(pk=snapshot.pk).exists()
    assert list_snapshots(store) == []
    messages = list(
        Activity.objects.filter(site=site, outcome=Activity.INFO).values_list("message", flat=True)
    )
    assert {"Pinned the snapshot", "Unpinned the snapshot", "Deleted the snapshot"} <= set(messages)


def test_a_running_snapshot_cannot_be_deleted_pinned_or_verified(shop, owner):
    site, _ = shop
    operation = engine.snapshot_request(site=site, user=owner)
    snapshot = Snapshot.objects.get(operation=operation)
    assert snapshot.state == Snapshot.State.RUNNING
    with pytest.raises(engine.OperationRefused, match="still being taken"):
        engine.snapshot_delete(snapshot=snapshot, user=owner)
    with pytest.raises(engine.OperationRefused, match="still being taken"):
        engine.snapshot_pin(snapshot=snapshot, pinned=True, user=owner)
    with pytest.raises(engine.OperationRefused, match="still being taken"):
        engine.snapshot_verify_request(snapshot=snapshot, user=owner)
    actions = rules.snapshot_actions(snapshot)
    assert actions.download_refusal and actions.delete_refusal
    # The generic request refuses snapshot kinds: they have their own request.
    with pytest.raises(engine.OperationRefused):
        engine.operation_request(site=site, kind=Operation.Kind.SNAPSHOT, user=owner)
    # A misdirected submit leaves it alone (it stays queued for the snapshot queue).
    engine.operation_submit(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.state == Operation.State.QUEUED and operation.attempts == 0


def test_the_sweep_hands_snapshot_work_to_the_snapshot_task_not_to_submit(shop, owner):
    site, _ = shop
    operation = engine.snapshot_request(site=site, user=owner)
    Operation.objects.filter(pk=operation.pk).update(due_at=timezone.now())
    result = engine.sweep()
    assert str(operation.pk) in result.snapshots and str(operation.pk) not in result.submits
