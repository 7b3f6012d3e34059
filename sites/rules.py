"""The product's policy, each rule once: pages, the engine and the commands all ask here.

Nothing here writes or calls Wix. The rules decide from `InFlight` (what runs on a site) and the
mirror's rows; `in_flight` is the one read they need, so the request (under the site's lock), the
worker (just before it sends) and the pages (from the kept site state) decide alike.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef

from .models import (
    Backup,
    BackupPin,
    Incident,
    Operation,
    Profile,
    Restoration,
    RestoreRun,
    Site,
    Snapshot,
)
from .snapshots import RetentionPlan, RetentionRules, SnapshotRef, plan_retention


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

    @property
    def restores_from(self) -> set[str]:
        """Backups that a restore reads from or is about to: ours, or running in Wix."""
        return {op.backup_wix_id for op in self.operations if op.is_restore} | set(
            self.restoring_from
        )

    @property
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
    return bool(work.restores_from) or any(
        op.kind == Operation.Kind.RESTORE_SNAPSHOT for op in work.operations
    )


def snapshot_restore_refusal(snapshot: Snapshot, mode: str, collections: Iterable[str]) -> str:
    """Why these collections of this snapshot cannot be restored in this mode ("" when they
    can): only a complete snapshot holds anything, and a collection it could not read to the end
    holds only part of its items, so restoring it whole would remove the rest."""
    usable = snapshot_use_refusal(snapshot)
    if usable:
        return usable
    missing = {c["id"] for c in snapshot.missing_collections}
    if mode == RestoreRun.Mode.WHOLE:
        partial = sorted(missing.intersection(collections))
        if partial:
            return (
                f"The snapshot could not read all of {partial[0]}, so it cannot be restored "
                "whole: restore it in merge mode or choose its items."
            )
    return ""


def undo_refusal(
    operation: Operation, run: RestoreRun | None, work: InFlight, undone: str | None
) -> str:
    """Why "Undo this restore" is not offered now ("" when it is). `undone`: the state of the
    newest undo of this restore that is running or succeeded, if any (`undo_of`)."""
    if not operation.is_finished:
        return "This restore is still running; it can be undone once it ends."
    if undone == Operation.State.SUCCEEDED:
        return "This restore was already undone."
    if undone is not None:
        return "This restore is being undone."
    if run is None or run.safety_id is None:
        return "This restore has no safety snapshot to go back to."
    if operation.state == Operation.State.FAILED and not _wrote_anything(operation, run):
        return "Nothing was restored, so there is nothing to undo."
    if run.safety.state != Snapshot.State.COMPLETE:
        return "Its safety snapshot did not complete, so it cannot be undone."
    if restore_running(work):
        return "A restore of this site is already running; wait for it to end."
    return ""


def undo_of(operation: Operation) -> Operation | None:
    """The newest undo of this restore that runs or succeeded (a failed one may be tried again)."""
    return (
        Operation.objects.filter(restore_run__undo_of=operation)
        .exclude(state=Operation.State.FAILED)
        .order_by("-created_at")
        .first()
    )


def _wrote_anything(operation: Operation, run: RestoreRun) -> bool:
    if run.from_snapshot:
        total = run.changed_total()
        return bool(total["restored"] or total["reverted"] or total["removed"])
    return bool(operation.restoration_wix_id)


def undo_collections(operation: Operation, run: RestoreRun, backup: Backup | None) -> list[str]:
    """The collections a restore wrote to, which its Undo restores whole from the safety
    snapshot (those the safety snapshot holds)."""
    if run.from_snapshot:
        touched = set(run.collections)
    elif operation.kind == Operation.Kind.RESTORE_PARTIAL:
        touched = {
            (c.get("restoreDestination") or {}).get("dataCollectionId") or c["dataCollectionId"]
            for c in operation.collections
        }
    else:
        touched = {c.get("id") for c in (backup.collections if backup else [])}
    held = {c["id"] for c in (run.safety.collections if run.safety else [])}
    return sorted(touched & held)


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
    without losing a pinned one ("" when it can).
    """

    goes: Any = None
    rotate: bool = False
    waits_for: str = ""
    refusal: str = ""


def next_backup_plan(holding_slots: Iterable[Any], work: InFlight) -> NextBackup:
    """What one more on-demand backup makes go, and how (the rotation inside the slots).

    `holding_slots`: the site's on-demand backups that use a slot (PENDING or READY), each with
    `pinned` (`with_pins`). Wix evicts the oldest when all are used: when that one is pinned, the
    oldest unpinned READY backup is deleted first instead, never one a restore reads from.
    """
    slots = sorted(holding_slots, key=lambda b: (b.requested_at, b.wix_id))
    if len(slots) < slot_count():
        return NextBackup()
    oldest = slots[0]
    if not getattr(oldest, "pinned", False):
        return NextBackup(goes=oldest)
    being_deleted = [b for b in slots if b.wix_id in work.deleting]
    if being_deleted:
        # A delete already frees a slot: wait for it rather than delete a second backup.
        return NextBackup(goes=being_deleted[0], waits_for=being_deleted[0].wix_id)
    free = [
        b
        for b in slots
        if not getattr(b, "pinned", False)
        and b.status == Backup.READY
        and b.wix_id not in work.restores_from
    ]
    if free:
        return NextBackup(goes=free[0], rotate=True)
    unpinned = [b for b in slots if not getattr(b, "pinned", False)]
    if not unpinned:
        reason = "Every slot holds a pinned backup"
    elif any(b.wix_id in work.restores_from for b in unpinned):
        reason = "The only unpinned backup is being restored from"
    else:
        reason = "The only unpinned backup is still being made"
    return NextBackup(
        refusal=f"{reason}, so a new backup would make Wix delete a pinned one. "
        "Unpin a backup (or wait) and try again."
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


def slots_with_pins(site: Site) -> list[Backup]:
    """The site's backups that hold a slot, oldest first, each with `pinned` (one query)."""
    return list(with_pins(site.backups.holding_slot()).order_by("requested_at", "wix_id"))


def next_backup(site: Site, work: InFlight | None = None) -> NextBackup:
    """The site's next backup plan, read from the mirror (and `work`, else read: two queries)."""
    return next_backup_plan(slots_with_pins(site), work or in_flight(site))


def backup_evicted_next(site: Site) -> Backup | None:
    """The site's backup that a new one would make go, read from the mirror."""
    return next_backup(site).goes


# --- What needs the owner's attention: the open incidents ---------------------------------------
# One rule: the conditions below open and resolve incidents (engine/incidents.py), and "needs
# attention" (dashboard, site page) is the site's open incidents, never worked out again.

# Wix failing to answer for a site this long opens an incident (shorter outages only retry).
UNREACHABLE_AFTER = timedelta(hours=1)

# The incident each kind of operation opens when it fails (a verify finds damage, shown on the
# snapshot itself; it is not an incident).
CAUSE_OF_OPERATION = {
    Operation.Kind.CREATE_BACKUP: Incident.Cause.BACKUP_FAILED,
    Operation.Kind.RESTORE: Incident.Cause.RESTORE_FAILED,
    Operation.Kind.RESTORE_PARTIAL: Incident.Cause.RESTORE_FAILED,
    Operation.Kind.DELETE_BACKUP: Incident.Cause.DELETE_FAILED,
    Operation.Kind.SNAPSHOT: Incident.Cause.SNAPSHOT_FAILED,
}

# The causes the beat works out from a site's state (the others open when an operation fails).
STATE_CAUSES = (Incident.Cause.KEY, Incident.Cause.STALE, Incident.Cause.UNREACHABLE)


def expected_backup_age(site: Site) -> timedelta:
    """How old the newest READY backup or complete snapshot of a site may be before it is
    stale: the site's setting (8 days by default: Wix makes an AUTO backup every 7)."""
    return timedelta(days=site.stale_after_days)


def failed_operation_words(kind: str, error: str) -> str:
    """What a failed-operation incident says."""
    what = {
        Operation.Kind.CREATE_BACKUP: "A backup",
        Operation.Kind.RESTORE: "A restore",
        Operation.Kind.RESTORE_PARTIAL: "A restore",
        Operation.Kind.DELETE_BACKUP: "A deletion",
        Operation.Kind.SNAPSHOT: "A snapshot",
    }.get(kind, "An operation")
    return f"{what} failed: {error}" if error else f"{what} failed."


def site_conditions(
    site: Site,
    newest_backup_at: datetime | None,
    newest_snapshot_at: datetime | None,
    now: datetime,
) -> dict[str, str]:
    """The state-derived incident causes a site has now, each with what it says.

    `newest_backup_at`: the request time of its newest READY backup; `newest_snapshot_at`: the
    start of its newest complete snapshot.
    """
    found: dict[str, str] = {}
    if site.credentials_rejected:
        found[Incident.Cause.KEY] = site.last_sync_error or "Wix rejected the site's key."
    elif (
        site.last_sync_error
        and site.sync_failing_since is not None
        and now - site.sync_failing_since > UNREACHABLE_AFTER
    ):
        found[Incident.Cause.UNREACHABLE] = (
            "Wix has not been reachable for this site for over an hour. "
            f"The last sync with Wix failed: {site.last_sync_error}"
        )
    newest = max(filter(None, (newest_backup_at, newest_snapshot_at)), default=None)
    if newest is None:
        if site.last_synced_at is not None:  # known only once Wix was asked
            found[Incident.Cause.STALE] = "There is no READY backup of this site."
    elif now - newest > expected_backup_age(site):
        days = (now - newest).days
        copy = (
            "READY backup"
            if newest_backup_at is not None and newest == newest_backup_at
            else "complete snapshot"
        )
        found[Incident.Cause.STALE] = f"The newest {copy} is {days} days old."
    return found


@dataclass(frozen=True)
class Attention:
    kind: str  # the incident's cause ("key", "stale", "unreachable", "backup_failed", ...)
    text: str


def attention(open_incidents: Iterable[tuple[str, str]]) -> list[Attention]:
    """Why a site needs its owner's attention: its open incidents (cause, text), the key first."""
    order = {cause: n for n, cause in enumerate(Incident.Cause.values)}
    found = sorted(
        open_incidents, key=lambda item: (item[0] != Incident.Cause.KEY, order.get(item[0], 99))
    )
    return [Attention(cause, text) for cause, text in found]


def wix_work_unasked(
    pending_backups: int, pending_restorations: int, running: Iterable[Operation]
) -> tuple[int, int]:
    """Wix's PENDING backups and restorations that none of our running operations stands for.

    A submitted "Back up now" is the backup Wix is making (and a submitted restore its
    restoration): a page that lists both would report the same work twice.
    """
    made = restoring = 0
    for op in running:
        if op.kind == Operation.Kind.CREATE_BACKUP and op.backup_wix_id:
            made += 1
        elif op.is_restore and op.restoration_wix_id:
            restoring += 1
    return max(pending_backups - made, 0), max(pending_restorations - restoring, 0)


def slots_free(slots_used: int) -> int:
    return max(slot_count() - slots_used, 0)


# --- Snapshots ---------------------------------------------------------------------------------


def snapshot_running(site: Site) -> Operation | None:
    """The site's snapshot being taken, if any: one at a time per site (a second request
    returns this one)."""
    return (
        site.operations.filter(kind=Operation.Kind.SNAPSHOT, state__in=Operation.RUNNING)
        .order_by("created_at")
        .first()
    )


def snapshot_delete_refusal(snapshot: Snapshot) -> str:
    """Why this snapshot cannot be deleted now ("" when it can)."""
    if snapshot.state == Snapshot.State.RUNNING:
        return "This snapshot is still being taken; it can be deleted once it ends."
    if snapshot.pinned:
        return "This snapshot is pinned; unpin it before deleting it."
    return ""


def snapshot_use_refusal(snapshot: Snapshot) -> str:
    """Why this snapshot cannot be verified, pinned or downloaded ("" when it can): only a
    complete one holds anything usable."""
    if snapshot.state == Snapshot.State.RUNNING:
        return "This snapshot is still being taken."
    if snapshot.state != Snapshot.State.COMPLETE:
        return "This snapshot failed; it holds nothing to use."
    return ""


@dataclass(frozen=True)
class SnapshotActions:
    """What a snapshot's row offers, each with why it is unavailable ("" when available)."""

    download_refusal: str
    verify_refusal: str
    pin_refusal: str
    delete_refusal: str


def snapshot_actions(snapshot: Snapshot, *, verifying: bool = False) -> SnapshotActions:
    """`verifying`: a verify of this snapshot is queued or running (a second is not offered)."""
    usable = snapshot_use_refusal(snapshot)
    verify = usable or ("A verify of this snapshot is running." if verifying else "")
    return SnapshotActions(
        download_refusal=usable,
        verify_refusal=verify,
        pin_refusal=usable,
        delete_refusal=snapshot_delete_refusal(snapshot),
    )


def retention_rules(site: Site) -> RetentionRules:
    """The site's retention rules (defaults in sites/snapshots/retention.py)."""
    return RetentionRules(
        keep_last=site.snapshot_keep_last,
        daily=site.snapshot_keep_daily,
        weekly=site.snapshot_keep_weekly,
        monthly=site.snapshot_keep_monthly,
    )


def retention_refusal(*, keep_last: int, daily: int, weekly: int, monthly: int) -> str:
    """Why these retention rules cannot be set ("" when they can)."""
    try:
        RetentionRules(keep_last=keep_last, daily=daily, weekly=weekly, monthly=monthly)
    except ValueError as error:
        return str(error).capitalize() + "."
    return ""


def owner_time_zone(site: Site) -> tzinfo:
    """The zone whose days, weeks and months the retention counts: the owner's own."""
    name = Profile.objects.filter(user_id=site.owner_id).values_list("time_zone", flat=True).first()
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class RetentionPreview:
    """What the rules keep (newest first, with why) and what they would remove."""

    kept: list[tuple[Snapshot, str]]
    pruned: list[Snapshot]
    plan: RetentionPlan


def retention_preview(site: Site, rules: RetentionRules | None = None) -> RetentionPreview:
    """Which of the site's complete snapshots `rules` (default: the site's own) keep, and which
    they remove: the dry run the page shows before a change, and the plan a prune carries out.
    Running and failed snapshots are never part of it."""
    complete = {
        str(s.pk): s for s in site.snapshots.filter(state=Snapshot.State.COMPLETE).order_by()
    }
    refs = [SnapshotRef(pk, s.started_at, s.pinned) for pk, s in complete.items()]
    plan = plan_retention(refs, rules or retention_rules(site), tz=owner_time_zone(site))
    return RetentionPreview(
        kept=[(complete[pk], plan.reasons[pk]) for pk in plan.kept],
        pruned=[complete[pk] for pk in plan.pruned],
        plan=plan,
    )


# --- Restore previews --------------------------------------------------------------------------

# Items per page of a preview's list (the page costs the same queries whatever the count).
PREVIEW_PAGE_SIZE = 50
# The previews of a site kept (the newest; older ones and their item lists are dropped).
PREVIEWS_KEPT = 5


def preview_refusal(snapshot: Snapshot) -> str:
    """Why a restore from this snapshot cannot be previewed ("" when it can)."""
    return snapshot_use_refusal(snapshot)


def backup_snapshot(backup: Backup) -> Snapshot | None:
    """The complete snapshot taken with this Wix backup ("Back up now" with a snapshot), through
    which its restore can be previewed; None when it has none."""
    return backup.snapshots.filter(state=Snapshot.State.COMPLETE).order_by("-started_at").first()
