"""Backups and their slots: what runs on a site, what a backup row offers and why a restore or
a delete is refused, pins, and what one more backup makes go (Wix's eviction or the rotation)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef

from ..models import (
    Backup,
    BackupPin,
    Operation,
    Restoration,
    Site,
)


def slot_count() -> int:
    """How many on-demand backups Wix keeps per site; a new one beyond evicts the oldest."""
    return settings.WBM_ON_DEMAND_SLOTS


# --- How people read what Wix names --------------------------------------------------------------


def collection_names_by_id(collections: Iterable[dict] | None) -> dict[str, str]:
    """A backup's collections as people read them: Wix's display name ("Blog Posts"), its id
    ("BlogPosts") only when Wix gave none. Every page and the activity log name them so."""
    return {
        c.get("id") or "?": c.get("displayName") or c.get("id") or "?" for c in collections or []
    }


# --- What runs on a site -----------------------------------------------------------------------


@dataclass(frozen=True)
class InFlight:
    """What is running on a site, as far as the rules care.

    `operations`: our running (queued or submitted) operations. `restoring_from`: the backups
    that Wix's PENDING restorations read from, ours or started in Wix's own screens.
    """

    operations: Sequence[Operation] = ()
    restoring_from: frozenset[str] = frozenset()

    def without(self, operation: Operation) -> "InFlight":
        """The same, less one operation (a worker asking about the one it is about to send)."""
        others = tuple(op for op in self.operations if op.pk != operation.pk)
        return InFlight(operations=others, restoring_from=self.restoring_from)

    # Cached: a page asks each of its rows (rules.backup_actions) about the same work.
    @cached_property
    def restores_from(self) -> set[str]:
        """Backups that a restore reads from or is about to: ours, or running in Wix."""
        return {op.backup_wix_id for op in self.operations if op.is_restore} | set(
            self.restoring_from
        )

    @cached_property
    def restore_running(self) -> bool:
        """`rules.restore_running`, worked out once per page."""
        return bool(self.restores_from) or any(
            op.kind == Operation.Kind.RESTORE_SNAPSHOT for op in self.operations
        )

    @cached_property
    def deleting(self) -> set[str]:
        return {
            op.backup_wix_id for op in self.operations if op.kind == Operation.Kind.DELETE_BACKUP
        }


def in_flight(site: Site) -> InFlight:
    """Read what runs on the site now (two queries)."""
    operations = tuple(site.operations.filter(state__in=Operation.RUNNING).order_by("created_at"))
    pending = site.restorations.filter(status__in=Restoration.RUNNING)
    return InFlight(
        operations=operations,
        restoring_from=frozenset(pending.values_list("backup_wix_id", flat=True)),
    )


def restore_running(work: InFlight) -> bool:
    """A restore of the site is asked for or running (Wix restores one at a time per site), from
    a Wix backup or from a snapshot: two restores writing the same site at once could each undo
    the other's work, and the Undo of either would be meaningless."""
    return work.restore_running


# --- What a backup offers ----------------------------------------------------------------------


def restore_refusal(backup: Backup, work: InFlight) -> str:
    """Why this backup cannot be restored now ("" when it can)."""
    if backup.status == Backup.PENDING:
        return "This backup is still being made; it can be restored once it is ready."
    if backup.wix_id in work.deleting:
        # Wix would refuse, or worse, restore from a backup the owner asked to be rid of.
        return "This backup is being deleted, so it can no longer be restored."
    if backup.status != Backup.READY:
        return "Only a READY backup can be restored."
    if restore_running(work):
        return "A restore of this site is already running; wait for it to end."
    return ""


def delete_refusal(backup: Backup, work: InFlight) -> str:
    """Why this backup cannot be deleted now ("" when it can)."""
    if backup.status == Backup.PENDING:
        return "This backup is still being made; it can be deleted once done."
    if backup.status == Backup.DELETED:
        return "This backup is already deleted."
    if backup.wix_id in work.deleting:
        return "This backup is already being deleted."
    if backup.wix_id in work.restores_from:
        return "A restore from this backup is running; delete it afterwards."
    if getattr(backup, "pinned", False):
        return "This backup is pinned; unpin it before deleting it."
    return ""


def refusal(kind: str, backup: Backup, work: InFlight) -> str:
    """Why an operation of this kind on this backup cannot be asked for now ("" when it can)."""
    if kind in Operation.RESTORES:
        return restore_refusal(backup, work)
    if kind == Operation.Kind.DELETE_BACKUP:
        return delete_refusal(backup, work)
    return "Unknown operation."


@dataclass(frozen=True)
class BackupActions:
    """What a backup's row offers: each action with why it is unavailable ("" when available,
    None when the row does not offer it at all, as Restore on a failed backup)."""

    restore_refusal: str | None
    delete_refusal: str | None
    # Pin or unpin ("keep this one"): None when the row offers neither (not an on-demand READY
    # backup), else why it cannot be pinned ("" when it can; unpinning is always offered).
    pin_refusal: str | None = None
    pinned: bool = False

    @property
    def can_restore(self) -> bool:
        return self.restore_refusal == ""

    @property
    def can_delete(self) -> bool:
        return self.delete_refusal == ""

    @property
    def same_reason(self) -> str:
        """The one reason both actions are unavailable, when it is the same (said once)."""
        return self.restore_refusal if self.restore_refusal == self.delete_refusal else ""


def backup_actions(backup: Backup, work: InFlight, *, pins_used: int = 0) -> BackupActions:
    """`pins_used`: how many of the site's slots hold a pinned backup (`pin_refusal`)."""
    if backup.status == Backup.PENDING:
        # One sentence for both, said once on the row.
        both = "Still being made; it can be restored or deleted once ready."
        return BackupActions(restore_refusal=both, delete_refusal=both)
    if backup.status == Backup.DELETED:
        return BackupActions(restore_refusal=None, delete_refusal=None)
    restore = restore_refusal(backup, work)
    if backup.status != Backup.READY and backup.wix_id not in work.deleting:
        restore = None  # a failed or canceled backup has nothing to restore: no button at all
    pinned = bool(getattr(backup, "pinned", False))
    pin = None
    if backup.type == Backup.ON_DEMAND and backup.status == Backup.READY:
        pin = "" if pinned else pin_refusal(backup, pins_used)
    return BackupActions(
        restore_refusal=restore,
        delete_refusal=delete_refusal(backup, work),
        pin_refusal=pin,
        pinned=pinned,
    )


# --- Pins: "keep this one" ---------------------------------------------------------------------


def pin_limit() -> int:
    """How many backups may be pinned: all slots but one, so a slot always stays free to rotate."""
    return max(slot_count() - 1, 0)


def pin_refusal(backup: Backup, pins_used: int) -> str:
    """Why this backup cannot be pinned now ("" when it can). `pins_used`: the site's pinned
    backups that hold a slot."""
    if backup.type != Backup.ON_DEMAND:
        return "Only on-demand backups use a slot; Wix keeps its automatic ones by itself."
    if backup.status != Backup.READY:
        return "Only a READY backup can be pinned."
    if getattr(backup, "pinned", False):
        return "This backup is already pinned."
    if pins_used >= pin_limit():
        return (
            f"At most {pin_limit()} backups can be pinned, so one of the {slot_count()} slots "
            "stays free for new backups; unpin another first."
        )
    return ""


# --- The slots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextBackup:
    """What one more on-demand backup costs (`next_backup_plan`).

    `goes`: the backup that will go (None while a slot is free). `rotate`: the product deletes
    it first, because Wix would otherwise evict a pinned one; `waits_for`: a delete already
    running frees the slot, so the backup waits for it. `refusal`: why no backup can be made now
    without losing a pinned one or the backup being restored from ("" when it can), `why` its
    cause alone (without the advice).
    """

    goes: Any = None
    rotate: bool = False
    waits_for: str = ""
    refusal: str = ""
    why: str = ""


def next_backup_plan(holding_slots: Iterable[Any], work: InFlight) -> NextBackup:
    """What one more on-demand backup makes go, and how (the rotation inside the slots).

    `holding_slots`: the site's on-demand backups that use a slot (PENDING or READY), each with
    `pinned` (`with_pins`). Wix evicts the oldest when all are used: when that one is pinned or
    is being restored from (a restore asked for or running reads it), the oldest unpinned READY
    backup no restore reads from is deleted first instead.
    """
    slots = sorted(holding_slots, key=lambda b: (b.requested_at, b.wix_id))
    if len(slots) < slot_count():
        return NextBackup()
    restoring = work.restores_from

    def kept(backup: Any) -> bool:
        return bool(getattr(backup, "pinned", False)) or backup.wix_id in restoring

    oldest = slots[0]
    if not kept(oldest):
        return NextBackup(goes=oldest)
    being_deleted = [b for b in slots if b.wix_id in work.deleting]
    if being_deleted:
        # A delete already frees a slot: wait for it rather than delete a second backup.
        return NextBackup(goes=being_deleted[0], waits_for=being_deleted[0].wix_id)
    free = [b for b in slots if not kept(b) and b.status == Backup.READY]
    if free:
        return NextBackup(goes=free[0], rotate=True)
    unpinned = [b for b in slots if not getattr(b, "pinned", False)]
    if not unpinned:
        reason = "Every slot holds a pinned backup"
    elif oldest.wix_id in restoring and not getattr(oldest, "pinned", False):
        reason = (
            "The oldest backup is being restored from and every other slot holds a pinned or "
            "unfinished backup"
        )
        return NextBackup(
            why=reason,
            refusal=f"{reason}, so a new backup would make Wix delete the backup being restored "
            "from or a pinned one. Wait for the restore to end, or unpin a backup, and try again.",
        )
    elif any(b.wix_id in restoring for b in unpinned):
        reason = "The only unpinned backup is being restored from"
    else:
        reason = "The only unpinned backup is still being made"
    return NextBackup(
        why=reason,
        refusal=f"{reason}, so a new backup would make Wix delete a pinned one. "
        "Unpin a backup (or wait) and try again.",
    )


def evicted_by_next_backup(holding_slots: Iterable[Any], work: InFlight | None = None) -> Any:
    """The on-demand backup that goes when one more is made (None while a slot is free, or
    when none can be made): Wix's eviction of the oldest, or the rotation's delete when the
    oldest is pinned. `holding_slots`: as `next_backup_plan`'s."""
    return next_backup_plan(holding_slots, work or InFlight()).goes


def with_pins(backups: "models.QuerySet[Backup]") -> "models.QuerySet[Backup]":
    """The backups, each with `pinned` (one query still)."""
    pins = BackupPin.objects.filter(site=OuterRef("site"), backup_wix_id=OuterRef("wix_id"))
    return backups.annotate(pinned=Exists(pins))


def slots_read() -> int:
    """How many of a site's slot-holding backups, oldest first, `next_backup_plan` is given.
    Wix keeps `slot_count()` (a PENDING one may be on its way): twice that is all of them on a
    real site, and a bound on what a page reads and keeps whatever the mirror holds."""
    return 2 * slot_count()


def holding_slots(site: Site) -> "models.QuerySet[Backup]":
    """The site's backups that hold a slot, oldest first, each with `pinned`: what
    `next_backup_plan` decides from (the engine and the pages read the same)."""
    return with_pins(site.backups.holding_slot()).order_by("requested_at", "wix_id")[: slots_read()]


def slots_with_pins(site: Site) -> list[Backup]:
    """`holding_slots` read (one query)."""
    return list(holding_slots(site))


def next_backup(site: Site, work: InFlight | None = None) -> NextBackup:
    """The site's next backup plan, read from the mirror (and `work`, else read: two queries)."""
    return next_backup_plan(slots_with_pins(site), work or in_flight(site))


def backup_evicted_next(site: Site) -> Backup | None:
    """The site's backup that a new one would make go, read from the mirror."""
    return next_backup(site).goes
