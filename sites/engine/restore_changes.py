"""Which changes a restore from a snapshot writes, phase by phase, in the comparison's order
(restore_run.py writes them and checkpoints after each bulk call), and which are left when it
stops, in words for the owner.
"""

from collections.abc import Iterator

from ..restore_models import RestoreRun
from ..snapshots import Manifest, StorageError, read_manifest
from ..snapshots.compare import REMOVE, RESTORE, REVERT, Change, compare_collection
from ..snapshots.objects import ObjectStore
from .snapshot_store import site_store
from .words import snapshot_message

SAVE, REMOVE_PHASE = "save", "remove"
PHASES = (SAVE, REMOVE_PHASE)


def changes(
    store: ObjectStore,
    source: Manifest,
    current: Manifest,
    run: RestoreRun,
    collection_id: str,
    phase: str,
) -> Iterator[Change]:
    """The changes of one phase of one collection the restore writes, in the comparison's order
    (the same every time for the same two snapshots, which the checkpoint relies on)."""
    kinds = {RESTORE, REVERT} if phase == SAVE else {REMOVE}
    if phase == REMOVE_PHASE and run.mode == RestoreRun.Mode.MERGE:
        return
    chosen = set(run.items.get(collection_id, ())) if run.mode == RestoreRun.Mode.ITEMS else None
    for change in compare_collection(store, source, current, collection_id):
        if change.kind in kinds and (chosen is None or change.item_id in chosen):
            yield change


def left_words(run: RestoreRun) -> str:
    """The first items a restore did not write, for its error."""
    shown = [
        f"{i['collection']} {i['item_id']}" + (f" ({i['reason']})" if i.get("reason") else "")
        if i.get("item_id")
        else f"{i['collection']} ({i.get('reason')})"
        for i in (run.left or {}).get("items", [])[:5]
    ]
    more = (run.left or {}).get("count", 0) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def remaining(run: RestoreRun) -> str:
    """Which items the restore did not write when it stopped (counted from its checkpoint), in
    words; the first of them are kept in `run.left`."""
    try:
        store = site_store(run.operation.site_id)
        source = read_manifest(store, run.source.storage_id)
        current = read_manifest(store, run.safety.storage_id)
        position = run.position or {}
        first, first_phase = position.get("collection", 0), position.get("phase", SAVE)
        left = dict(run.left) or {"count": 0, "items": []}
        per: dict[str, int] = {}
        for index in range(first, len(run.collections)):
            collection_id = run.collections[index]
            phases = PHASES[PHASES.index(first_phase) :] if index == first else PHASES
            for phase in phases:
                skip = position.get("done", 0) if (index, phase) == (first, first_phase) else 0
                for change in changes(store, source, current, run, collection_id, phase):
                    if skip:
                        skip -= 1
                        continue
                    per[collection_id] = per.get(collection_id, 0) + 1
                    left["count"] = left.get("count", 0) + 1
                    if len(left["items"]) < RestoreRun.LEFT_KEPT:
                        left["items"].append(
                            {"collection": collection_id, "item_id": change.item_id, "reason": ""}
                        )
    except (StorageError, KeyError, ValueError) as error:
        return f"Which items are left could not be worked out: {snapshot_message(error)}"
    RestoreRun.objects.filter(pk=run.pk).update(left=left)
    run.left = left
    if not per:
        return ""
    counted = ", ".join(f"{count} of {collection}" for collection, count in per.items())
    first_ids = ", ".join(i["item_id"] for i in left["items"] if i.get("item_id"))[:300]
    return (
        f"Not yet written: {counted} (first: {first_ids}). Ask for the restore again to finish it."
    )
