"""Nothing the owner did not agree to: a create whose answer was lost is never sent again, and a
restore never races a delete of the same backup. Real worker and beat, Redis, the emulator."""

from django.urls import reverse

from sites import engine
from sites.models import Activity, Operation
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuRequestLog

from ..conftest import ready_backup, wait_finished

CREATE_PATH = "/sandbox/wix-data/v2/backups"


def on_demand(creds) -> list[EmuBackup]:
    """The emulator's own on-demand backups of the site, oldest first."""
    return list(
        EmuBackup.objects.filter(site__site_id=creds.site_id, type=EmuBackup.ON_DEMAND).order_by(
            "requested_at"
        )
    )


def test_a_create_answered_after_the_read_timeout_is_made_once_and_evicts_only_the_confirmed_one(
    connect, owner
):
    site, creds = connect("Full Store", backup=1)
    a, b, c = (ready_backup(site, owner) for _ in range(3))
    # The owner confirmed that `a` goes. Wix then answers the create 4 s late: after the worker's
    # 2 s read timeout, and makes the backup only then.
    emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=4, count=1)
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    (op,) = wait_finished([op])

    assert op.state == Operation.State.SUCCEEDED, op.error
    creates = EmuRequestLog.objects.filter(
        site__site_id=creds.site_id, method="POST", path=CREATE_PATH
    )
    assert creates.count() == 4  # three for a, b, c; the late one was never sent again
    made = on_demand(creds)
    assert [str(x.id) for x in made[:3]] == [a, b, c]
    assert len(made) == 4 and op.backup_wix_id == str(made[3].id)
    now = made[3].site.now()
    assert [x.status_at(now) for x in made] == ["DELETED", "READY", "READY", "READY"]
    assert site.backups.get(wix_id=b).status == "READY"  # the mirror agrees


def test_a_delete_then_a_restore_of_the_same_backup_at_once_refuses_the_restore(connect, owner):
    site, creds = connect("Shop", backup=1, delete=1)
    backup = ready_backup(site, owner)
    delete = engine.operation_request(
        site=site, kind=Operation.Kind.DELETE_BACKUP, user=owner, backup_wix_id=backup
    )
    try:
        engine.operation_request(
            site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup
        )
    except engine.OperationRefused as refused:
        reason = str(refused)
    else:
        raise AssertionError("the restore was accepted while the backup was being deleted")
    assert reason == "This backup is being deleted, so it can no longer be restored."
    (delete,) = wait_finished([delete])
    assert delete.state == Operation.State.SUCCEEDED, delete.error
    assert not site.operations.filter(kind=Operation.Kind.RESTORE).exists()
    refused = Activity.objects.get(site=site, outcome=Activity.FAILED)
    assert refused.message == "Restore all collections from the backup (refused)"
    assert refused.detail == reason and refused.actor == owner
    assert (
        EmuBackup.objects.get(id=backup).status_at(
            emu.EmuSite.objects.get(site_id=creds.site_id).now()
        )
        == "DELETED"
    )


def test_a_restore_then_a_delete_of_the_same_backup_at_once_refuses_the_delete(
    connect, owner, client
):
    site, _ = connect("Shop", backup=1, restore=1)
    backup = ready_backup(site, owner)
    restore = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup
    )
    client.force_login(owner)
    answer = client.post(reverse("sites:delete", args=[site.pk, backup]))
    assert answer.status_code == 409
    assert "A restore from this backup is running; delete it afterwards." in answer.text
    (restore,) = wait_finished([restore])
    assert restore.state == Operation.State.SUCCEEDED, restore.error
    assert not site.operations.filter(kind=Operation.Kind.DELETE_BACKUP).exists()
    log = client.get(reverse("sites:site", args=[site.pk])).text
    assert "Delete the backup (refused)" in log
