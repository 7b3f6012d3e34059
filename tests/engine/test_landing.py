"""A create whose answer was lost, step by step (no worker): sent once, then waited for.

Every test moves the emulator's clock instead of waiting for it (engine/landing.py).
"""

from datetime import timedelta

from django.utils import timezone

from sites import engine
from sites.engine import landing
from sites.models import Activity, Operation
from wixemulator import services as emu
from wixemulator.models import EmuRequestLog, EmuSite

CREATE_PATH = "/sandbox/wix-data/v2/backups"


def creates_sent(creds) -> int:
    return EmuRequestLog.objects.filter(
        site__site_id=creds.site_id, method="POST", path=CREATE_PATH
    ).count()


def test_a_create_whose_connection_dropped_is_not_sent_again_and_adopts_what_wix_made(store, owner):
    site, creds = store
    emu.set_faults(creds.site_id, drop_rate=1.0, count=1)  # Wix makes it, the answer is lost
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert (op.state, op.backup_wix_id, op.error) == (
        Operation.State.SUBMITTED,
        "",
        landing.WAITING,
    )
    engine.operation_submit(operation_id=op.pk)  # a redelivered task: nothing more is sent
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.backup_wix_id and op.error == ""
    emu.advance_clock(creds.site_id, seconds=61)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    assert creates_sent(creds) == 1


def test_a_worker_that_died_mid_create_never_sends_it_again(store, owner):
    site, creds = store
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    # What a worker killed during the call leaves: the create sent, no answer recorded.
    Operation.objects.filter(pk=op.pk).update(sent_at=timezone.now(), attempts=1)
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED and op.error == landing.WAITING
    assert creates_sent(creds) == 0


def test_an_unconfirmed_create_fails_honestly_and_a_backup_made_later_is_still_linked(
    store, owner, settings
):
    site, creds = store
    settings.WBM_CREATE_LANDING_SECONDS = 60
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    Operation.objects.filter(pk=op.pk).update(sent_at=timezone.now(), attempts=1)
    engine.operation_submit(operation_id=op.pk)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED  # within the window: still waiting

    # The window has passed (as a later refresh would find it) with no backup from Wix.
    Operation.objects.filter(pk=op.pk).update(sent_at=timezone.now() - timedelta(seconds=61))
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.FAILED
    assert op.error == landing.NOT_CONFIRMED
    assert "nothing was sent again, so nothing else was evicted" in op.error
    assert creates_sent(creds) == 0

    # Wix makes it after all: the next refresh links it to the operation and says so.
    emulated = EmuSite.objects.get(site_id=creds.site_id)
    late = emu.create_backup(emulated, emulated.now())
    engine.site_refresh(site_id=site.pk, full=True)
    op.refresh_from_db()
    assert op.backup_wix_id == str(late.id)
    assert op.state == Operation.State.FAILED  # what the owner was told stays true
    note = Activity.objects.get(operation=op, outcome=Activity.INFO)
    assert note.message == "Wix made the backup after all"


def test_the_worker_refuses_a_queued_restore_of_a_backup_being_deleted(store, owner):
    site, creds = store
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    emu.advance_clock(creds.site_id, seconds=61)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    backup = op.backup_wix_id
    # Recorded behind the request-time check's back (a second installation, a bug): the worker
    # still asks the rules before sending anything.
    Operation.objects.create(
        site=site,
        kind=Operation.Kind.DELETE_BACKUP,
        backup_wix_id=backup,
        state=Operation.State.SUBMITTED,
    )
    restore = Operation.objects.create(
        site=site, kind=Operation.Kind.RESTORE, backup_wix_id=backup, requested_by=owner
    )
    engine.operation_submit(operation_id=restore.pk)
    restore.refresh_from_db()
    assert restore.state == Operation.State.FAILED
    assert restore.error == "This backup is being deleted, so it can no longer be restored."
    restores = EmuRequestLog.objects.filter(site__site_id=creds.site_id, path__endswith="/restore")
    assert not restores.exists()
    failed = Activity.objects.get(operation=restore, outcome=Activity.FAILED)
    assert failed.detail == restore.error
