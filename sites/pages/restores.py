"""What a restore's page shows of it beyond Wix's answer: its safety snapshot, a snapshot
restore's mode, source and counts (live, written after every bulk call), the items it left, and
whether "Undo this restore" is offered (`rules.undo_refusal`)."""

from dataclasses import dataclass, field

from .. import rules
from ..models import Operation, RestoreRun


@dataclass(frozen=True)
class RestoreInfo:
    run: RestoreRun | None
    # Why Undo is not offered ("" when it is).
    refusal: str
    # The collections an Undo restores whole.
    collections: list[str] = field(default_factory=list)
    undone_by: Operation | None = None

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
    refusal = rules.undo_refusal(operation, run, rules.in_flight(site), undone)
    collections: list[str] = []
    if run is not None and run.safety is not None:
        backup = site.backups.filter(wix_id=operation.backup_wix_id).first()
        collections = rules.undo_collections(operation, run, backup)
        if not collections and not refusal:
            refusal = "Its safety snapshot holds none of the collections it wrote."
    return RestoreInfo(run=run, refusal=refusal, collections=collections, undone_by=undone)


def restore_undo_page(operation: Operation) -> RestoreInfo:
    """The Undo's confirmation page: what it would restore, or why it is not offered."""
    info = restore_info(operation)
    return info if info is not None else RestoreInfo(run=None, refusal="This is not a restore.")
