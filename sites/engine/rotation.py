"""Pins and the rotation inside Wix's slots.

A pinned backup, or one a restore reads from, is never what a new backup makes Wix evict: when
the oldest slot holds one, the backup request also records a delete of the oldest unpinned READY
backup no restore reads from (`rules.next_backup_plan`), and the create waits QUEUED on it
(`Operation.after`): submit never claims it while that delete runs, the delete's end makes it
due at once, and a failed delete fails it. The create is sent only once Wix lists the slot free
(the delete SUCCEEDED), and the rules are asked again just before it is sent.
"""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from .. import rules
from ..models import Activity, Backup, BackupPin, Operation, Restoration, Site, Snapshot
from ..restore_models import RestoreRun
from .dispatch import enqueue_snapshot_operation, enqueue_submit
from .errors import OperationRefused
from .states import finish, site_touch
from .words import operation_words

QUEUED = Operation.State.QUEUED
RESTORE_KINDS = (*Operation.RESTORES, Operation.Kind.RESTORE_SNAPSHOT)
# As requests.SUBMIT_GRACE: handed to Celery at once, looked at again by the sweeper after this.
ROTATION_GRACE = timedelta(seconds=10)


def backup_pin(
    *, site: Site, backup_wix_id: str, pinned: bool, user: AbstractBaseUser | None = None
) -> None:
    """Pin ("keep this one") or unpin one of the site's backups; refused with the reason."""
    with transaction.atomic():
        # Pins of a site take turns, so two clicks cannot both take the last pin.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        backup = rules.with_pins(site.backups.filter(wix_id=backup_wix_id)).first()
        if backup is None:
            raise OperationRefused("This backup is not (or no longer) listed for the site.")
        if pinned == backup.pinned:
            return  # a repeated click: nothing to change
        if pinned:
            used = sum(1 for b in rules.slots_with_pins(site) if b.pinned)
            reason = rules.pin_refusal(backup, used)
            if reason:
                raise OperationRefused(reason)
            BackupPin.objects.create(site=site, backup_wix_id=backup_wix_id, pinned_by=user)
        else:
            BackupPin.objects.filter(site=site, backup_wix_id=backup_wix_id).delete()
        Activity.objects.create(
            site=site,
            actor=user,
            outcome=Activity.INFO,
            kind=Activity.BACKUP,
            message="Pinned the backup" if pinned else "Unpinned the backup",
            backup_at=backup.requested_at,
        )
        site_touch(site.pk)


def rotation_for_create(
    *, site: Site, user: AbstractBaseUser | None, via: str, exclude: Operation | None = None
) -> Operation | None:
    """What a new backup of the site must wait for, recorded now: a delete already running that
    frees a slot, or a new delete of the oldest unpinned backup when Wix would otherwise evict a
    pinned one (None: nothing to wait for). Raises RotationRefused when every other slot is
    pinned. The caller holds the site's row lock inside a transaction."""
    if _nothing_kept(site.pk):
        return None  # nothing pinned or restored from: Wix evicts the oldest, as it always did
    work = rules.in_flight(site)
    if exclude is not None:
        work = work.without(exclude)
    plan = rules.next_backup_plan(rules.slots_with_pins(site), work)
    if plan.refusal:
        raise RotationRefused(plan.refusal)
    if plan.waits_for:
        return next(
            op
            for op in work.operations
            if op.kind == Operation.Kind.DELETE_BACKUP and op.backup_wix_id == plan.waits_for
        )
    if not plan.rotate:
        return None
    return _record_delete(site=site, backup=plan.goes, user=user, via=via)


def _nothing_kept(site_id: object) -> bool:
    """No backup of the site is pinned and none is being restored from (ours or in Wix's
    screens), so none must be spared Wix's eviction of the oldest (one query)."""
    pins = BackupPin.objects.filter(site_id=OuterRef("pk"))
    restores = Operation.objects.filter(
        site_id=OuterRef("pk"), state__in=Operation.RUNNING, kind__in=Operation.RESTORES
    )
    restoring = Restoration.objects.filter(site_id=OuterRef("pk"), status__in=Restoration.RUNNING)
    kept = Exists(pins) | Exists(restores) | Exists(restoring)
    return not Site.objects.filter(kept, pk=site_id).exists()


class RotationRefused(OperationRefused):
    """No slot can be freed without losing a pinned backup."""


def _record_delete(
    *, site: Site, backup: Backup, user: AbstractBaseUser | None, via: str
) -> Operation:
    operation = Operation.objects.create(
        site=site,
        kind=Operation.Kind.DELETE_BACKUP,
        requested_by=user,
        via=via,
        backup_wix_id=backup.wix_id,
        due_at=timezone.now() + ROTATION_GRACE,
    )
    # Why, said once (the delete's own entry below gets its outcome written over it).
    Activity.objects.create(
        site=site,
        actor=user,
        via=via,
        outcome=Activity.INFO,
        kind=Activity.DELETE,
        message="Rotation: the oldest slot holds a pinned backup (or one being restored from), "
        "so the oldest unpinned one is deleted to free a slot for the new backup: the backup",
        backup_at=backup.requested_at,
    )
    Activity.objects.create(
        site=site,
        actor=user,
        via=via,
        operation=operation,
        outcome=Activity.REQUESTED,
        message=operation_words(Operation.Kind.DELETE_BACKUP, [], backup.collections),
        backup_at=backup.requested_at,
    )
    site_touch(site.pk)
    transaction.on_commit(lambda: enqueue_submit(operation.pk))
    return operation


def rotation_holds(operation: Operation) -> bool:
    """Just before a claimed create is sent: whether it must not be sent now. Its rotation
    delete failed (then it fails, saying why), or the slots changed since it was asked (a pin,
    a backup made in Wix's screens): then the rotation is worked out again and the create waits
    once more, or fails when no slot can be freed without losing a pinned backup."""
    after = operation.after
    if after is not None and after.state == Operation.State.FAILED:
        error = (
            "No slot could be freed for the backup: deleting the oldest unpinned backup "
            f"failed ({after.error or 'Wix refused'}). Nothing was sent to Wix."
        )
        _fail_unsent(operation, error)
        return True
    if after is None and _nothing_kept(operation.site_id):
        return False  # nothing pinned or restored from, nothing to rotate (one query per create)
    try:
        with transaction.atomic():
            site = Site.objects.select_for_update().get(pk=operation.site_id)
            again = rotation_for_create(
                site=site, user=operation.requested_by, via=operation.via, exclude=operation
            )
            if again is not None:
                # Wait again, as if never claimed: this was no attempt to send.
                Operation.objects.filter(pk=operation.pk, state=QUEUED).update(
                    after=again,
                    claimed_until=None,
                    attempts=F("attempts") - 1,
                    attempt_started_at=None,
                    due_at=timezone.now() + ROTATION_GRACE,
                )
                site_touch(site.pk)
    except RotationRefused as refused:
        _fail_unsent(operation, str(refused))
        return True
    return again is not None


def _fail_unsent(create: Operation, error: str) -> None:
    """The create cannot be made now, and nothing was sent. A Wix restore waiting on it as its
    Wix backup first (engine/requests.py) goes on without it, relying on its safety snapshot:
    the slots changed since the owner asked, and the log says why it was skipped."""
    with transaction.atomic():
        waiting = list(Operation.objects.filter(after=create, state=QUEUED, kind__in=RESTORE_KINDS))
        for restore in waiting:
            source, when = _source_of(restore)
            # Said as the form says it (rules.wix_safety_backup), else the create's own reason.
            decision = rules.wix_safety_backup(
                rules.slots_with_pins(create.site),
                rules.in_flight(create.site).without(create),
                source,
            )
            why = (
                decision.skip + "."
                if decision.skip
                else f"{error} The restore relies on its safety snapshot."
            )
            Activity.objects.create(
                site_id=create.site_id,
                actor_id=restore.requested_by_id,
                via=restore.via,
                outcome=Activity.INFO,
                kind=Activity.RESTORE,
                message=f"Wix safety backup skipped before the restore from the {when}",
                backup_at=getattr(source, "requested_at", None)
                or getattr(source, "started_at", None),
                detail=why,
            )
        Operation.objects.filter(pk__in=[r.pk for r in waiting], state=QUEUED).update(
            after=None, due_at=timezone.now()
        )
        finish(create, state=Operation.State.FAILED, error=error, from_state=QUEUED)
        for restore in waiting:
            if restore.kind == Operation.Kind.RESTORE_SNAPSHOT:
                transaction.on_commit(lambda pk=restore.pk: enqueue_snapshot_operation(pk))
            else:
                transaction.on_commit(lambda pk=restore.pk: enqueue_submit(pk))


def _source_of(restore: Operation) -> tuple[Backup | Snapshot | None, str]:
    """What a restore reads from: its Wix backup, or its snapshot (and how the log names it)."""
    if restore.kind == Operation.Kind.RESTORE_SNAPSHOT:
        run = RestoreRun.objects.select_related("source").filter(operation=restore).first()
        return (run.source if run else None), "snapshot"
    return restore.site.backups.filter(wix_id=restore.backup_wix_id).first(), "backup"
