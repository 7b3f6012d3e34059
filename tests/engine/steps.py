"""The steps a worker takes, called directly so each transition can be looked at (the engine's
step-by-step tests share them)."""

from sites import engine
from sites.models import Backup, Operation, RestoreRun
from wixemulator import services as emu


def advance(creds, seconds=61):
    emu.advance_clock(creds.site_id, seconds=seconds)


def take_safety(op: Operation) -> None:
    """What the snapshot worker does before a restore is sent: take its safety snapshot."""
    run = RestoreRun.objects.select_related("safety").get(operation=op)
    engine.snapshot_operation_run(operation_id=run.safety.operation_id)


def drive(op: Operation) -> Operation:
    """What the workers do: a restore's safety snapshot first, then submit, then refresh."""
    if op.is_restore:
        take_safety(op)
    engine.operation_submit(operation_id=op.pk)
    engine.site_refresh(site_id=op.site_id)
    op.refresh_from_db()
    return op


def ready_backup(site, owner, creds) -> Backup:
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    return site.backups.get(wix_id=op.backup_wix_id)
