"""Wix's Backups API over HTTP (docs/wix-backups-api.md)."""

import uuid
from typing import Any

from django.http import HttpRequest

from .. import services
from ..models import EmuSite
from ..services import invalid
from .params import body, enum_list, paging, query_params
from .pipeline import wix_endpoint

MAX_RESTORE_COLLECTIONS = 1000


def _backup_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as error:
        raise invalid("backupId", "must be a valid GUID", "FORMAT") from error


def _same_backup_id(body: dict[str, Any], backup_id: uuid.UUID) -> None:
    # The SDK repeats the path's id in the body; a different one is a client bug worth refusing.
    given = body.get("backupId")
    if given is not None and (not isinstance(given, str) or given.lower() != str(backup_id)):
        raise invalid("backupId", "does not match the backup id in the path", "MATCH")


def _restoration_collections(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("restorationCollections")
    if not isinstance(raw, list) or not raw:
        raise invalid("restorationCollections", "must be a non-empty list", "REQUIRED_FIELD")
    if len(raw) > MAX_RESTORE_COLLECTIONS:
        raise invalid(
            "restorationCollections", f"must hold at most {MAX_RESTORE_COLLECTIONS}", "MAX_SIZE"
        )
    cleaned: list[dict[str, Any]] = []
    destinations: set[str] = set()
    for index, item in enumerate(raw):
        field = f"restorationCollections[{index}]"
        if not isinstance(item, dict):
            raise invalid(field, "must be an object", "FORMAT")
        source = item.get("dataCollectionId")
        if not isinstance(source, str) or not source or len(source) > 256:
            raise invalid(f"{field}.dataCollectionId", "must be a non-empty string", "FORMAT")
        entry: dict[str, Any] = {"dataCollectionId": source}
        target = source
        destination = item.get("restoreDestination")
        if destination is not None:
            if not isinstance(destination, dict):
                raise invalid(f"{field}.restoreDestination", "must be an object", "FORMAT")
            target = destination.get("dataCollectionId")
            name = destination.get("displayName")
            if not isinstance(target, str) or not target or len(target) > 256:
                raise invalid(
                    f"{field}.restoreDestination.dataCollectionId",
                    "must be a non-empty string",
                    "FORMAT",
                )
            if name is not None and (not isinstance(name, str) or len(name) > 256):
                raise invalid(
                    f"{field}.restoreDestination.displayName", "must be a string", "FORMAT"
                )
            entry["restoreDestination"] = {"dataCollectionId": target, "displayName": name}
        if target in destinations:
            raise invalid(field, f"restores into {target!r} twice", "UNIQUE")
        destinations.add(target)
        cleaned.append(entry)
    return cleaned


@wix_endpoint("GET", "POST")
def backups(request: HttpRequest, site: EmuSite, now: Any) -> dict[str, Any]:
    if request.method == "POST":
        # Create Backup: Wix reads nothing from the body.
        return {"backup": services.backup_json(services.create_backup(site, now), now)}
    params = query_params(request)
    statuses = enum_list(params, "status", services.BACKUP_STATUSES)
    types = enum_list(params, "type", services.BACKUP_TYPES)
    limit, offset = paging(params)
    items, total = services.list_backups(
        site, now, statuses=statuses, types=types, limit=limit, offset=offset
    )
    return {
        "backups": [services.backup_json(b, now) for b in items],
        "pagingMetadata": {"count": len(items), "offset": offset, "total": total},
    }


@wix_endpoint("GET")
def restorations(request: HttpRequest, site: EmuSite, now: Any) -> dict[str, Any]:
    params = query_params(request)
    statuses = enum_list(params, "status", services.RESTORATION_STATUSES)
    limit, offset = paging(params)
    items, total = services.list_restorations(
        site, now, statuses=statuses, limit=limit, offset=offset
    )
    return {
        "restorations": [services.restoration_json(r, now) for r in items],
        "pagingMetadata": {"count": len(items), "offset": offset, "total": total},
    }


@wix_endpoint("POST")
def restore(request: HttpRequest, site: EmuSite, now: Any, backup_id: str) -> dict[str, Any]:
    bid = _backup_id(backup_id)
    payload = body(request)
    _same_backup_id(payload, bid)
    restoration = services.restore(site, now, bid, None)
    return {"restoration": services.restoration_json(restoration, now)}


@wix_endpoint("POST")
def partial_restore(
    request: HttpRequest, site: EmuSite, now: Any, backup_id: str
) -> dict[str, Any]:
    bid = _backup_id(backup_id)
    payload = body(request)
    _same_backup_id(payload, bid)
    collections = _restoration_collections(payload)
    restoration = services.restore(site, now, bid, collections)
    return {"restoration": services.restoration_json(restoration, now)}


@wix_endpoint("DELETE")
def backup(request: HttpRequest, site: EmuSite, now: Any, backup_id: str) -> dict[str, Any]:
    # The SDK also sends ?backupId=<id>; the path's id is the one that counts.
    services.delete_backup(site, now, _backup_id(backup_id))
    return {}
