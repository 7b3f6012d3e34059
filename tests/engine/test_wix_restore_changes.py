"""What a Wix restore changed, per collection, step by step against the emulator: once Wix says
COMPLETED the site is read again (a snapshot, no Wix slot) and compared with the safety snapshot;
the site page's activity log says the counts and who asked. A reading that fails leaves the
restore SUCCEEDED and says why the counts could not be read."""

from django.urls import reverse

from sites import engine
from sites.models import Activity, Operation, RestoreRun, Snapshot
from wixemulator.models import EmuCollection, EmuItem

from .steps import advance, drive, ready_backup


def items(creds, collection: str):
    return EmuItem.objects.filter(
        collection__site__site_id=creds.site_id, collection__collection_id=collection
    )


def change_products(creds) -> None:
    """Since the backup: one product edited, one deleted, one added."""
    edited = items(creds, "Products").get(item_id="product-0001")
    edited.data = {**edited.data, "name": "Renamed by mistake"}
    edited.save(update_fields=["data"])
    items(creds, "Products").get(item_id="product-0002").delete()
    EmuItem.objects.create(
        collection=EmuCollection.objects.get(site__site_id=creds.site_id, collection_id="Products"),
        item_id="added-by-a-visitor",
        data={"name": "New"},
    )


def restore_completed(site, owner, creds, backup) -> Operation:
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    drive(op)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    return op


def site_log(client, owner, site) -> str:
    client.force_login(owner)
    return client.get(reverse("sites:site", args=[site.pk])).text


def test_the_log_says_what_a_wix_restore_changed_per_collection(store, owner, client):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    products = items(creds, "Products").count()
    posts = items(creds, "BlogPosts").count()
    customers = items(creds, "Customers").count()
    events = items(creds, "Events").count()
    change_products(creds)

    op = restore_completed(site, owner, creds, backup)

    run = RestoreRun.objects.select_related("reading", "safety").get(operation=op)
    reading = run.reading
    assert reading is not None and reading != run.safety
    assert reading.state == Snapshot.State.RUNNING and run.counted_at is None
    engine.snapshot_operation_run(operation_id=reading.operation_id)

    run.refresh_from_db()
    assert run.counts == {
        "BlogPosts": {"restored": 0, "reverted": 0, "removed": 0, "unchanged": posts},
        "Customers": {"restored": 0, "reverted": 0, "removed": 0, "unchanged": customers},
        "Events": {"restored": 0, "reverted": 0, "removed": 0, "unchanged": events},
        "Products": {"restored": 1, "reverted": 1, "removed": 1, "unchanged": products - 2},
    }
    entry = site.activities.get(outcome=Activity.INFO, kind=Activity.RESTORE, operation=op)
    assert entry.actor == owner
    html = site_log(client, owner, site)
    assert (
        f"BlogPosts: 0 brought back, 0 reverted, 0 removed, {posts} unchanged; "
        f"Customers: 0 brought back, 0 reverted, 0 removed, {customers} unchanged; "
        f"Events: 0 brought back, 0 reverted, 0 removed, {events} unchanged; "
        f"Products: 1 brought back, 1 reverted, 1 removed, {products - 2} unchanged"
    ) in html
    assert "What the restore changed, read from the site afterwards" in html
    facts = client.get(reverse("sites:operation", args=[site.pk, op.pk])).text
    assert (
        f"<div>Products: 1 brought back, 1 reverted, 1 removed, {products - 2} unchanged</div>"
        in facts
    )
    # Counted once: a second end of the same snapshot writes nothing more.
    engine.snapshot_operation_run(operation_id=reading.operation_id)
    assert site.activities.filter(outcome=Activity.INFO, operation=op).count() == 1


def test_a_reading_that_fails_leaves_the_restore_done_and_says_why(store, owner, client):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    change_products(creds)
    op = restore_completed(site, owner, creds, backup)
    run = RestoreRun.objects.select_related("reading").get(operation=op)
    # The site's key refused while the reading reads the site: the snapshot fails at once.
    site.secret_encrypted = "not a token"
    site.save(update_fields=["secret_encrypted"])

    engine.snapshot_operation_run(operation_id=run.reading.operation_id)

    run.refresh_from_db()
    op.refresh_from_db()
    assert run.reading.state == Snapshot.State.FAILED
    assert op.state == Operation.State.SUCCEEDED and run.counted_at is not None
    entry = site.activities.get(outcome=Activity.INFO, kind=Activity.RESTORE, operation=op)
    assert entry.message.startswith("What the restore changed could not be read")
    assert entry.detail == run.reading.error
    assert "What the restore changed could not be read" in site_log(client, owner, site)


def test_a_snapshot_running_when_wix_completes_is_followed_by_the_reading(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    drive(op)
    # A snapshot begun before Wix ends the restore may read some data before it: not the reading.
    taking = engine.snapshot_request(site=site, user=owner)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    run = RestoreRun.objects.get(operation=op)
    assert run.reading is None

    engine.snapshot_operation_run(operation_id=taking.pk)

    run.refresh_from_db()
    assert run.reading is not None and run.reading.operation_id != taking.pk
    engine.snapshot_operation_run(operation_id=run.reading.operation_id)
    run.refresh_from_db()
    assert run.counted_at is not None and run.counts["Products"]["unchanged"] > 0


def test_a_count_a_dead_worker_left_undone_is_made_up_by_the_beat(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    change_products(creds)
    op = restore_completed(site, owner, creds, backup)
    run = RestoreRun.objects.get(operation=op)
    engine.snapshot_operation_run(operation_id=run.reading.operation_id)
    # What a worker killed between the reading's end and its count leaves: no count, no entry.
    RestoreRun.objects.filter(pk=run.pk).update(counted_at=None, counts={})
    site.activities.filter(outcome=Activity.INFO, operation=op).delete()

    assert engine.restore_readings_due() == 1

    run.refresh_from_db()
    assert run.counts["Products"]["restored"] == 1 and run.counted_at is not None
    assert site.activities.filter(outcome=Activity.INFO, operation=op).count() == 1
    assert engine.restore_readings_due() == 0


def test_the_reading_is_kept_apart_from_the_owners_snapshots_and_goes_after_a_day(
    store, owner, client
):
    """The reading is no copy the owner asked for: it never takes the place of one of theirs in
    "keep the last N", the snapshots list says what it is, and retention removes it a day after
    it was read once its restore's changes are counted (the activity log says why)."""
    from datetime import timedelta

    from django.utils import timezone

    site, creds = store
    backup = ready_backup(site, owner, creds)
    engine.snapshot_settings_set(site=site, user=owner, keep_last=1, daily=0, weekly=0, monthly=0)
    mine = engine.snapshot_request(site=site, user=owner)
    engine.snapshot_operation_run(operation_id=mine.pk)
    change_products(creds)
    op = restore_completed(site, owner, creds, backup)
    run = RestoreRun.objects.select_related("reading").get(operation=op)
    assert run.reading.taken_for == Snapshot.TakenFor.READING
    engine.snapshot_operation_run(operation_id=run.reading.operation_id)
    run.refresh_from_db()
    assert run.counted_at is not None

    engine.snapshots_prune(site_id=site.pk)
    owners = Snapshot.objects.get(operation=mine)  # still the one the owner keeps
    assert Snapshot.objects.filter(pk=run.reading_id).exists()
    client.force_login(owner)
    listed = client.get(reverse("sites:site", args=[site.pk])).text
    assert "read after a Wix restore for what it changed; kept a day" in listed

    engine.snapshots_prune(site_id=site.pk, now=timezone.now() + timedelta(days=1, minutes=1))
    assert not Snapshot.objects.filter(pk=run.reading_id).exists()
    assert Snapshot.objects.filter(pk=owners.pk).exists()
    assert site.activities.filter(
        message__icontains="Retention removed the snapshot",
        detail__icontains="read after a Wix restore",
    ).exists()
