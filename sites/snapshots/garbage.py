"""Removing objects no kept snapshot needs (the second half of a prune, after the pruned
snapshots' manifests were deleted with `delete_snapshot`).

Marked as needed: every schema and item of the kept snapshots' manifests, and of every snapshot
still pending (running, or interrupted and resumable: its checkpoint and parts). Then every
object not marked is deleted, unless it was written after `cutoff`: a running snapshot writes
objects before any part names them, and those must survive.

The grace cutoff does not cover one case: a snapshot that re-uses an old object (dedup found it)
in the page it is reading while the collector runs. Run the collector when no snapshot of the
store is running (the engine runs both on the snapshot queue, one at a time); `verify_snapshot`
finds any object lost all the same.

Memory: one set of the needed hashes (32 bytes each plus Python's overhead, some 100 bytes per
distinct object), not of the entries, so many snapshots of the same data cost little more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .catalog import list_pending, list_snapshots
from .errors import ManifestError, ObjectNotFound
from .manifest import (
    ManifestWriter,
    manifest_entries,
    manifest_key,
    part_key,
    read_manifest,
)
from .objects import ObjectStore, decompress


@dataclass(frozen=True, slots=True)
class GarbageReport:
    needed: int
    deleted: int
    deleted_bytes: int
    # Objects no snapshot names that were written after the cutoff, left alone.
    recent: int
    dry_run: bool


def collect_garbage(
    store: ObjectStore, kept: Iterable[str], *, cutoff: datetime, dry_run: bool = False
) -> GarbageReport:
    """Delete every object that neither a kept snapshot nor a pending one names and that was
    written before `cutoff` (aware). A complete snapshot of the store that is not in `kept`
    and older than the cutoff is refused (ValueError): delete pruned snapshots first, so a
    mistake in `kept` can never leave a listed snapshot with its objects gone. One written
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
    needed: set[bytes] = set()
    for snapshot_id in roots:
        manifest = read_manifest(store, snapshot_id)
        needed.update(bytes.fromhex(c.schema) for c in manifest.collections)
        needed.update(bytes.fromhex(e.digest) for e in manifest_entries(store, manifest))
    for snapshot_id in list_pending(store):
        _mark_pending(store, snapshot_id, needed)
    deleted = deleted_bytes = recent = 0
    for obj in store.backend.list("objects/"):
        digest = obj.key.rpartition("/")[2]
        try:
            if bytes.fromhex(digest) in needed:
                continue
        except ValueError:
            continue  # not an object of ours: leave it
        if obj.modified >= cutoff:
            recent += 1
            continue
        if not dry_run:
            store.backend.delete(obj.key)
        deleted += 1
        deleted_bytes += obj.size
    return GarbageReport(len(needed), deleted, deleted_bytes, recent, dry_run)


def _mark_pending(store: ObjectStore, snapshot_id: str, needed: set[bytes]) -> None:
    writer = ManifestWriter.resume(store, snapshot_id)
    if writer is None:
        return  # committed since it was listed
    needed.update(bytes.fromhex(c.schema) for c in writer.state.collections)
    for part in writer.state.parts:
        key = part_key(snapshot_id, part["number"])
        try:
            raw = store.backend.get(key)
        except ObjectNotFound:
            continue
        for line in decompress(raw, key).splitlines():
            try:
                needed.add(bytes.fromhex(json.loads(line)["hash"]))
            except (ValueError, KeyError, TypeError) as error:
                raise ManifestError(f"{key} of snapshot {snapshot_id} is damaged.") from error
