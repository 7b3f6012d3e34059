"""The safety net of every restore: a snapshot of the site taken before the restore writes anything
(no Wix slot used), which the restore waits for and which "Undo this restore" restores.

A restore whose safety snapshot is still being taken stays QUEUED and is looked at again later
(and at once when the snapshot ends: `hand_over_waiting`); one whose safety snapshot failed or
was deleted fails with that reason and writes nothing: a restore never runs without its net.
A Wix restore asked with "Also take a Wix backup first" waits for that backup too (its
`Operation.after`, made due when the backup ends) and fails, unsent, if it fails.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from ..models import Operation, Site, Snapshot
from ..restore_models import RestoreRun
from .dispatch import enqueue_snapshot_operation, enqueue_submit
from .snapshot_requests import record_snapshot

logger = logging.getLogger(__name__)

# How long a restore waiting for its safety snapshot waits before it is looked at again, should
# the snapshot's end not hand it over (a message lost): the hand-over is the usual way.
SAFETY_WAIT = timedelta(seconds=15)
WAITING = "Waiting for the safety snapshot (taken before every restore) to complete."
WAITING_BACKUP = "Waiting for the Wix backup taken first, as asked, to be READY."


def record_safety(
    *, site: Site, user: AbstractBaseUser | None, operation: Operation, mode: str, **fields: Any
) -> RestoreRun:
    """Record the restore's safety snapshot (or the site's snapshot being taken now, which reads
    the site before the restore writes just as well) and its `RestoreRun`. The caller holds the
    site's row lock inside a transaction."""
    safety_operation = record_snapshot(site=site, user=user, taken_for=Snapshot.TakenFor.SAFETY)
    safety = Snapshot.objects.get(operation=safety_operation)
    return RestoreRun.objects.create(operation=operation, mode=mode, safety=safety, **fields)


@dataclass(frozen=True)
class Safety:
    """Whether a restore may write now: `ready`, or `waiting`, or else `reason` says why not."""

    ready: bool
    waiting: bool = False
    reason: str = ""
    run: RestoreRun | None = None


def safety_of(operation: Operation) -> Safety:
    wix_backup = operation.after if operation.after_id else None
    if wix_backup is not None and wix_backup.state == Operation.State.FAILED:
        # "Also take a Wix backup first": the restore waited for it (never claimed while it
        # ran, `states.waiting_on_rotation`), and it failed: nothing is overwritten.
        return Safety(
            ready=False,
            reason="The Wix backup taken before this restore, as asked, failed, so nothing was "
            "restored" + (f": {wix_backup.error}" if wix_backup.error else "."),
        )
    if wix_backup is not None and wix_backup.state != Operation.State.SUCCEEDED:
        return Safety(ready=False, waiting=True, reason=WAITING_BACKUP)
    run = RestoreRun.objects.select_related("safety").filter(operation=operation).first()
    if run is None:
        # A restore asked for before this version took safety snapshots: sent as it was asked.
        return Safety(ready=True)
    snapshot = run.safety
    if snapshot is None:
        return Safety(
            ready=False,
            run=run,
            reason="The safety snapshot taken before this restore was deleted, so nothing was "
            "restored. Ask for the restore again.",
        )
    if snapshot.state == Snapshot.State.COMPLETE:
        return Safety(ready=True, run=run)
    if snapshot.state == Snapshot.State.RUNNING:
        return Safety(ready=False, waiting=True, run=run, reason=WAITING)
    return Safety(
        ready=False,
        run=run,
        reason="The safety snapshot taken before this restore failed, so nothing was restored"
        + (f": {snapshot.error}" if snapshot.error else "."),
    )


def hand_over_waiting(snapshot_id: Any) -> None:
    """The snapshot ended: the restores waiting for it as their safety net go on now (to be
    sent, or failed with the snapshot's reason), rather than at their next look."""
    waiting = list(
        RestoreRun.objects.filter(
            safety_id=snapshot_id, operation__state=Operation.State.QUEUED
        ).values_list("operation_id", "operation__kind")
    )
    now = timezone.now()
    for operation_id, kind in waiting:
        Operation.objects.filter(pk=operation_id, state=Operation.State.QUEUED).update(due_at=now)
        if kind in Operation.SNAPSHOT_KINDS:
            enqueue_snapshot_operation(operation_id)
        else:
            enqueue_submit(operation_id)
    if waiting:
        logger.info("snapshot %s ended: %d restores handed over", snapshot_id, len(waiting))
