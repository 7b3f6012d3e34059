"""Taking a snapshot: every collection of a site, read through the Data Items API page by page
into the object store, the manifest written last (manifest.py).

A plain function of a client and a store, so the engine can run it as an operation and a
script or a benchmark can run it alone. Calling it again with the same snapshot id after an
interruption (a worker killed, a Wix error, the storage failing) goes on from the last page
read; calling it for a complete snapshot returns its manifest and reads nothing.

Wix calls: the collections list (one call per 100 collections, which also gives each schema),
then per collection one query per page, the first asking for the total, so no count call; a
collection's page size is 1000 or its `maxPageSize` when smaller. The next page of a collection
is read while the last one is stored.

Dedup: each item is compared, by id, with the `parent` snapshot (the site's last complete one,
named by the caller). An unchanged item points into the parent's packs and writes nothing; a new
or changed one is compressed into this page's pack. The commit then writes only what changed as
a delta over the parent's segments (pending.py), so a snapshot of unchanged data stores a
manifest of a few hundred bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wixapi import (
    DataCollection,
    DataItem,
    ItemPage,
    WixDataClient,
    WixNotFound,
    WixProtocolError,
    WixValidationError,
)

from .errors import ManifestError, ObjectNotFound, StorageError
from .index import EntryIndex
from .manifest import (
    PENDING,
    READING,
    CollectionRecord,
    Entry,
    Manifest,
    collection_entries,
    manifest_key,
    read_manifest,
)
from .objects import ObjectStore, canonical_json, digest_of
from .packs import PackWriter, Slot
from .pending import ManifestWriter, discard_pending

MAX_PAGE = 1000
# Wix refuses to write back an item larger than this (docs/wix-data-api.md, "Limits").
MAX_ITEM_BYTES = 500 * 1024

# What JSON a value of each Wix field type is expected to be; other types accept anything.
# A value of another kind is kept exactly as read, with a note, never "fixed".
_EXPECTED: dict[str, tuple[type, ...]] = {
    "TEXT": (str,),
    "RICH_TEXT": (str,),
    "URL": (str,),
    "IMAGE": (str,),
    "DOCUMENT": (str,),
    "VIDEO": (str,),
    "AUDIO": (str,),
    "DATE": (str,),
    "TIME": (str,),
    "LANGUAGE": (str,),
    "NUMBER": (int, float),
    "BOOLEAN": (bool,),
    "DATETIME": (dict, str),
    "REFERENCE": (str, dict),
    "MULTI_REFERENCE": (list,),
    "ARRAY": (list,),
    "MEDIA_GALLERY": (list,),
    "OBJECT": (dict,),
    "ADDRESS": (dict,),
    "RICH_CONTENT": (dict,),
}


@dataclass(frozen=True, slots=True)
class Progress:
    """Told after every page: "Products: 12,000 of 40,000 items"."""

    collection_id: str
    items_done: int
    # Wix's count when the collection's read began; None when it did not say.
    total: int | None
    collections_done: int
    collections_total: int


def schema_json(collection: DataCollection) -> dict[str, Any]:
    """The collection's JSON as the Data Collections API sent it, stored as an object; for a
    collection built without it, what the client parsed, in Wix's own field names."""
    if collection.raw:
        return collection.raw
    return {
        "id": collection.id,
        "displayName": collection.display_name,
        "collectionType": collection.collection_type,
        "ownerAppId": collection.owner_app_id,
        "maxPageSize": collection.max_page_size,
        "fields": [
            {
                "key": f.key,
                "displayName": f.display_name,
                "type": f.type,
                "systemField": f.system_field,
                "required": f.required,
            }
            for f in collection.fields
        ],
        "permissions": collection.permissions,
        "capabilities": {"dataOperations": sorted(collection.data_operations)},
    }


def item_notes(item: DataItem, size: int, field_types: Mapping[str, str]) -> tuple[str, ...]:
    """What is odd about an item as Wix returned it; it is stored unchanged all the same."""
    notes = []
    if size > MAX_ITEM_BYTES:
        notes.append(f"over 500 KB ({size} bytes): Wix will refuse to write it back as it is")
    if item.data.get("_id") != item.id:
        notes.append("its data's _id differs from its id")
    for key, kind in field_types.items():
        value = item.data.get(key)
        expected = _EXPECTED.get(kind)
        if value is None or expected is None:
            continue
        if not isinstance(value, expected) or (kind == "NUMBER" and isinstance(value, bool)):
            notes.append(f"{key} is {type(value).__name__}, not {kind}")
    return tuple(notes)


def take_snapshot(
    client: WixDataClient,
    store: ObjectStore,
    snapshot_id: str,
    *,
    progress: Callable[[Progress], None] | None = None,
    page_size: int = MAX_PAGE,
    parent: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Manifest:
    """Snapshot every collection of the client's site into `store`, or finish the interrupted
    snapshot of that id. Wix's errors propagate as `wixapi` errors and the storage's as
    `StorageError`, each leaving the snapshot resumable.

    A collection that vanishes while it is read (WixNotFound) does not fail the snapshot: it is
    recorded as missing, with Wix's reason and the items read before it went, because the other
    collections are still worth keeping and the owner is told which one is incomplete.
    """
    if not 1 <= page_size <= MAX_PAGE:
        raise ValueError("page_size must be between 1 and 1000")
    if store.backend.exists(manifest_key(snapshot_id)):
        discard_pending(store, snapshot_id)  # a crash after the commit may have left it
        return read_manifest(store, snapshot_id)
    writer = ManifestWriter.resume(store, snapshot_id)
    if writer is None:
        parent_manifest = _parent_manifest(store, parent)
        usable = parent_manifest.snapshot_id if parent_manifest else None
        writer = _start(client, store, snapshot_id, page_size, clock(), usable)
    else:
        parent_manifest = _parent_manifest(store, writer.state.parent)
    records = writer.state.collections
    with EntryIndex() as index:
        for number, record in enumerate(records):
            if record.status in (PENDING, READING):
                parent_manifest = _load_parent(store, writer, parent_manifest, record, index)
                place = (number, len(records))
                _read_collection(client, store, writer, record, index, place, progress)
    return writer.commit(clock(), parent_manifest)


def _parent_manifest(store: ObjectStore, parent: str | None) -> Manifest | None:
    """The parent's manifest, or None when there is none or it no longer reads (pruned since,
    or damaged): the snapshot is then written whole, as if it were the first."""
    if not parent:
        return None
    try:
        return read_manifest(store, parent)
    except (ObjectNotFound, ManifestError):
        return None


def _load_parent(
    store: ObjectStore,
    writer: ManifestWriter,
    parent: Manifest | None,
    record: CollectionRecord,
    index: EntryIndex,
) -> Manifest | None:
    """Fill the index with the parent's entries of this collection, and mark as seen the ids of
    the pages already read (a resumed read). A parent whose entries no longer read is dropped
    for the rest of the snapshot (what is read from then on is compared with nothing): the
    parent to go on with is returned."""
    index.clear()
    own = next((c for c in parent.collections if c.id == record.id), None) if parent else None
    if parent is None or own is None:
        return parent
    try:
        index.add(
            (e.item_id, e.digest, e.line())
            for e in collection_entries(store, parent.snapshot_id, own)
        )
    except StorageError:
        index.clear()
        writer.state.parent = None
        return None
    seen = [json.loads(line[1:])["id"] for line in writer.part_lines(record.id)]
    for start in range(0, len(seen), MAX_PAGE):
        index.mark_seen(seen[start : start + MAX_PAGE])
    return parent


def _start(
    client: WixDataClient,
    store: ObjectStore,
    snapshot_id: str,
    page_size: int,
    now: datetime,
    parent: str | None,
) -> ManifestWriter:
    records = []
    before = store.written_objects, store.written_bytes
    for collection in client.iter_collections():
        schema = store.put_json(schema_json(collection))
        limit = min(page_size, collection.max_page_size or MAX_PAGE)
        records.append(CollectionRecord(collection.id, schema.digest, max(1, limit)))
    writer = ManifestWriter.start(store, snapshot_id, records, now, parent)
    writer.state.new_objects += store.written_objects - before[0]
    writer.state.new_bytes += store.written_bytes - before[1]
    return writer


def _read_collection(
    client: WixDataClient,
    store: ObjectStore,
    writer: ManifestWriter,
    record: CollectionRecord,
    index: EntryIndex,
    place: tuple[int, int],
    progress: Callable[[Progress], None] | None,
) -> None:
    schema = store.get_json(record.schema)
    field_types = {f["key"]: f["type"] for f in schema["fields"]}
    cursor = record.cursor or ""
    resumed = bool(cursor)
    packer = PackWriter(store.backend)

    def fetch(at: str) -> ItemPage:
        return client.query_items(
            record.id, limit=record.page_size, cursor=at, return_total_count=not at
        )

    # The next page is read while this one is stored (one reader thread, never two requests at
    # once): a snapshot then takes about as long as the slower of reading and storing, not their
    # sum (bench/snapshot.py). Two pages in memory at most. A prefetched page is only ever used
    # after the checkpoint of the one before it, so an interruption loses no more than a re-read.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-read") as reader:
        ahead: Future[ItemPage] = reader.submit(fetch, cursor)
        while True:
            try:
                page = ahead.result()
            except WixNotFound as error:
                writer.collection_missing(record.id, f"deleted while it was read: {error}")
                return
            except WixValidationError:
                if not resumed:
                    raise
                # The checkpoint's cursor is too old for Wix (it keeps one for a while only):
                # read this collection again from its first page.
                writer.restart_collection(record.id)
                # Nothing of it counts as read any more: every parent id is unseen again.
                index.reset_seen()
                cursor, resumed = "", False
                ahead = reader.submit(fetch, cursor)
                continue
            resumed = False
            if len(page.items) > record.page_size:
                raise WixProtocolError(
                    f"page holds {len(page.items)} items, asked {record.page_size}"
                )
            if page.next_cursor is None and page.has_next:
                raise WixProtocolError("page says more follow but gives no cursor")
            if page.next_cursor is not None and page.next_cursor == cursor:
                raise WixProtocolError("the next cursor is the one just read")
            if page.next_cursor is not None:
                ahead = reader.submit(fetch, page.next_cursor)
            entries, written = _store_page(store, packer, record, page.items, field_types, index)
            last = page.next_cursor is None
            writer.add_page(
                record.id,
                entries,
                cursor=page.next_cursor,
                total=page.total if not cursor else None,
                removed=[item_id for item_id, _, _ in index.unseen()] if last else (),
                new_objects=written[0],
                new_bytes=written[1],
            )
            del page, entries  # the page stored goes before the next is taken
            if progress is not None:
                progress(Progress(record.id, record.items, record.total, place[0], place[1]))
            if record.cursor is None:
                return
            cursor = record.cursor


def _store_page(
    store: ObjectStore,
    packer: PackWriter,
    record: CollectionRecord,
    items: list[DataItem],
    field_types: Mapping[str, str],
    index: EntryIndex,
) -> tuple[list[tuple[bool, Entry]], tuple[int, int]]:
    """The page's entries, each with whether it changed since the parent, and the (items, bytes)
    written: new and changed items go into one pack (written before this returns), unchanged
    ones point where the parent's entry points."""
    known = index.lookup([item.id for item in items])
    packs_before, bytes_before = packer.written_packs, packer.written_bytes
    # Each entry with its slot in this page's pack when it changed: the pack's name is known
    # once the pack is written, below.
    made: list[tuple[Slot | None, Entry | tuple[Any, ...]]] = []
    for item in items:
        data = canonical_json(item.data)
        digest = digest_of(data)
        notes = item_notes(item, len(data), field_types)
        before = known.get(item.id)
        if before is not None and before[0] == digest:
            old = json.loads(before[1])
            place = (old["pack"], old["at"], old["len"])
            made.append((None, Entry(record.id, item.id, digest, len(data), *place, notes)))
        else:
            slot = packer.add(store.compress(data))
            made.append((slot, (item.id, digest, len(data), slot.offset, slot.length, notes)))
    packer.flush()
    index.mark_seen(list(known))
    # A changed item's entry is made once its pack has a name (one constructor call: cheaper
    # than making it before and `dataclasses.replace` after, at 100,000 items).
    entries = [
        (True, Entry(record.id, value[0], value[1], value[2], slot.pack, *value[3:]))
        if slot
        else (False, value)
        for slot, value in made
    ]
    # Items a pack already held (the same page read again after a crash) are not new.
    new = sum(1 for is_changed, _ in entries if is_changed)
    if packer.written_packs == packs_before:
        new = 0
    return entries, (new, packer.written_bytes - bytes_before)
