"""What the emulated Wix does: every state change of the emulator goes through here.

The API views (api.py), the management command and the data pages call these functions; tests
call them to set up sites. Rules follow ../shared/wix-backups-api.md, including its table
"Where Wix is silent".
"""

import json
import random
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When

from . import demo
from .models import (
    AUTO_BACKUP_INTERVAL,
    EmuApiKey,
    EmuApp,
    EmuBackup,
    EmuCollection,
    EmuItem,
    EmuRestoration,
    EmuSite,
)

ON_DEMAND_SLOTS = 3
AUTO_KEPT = 4
# Catching up after the clock jumped far ahead makes at most this many AUTO backups (the older
# ones would be DELETED by the keep-4 rule anyway).
AUTO_CATCH_UP = 8
BACKUP_STATUSES = ("PENDING", "READY", "FAILED", "DELETED", "CANCELED")
BACKUP_TYPES = ("ON_DEMAND", "AUTO")
RESTORATION_STATUSES = ("PENDING", "COMPLETED", "FAILED")
DEFAULT_APP_NAME = "Wix Backup Manager (emulated app)"


class EmuApiError(Exception):
    """An answer other than 200, in Wix's error format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        violations: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.violations = violations
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        if self.violations is not None:
            details: dict[str, Any] = {"validationError": {"fieldViolations": self.violations}}
        else:
            details = {
                "applicationError": {
                    "code": self.code or "",
                    "description": self.message,
                    "data": {},
                }
            }
        return {"message": self.message, "details": details}


def invalid(field: str, description: str, rule: str = "FORMAT") -> EmuApiError:
    return EmuApiError(
        400,
        f"INVALID_ARGUMENT: {field} {description}",
        violations=[{"field": field, "description": description, "violatedRule": rule}],
    )


# --- Sites and their settings ---------------------------------------------------------------


@dataclass(frozen=True)
class SiteCredentials:
    site_id: str
    api_key: str
    app_id: str
    app_secret: str
    instance_id: str

    def as_json(self) -> dict[str, str]:
        d = asdict(self)
        return {
            "siteId": d["site_id"],
            "apiKey": d["api_key"],
            "appId": d["app_id"],
            "appSecret": d["app_secret"],
            "instanceId": d["instance_id"],
        }


def default_app() -> EmuApp:
    app = EmuApp.objects.filter(name=DEFAULT_APP_NAME).order_by("pk").first()
    if app is None:
        app = EmuApp.objects.create(name=DEFAULT_APP_NAME, app_secret=secrets.token_urlsafe(32))
    return app


def new_api_key() -> str:
    # Wix API keys are long opaque JWT-like strings; the shape only matters for realism.
    return "IST." + secrets.token_urlsafe(48)


@transaction.atomic
def create_site(*, name: str, demo_data: bool = False) -> SiteCredentials:
    app = default_app()
    site = EmuSite.objects.create(name=name, app=app)
    key = EmuApiKey.objects.create(key=new_api_key(), site=site)
    if demo_data:
        demo.fill(site)
    return credentials(site, api_key=key.key)


def credentials(site: EmuSite, *, api_key: str | None = None) -> SiteCredentials:
    if api_key is None:
        first = site.api_keys.filter(can_manage_backups=True).order_by("pk").first()
        api_key = first.key if first else ""
    app = site.app or default_app()
    return SiteCredentials(
        site_id=str(site.site_id),
        api_key=api_key,
        app_id=str(app.app_id),
        app_secret=app.app_secret,
        instance_id=str(site.instance_id),
    )


def add_api_key(site_id: str | uuid.UUID, *, can_manage_backups: bool = True) -> str:
    site = EmuSite.objects.get(site_id=site_id)
    return EmuApiKey.objects.create(
        key=new_api_key(), site=site, can_manage_backups=can_manage_backups
    ).key


def set_delays(
    site_id: str | uuid.UUID,
    *,
    backup_seconds: float | None = None,
    restore_seconds: float | None = None,
    delete_seconds: float | None = None,
) -> None:
    """Set the site's durations; None leaves one as it is."""
    values = {
        f"{kind}_seconds": seconds
        for kind, seconds in (
            ("backup", backup_seconds),
            ("restore", restore_seconds),
            ("delete", delete_seconds),
        )
        if seconds is not None
    }
    for field, seconds in values.items():
        if seconds < 0:
            raise ValueError(f"{field} must not be negative")
    EmuSite.objects.filter(site_id=site_id).update(**values)


def set_faults(
    site_id: str | uuid.UUID,
    *,
    error_rate: float = 0.0,
    rate_limit_rate: float = 0.0,
    delay_rate: float = 0.0,
    delay_seconds: float = 0.0,
    drop_rate: float = 0.0,
    fail_rate: float = 0.0,
    count: int | None = None,
    garbage_rate: float = 0.0,
) -> None:
    """Replace the site's faults (all zero: a healthy site)."""
    shares = {
        "error_rate": error_rate,
        "rate_limit_rate": rate_limit_rate,
        "delay_rate": delay_rate,
        "drop_rate": drop_rate,
        "garbage_rate": garbage_rate,
        "fail_rate": fail_rate,
    }
    for name, share in shares.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    if error_rate + rate_limit_rate + delay_rate + drop_rate + garbage_rate > 1.0 + 1e-9:
        raise ValueError("the request fault shares must add up to at most 1")
    if delay_seconds < 0:
        raise ValueError("delay_seconds must not be negative")
    if count is not None and count < 0:
        raise ValueError("count must not be negative")
    EmuSite.objects.filter(site_id=site_id).update(
        fault_error_rate=error_rate,
        fault_rate_limit_rate=rate_limit_rate,
        fault_delay_rate=delay_rate,
        fault_delay_seconds=delay_seconds,
        fault_drop_rate=drop_rate,
        fault_garbage_rate=garbage_rate,
        fault_fail_rate=fail_rate,
        fault_count=count,
    )


def advance_clock(site_id: str | uuid.UUID, *, seconds: float) -> None:
    """Let time pass on the site's clock (for example a week, to see an AUTO backup)."""
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    EmuSite.objects.filter(site_id=site_id).update(
        clock_offset_seconds=F("clock_offset_seconds") + seconds
    )


# --- Time: derived state and the catch-up every request does first --------------------------


def backup_status_expr(now: datetime) -> Case:
    """The status a backup has at `now`, as SQL (so lists can filter and count in the DB)."""
    return Case(
        When(deleted_at__isnull=False, deleted_at__lte=now, then=Value("DELETED")),
        When(finish_at__lte=now, then=F("outcome")),
        default=Value("PENDING"),
    )


def restoration_status_expr(now: datetime) -> Case:
    return Case(When(finish_at__lte=now, then=F("outcome")), default=Value("PENDING"))


def lock_site(site_id: str | uuid.UUID) -> EmuSite:
    """The site row, locked for the rest of the transaction so processes take turns on a site."""
    return EmuSite.objects.select_for_update().get(site_id=site_id)


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


def _snapshot(site: EmuSite) -> dict[str, Any]:
    collections = []
    items_by_collection: dict[int, list[dict[str, Any]]] = {}
    for item in EmuItem.objects.filter(collection__site=site).order_by("collection_id", "item_id"):
        items_by_collection.setdefault(item.collection_id, []).append(
            {"id": item.item_id, "data": item.data}
        )
    for collection in site.collections.order_by("collection_id"):
        collections.append(
            {
                "id": collection.collection_id,
                "displayName": collection.display_name,
                "items": items_by_collection.get(collection.pk, []),
            }
        )
    return {"collections": collections}


def replace_items(collection: EmuCollection, items: list[dict[str, Any]]) -> None:
    collection.items.all().delete()
    EmuItem.objects.bulk_create(
        [EmuItem(collection=collection, item_id=i["id"], data=i["data"]) for i in items],
        batch_size=500,
    )


def _apply_restoration(site: EmuSite, restoration: EmuRestoration) -> None:
    sources = {c["id"]: c for c in restoration.backup.snapshot.get("collections", [])}
    for rc in restoration.restoration_collections:
        source = sources.get(rc["dataCollectionId"])
        if source is None:
            continue
        destination = rc.get("restoreDestination") or {}
        target_id = destination.get("dataCollectionId") or source["id"]
        display_name = destination.get("displayName") or source["displayName"]
        collection, created = EmuCollection.objects.get_or_create(
            site=site, collection_id=target_id, defaults={"display_name": display_name}
        )
        if not created and destination.get("displayName"):
            collection.display_name = destination["displayName"]
            collection.save(update_fields=["display_name"])
        replace_items(collection, source["items"])


# --- Backups and restorations -----------------------------------------------------------------


def _ends_failed(site: EmuSite) -> bool:
    return site.fault_fail_rate > 0 and random.random() < site.fault_fail_rate  # noqa: S311


def _make_backup(site: EmuSite, kind: str, requested_at: datetime) -> EmuBackup:
    snapshot = _snapshot(site)
    size = len(json.dumps(snapshot, separators=(",", ":")).encode())
    duration = site.duration("backup")
    return EmuBackup.objects.create(
        site=site,
        type=kind,
        requested_at=requested_at,
        # Work starts a moment after the request, so a client sees startedDate null, then set.
        started_at=requested_at + min(duration / 4, timedelta(milliseconds=500)),
        finish_at=requested_at + duration,
        outcome=EmuBackup.FAILED if _ends_failed(site) else EmuBackup.READY,
        snapshot=snapshot,
        size_in_bytes=size,
        collections=[
            {"id": c["id"], "displayName": c["displayName"]} for c in snapshot["collections"]
        ],
    )


def create_backup(site: EmuSite, now: datetime) -> EmuBackup:
    """An on-demand backup; the oldest PENDING or READY one is evicted when all slots are used."""
    holding_slot = EmuBackup.objects.filter(holds_slot(now), site=site).order_by("requested_at")
    used = list(holding_slot.values_list("pk", flat=True))
    if len(used) >= ON_DEMAND_SLOTS:
        evict = used[: len(used) - ON_DEMAND_SLOTS + 1]
        EmuBackup.objects.filter(pk__in=evict).update(delete_requested_at=now, deleted_at=now)
    return _make_backup(site, EmuBackup.ON_DEMAND, now)


def find_backup(site: EmuSite, backup_id: uuid.UUID) -> EmuBackup:
    backup = EmuBackup.objects.filter(site=site, pk=backup_id).defer("snapshot").first()
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
        started_at=now + min(duration / 4, timedelta(milliseconds=500)),
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
    qs: QuerySet[EmuBackup] = (
        EmuBackup.objects.filter(site=site)
        .defer("snapshot")
        .annotate(current_status=backup_status_expr(now))
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
        .defer("backup__snapshot")
        .annotate(current_status=restoration_status_expr(now))
    )
    if statuses:
        qs = qs.filter(current_status__in=statuses)
    total = qs.count()
    return list(qs.order_by("-requested_at", "-pk")[offset : offset + limit]), total


# --- Wire format ------------------------------------------------------------------------------


def wix_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


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
