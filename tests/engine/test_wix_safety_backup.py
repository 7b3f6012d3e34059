"""A Wix restore asked with "Also take a Wix backup first", step by step against the emulator: the
backup is asked through Back up now's path and the restore is sent only once it is READY; it is
skipped (said in the log) when it could only make room by making the backup being restored from
go, which never happens; a failed one fails the restore unsent."""

from django.db import transaction

from sites import engine
from sites.models import Activity, Backup, Operation, RestoreRun, Snapshot
from wixemulator import services as emu
from wixemulator.models import EmuBackup

from .steps import advance, drive, ready_backup, take_safety
from .test_restore_safety import restores_sent

RESTORE = Operation.Kind.RESTORE


def wix_status(creds, backup: Backup) -> str:
    with transaction.atomic():
        site = emu.lock_site(creds.site_id)
        return EmuBackup.objects.get(pk=backup.wix_id).status_at(site.now())


def restore_with_backup(site, owner, source) -> Operation:
    return engine.operation_request(
        site=site, kind=RESTORE, user=owner, backup_wix_id=source.wix_id, wix_backup=True
    )


def finish_create(create: Operation, creds) -> Operation:
    engine.operation_submit(operation_id=create.pk)
    advance(creds)
    engine.site_refresh(site_id=create.site_id)
    create.refresh_from_db()
    return create


def test_with_a_free_slot_the_backup_is_ready_before_the_restore_is_sent(store, owner):
    site, creds = store
    source = ready_backup(site, owner, creds)
    op = restore_with_backup(site, owner, source)
    create = op.after
    assert create.kind == Operation.Kind.CREATE_BACKUP and create.requested_by == owner
    # The log says who asked and that the restore waits for it.
    note = site.activities.get(outcome=Activity.INFO, kind=Activity.RESTORE)
    assert note.actor == owner and note.message.startswith("A Wix safety backup is taken first")
    assert site.activities.get(operation=create).actor == owner

    # The safety snapshot done, the restore still waits for the backup: never claimed.
    take_safety(op)
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert (op.state, op.attempts) == (Operation.State.QUEUED, 0)
    assert restores_sent(creds) == 0

    assert finish_create(create, creds).state == Operation.State.SUCCEEDED
    op.refresh_from_db()
    assert op.due_at is not None  # made due by the backup's end
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED and restores_sent(creds) == 1
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED

    made = site.backups.get(wix_id=create.backup_wix_id)
    restoration = site.restorations.get(wix_id=op.restoration_wix_id)
    assert made.status == Backup.READY
    assert made.finished_at <= restoration.requested_at
    assert wix_status(creds, source) == "READY"


def test_three_slots_full_with_the_source_the_oldest_skips_it_and_the_restore_runs(store, owner):
    site, creds = store
    source, middle, newest = (ready_backup(site, owner, creds) for _ in range(3))
    engine.backup_pin(site=site, backup_wix_id=middle.wix_id, pinned=True, user=owner)
    engine.backup_pin(site=site, backup_wix_id=newest.wix_id, pinned=True, user=owner)

    op = restore_with_backup(site, owner, source)

    assert op.after is None
    assert site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).count() == 3
    assert not site.operations.filter(kind=Operation.Kind.DELETE_BACKUP).exists()
    skipped = site.activities.get(outcome=Activity.INFO, kind=Activity.RESTORE)
    assert skipped.actor == owner
    assert skipped.message == "Wix safety backup skipped before the restore from the backup"
    assert skipped.detail == (
        "The oldest backup is being restored from and every other slot holds a pinned or "
        "unfinished backup, so a Wix backup would make Wix delete the backup being restored "
        "from or a pinned one; the restore relies on its safety snapshot."
    )
    assert drive(op).state == Operation.State.SUBMITTED
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    for backup in (source, middle, newest):
        assert wix_status(creds, backup) == "READY"


def test_with_the_source_the_oldest_the_rotation_deletes_another_first(store, owner):
    site, creds = store
    source, middle, _newest = (ready_backup(site, owner, creds) for _ in range(3))

    op = restore_with_backup(site, owner, source)

    create = op.after
    delete = create.after
    assert (delete.kind, delete.backup_wix_id) == (Operation.Kind.DELETE_BACKUP, middle.wix_id)
    engine.operation_submit(operation_id=delete.pk)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    assert finish_create(create, creds).state == Operation.State.SUCCEEDED
    assert drive(op).state == Operation.State.SUBMITTED
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    assert wix_status(creds, source) == "READY"
    assert wix_status(creds, middle) == "DELETED"


def test_a_failed_wix_backup_fails_the_restore_unsent(store, owner):
    site, creds = store
    source = ready_backup(site, owner, creds)
    op = restore_with_backup(site, owner, source)
    emu.set_faults(creds.site_id, fail_rate=1.0)
    create = finish_create(op.after, creds)
    assert create.state == Operation.State.FAILED
    emu.set_faults(creds.site_id, fail_rate=0.0)

    drive(op)

    assert op.state == Operation.State.FAILED
    assert op.error == (
        "The Wix backup taken before this restore, as asked, failed, so nothing was restored: "
        f"{create.error}"
    )
    assert restores_sent(creds) == 0
    assert site.activities.get(operation=op).outcome == Activity.FAILED


def test_slots_that_changed_since_the_request_skip_it_and_the_restore_goes_on(store, owner):
    site, creds = store
    source = ready_backup(site, owner, creds)
    kept = ready_backup(site, owner, creds)
    engine.backup_pin(site=site, backup_wix_id=kept.wix_id, pinned=True, user=owner)
    op = restore_with_backup(site, owner, source)  # a slot was free: the backup is asked
    create = op.after
    assert create is not None and create.after is None
    # Meanwhile a backup is made in Wix's own screens, and pinned: the only slot Wix could free
    # now is the one of the backup being restored from.
    with transaction.atomic():
        emulated = emu.lock_site(creds.site_id)
        emu.create_backup(emulated, emulated.now())
    advance(creds)
    engine.site_refresh(site_id=site.pk, full=True)
    made = site.backups.exclude(wix_id__in=[source.wix_id, kept.wix_id]).get()
    engine.backup_pin(site=site, backup_wix_id=made.wix_id, pinned=True, user=owner)

    engine.operation_submit(operation_id=create.pk)

    create.refresh_from_db()
    op.refresh_from_db()
    assert create.state == Operation.State.FAILED and create.sent_at is None
    assert op.after is None and op.state == Operation.State.QUEUED
    skipped = site.activities.get(
        outcome=Activity.INFO,
        kind=Activity.RESTORE,
        message="Wix safety backup skipped before the restore from the backup",
    )
    assert skipped.actor == owner
    assert skipped.detail.startswith("The oldest backup is being restored from")
    assert skipped.detail.endswith("; the restore relies on its safety snapshot.")
    assert drive(op).state == Operation.State.SUBMITTED
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    assert wix_status(creds, source) == "READY"


def test_a_snapshot_restore_waits_for_its_wix_backup_too(store, owner):
    site, creds = store
    taking = engine.snapshot_request(site=site, user=owner)
    engine.snapshot_operation_run(operation_id=taking.pk)
    snapshot = Snapshot.objects.get(operation=taking)
    assert snapshot.state == Snapshot.State.COMPLETE
    op = engine.snapshot_restore_request(
        site=site,
        snapshot=snapshot,
        mode=RestoreRun.Mode.MERGE,
        collections=["Products"],
        user=owner,
        wix_backup=True,
    )
    create = op.after
    assert create.kind == Operation.Kind.CREATE_BACKUP and create.requested_by == owner
    note = site.activities.get(outcome=Activity.INFO, kind=Activity.RESTORE)
    assert note.message.endswith("the restore from the snapshot")

    take_safety(op)
    engine.snapshot_operation_run(operation_id=op.pk)  # the backup still runs: given back
    op.refresh_from_db()
    assert op.state == Operation.State.QUEUED
    assert op.error == "Waiting for the Wix backup taken first, as asked, to be READY."

    assert finish_create(create, creds).state == Operation.State.SUCCEEDED
    engine.snapshot_operation_run(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    assert site.backups.get(wix_id=create.backup_wix_id).status == Backup.READY
