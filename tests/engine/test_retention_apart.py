"""Retention counts the owner's snapshots only: a restore preview's live reading and a restore's
safety snapshot never push one of them out of "keep the last N"; they follow a rule of their own
(rules.kept_apart): a reading goes a day after its preview was asked (or with its preview), a
safety snapshot 7 days after its restore ended (Undo offered until then). Step by step in this
process, the worker's own code against the emulator over HTTP."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sites import engine, rules
from sites.models import Activity, Operation, Preview, RestoreRun, Snapshot
from sites.snapshots import list_snapshots
from wixemulator.models import EmuItem

from .steps import take_safety


def snapshot_now(site, owner, *, age: timedelta) -> Snapshot:
    """One of the owner's snapshots, taken here by the worker's code, then dated `age` ago."""
    operation = engine.snapshot_request(site=site, user=owner)
    engine.snapshot_operation_run(operation_id=operation.pk)
    snapshot = Snapshot.objects.get(operation=operation)
    assert snapshot.state == Snapshot.State.COMPLETE, snapshot.error
    assert snapshot.taken_for == Snapshot.TakenFor.OWNER
    Snapshot.objects.filter(pk=snapshot.pk).update(started_at=snapshot.started_at - age)
    snapshot.refresh_from_db()
    return snapshot


def previewed(site, owner, source: Snapshot) -> Preview:
    preview = engine.preview_request(site=site, source=source, user=owner)
    engine.snapshot_operation_run(operation_id=preview.live.operation_id)
    engine.snapshot_operation_run(operation_id=preview.operation_id)
    preview.refresh_from_db()
    assert preview.state == Preview.State.COMPLETE, preview.error
    assert preview.live.taken_for == Snapshot.TakenFor.PREVIEW
    return preview


def restored(site, owner, source: Snapshot) -> tuple[Operation, RestoreRun]:
    """A merge restore of Products from `source`: its safety snapshot, then its writes."""
    operation = engine.snapshot_restore_request(
        site=site,
        snapshot=source,
        mode=RestoreRun.Mode.MERGE,
        collections=["Products"],
        user=owner,
    )
    take_safety(operation)
    engine.snapshot_operation_run(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    run = RestoreRun.objects.select_related("safety").get(operation=operation)
    assert run.safety.taken_for == Snapshot.TakenFor.SAFETY
    return operation, run


def products(site_id: str) -> dict[str, dict]:
    return {
        i.item_id: i.data
        for i in EmuItem.objects.filter(
            collection__site__site_id=site_id, collection__collection_id="Products"
        )
    }


def snapshot_row(page: str, snapshot: Snapshot) -> str:
    start = page.index(f'<tr data-snapshot="{snapshot.pk}"')
    return page[start : page.index("</tr>", start)]


def test_previews_and_safety_snapshots_never_push_out_the_owners_last_two(store, owner, client):
    site, creds = store
    engine.snapshot_settings_set(site=site, user=owner, keep_last=2, daily=0, weekly=0, monthly=0)
    site.refresh_from_db()
    oldest = snapshot_now(site, owner, age=timedelta(days=3))
    middle = snapshot_now(site, owner, age=timedelta(days=2))
    newest = snapshot_now(site, owner, age=timedelta(days=1))

    # A preview asked two days ago (its reading no longer needed) and one asked now.
    stale = previewed(site, owner, newest)
    Preview.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=2))
    fresh = previewed(site, owner, newest)
    # A restore that ended 8 days ago (Undo no longer offered) and one that ended now, each
    # after an owner's edit it undoes.
    EmuItem.objects.filter(collection__site__site_id=creds.site_id, item_id="product-0001").delete()
    old_restore, old_run = restored(site, owner, newest)
    Operation.objects.filter(pk=old_restore.pk).update(
        finished_at=timezone.now() - timedelta(days=8)
    )
    EmuItem.objects.filter(collection__site__site_id=creds.site_id, item_id="product-0002").delete()
    edited = products(creds.site_id)
    recent_restore, recent_run = restored(site, owner, newest)
    assert "product-0002" in products(creds.site_id)

    # Five snapshots newer than the owner's: before, keep-last 2 would have kept two of them.
    plan = rules.retention_preview(site)
    assert [s for s, _ in plan.kept] == [newest, middle]
    assert plan.pruned == [oldest]
    assert dict(plan.apart_kept) == {
        fresh.live: "live reading of a recent restore preview",
        recent_run.safety: "safety snapshot of a recent restore (Undo)",
    }
    assert set(plan.apart_pruned) == {stale.live, old_run.safety}

    result = engine.snapshots_prune(site_id=site.pk)
    assert set(result.removed) == {
        oldest.storage_id,
        stale.live.storage_id,
        old_run.safety.storage_id,
    }
    kept = {newest, middle, fresh.live, recent_run.safety}
    assert set(Snapshot.objects.filter(site=site)) == kept
    assert set(list_snapshots(engine.site_store(site.pk))) == {s.storage_id for s in kept}
    details = set(
        Activity.objects.filter(site=site, message="Retention removed the snapshot").values_list(
            "detail", flat=True
        )
    )
    assert details == {
        "it was kept by none of the site's retention rules",
        "it was the live reading of a restore preview, no longer needed",
        "it was the safety snapshot of a restore that ended over 7 days ago (Undo no longer "
        "offered)",
    }

    # The snapshots list says what each of the others is and how long it is kept.
    client.force_login(owner)
    page = client.get(reverse("sites:site", args=[site.pk])).text
    assert "data-kept-apart" not in snapshot_row(page, newest)
    assert "kept a day for its preview, apart from the retention rules" in snapshot_row(
        page, fresh.live
    )
    assert "data-for-preview" in snapshot_row(page, fresh.live)
    safety_row = snapshot_row(page, recent_run.safety)
    assert "kept 7 days after its restore for Undo, apart from the retention rules" in safety_row
    assert "safety snapshot of a restore" in safety_row

    # The recent restore's page says until when its Undo is offered; the old one's says why not.
    recent_page = client.get(reverse("sites:operation", args=[site.pk, recent_restore.pk])).text
    assert "data-undo>Undo this restore</a>" in recent_page
    assert "data-undo-until>Offered until" in recent_page
    old_page = client.get(reverse("sites:operation", args=[site.pk, old_restore.pk])).text
    assert "data-undo>" not in old_page
    assert "This restore has no safety snapshot to go back to." in old_page

    # The old restore can no longer be undone, and says why; the recent one still can.
    with pytest.raises(engine.OperationRefused, match="no safety snapshot"):
        engine.restore_undo_request(operation=old_restore, user=owner)
    undo = engine.restore_undo_request(operation=recent_restore, user=owner)
    take_safety(undo)
    engine.snapshot_operation_run(operation_id=undo.pk)
    undo.refresh_from_db()
    assert undo.state == Operation.State.SUCCEEDED, undo.error
    assert products(creds.site_id) == edited  # the deleted product is deleted again

    # A day on, the fresh preview's reading goes too; the recent safety snapshot stays a week.
    later = rules.retention_preview(site, now=timezone.now() + timedelta(days=1, hours=1))
    assert fresh.live in later.apart_pruned
    assert recent_run.safety not in later.apart_pruned


def test_a_pinned_safety_snapshot_stays_and_an_owners_request_makes_a_reading_the_owners(
    store, owner
):
    site, _ = store
    source = snapshot_now(site, owner, age=timedelta(days=1))
    operation, run = restored(site, owner, source)
    Operation.objects.filter(pk=operation.pk).update(
        finished_at=timezone.now() - timedelta(days=30)
    )
    engine.snapshot_pin(snapshot=run.safety, pinned=True, user=owner)
    assert dict(rules.retention_preview(site).apart_kept) == {run.safety: "pinned"}

    # The owner asks for a snapshot while a preview's reading runs: that reading is theirs now.
    preview = engine.preview_request(site=site, source=source, user=owner)
    asked = engine.snapshot_request(site=site, user=owner)
    assert asked.pk == preview.live.operation_id
    preview.live.refresh_from_db()
    assert preview.live.taken_for == Snapshot.TakenFor.OWNER


def test_a_snapshot_a_queued_restore_reads_stays_until_the_restore_is_done(store, owner):
    """Keep the last 1: the older of two snapshots would go, but a restore from it is queued
    (its safety snapshot not even taken yet). Retention keeps it, saying why, until the restore
    has read it; then the rules apply again."""
    site, _ = store
    engine.snapshot_settings_set(site=site, user=owner, keep_last=1, daily=0, weekly=0, monthly=0)
    site.refresh_from_db()
    older = snapshot_now(site, owner, age=timedelta(days=2))
    snapshot_now(site, owner, age=timedelta(days=1))
    operation = engine.snapshot_restore_request(
        site=site, snapshot=older, mode=RestoreRun.Mode.MERGE, collections=["Products"], user=owner
    )
    preview = rules.retention_preview(site)
    assert older not in preview.pruned
    assert (older, rules.READ_NOW) in [(s, why) for s, why in preview.kept]
    engine.snapshots_prune(site_id=site.pk)
    assert Snapshot.objects.filter(pk=older.pk).exists()

    take_safety(operation)
    engine.snapshot_operation_run(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    engine.snapshots_prune(site_id=site.pk)
    assert not Snapshot.objects.filter(pk=older.pk).exists()
