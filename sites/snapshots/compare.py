"""Comparing two snapshots: what a restore from `source` would change in the data `current` holds.

The live data is read as a snapshot of its own (taken with the site's newest snapshot as its
parent, so it stores almost nothing new); a preview is then a comparison of the two snapshots'
entries by item id and hash, streamed in constant memory (the source's entries in an
`EntryIndex`, the current's read against it a batch at a time). The items themselves are only
read for one item's field differences, on demand (`read_item`, `field_differences`).

Kinds of change, as a restore from `source` sees them:

- RESTORE: the item is in the source only (deleted since): a restore brings it back;
- REVERT: in both, with different hashes (changed since): a restore writes the old value back;
- REMOVE: in the current data only (added since): a whole-collection restore removes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import ManifestError
from .index import BATCH, EntryIndex
from .manifest import CollectionRecord, Entry, Manifest, collection_entries
from .objects import ObjectStore, canonical_json
from .packs import PackReader

RESTORE, REVERT, REMOVE = "restore", "revert", "remove"


@dataclass(frozen=True, slots=True)
class Change:
    """One item a restore from the source would change."""

    collection: str
    item_id: str
    kind: str
    # The item's entry in the snapshot restored from (None for REMOVE).
    source: Entry | None
    # The item's entry in the snapshot of the live data (None for RESTORE).
    current: Entry | None


@dataclass(frozen=True, slots=True)
class CollectionCounts:
    collection: str
    restore: int
    revert: int
    remove: int
    same: int

    @property
    def changes(self) -> int:
        return self.restore + self.revert + self.remove


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field whose value differs: `old` is the source's, `current` the live data's. A field
    one side lacks has None there, with `*_present` False (a null value is present)."""

    field: str
    old: Any
    current: Any
    old_present: bool = True
    current_present: bool = True


@dataclass(frozen=True, slots=True)
class SchemaDrift:
    """How a collection's schema moved between the source and the current snapshot."""

    collection: str
    # Field keys in the current schema only (added since), in the source's only (removed since).
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # (field, source type, current type) of the fields whose type changed.
    retyped: tuple[tuple[str, str, str], ...] = ()
    in_source: bool = True
    in_current: bool = True

    @property
    def deleted_since(self) -> bool:
        return self.in_source and not self.in_current

    @property
    def created_since(self) -> bool:
        return self.in_current and not self.in_source

    @property
    def drifted(self) -> bool:
        return bool(self.added or self.removed or self.retyped)


def record_of(manifest: Manifest, collection_id: str) -> CollectionRecord | None:
    return next((c for c in manifest.collections if c.id == collection_id), None)


def collection_ids(source: Manifest, current: Manifest) -> list[str]:
    """Every collection either snapshot holds: the source's in its order, then those created
    since, in the current's order."""
    ids = [c.id for c in source.collections]
    known = set(ids)
    return ids + [c.id for c in current.collections if c.id not in known]


def compare_collection(
    store: ObjectStore, source: Manifest, current: Manifest, collection_id: str
) -> Iterator[Change]:
    """Every change of one collection (never the unchanged items): REVERT and REMOVE in the
    current snapshot's order, then RESTORE in the source's. A collection absent from one side
    gives only RESTORE (deleted since) or only REMOVE (created since) changes. Memory is flat
    whatever the collection's size; a damaged segment raises as `collection_entries` does."""
    old = record_of(source, collection_id)
    new = record_of(current, collection_id)
    if old is None and new is None:
        return
    if old is None:
        assert new is not None
        for entry in collection_entries(store, current.snapshot_id, new):
            yield Change(collection_id, entry.item_id, REMOVE, None, entry)
        return
    if new is None:
        for entry in collection_entries(store, source.snapshot_id, old):
            yield Change(collection_id, entry.item_id, RESTORE, entry, None)
        return
    if old.segments == new.segments and old.items == new.items:
        # The current snapshot names the source's very segments (nothing changed since, the
        # usual case of a collection nobody edits): no entry needs reading.
        return
    with EntryIndex() as index:
        _fill(index, collection_entries(store, source.snapshot_id, old))
        batch: list[Entry] = []
        for entry in collection_entries(store, current.snapshot_id, new):
            batch.append(entry)
            if len(batch) == BATCH:
                yield from _against(collection_id, batch, index)
                batch = []
        yield from _against(collection_id, batch, index)
        for item_id, _digest, line in index.unseen():
            yield Change(collection_id, item_id, RESTORE, _entry(collection_id, line), None)


def _fill(index: EntryIndex, entries: Iterator[Entry]) -> None:
    """The source's entries into the index a page at a time, so no more than a page of them is
    ever held in Python (the index's own batches are ten times larger)."""
    rows: list[tuple[str, str | None, bytes]] = []
    for entry in entries:
        rows.append((entry.item_id, entry.digest, entry.line()))
        if len(rows) == BATCH:
            index.add(rows)
            rows = []
    if rows:
        index.add(rows)


def _against(collection_id: str, batch: list[Entry], index: EntryIndex) -> Iterator[Change]:
    found = index.lookup([entry.item_id for entry in batch])
    index.mark_seen(list(found))
    for entry in batch:
        before = found.get(entry.item_id)
        if before is None:
            yield Change(collection_id, entry.item_id, REMOVE, None, entry)
        elif before[0] != entry.digest:
            old = _entry(collection_id, before[1])
            yield Change(collection_id, entry.item_id, REVERT, old, entry)


def _entry(collection_id: str, line: bytes) -> Entry:
    try:
        return Entry.from_json(collection_id, json.loads(line))
    except (KeyError, TypeError, ValueError) as error:
        raise ManifestError(f"An entry of collection {collection_id} does not read.") from error


def count_changes(
    store: ObjectStore, source: Manifest, current: Manifest, collection_id: str
) -> CollectionCounts:
    """The counts of `compare_collection`, and how many items stay the same."""
    counts = {RESTORE: 0, REVERT: 0, REMOVE: 0}
    for change in compare_collection(store, source, current, collection_id):
        counts[change.kind] += 1
    old = record_of(source, collection_id)
    # Every source item is either brought back, reverted, or the same.
    same = (old.items if old else 0) - counts[RESTORE] - counts[REVERT]
    return CollectionCounts(collection_id, counts[RESTORE], counts[REVERT], counts[REMOVE], same)


def read_item(store: ObjectStore, entry: Entry, reader: PackReader | None = None) -> dict:
    """An entry's item as Wix returned it, read out of its pack with its hash checked
    (CorruptObject, ObjectNotFound as `PackReader.read`). Pass one reader for many items of
    the same packs: it keeps a window."""
    data = (reader or PackReader(store.backend)).item(entry)
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ManifestError(f"The item {entry.item_id} of {entry.collection} is not an object.")
    return value


def is_system_field(key: str) -> bool:
    """Wix's own fields (`_id`, `_createdDate`, `_updatedDate`, `_owner`…) begin with `_`."""
    return key.startswith("_")


_ABSENT = object()


def field_differences(old: dict | None, new: dict | None) -> list[FieldDifference]:
    """The fields whose values differ between an item in the source (`old`) and in the live
    data (`new`); None for a side that has no such item. Values compare as their canonical
    JSON, so 1 and 1.0, or 1 and true, differ as they do for Wix. The owner's fields come
    first, sorted, then the system fields, sorted."""
    old = old or {}
    new = new or {}
    keys = sorted(set(old) | set(new), key=lambda k: (is_system_field(k), k))
    differences = []
    for key in keys:
        before, after = old.get(key, _ABSENT), new.get(key, _ABSENT)
        both = before is not _ABSENT and after is not _ABSENT
        if both and canonical_json(before) == canonical_json(after):
            continue
        differences.append(
            FieldDifference(
                key,
                None if before is _ABSENT else before,
                None if after is _ABSENT else after,
                old_present=before is not _ABSENT,
                current_present=after is not _ABSENT,
            )
        )
    return differences


def _fields(store: ObjectStore, record: CollectionRecord) -> dict[str, str]:
    schema = store.get_json(record.schema)
    try:
        return {f["key"]: str(f.get("type", "")) for f in schema.get("fields", [])}
    except (AttributeError, KeyError, TypeError) as error:
        raise ManifestError(f"The schema of collection {record.id} does not read.") from error


def schema_drift(
    store: ObjectStore, source: Manifest, current: Manifest, collection_id: str
) -> SchemaDrift:
    """Fields added, removed or retyped since the source, from the schemas the two snapshots
    stored; a collection one side lacks says so (`deleted_since`, `created_since`)."""
    old = record_of(source, collection_id)
    new = record_of(current, collection_id)
    if old is None or new is None:
        return SchemaDrift(collection_id, in_source=old is not None, in_current=new is not None)
    if old.schema == new.schema:
        return SchemaDrift(collection_id)
    before, after = _fields(store, old), _fields(store, new)
    return SchemaDrift(
        collection_id,
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        retyped=tuple(
            (key, before[key], after[key])
            for key in sorted(set(before) & set(after))
            if before[key] != after[key]
        ),
    )
