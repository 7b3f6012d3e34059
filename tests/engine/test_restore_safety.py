"""The safety net of a Wix restore, step by step (no worker): a snapshot of the site is taken
first, the restore waits for it and is never sent to Wix without it."""

from sites import engine
from sites.models import Activity, Operation, RestoreRun, Snapshot
from wixemulator.models import EmuRequestLog

from .steps import advance, ready_backup, take_safety

RESTORE_PATH = "/restore"


def restores_sent(creds) -> int:
    return EmuRequestLog.objects.filter(
        site__site_id=creds.site_id, method="POST", path__endswith=RESTORE_PATH
    ).count()


def test_a_wix_restore_waits_for_its_safety_snapshot_then_is_sent_once(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    run = RestoreRun.objects.select_related("safety").get(operation=op)
    assert run.mode == RestoreRun.Mode.WIX
    assert run.safety.state == Snapshot.State.RUNNING
    assert run.safety.operation.kind == Operation.Kind.SNAPSHOT
    # Handed to submit before the snapshot was taken: it waits, and the wait is no attempt.
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.QUEUED and op.attempts == 0
    assert op.error == "Waiting for the safety snapshot (taken before every restore) to complete."
    assert op.due_at is not None and op.claimed_until is None
    assert restores_sent(creds) == 0

    take_safety(op)
    run.safety.refresh_from_db()
    assert run.safety.state == Snapshot.State.COMPLETE and run.safety.item_count > 0
    op.refresh_from_db()
    assert op.due_at is not None  # handed over at once by the snapshot's end
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED and op.restoration_wix_id
    assert op.error == ""
    assert restores_sent(creds) == 1
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED


def test_a_restore_whose_safety_snapshot_failed_fails_with_why_and_is_never_sent(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    run = RestoreRun.objects.select_related("safety").get(operation=op)
    # The site's key refused while the snapshot reads it: the snapshot fails at once.
    site.secret_encrypted = "not a token"
    site.save(update_fields=["secret_encrypted"])
    take_safety(op)
    run.safety.refresh_from_db()
    assert run.safety.state == Snapshot.State.FAILED
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.FAILED
    assert op.error.startswith(
        "The safety snapshot taken before this restore failed, so nothing was restored: "
    )
    assert restores_sent(creds) == 0
    entry = Activity.objects.get(operation=op)
    assert entry.outcome == Activity.FAILED and entry.detail == op.error


def test_a_snapshot_already_running_is_the_safety_net(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    taking = engine.snapshot_request(site=site, user=owner)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    assert RestoreRun.objects.get(operation=op).safety == Snapshot.objects.get(operation=taking)
    assert Snapshot.objects.filter(site=site).count() == 1
