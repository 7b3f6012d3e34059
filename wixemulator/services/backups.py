"""Wix's Backups API as the emulated Wix does it: backups, restorations and their clock.

Rules follow docs/wix-backups-api.md, including its table "Where Wix is silent".
"""

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When

from ..models import AUTO_BACKUP_INTERVAL, EmuBackup, EmuCollection, EmuRestoration, EmuSite
from .content import backed_up_collections, copy_into_backup, restore_collection, wix_time
from .errors import EmuApiError, invalid
from .sites import lock_site

ON_DEMAND_SLOTS = 3
AUTO_KEPT = 4
# Catching up after the clock jumped far ahead makes at most this many AUTO backups (the older
# ones would be DELETED by the keep-4 rule anyway).
AUTO_CATCH_UP = 8
BACKUP_STATUSES = ("PENDING", "READY", "FAILED", "DELETED", "CANCELED")
BACKUP_TYPES = ("ON_DEMAND", "AUTO")
RESTORATION_STATUSES = ("PENDING", "IN_PROGRESS", "COMPLETED", "FAILED")


# --- Time: derived state and the catch-up every request does first --------------------------


def backup_status_expr(now: datetime) -> Case:
    """The status a backup has at `now`, as SQL (so lists can filter and count in the DB)."""
    return Case(
        When(deleted_at__isnull=False, deleted_at__lte=now, then=Value("DELETED")),
        When(finish_at__lte=now, then=F("outcome")),
        default=Value("PENDING"),
    )


def restoration_status_expr(now: datetime) -> Case:
    """As EmuRestoration.status_at, in SQL."""
    return Case(
        When(finish_at__lte=now, then=F("outcome")),
        When(started_at__lte=now, then=Value("IN_PROGRESS")),
        default=Value("PENDING"),
    )


def settle(site: EmuSite, now: datetime) -> None:
    """Bring the stored state up to `now`: due AUTO backups, finished restorations' content.

    Called inside the transaction that holds the site's lock, so it runs once per change.
    """
    due = int((now - site.auto_anchor) / AUTO_BACKUP_INTERVAL)
    if due > site.auto_taken:
        for k in range(max(site.auto_taken + 1, due - AUTO_CATCH_UP + 1), due + 1):
            _make_backup(site, EmuBackup.AUTO, site.auto_anchor + k * AUTO_BACKUP_INTERVAL)
        site.auto_taken = due
        EmuSite.objects.filter(pk=site.pk).update(auto_taken=due)
        _keep_newest_auto(site, now)
    finished = EmuRestoration.objects.filter(
        site=site, applied=False, finish_at__lte=now, outcome=EmuRestoration.COMPLETED
    ).order_by("finish_at")
    for restoration in finished.select_related("backup"):
        if EmuRestoration.objects.filter(pk=restoration.pk, applied=False).update(applied=True):
            _apply_restoration(site, restoration)


def _keep_newest_auto(site: EmuSite, now: datetime) -> None:
    alive = EmuBackup.objects.filter(
        site=site, type=EmuBackup.AUTO, delete_requested_at__isnull=True
    ).order_by("-requested_at")
    old = list(alive.values_list("pk", flat=True)[AUTO_KEPT:])
    if old:
        EmuBackup.objects.filter(pk__in=old).update(delete_requested_at=now, deleted_at=now)


def take_auto_backup(site_id: str | uuid.UUID) -> EmuBackup:
    """Wix's weekly automatic backup, taken now."""
    with transaction.atomic():
        site = lock_site(site_id)
        now = site.now()
        settle(site, now)
        backup = _make_backup(site, EmuBackup.AUTO, now)
        _keep_newest_auto(site, now)
        return backup


# --- Content ----------------------------------------------------------------------------------


def _apply_restoration(site: EmuSite, restoration: EmuRestoration) -> None:
    kept = {c["id"]: c for c in restoration.backup.collections}
    for rc in restoration.restoration_collections:
        source = kept.get(rc["dataCollectionId"])
        if source is None:
            continue
        destination = rc.get("restoreDestination") or {}
        target_id = destination.get("dataCollectionId") or source["id"]
        display_name = destination.get("displayName") or source["displayName"]
        # A collection the restore has to create gets the source's schema when the source still
        # exists (the backup itself keeps no schema).
        template = site.collections.filter(collection_id=source["id"]).first()
        defaults: dict[str, Any] = {"display_name": display_name}
        if template is not None:
            defaults |= {
                "fields": template.fields,
                "permissions": template.permissions,
                "display_field": template.display_field,
            }
        collection, created = EmuCollection.objects.get_or_create(
            site=site, collection_id=target_id, defaults=defaults
        )
        if not created and destination.get("displayName"):
            collection.display_name = destination["displayName"]
            collection.save(update_fields=["display_name"])
        restore_collection(collection, restoration.backup, source["id"])


# --- Backups and restorations -----------------------------------------------------------------


def _ends_failed(site: EmuSite) -> bool:
    return site.fault_fail_rate > 0 and random.random() < site.fault_fail_rate  # noqa: S311


def _make_backup(site: EmuSite, kind: str, requested_at: datetime) -> EmuBackup:
    duration = site.duration("backup")
    backup = EmuBackup.objects.create(
        site=site,
        type=kind,
        requested_at=requested_at,
        # Work starts a moment after the request, so a client sees startedDate null, then set.
        started_at=requested_at + min(duration / 4, timedelta(milliseconds=500)),
        finish_at=requested_at + duration,
        outcome=EmuBackup.FAILED if _ends_failed(site) else EmuBackup.READY,
        collections=[
            {"id": c.collection_id, "displayName": c.display_name}
            for c in backed_up_collections(site)
        ],
    )
    backup.size_in_bytes = copy_into_backup(site, backup)
    EmuBackup.objects.filter(pk=backup.pk).update(size_in_bytes=backup.size_in_bytes)
    return backup


def create_backup(site: EmuSite, now: datetime) -> EmuBackup:
    """An on-demand backup; the oldest PENDING or READY one is evicted when all slots are used."""
    holding_slot = EmuBackup.objects.filter(holds_slot(now), site=site).order_by("requested_at")
    used = list(holding_slot.values_list("pk", flat=True))
    if len(used) >= ON_DEMAND_SLOTS:
        evict = used[: len(used) - ON_DEMAND_SLOTS + 1]
        EmuBackup.objects.filter(pk__in=evict).update(delete_requested_at=now, deleted_at=now)
    return _make_backup(site, EmuBackup.ON_DEMAND, now)


def find_backup(site: EmuSite, backup_id: uuid.UUID) -> EmuBackup:
    backup = EmuBackup.objects.filter(site=site, pk=backup_id).first()
    if backup is None:
        raise EmuApiError(404, f"Backup {backup_id} not found", code="BACKUP_NOT_FOUND")
    return backup


def restore(
    site: EmuSite,
    now: datetime,
    backup_id: uuid.UUID,
    collections: list[dict[str, Any]] | None,
) -> EmuRestoration:
    """Start a restoration; `collections` None restores every collection onto itself."""
    backup = find_backup(site, backup_id)
    if backup.delete_requested_at is not None:
        # Wix refuses to restore from a backup it is deleting, as it refuses to delete a backup a
        # restoration uses (docs/wix-backups-api.md, "Where Wix is silent").
        state = "deleted" if backup.status_at(now) == "DELETED" else "being deleted"
        raise EmuApiError(
            428,
            f"Backup {backup_id} is {state}; it cannot be restored",
            code="BACKUP_NOT_READY",
        )
    if backup.status_at(now) != "READY":
        raise EmuApiError(
            428,
            f"Backup {backup_id} is {backup.status_at(now)}; only a READY backup can be restored",
            code="BACKUP_NOT_READY",
        )
    if EmuRestoration.objects.filter(site=site, finish_at__gt=now).exists():
        raise EmuApiError(
            409, "Another restoration of this site is in progress", code="RESTORATION_IN_PROGRESS"
        )
    if collections is None:
        collections = [{"dataCollectionId": c["id"]} for c in backup.collections]
    else:
        known = {c["id"] for c in backup.collections}
        for index, rc in enumerate(collections):
            if rc["dataCollectionId"] not in known:
                raise invalid(
                    f"restorationCollections[{index}].dataCollectionId",
                    f"collection {rc['dataCollectionId']!r} is not in backup {backup_id}",
                    "NOT_FOUND",
                )
    duration = site.duration("restore")
    return EmuRestoration.objects.create(
        site=site,
        backup=backup,
        requested_at=now,
        # Waits a quarter of its time (at most a minute) before Wix starts writing: PENDING, then
        # IN_PROGRESS, each long enough to be seen on a long restore.
        started_at=now + min(duration / 4, timedelta(minutes=1)),
        finish_at=now + duration,
        outcome=EmuRestoration.FAILED if _ends_failed(site) else EmuRestoration.COMPLETED,
        restoration_collections=collections,
    )


def delete_backup(site: EmuSite, now: datetime, backup_id: uuid.UUID) -> None:
    backup = find_backup(site, backup_id)
    if backup.delete_requested_at is not None:
        return  # already deleted or being deleted: deleting again changes nothing
    if backup.status_at(now) == "PENDING":
        raise EmuApiError(428, "The backup is still being created", code="BACKUP_IN_USE")
    if EmuRestoration.objects.filter(backup=backup, finish_at__gt=now).exists():
        raise EmuApiError(
            428, "A restoration from this backup is in progress", code="BACKUP_IN_USE"
        )
    EmuBackup.objects.filter(pk=backup.pk).update(
        delete_requested_at=now, deleted_at=now + site.duration("delete")
    )


def list_backups(
    site: EmuSite, now: datetime, *, statuses: list[str], types: list[str], limit: int, offset: int
) -> tuple[list[EmuBackup], int]:
    qs: QuerySet[EmuBackup] = EmuBackup.objects.filter(site=site).annotate(
        current_status=backup_status_expr(now)
    )
    if statuses:
        qs = qs.filter(current_status__in=statuses)
    if types:
        qs = qs.filter(type__in=types)
    total = qs.count()
    return list(qs.order_by("-requested_at", "-pk")[offset : offset + limit]), total


def list_restorations(
    site: EmuSite, now: datetime, *, statuses: list[str], limit: int, offset: int
) -> tuple[list[EmuRestoration], int]:
    qs: QuerySet[EmuRestoration] = (
        EmuRestoration.objects.filter(site=site)
        .select_related("backup")
        .annotate(current_status=restoration_status_expr(now))
    )
    if statuses:
        qs = qs.filter(current_status__in=statuses)
    total = qs.count()
    return list(qs.order_by("-requested_at", "-pk")[offset : offset + limit]), total


# --- Wire format ------------------------------------------------------------------------------


def _if_past(value: datetime | None, now: datetime) -> datetime | None:
    return value if value is not None and value <= now else None


def backup_json(backup: EmuBackup, now: datetime) -> dict[str, Any]:
    status = backup.status_at(now)
    # A backup evicted or deleted before it finished never finished.
    finished = backup.finish_at <= now and (
        backup.deleted_at is None or backup.finish_at <= backup.deleted_at
    )
    made = finished and backup.outcome == EmuBackup.READY
    return {
        "id": str(backup.id),
        "status": status,
        "requestedDate": wix_time(backup.requested_at),
        "startedDate": wix_time(_if_past(backup.started_at, now)),
        "finishedDate": wix_time(backup.finish_at) if finished else None,
        "deletedDate": wix_time(backup.deleted_at) if status == "DELETED" else None,
        # Wix sends the size as a string of digits (int64 in JSON), null until READY.
        "sizeInBytes": str(backup.size_in_bytes) if made else None,
        "type": backup.type,
        "collections": backup.collections,
    }


def restoration_json(restoration: EmuRestoration, now: datetime) -> dict[str, Any]:
    return {
        "id": str(restoration.id),
        "backup": backup_json(restoration.backup, now),
        "status": restoration.status_at(now),
        "requestedDate": wix_time(restoration.requested_at),
        "startedDate": wix_time(_if_past(restoration.started_at, now)),
        "finishedDate": wix_time(_if_past(restoration.finish_at, now)),
        "restorationCollections": restoration.restoration_collections,
    }


def holds_slot(now: datetime) -> Q:
    """On-demand backups that hold one of the site's 3 slots at `now`: PENDING or READY ones."""
    return Q(type=EmuBackup.ON_DEMAND, delete_requested_at__isnull=True) & ~Q(
        finish_at__lte=now, outcome=EmuBackup.FAILED
    )
