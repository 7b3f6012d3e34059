"""Requests from people (and commands): validated and recorded in one transaction, then handed to
a worker after commit (architecture.md, habit 1)."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import rules
from ..models import Activity, Backup, Operation, Site, Snapshot
from ..restore_models import RestoreRun
from .dispatch import enqueue_submit
from .errors import OperationRefused
from .restore_safety import record_safety
from .rotation import RotationRefused, rotation_for_create
from .snapshot_requests import record_snapshot
from .states import site_touch
from .words import operation_words

# A fresh operation is handed to Celery at once; the sweeper looks again only after this, in case
# the hand-over was lost.
SUBMIT_GRACE = timedelta(seconds=10)


def _clean_collections(
    backup: Backup, collections: Iterable[dict[str, Any] | str] | None
) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    for entry in collections or []:
        item = {"dataCollectionId": entry} if isinstance(entry, str) else dict(entry)
        chosen.append(item)
    if not chosen:
        raise OperationRefused("Choose at least one collection to restore.")
    known = {c.get("id") for c in backup.collections}
    ids = [c.get("dataCollectionId") for c in chosen]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise OperationRefused(f"The backup has no collection named {unknown[0]!s}.")
    if len(set(ids)) != len(ids):
        raise OperationRefused("A collection was chosen twice.")
    return sorted(chosen, key=lambda c: c["dataCollectionId"])


def operation_request(
    *,
    site: Site,
    kind: str,
    user: AbstractBaseUser | None = None,
    backup_wix_id: str = "",
    collections: Iterable[dict[str, Any] | str] | None = None,
    via: str = "",
    wix_backup: bool = False,
) -> Operation:
    """Record what the owner asked for and hand it to a worker; refuse what cannot work.

    A repeat of a request that is still running returns the running operation, so a double click
    never makes a second backup or a second restore. A request the rules refuse is logged (who
    asked, and why not) and raised as OperationRefused. `via`: who asked when no person did
    (`Activity.SCHEDULE`), so the log says so. `wix_backup`: a restore asked with "Also take
    a Wix backup first" (`wix_safety_backup_record`).
    """
    try:
        return _record(
            site=site,
            kind=kind,
            user=user,
            backup_wix_id=backup_wix_id,
            collections=collections,
            via=via,
            wix_backup=wix_backup,
        )
    except RefusedByRules as refused:
        Activity.objects.create(
            site=site,
            actor=user,
            via=via,
            outcome=Activity.FAILED,
            message=f"{refused.words} (refused)",
            kind=Activity.kind_of(kind),
            backup_at=refused.backup_at,
            detail=str(refused),
        )
        site_touch(site.pk)
        raise


class RefusedByRules(OperationRefused):
    """Refused by the rules (not for bad input): the activity log says so."""

    def __init__(self, reason: str, *, words: str, backup_at: Any) -> None:
        super().__init__(reason)
        self.words, self.backup_at = words, backup_at


def _record(
    *,
    site: Site,
    kind: str,
    user: AbstractBaseUser | None,
    backup_wix_id: str,
    collections: Iterable[dict[str, Any] | str] | None,
    via: str,
    wix_backup: bool = False,
) -> Operation:
    with transaction.atomic():
        # Requests of one site take turns, so two clicks cannot both pass the checks below.
        locked = Site.objects.select_for_update().filter(pk=site.pk).first()
        running = list(site.operations.filter(state__in=Operation.RUNNING, kind=kind))
        backup = None
        chosen: list[dict[str, Any]] = []
        if kind in Operation.SNAPSHOT_KINDS:
            raise OperationRefused("Snapshots are asked for with snapshot_request.")
        after = None
        if kind == Operation.Kind.CREATE_BACKUP:
            if running:
                return running[0]
            try:
                # A pinned backup is never evicted: free a slot first when it would be.
                after = rotation_for_create(site=site, user=user, via=via)
            except RotationRefused as refused:
                words = operation_words(kind, [])
                raise RefusedByRules(str(refused), words=words, backup_at=None) from None
        else:
            backup = rules.with_pins(site.backups.filter(wix_id=backup_wix_id)).first()
            if backup is None:
                raise OperationRefused("This backup is not (or no longer) listed for the site.")
            if kind == Operation.Kind.RESTORE_PARTIAL:
                chosen = _clean_collections(backup, collections)
            for op in running:
                if op.backup_wix_id == backup_wix_id and op.collections == chosen:
                    return op
            reason = rules.refusal(kind, backup, rules.in_flight(site))
            if reason:
                words = operation_words(kind, chosen, backup.collections)
                raise RefusedByRules(reason, words=words, backup_at=backup.requested_at)
        now = timezone.now()
        operation = Operation.objects.create(
            site=site,
            kind=kind,
            requested_by=user,
            via=via,
            backup_wix_id=backup_wix_id if backup else "",
            collections=chosen,
            due_at=now + SUBMIT_GRACE,
            after=after,
        )
        Activity.objects.create(
            site=site,
            actor=user,
            via=via,
            operation=operation,
            outcome=Activity.REQUESTED,
            message=operation_words(kind, chosen, backup.collections if backup else None),
            backup_at=backup.requested_at if backup else None,
        )
        if kind == Operation.Kind.CREATE_BACKUP and locked and locked.snapshot_with_backup:
            # The site's setting: a snapshot of the same moment, shown with the backup as one
            # row; it runs on its own queue and never holds the backup up.
            record_snapshot(site=locked, user=user, backup_operation=operation, via=via)
        if operation.is_restore and locked is not None:
            # The safety net: a snapshot of the site before Wix overwrites it, which the restore
            # waits for (submit) and which its Undo restores.
            record_safety(site=locked, user=user, operation=operation, mode=RestoreRun.Mode.WIX)
            if wix_backup and backup is not None:
                wix_safety_backup_record(locked, operation, backup, user, via)
        site_touch(site.pk)
        transaction.on_commit(lambda: enqueue_submit(operation.pk))
    return operation


def wix_safety_backup_record(
    site: Site,
    restore: Operation,
    source: Backup | Snapshot,
    user: AbstractBaseUser | None,
    via: str = "",
) -> None:
    """ "Also take a Wix backup first" (a Wix restore or a snapshot restore): asked through Back
    up now's path (the rotation deletes first if needed), and the restore waits for it
    (`Operation.after`: never sent while it runs, failed if it fails; `restore_safety.safety_of`).
    Skipped, saying why in the log, when it could only make room by deleting the backup being
    restored from or a pinned one (`rules.wix_safety_backup`, as the form said; asked again now,
    under the site's lock). The caller holds the site's row lock inside a transaction."""
    decision = rules.wix_safety_backup(rules.slots_with_pins(site), rules.in_flight(site), source)
    skip = f"{decision.skip}." if decision.skip else ""
    if not skip:
        try:
            create = _record(
                site=site,
                kind=Operation.Kind.CREATE_BACKUP,
                user=user,
                backup_wix_id="",
                collections=None,
                via=via,
            )
        except RefusedByRules as refused:  # not expected after the rule said yes: said anyway
            skip = str(refused)
        else:
            Operation.objects.filter(pk=restore.pk).update(after=create)
            restore.after = create
    is_backup = isinstance(source, Backup)
    what = "the restore from the backup" if is_backup else "the restore from the snapshot"
    Activity.objects.create(
        site=site,
        actor=user,
        via=via,
        outcome=Activity.INFO,
        kind=Activity.RESTORE,
        message=f"Wix safety backup skipped before {what}"
        if skip
        else f"A Wix safety backup is taken first, as asked; the restore waits for it: {what}",
        backup_at=source.requested_at if is_backup else source.started_at,
        detail=skip,
    )
