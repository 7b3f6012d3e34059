"""What a Wix restore changed, per collection, in the activity log.

Wix says only that a restoration COMPLETED. Once it does (engine/refresh.py), the site is read
again as an ordinary snapshot (no Wix slot used; like a preview's live reading, there is no
other kind), the restore's `RestoreRun.reading`; when that snapshot ends (snapshot_run), it is
compared with the restore's safety snapshot (`snapshots.count_changes`) over the collections the
restore wrote to, and one entry of the log says, for whoever asked, how many items were brought
back, reverted, removed and left unchanged in each. A reading that fails says so instead: the
restore stays SUCCEEDED, since Wix did it.

A snapshot of the site already being taken when Wix ends the restore may have read some of the
data before it: the reading is then recorded when that one ends. The count is written once
(compare-and-swap on `counted_at`), whichever worker gets there first; a worker that died
between a reading's end and its count is made up for by the hourly beat on the snapshot queue
(`restore_readings_due`).
"""

import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import rules
from ..models import Activity, Operation, Site, Snapshot
from ..restore_models import RestoreRun
from ..snapshots import StorageError, count_changes, read_manifest
from .snapshot_requests import record_snapshot
from .snapshot_store import site_store
from .states import site_touch
from .words import snapshot_message

logger = logging.getLogger(__name__)

COUNTED = "What the restore changed, read from the site afterwards, for the restore from the backup"
UNREAD = "What the restore changed could not be read, for the restore from the backup"


def _waiting(site_id: Any = None) -> "QuerySet[RestoreRun]":
    """The Wix restores (of one site) that Wix completed and that wait for their reading."""
    waiting = RestoreRun.objects.filter(
        operation__state=Operation.State.SUCCEEDED,
        mode=RestoreRun.Mode.WIX,
        reading__isnull=True,
        counted_at__isnull=True,
        safety__isnull=False,
    )
    return waiting if site_id is None else waiting.filter(operation__site_id=site_id)


def restore_completed(operation: Operation) -> None:
    """Wix completed this restore (just finished SUCCEEDED): read the site again, unless a
    snapshot is being taken (its end records the reading, `snapshot_ended`)."""
    if not operation.is_restore:
        return
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=operation.site_id)
        if rules.snapshot_running(site) is None:
            _record_readings(site)


def _record_readings(site: Site) -> None:
    """Record one reading for every restore waiting for one; the caller holds the site's row
    lock inside a transaction and knows no snapshot of the site is being taken."""
    waiting = list(_waiting(site.pk).select_related("operation"))
    if not waiting:
        return
    first = waiting[0].operation
    taking = record_snapshot(
        site=site, user=first.requested_by, via=first.via, taken_for=Snapshot.TakenFor.READING
    )
    reading = Snapshot.objects.get(operation=taking)
    RestoreRun.objects.filter(pk__in=[run.pk for run in waiting], reading__isnull=True).update(
        reading=reading
    )


def snapshot_ended(snapshot: Snapshot) -> None:
    """A snapshot of the site ended (complete or failed): count the restores it read after, then
    record a reading for those that waited for the site's snapshot to end. Never raises: the
    snapshot's own end is done already, and the log says what could not be read."""
    ended = RestoreRun.objects.filter(reading=snapshot, counted_at__isnull=True)
    for run in ended.select_related("operation__site", "safety", "reading"):
        try:
            _count(run, run.reading)
        except Exception as error:  # the restore is done all the same; the log says why
            logger.exception("counting what restore %s changed failed", run.operation_id)
            _log(run, {}, why=snapshot_message(error))
    try:
        if _waiting(snapshot.site_id).exists():
            with transaction.atomic():
                site = Site.objects.select_for_update().get(pk=snapshot.site_id)
                if rules.snapshot_running(site) is None:
                    _record_readings(site)
    except Exception:
        logger.exception("recording the reading after a restore of site %s", snapshot.site_id)


def _count(run: RestoreRun, reading: Snapshot) -> None:
    operation = run.operation
    if reading.state != Snapshot.State.COMPLETE:
        _log(run, {}, why=reading.error or "the snapshot reading the site failed")
        return
    safety = run.safety
    if safety is None or safety.state != Snapshot.State.COMPLETE:
        _log(run, {}, why="the safety snapshot taken before the restore is gone")
        return
    backup = operation.site.backups.filter(wix_id=operation.backup_wix_id).first()
    collections = rules.restored_collections(operation, run, backup)
    store = site_store(operation.site_id)
    try:
        after = read_manifest(store, reading.storage_id)
        before = read_manifest(store, safety.storage_id)
        counts = {}
        for collection in collections:
            # Seen from the data after the restore: in it only, brought back; in both with
            # other contents, reverted; in the data before only, removed.
            found = count_changes(store, after, before, collection)
            counts[collection] = {
                "restored": found.restore,
                "reverted": found.revert,
                "removed": found.remove,
                "unchanged": found.same,
            }
    except StorageError as error:
        _log(run, {}, why=snapshot_message(error))
        return
    _log(run, counts)


def _log(run: RestoreRun, counts: dict[str, dict[str, int]], *, why: str = "") -> None:
    """Write the count (or why there is none) once, and its entry in the activity log."""
    operation = run.operation
    with transaction.atomic():
        done = RestoreRun.objects.filter(pk=run.pk, counted_at__isnull=True).update(
            counted_at=timezone.now(), counts=counts
        )
        if not done:
            return  # another worker counted it
        backup = operation.site.backups.filter(wix_id=operation.backup_wix_id).first()
        Activity.objects.create(
            site_id=operation.site_id,
            actor_id=operation.requested_by_id,
            via=operation.via,
            operation=operation,
            outcome=Activity.INFO,
            kind=Activity.RESTORE,
            message=UNREAD if why else COUNTED,
            backup_at=backup.requested_at if backup else None,
            detail=why or changed_words(counts),
        )
        site_touch(operation.site_id)


def changed_words(counts: dict[str, dict[str, int]]) -> str:
    """ "Products: 1 brought back, 1 reverted, 1 removed, 9 unchanged; Customers: ..."."""
    return (
        "; ".join(
            f"{collection}: {c['restored']} brought back, {c['reverted']} reverted, "
            f"{c['removed']} removed, {c['unchanged']} unchanged"
            for collection, c in counts.items()
        )
        or "no collection to compare"
    )


def restore_readings_due() -> int:
    """What a crash left undone: count the restores whose reading ended uncounted, and record a
    reading for those still waiting for one on a site where no snapshot runs. How many it
    counted or recorded."""
    done = 0
    ended = (
        RestoreRun.objects.filter(counted_at__isnull=True, reading__isnull=False)
        .exclude(reading__state=Snapshot.State.RUNNING)
        .select_related("reading")[:100]
    )
    for run in ended:
        snapshot_ended(run.reading)
        done += 1
    for site_id in set(_waiting().values_list("operation__site_id", flat=True)[:100]):
        with transaction.atomic():
            site = Site.objects.select_for_update().get(pk=site_id)
            if rules.snapshot_running(site) is None:
                _record_readings(site)
                done += 1
    return done
