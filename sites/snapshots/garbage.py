"""Removing what no kept snapshot needs (the second half of a prune, after the pruned snapshots'
manifests were deleted with `delete_snapshot`).

Marked as needed: the schemas and segments the kept snapshots' manifests name and the packs
their segments' entries point into; and for every snapshot still pending (running, or
interrupted and resumable) its schemas and the packs its parts point into. Then every object
and pack not marked is deleted, unless it was written after `cutoff`: a running snapshot writes
packs before any part names them, and those must survive.

A pack is deleted only once no entry points into it; one that a kept snapshot still uses in
part stays whole (the items of it that no snapshot names are not reclaimed: rewriting packs,
as `restic prune` can, is not done).

The grace cutoff does not cover one case: a snapshot that re-uses an old pack (its parent's)
while the collector runs. Run the collector when no snapshot of the store is running (the
engine holds the site's storage for either, one at a time); `verify_snapshot` finds anything
lost all the same.

Memory: the set of needed names (some 100 bytes each): packs are one per page read, and a
segment shared by many snapshots is read once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .catalog import list_pending, list_snapshots
from .errors import ManifestError, ObjectNotFound
from .manifest import manifest_key, read_manifest
from .objects import ObjectStore
from .pending import ManifestWriter
from .segments import read_segment


@dataclass(frozen=True, slots=True)
class GarbageReport:
    needed: int
    deleted: int
    deleted_bytes: int
    # Objects and packs no snapshot names that were written after the cutoff, left alone.
    recent: int
    dry_run: bool


def collect_garbage(
    store: ObjectStore, kept: Iterable[str], *, cutoff: datetime, dry_run: bool = False
) -> GarbageReport:
    """Delete every object and pack that neither a kept snapshot nor a pending one needs and
    that was written before `cutoff` (aware). A complete snapshot of the store that is not in
    `kept` and older than the cutoff is refused (ValueError): delete pruned snapshots first, so
    a mistake in `kept` can never leave a listed snapshot with its objects gone. One written
    after the cutoff (committed while its row was still being recorded) counts as kept."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be an aware datetime")
    kept_ids = set(kept)
    modified = {obj.key: obj.modified for obj in store.backend.list("snapshots/")}
    roots = []
    strays = []
    for snapshot_id in list_snapshots(store):
        if snapshot_id in kept_ids or modified[manifest_key(snapshot_id)] >= cutoff:
            roots.append(snapshot_id)
        else:
            strays.append(snapshot_id)
    if strays:
        raise ValueError(
            "these snapshots are not kept but still listed; delete them before collecting "
            f"garbage: {', '.join(strays)}"
        )
    objects: set[str] = set()
    packs: set[str] = set()
    for snapshot_id in roots:
        for record in read_manifest(store, snapshot_id).collections:
            objects.add(record.schema)
            for segment in record.segments:
                if segment["hash"] not in objects:
                    objects.add(segment["hash"])
                    packs.update(
                        v["pack"] for v in read_segment(store, segment["hash"]) if "pack" in v
                    )
    for snapshot_id in list_pending(store):
        _mark_pending(store, snapshot_id, objects, packs)
    deleted = deleted_bytes = recent = 0
    for prefix, needed in (("objects/", objects), ("packs/", packs)):
        for obj in store.backend.list(prefix):
            if obj.key.rpartition("/")[2] in needed:
                continue
            if obj.modified >= cutoff:
                recent += 1
                continue
            if not dry_run:
                store.backend.delete(obj.key)
            deleted += 1
            deleted_bytes += obj.size
    return GarbageReport(len(objects) + len(packs), deleted, deleted_bytes, recent, dry_run)


def _mark_pending(store: ObjectStore, snapshot_id: str, objects: set[str], packs: set[str]) -> None:
    writer = ManifestWriter.resume(store, snapshot_id)
    if writer is None:
        return  # committed since it was listed
    objects.update(c.schema for c in writer.state.collections)
    for record in writer.state.collections:
        try:
            for line in writer.part_lines(record.id):
                value = json.loads(line[1:])
                if "pack" in value:
                    packs.add(value["pack"])
        except ObjectNotFound:
            continue
        except (ValueError, KeyError, TypeError) as error:
            raise ManifestError(f"A part of snapshot {snapshot_id} is damaged.") from error
