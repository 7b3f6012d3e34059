"""Restores: whether a Wix safety backup may be taken before a Wix restore (and what it makes go),
what a snapshot restore may do, and when and over what an Undo is offered."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..models import (
    Backup,
    Operation,
    RestoreRun,
    Snapshot,
)
from .backups import InFlight, NextBackup, next_backup_plan, restore_running
from .snapshots import SAFETY_KEPT, snapshot_use_refusal


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


def undo_offered_until(operation: Operation, run: RestoreRun | None) -> datetime | None:
    """Until when "Undo this restore" can be offered: its safety snapshot, taken for it, is
    removed by retention then (rules.kept_apart); None when no end is set (still running, no
    safety snapshot, or one that is pinned or the owner's, which their own rules keep)."""
    safety = run.safety if run is not None else None
    if safety is None or safety.pinned or operation.finished_at is None:
        return None
    if safety.taken_for != Snapshot.TakenFor.SAFETY:
        return None
    return operation.finished_at + SAFETY_KEPT


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


def restored_collections(operation: Operation, run: RestoreRun, backup: Backup | None) -> list[str]:
    """The collections a restore wrote to (sorted): a snapshot restore's, a partial Wix
    restore's destinations, or every collection of the backup Wix restored."""
    if run.from_snapshot:
        touched = set(run.collections)
    elif operation.kind == Operation.Kind.RESTORE_PARTIAL:
        touched = {
            (c.get("restoreDestination") or {}).get("dataCollectionId") or c["dataCollectionId"]
            for c in operation.collections
        }
    else:
        touched = {c.get("id") for c in (backup.collections if backup else [])}
    return sorted(c for c in touched if c)


def undo_collections(operation: Operation, run: RestoreRun, backup: Backup | None) -> list[str]:
    """The collections a restore wrote to, which its Undo restores whole from the safety
    snapshot (those the safety snapshot holds)."""
    held = {c["id"] for c in (run.safety.collections if run.safety else [])}
    return [c for c in restored_collections(operation, run, backup) if c in held]


@dataclass(frozen=True)
class WixSafetyBackup:
    """What an owner's "Also take a Wix backup first" would do before a restore.

    `plan`: what the backup makes go, as for any backup (`next_backup_plan`, with the restore's
    source kept); `skip`: why it is skipped and the safety snapshot relied on ("" when taken).
    """

    plan: NextBackup
    skip: str = ""

    @property
    def goes(self) -> Any:
        return self.plan.goes


def restore_source_backup(source: Backup | Snapshot | None) -> str:
    """The Wix backup a restore reads from, or is taken with: a Wix restore's backup, a snapshot
    restore's snapshot's own backup (taken with it by a "Back up now"), else "" (none)."""
    if isinstance(source, Backup):
        return source.wix_id
    if isinstance(source, Snapshot) and source.backup_id is not None:
        return source.backup.wix_id if source.backup else ""
    return ""


def wix_safety_backup(
    holding_slots: Iterable[Any], work: InFlight, source: Backup | Snapshot | None
) -> WixSafetyBackup:
    """May a Wix backup be taken before restoring `source` (a Wix backup or a snapshot), and what
    would go.

    It takes a slot like any backup (Wix's eviction of the oldest, or the rotation's delete) but
    never makes the backup being restored from go, nor a pinned one: when those are the only
    candidates it is skipped, and the restore relies on its safety snapshot (always taken). Asked
    by the restore form (before the owner confirms) and by the request (under the site's lock).
    """
    source_wix_id = restore_source_backup(source)
    kept = InFlight(
        operations=work.operations,
        restoring_from=work.restoring_from | frozenset([source_wix_id] if source_wix_id else []),
    )
    plan = next_backup_plan(holding_slots, kept)
    if plan.refusal:
        skip = (
            f"{plan.why}, so a Wix backup would make Wix delete the backup being restored from "
            "or a pinned one; the restore relies on its safety snapshot"
        )
        return WixSafetyBackup(plan=plan, skip=skip)
    return WixSafetyBackup(plan=plan)
