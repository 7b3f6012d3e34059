"""What owners (and commands) ask of snapshots: take one, verify one, pin, delete, and the site's
snapshot settings. Each is validated and recorded in one transaction; the work itself runs on the
snapshot queue (snapshot_run.py, snapshot_prune.py).
"""

import logging
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import clock, rules
from ..models import Activity, Operation, Site, Snapshot
from ..snapshots import delete_snapshot
from .dispatch import enqueue_prune, enqueue_snapshot_operation
from .errors import OperationRefused
from .snapshot_store import site_store
from .states import site_touch
from .words import operation_words

logger = logging.getLogger(__name__)

# As requests.SUBMIT_GRACE: handed to Celery at once, looked at again by the sweeper after this.
SNAPSHOT_GRACE = timedelta(seconds=10)


def record_snapshot(
    *,
    site: Site,
    user: AbstractBaseUser | None,
    backup_operation: Operation | None = None,
    via: str = "",
    taken_for: str = Snapshot.TakenFor.OWNER,
) -> Operation:
    """Record a snapshot request; the caller holds the site's row lock inside a transaction.

    One snapshot of a site at a time: while one is being taken, it is returned instead (and
    becomes the owner's when the owner asked for one: the site's retention rules count it).
    `taken_for`: a restore preview's live reading or a restore's safety snapshot, which follow
    a retention rule of their own (`rules.kept_apart`).
    """
    running = rules.snapshot_running(site)
    if running is not None:
        if taken_for == Snapshot.TakenFor.OWNER:
            Snapshot.objects.filter(operation=running).exclude(taken_for=taken_for).update(
                taken_for=taken_for
            )
        return running
    now = timezone.now()
    operation = Operation.objects.create(
        site=site,
        kind=Operation.Kind.SNAPSHOT,
        requested_by=user,
        via=via,
        due_at=now + SNAPSHOT_GRACE,
    )
    # A copy's age is business time (clock.py): the stale check and the pages judge it so.
    snapshot = Snapshot(
        site=site,
        operation=operation,
        backup_operation=backup_operation,
        taken_for=taken_for,
        started_at=clock.now(),
    )
    snapshot.storage_id = str(snapshot.pk)
    snapshot.save()
    Activity.objects.create(
        site=site,
        actor=user,
        via=via,
        operation=operation,
        outcome=Activity.REQUESTED,
        message=operation_words(Operation.Kind.SNAPSHOT, []),
    )
    site_touch(site.pk)
    transaction.on_commit(lambda: enqueue_snapshot_operation(operation.pk))
    return operation


def snapshot_request(
    *, site: Site, user: AbstractBaseUser | None = None, via: str = ""
) -> Operation:
    """Take a snapshot of the site now ("Take a snapshot", `manage.py snapshot_site`, a
    schedule: `via`); a second request while one runs returns the running one. Its row:
    `operation.snapshot`."""
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        return record_snapshot(site=locked, user=user, via=via)


def snapshot_verify_request(
    *, snapshot: Snapshot, user: AbstractBaseUser | None = None
) -> Operation:
    """Read every object of a complete snapshot back and check it, on the snapshot queue; a
    second request while one is queued or running returns that one."""
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=snapshot.site_id).first()
        fresh = Snapshot.objects.select_related("verify_operation").filter(pk=snapshot.pk).first()
        if fresh is None:
            raise OperationRefused("This snapshot no longer exists.")
        current = fresh.verify_operation
        if current is not None and current.state in Operation.RUNNING:
            return current
        reason = rules.snapshot_use_refusal(fresh)
        if reason:
            raise OperationRefused(reason)
        now = timezone.now()
        operation = Operation.objects.create(
            site_id=fresh.site_id,
            kind=Operation.Kind.VERIFY_SNAPSHOT,
            requested_by=user,
            due_at=now + SNAPSHOT_GRACE,
        )
        Snapshot.objects.filter(pk=fresh.pk).update(verify_operation=operation)
        Activity.objects.create(
            site_id=fresh.site_id,
            actor=user,
            operation=operation,
            outcome=Activity.REQUESTED,
            message=operation_words(Operation.Kind.VERIFY_SNAPSHOT, []),
            backup_at=fresh.started_at,
        )
        site_touch(fresh.site_id)
        transaction.on_commit(lambda: enqueue_snapshot_operation(operation.pk))
    return operation


def snapshot_pin(*, snapshot: Snapshot, pinned: bool, user: AbstractBaseUser | None = None) -> None:
    """Pin (retention never prunes it) or unpin a complete snapshot."""
    reason = rules.snapshot_use_refusal(snapshot)
    if reason:
        raise OperationRefused(reason)
    changed = Snapshot.objects.filter(pk=snapshot.pk).exclude(pinned=pinned).update(pinned=pinned)
    snapshot.pinned = pinned
    if not changed:
        return
    Activity.objects.create(
        site_id=snapshot.site_id,
        actor=user,
        outcome=Activity.INFO,
        message="Pinned the snapshot" if pinned else "Unpinned the snapshot",
        backup_at=snapshot.started_at,
    )
    site_touch(snapshot.site_id)
    if not pinned:
        enqueue_prune(snapshot.site_id)  # the rules may now remove it


def snapshot_delete(*, snapshot: Snapshot, user: AbstractBaseUser | None = None) -> None:
    """Delete a snapshot: its manifest first (from then on it is gone from storage), then its row;
    its objects are reclaimed by the next prune's garbage collection. A storage failure raises
    StorageError and changes nothing here."""
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=snapshot.site_id).first()
        fresh = Snapshot.objects.filter(pk=snapshot.pk).first()
        if fresh is None:
            return  # already gone: what the owner asked for has happened
        reason = rules.snapshot_delete_refusal(fresh)
        if reason:
            raise OperationRefused(reason)
        delete_snapshot(site_store(fresh.site_id), fresh.storage_id)
        fresh.delete()
        Activity.objects.create(
            site_id=fresh.site_id,
            actor=user,
            outcome=Activity.INFO,
            message="Deleted the snapshot",
            backup_at=fresh.started_at,
        )
        site_touch(fresh.site_id)
    logger.info("snapshot %s of site %s deleted", fresh.storage_id, fresh.site_id)


def snapshot_settings_set(
    *,
    site: Site,
    user: AbstractBaseUser | None = None,
    with_backup: bool | None = None,
    keep_last: int | None = None,
    daily: int | None = None,
    weekly: int | None = None,
    monthly: int | None = None,
) -> None:
    """Change whether "Back up now" also takes a snapshot, and the retention rules (those left
    None stay). Rules that keep nothing are refused (OperationRefused) and nothing changes; new
    rules are applied at once by a prune on the snapshot queue (show `rules.retention_preview`
    with the new rules first: it is what the prune will remove)."""
    counts = {
        "keep_last": site.snapshot_keep_last if keep_last is None else keep_last,
        "daily": site.snapshot_keep_daily if daily is None else daily,
        "weekly": site.snapshot_keep_weekly if weekly is None else weekly,
        "monthly": site.snapshot_keep_monthly if monthly is None else monthly,
    }
    reason = rules.retention_refusal(**counts)
    if reason:
        raise OperationRefused(reason)
    fields = {
        "snapshot_keep_last": counts["keep_last"],
        "snapshot_keep_daily": counts["daily"],
        "snapshot_keep_weekly": counts["weekly"],
        "snapshot_keep_monthly": counts["monthly"],
    }
    if with_backup is not None:
        fields["snapshot_with_backup"] = with_backup
    changed = {k: v for k, v in fields.items() if getattr(site, k) != v}
    if not changed:
        return
    Site.objects.filter(pk=site.pk).update(**changed)
    for name, value in changed.items():
        setattr(site, name, value)
    words = []
    if "snapshot_with_backup" in changed:
        words.append("a snapshot with every backup" if with_backup else "no snapshot with backups")
    if set(changed) - {"snapshot_with_backup"}:
        words.append(
            "keep the last {keep_last}, {daily} daily, {weekly} weekly, {monthly} monthly".format(
                **counts
            )
        )
    Activity.objects.create(
        site=site,
        actor=user,
        outcome=Activity.INFO,
        message="Snapshot settings changed: " + "; ".join(words),
    )
    site_touch(site.pk)
    if set(changed) - {"snapshot_with_backup"}:
        enqueue_prune(site.pk)
