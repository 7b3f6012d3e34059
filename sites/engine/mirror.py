"""Wix's answers into our tables: the mirror of a site's backups and restorations.

Written only from what Wix listed or answered; public, so that any code that learns what Wix holds
(a refresh, a submit, later webhooks and snapshots) writes it the same way.
"""

import re
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wixapi import Backup as WixBackup
from wixapi import Restoration as WixRestoration
from wixapi import WixProtocolError

from .. import rules
from ..models import Activity, Backup, Operation, Restoration, Site
from .states import site_touch
from .words import AUTO_BACKUP_ARRIVED, DELETED_IN_WIX, EVICTED, wix_deleted_words

# What our URLs and columns accept as a Wix id (Wix's are GUIDs). An id outside it, from a broken
# or hostile Wix, would break the pages that link to it (or overflow the column): such an answer
# is refused whole, like any other answer that breaks the contract.
_WIX_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def checked_ids(*ids: str) -> None:
    for value in ids:
        if not isinstance(value, str) or not _WIX_ID.fullmatch(value):
            raise WixProtocolError("Wix sent an id that is not a Wix id")


# What the mirror stores of Wix's rows, and what of it the pages show: a list that changes none of
# the shown fields (most polls) leaves the site's version alone, so open pages are not redrawn.
BACKUP_STORED = (
    "status",
    "type",
    "requested_at",
    "started_at",
    "finished_at",
    "deleted_at",
    "size_in_bytes",
    "collections",
)

BACKUP_SHOWN = ("status", "type", "requested_at", "finished_at", "size_in_bytes", "collections")

RESTORATION_STORED = (
    "status",
    "backup_wix_id",
    "requested_at",
    "started_at",
    "finished_at",
    "restoration_collections",
)

RESTORATION_SHOWN = (
    "status",
    "backup_wix_id",
    "requested_at",
    "finished_at",
    "restoration_collections",
)


def _upsert(
    existing: Any, rows: list[Any], stored: tuple[str, ...], shown: tuple[str, ...]
) -> bool:
    """Write those of Wix's `rows` that are new or differ from the mirror (`existing`, a site's
    related manager) in the `stored` fields; True when any differs in what the pages show.

    Most polls only confirm what the mirror holds: they then write nothing at all.
    """
    if not rows:
        return False
    before = _read(existing.filter(wix_id__in=[r.wix_id for r in rows]), stored)
    write, shown_changed = _differing(before, rows, stored, shown)
    _write(existing.model, write, stored)
    return shown_changed


def _read(rows: Any, fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {
        values[0]: dict(zip(fields, values[1:], strict=True))
        for values in rows.values_list("wix_id", *fields)
    }


def _differing(
    before: dict[str, dict[str, Any]],
    rows: list[Any],
    stored: tuple[str, ...],
    shown: tuple[str, ...],
) -> tuple[list[Any], bool]:
    """The rows to write (new, or differing in a stored field), and whether a shown one differs."""
    write, shown_changed = [], False
    for row in rows:
        old = before.get(row.wix_id)
        if old is None or any(old[name] != getattr(row, name) for name in stored):
            write.append(row)
            shown_changed |= old is None or any(old[name] != getattr(row, name) for name in shown)
    return write, shown_changed


def _write(model: Any, rows: list[Any], stored: tuple[str, ...]) -> None:
    if rows:
        model.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["site", "wix_id"],
            update_fields=[*stored, "seen_at"],
        )  # fmt: skip


def _backup_rows(site: Site, backups: list[WixBackup], now: datetime) -> list[Backup]:
    # A list can name one backup twice (restorations embed theirs): the first, freshest, wins.
    backups = list({b.id: b for b in reversed(backups)}.values())[::-1]
    checked_ids(*(b.id for b in backups))
    return [
        Backup(
            site=site,
            wix_id=b.id,
            status=str(b.status)[:32],
            type=str(b.type)[:32],
            requested_at=b.requested_date,
            started_at=b.started_date,
            finished_at=b.finished_date,
            deleted_at=b.deleted_date,
            size_in_bytes=b.size_in_bytes,
            collections=[{"id": c.id, "displayName": c.display_name} for c in b.collections],
            seen_at=now,
        )
        for b in backups
    ]


def _write_backups(
    site: Site,
    backups: list[WixBackup],
    complete: bool,
    listed_at: datetime | None,
    made: bool = False,
) -> bool:
    now = timezone.now()
    rows = _backup_rows(site, backups, now)
    if made:
        _write(Backup, rows, BACKUP_STORED)
        return bool(rows)
    if not complete:
        return _upsert(site.backups, rows, BACKUP_STORED, BACKUP_SHOWN)
    # One read serves both the upsert and what is gone: the listed rows and every live one.
    listed = {row.wix_id for row in rows}
    fields = (*BACKUP_STORED, "seen_at")
    before = _read(site.backups.filter(Q(wix_id__in=listed) | ~Q(status=Backup.DELETED)), fields)
    write, changed = _differing(before, rows, BACKUP_STORED, BACKUP_SHOWN)
    # Wix may drop deleted backups from its list instead of showing them DELETED; one written
    # since the list was asked for (a create answered meanwhile) is new, not gone.
    gone = [
        wix_id
        for wix_id, old in before.items()
        if wix_id not in listed
        and old["status"] != Backup.DELETED
        and not (listed_at is not None and old["seen_at"] >= listed_at)
    ]
    # What Wix did on its own, for the activity log: worked out from the rows read above (a
    # poll that changes nothing costs nothing more). Not on a site's first sync, whose every
    # backup is new to us.
    events = _wix_events(site, before, rows, gone) if site.last_synced_at is not None else []
    # A transaction only when there are two writes to keep together (most polls have none).
    with transaction.atomic() if (write and gone) or events else nullcontext():
        _write(Backup, write, BACKUP_STORED)
        if gone:
            deleted = site.backups.filter(wix_id__in=gone).exclude(status=Backup.DELETED)
            if listed_at is not None:
                deleted = deleted.exclude(seen_at__gte=listed_at)  # as above, in the database
            changed |= bool(deleted.update(status=Backup.DELETED, deleted_at=now, seen_at=now))
        if events:
            Activity.objects.bulk_create(events)
            changed = True
    return changed


def _wix_events(
    site: Site, before: dict[str, dict[str, Any]], rows: list[Backup], gone: list[str]
) -> list[Activity]:
    """The activity entries of what Wix did by itself since the last list: its automatic backups
    arriving, and backups deleted that no one asked us to delete (evicted by a new on-demand
    backup when every slot was used, or deleted in Wix's own screens)."""
    new = [row for row in rows if row.wix_id not in before]
    deleted = [
        row.wix_id
        for row in rows
        if row.status == Backup.DELETED
        and before.get(row.wix_id, {}).get("status", "") not in ("", Backup.DELETED)
    ] + gone
    events = [
        Activity(
            site=site,
            outcome=Activity.INFO,
            kind=Activity.WIX,
            message=AUTO_BACKUP_ARRIVED,
            backup_at=row.requested_at,
        )
        for row in new
        if row.type == Backup.AUTO
    ]
    if not deleted:
        return events
    # Deletions asked for here are logged by their operation.
    ours = set(
        Operation.objects.filter(
            site=site, kind=Operation.Kind.DELETE_BACKUP, backup_wix_id__in=deleted
        ).values_list("backup_wix_id", flat=True)
    )
    # The on-demand backups holding a slot before this list, and any it shows for the first
    # time: more than Wix keeps means the oldest were deleted to make room.
    holding = sorted(
        [
            (old["requested_at"], wix_id, old["type"])
            for wix_id, old in before.items()
            if old["type"] == Backup.ON_DEMAND and old["status"] in (Backup.PENDING, Backup.READY)
        ]
        + [
            (row.requested_at, row.wix_id, row.type)
            for row in new
            if row.type == Backup.ON_DEMAND and row.status in (Backup.PENDING, Backup.READY)
        ]
    )
    excess = len(holding) - rules.slot_count()
    evicted = {wix_id for _, wix_id, _ in holding[: max(excess, 0)]}
    for wix_id in deleted:
        if wix_id in ours or wix_id not in before:
            continue
        old = before[wix_id]
        events.append(
            Activity(
                site=site,
                outcome=Activity.INFO,
                kind=Activity.WIX,
                message=wix_deleted_words(old["type"]),
                backup_at=old["requested_at"],
                detail=EVICTED if wix_id in evicted else DELETED_IN_WIX,
            )
        )
    return events


def mirror_backups(
    site: Site,
    backups: list[WixBackup],
    *,
    complete: bool = False,
    listed_at: datetime | None = None,
    made: bool = False,
) -> None:
    """Write Wix's view of backups into the mirror; with `complete`, what is gone is DELETED.

    `listed_at`: when the complete list was asked for. A backup written since (a create that
    finished while the list was on its way) is missing from it for being new, not for being gone.
    `made`: Wix has just made these (a create's answer), so the mirror is not read first.
    """
    if _write_backups(site, backups, complete, listed_at, made):
        site_touch(site.pk)


def mirror_restorations(site: Site, restorations: list[WixRestoration]) -> None:
    now = timezone.now()
    checked_ids(*(r.id for r in restorations), *(r.backup.id for r in restorations))
    rows = [
        Restoration(
            site=site,
            wix_id=r.id,
            status=str(r.status)[:32],
            backup_wix_id=r.backup.id,
            requested_at=r.requested_date,
            started_at=r.started_date,
            finished_at=r.finished_date,
            restoration_collections=[c.to_wire() for c in r.restoration_collections],
            seen_at=now,
        )
        for r in restorations
    ]
    with transaction.atomic():
        changed = _upsert(site.restorations, rows, RESTORATION_STORED, RESTORATION_SHOWN)
        # The backups embedded in restorations are as fresh as the list's.
        changed |= _write_backups(site, [r.backup for r in restorations], False, None)
        if changed:
            site_touch(site.pk)
