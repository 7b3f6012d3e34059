"""What a restore's page shows of it beyond Wix's answer: its safety snapshot, a snapshot
restore's mode, source and counts (live, written after every bulk call), the items it left, and
whether "Undo this restore" is offered (`rules.undo_refusal`)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from .. import rules
from ..models import Backup, Operation, RestoreRun, Site, Snapshot

# The site's page lists this many restores from snapshots (and undos), newest first.
RESTORES_SHOWN = 10


@dataclass(frozen=True)
class RestoreInfo:
    run: RestoreRun | None
    # Why Undo is not offered ("" when it is).
    refusal: str
    # The collections an Undo restores whole.
    collections: list[str] = field(default_factory=list)
    undone_by: Operation | None = None
    # When Undo stops being offered (its safety snapshot removed by retention), if ever.
    until: datetime | None = None

    @property
    def offered(self) -> bool:
        return self.run is not None and self.refusal == ""

    @property
    def counts(self) -> list[tuple[str, dict[str, int]]]:
        return sorted((self.run.counts or {}).items()) if self.run else []

    @property
    def left(self) -> list[dict]:
        return list((self.run.left or {}).get("items", [])) if self.run else []

    @property
    def left_count(self) -> int:
        return int((self.run.left or {}).get("count", 0)) if self.run else 0


def is_restore(operation: Operation) -> bool:
    return operation.is_restore or operation.kind == Operation.Kind.RESTORE_SNAPSHOT


def restore_info(operation: Operation) -> RestoreInfo | None:
    """None for an operation that is no restore."""
    if not is_restore(operation):
        return None
    run = (
        RestoreRun.objects.select_related("safety", "source", "undo_of")
        .filter(operation=operation)
        .first()
    )
    site = operation.site
    undone = rules.undo_of(operation)
    state = undone.state if undone is not None else None
    refusal = rules.undo_refusal(operation, run, rules.in_flight(site), state)
    collections: list[str] = []
    if run is not None and run.safety is not None:
        backup = site.backups.filter(wix_id=operation.backup_wix_id).first()
        collections = rules.undo_collections(operation, run, backup)
        if not collections and not refusal:
            refusal = "Its safety snapshot holds none of the collections it wrote."
    return RestoreInfo(
        run=run,
        refusal=refusal,
        collections=collections,
        undone_by=undone,
        until=rules.undo_offered_until(operation, run),
    )


def restore_undo_page(operation: Operation) -> RestoreInfo:
    """The Undo's confirmation page: what it would restore, or why it is not offered."""
    info = restore_info(operation)
    return info if info is not None else RestoreInfo(run=None, refusal="This is not a restore.")


@dataclass(frozen=True)
class RestoreRow:
    """A restore from a snapshot (or an undo) in the site's table, with its Undo now."""

    run: RestoreRun
    refusal: str

    @property
    def operation(self) -> Operation:
        return self.run.operation

    @property
    def offered(self) -> bool:
        return self.refusal == ""

    @property
    def changed(self) -> str:
        total = self.run.changed_total()
        said = f"{total['restored']} brought back, {total['reverted']} reverted, "
        said += f"{total['removed']} removed"
        return said + (f", {total['failed']} not written" if total["failed"] else "")


def restores_queryset(site: Site, limit: int = RESTORES_SHOWN) -> QuerySet[RestoreRun]:
    """The site's newest restores from snapshots, with their operation, safety snapshot, source
    and the state of their undo, in one query; kept with the site's rows per version (every
    change to them moves the version)."""
    undos = (
        Operation.objects.filter(restore_run__undo_of=OuterRef("operation"))
        .exclude(state=Operation.State.FAILED)
        .order_by("-created_at")
        .values("state")[:1]
    )
    return (
        RestoreRun.objects.filter(operation__site=site)
        .exclude(mode=RestoreRun.Mode.WIX)
        .select_related("operation", "safety", "source")
        .annotate(undone=Subquery(undos))
        .order_by("-operation__created_at")[:limit]
    )


def restore_rows(runs: list[RestoreRun], work: rules.InFlight) -> list[RestoreRow]:
    """What each row offers now (decided per request, like the backups' actions)."""
    return [
        RestoreRow(run, rules.undo_refusal(run.operation, run, work, run.undone)) for run in runs
    ]


def wix_safety_context(
    site: Site, work: rules.InFlight, source: Backup | Snapshot
) -> dict[str, Any]:
    """A restore form's "Also take a Wix backup first" (`_wix_safety_backup.html`): what it
    would make go now, or why it would be skipped (`rules.wix_safety_backup`, which the request
    asks again)."""
    return {
        "wix_safety": rules.wix_safety_backup(rules.slots_with_pins(site), work, source),
        "slot_count": rules.slot_count(),
    }
