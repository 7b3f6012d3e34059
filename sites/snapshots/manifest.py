"""A snapshot's manifest: what it holds, and how its items are read back.

The manifest (`snapshots/<id>.manifest`, one Zstandard frame of one JSON object) is written last;
a snapshot is complete once, and only once, it exists. It names, per collection, the schema
object and the segments (segments.py) whose entries are the collection's items: a base, then
the deltas laid over it. Each entry says where its item is: a pack, an offset and a length
(packs.py), and the item's hash. The entries are not in the manifest itself, so a snapshot of
unchanged data writes a manifest of a few hundred bytes and names its parent's segments.

How a snapshot is written, page by page and checkpointed, is pending.py; the format is described
in docs/snapshots.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from json.encoder import encode_basestring as _json_string
from typing import Any

from .errors import CorruptObject, ManifestError
from .index import BATCH, EntryIndex
from .objects import ObjectStore, canonical_json, compress, decompress
from .segments import read_segment

FORMAT = 2
KIND = "wbm-snapshot"
PENDING, READING, COMPLETE, MISSING = "pending", "reading", "complete", "missing"
_SNAPSHOT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_snapshot_id(snapshot_id: str) -> str:
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ValueError(f"not a snapshot id: {snapshot_id!r:.80}")
    return snapshot_id


def manifest_key(snapshot_id: str) -> str:
    return f"snapshots/{check_snapshot_id(snapshot_id)}.manifest"


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a snapshot: its id, its hash, and where its bytes are."""

    collection: str
    item_id: str
    digest: str
    # Bytes of the item's canonical JSON.
    size: int
    pack: str
    offset: int
    length: int
    # What was odd about the item as Wix returned it (kept as it was all the same).
    notes: tuple[str, ...] = ()

    def line(self) -> bytes:
        """The entry as a segment holds it (the collection is the segment's): its canonical JSON,
        written directly for the common entry (a tenth of a snapshot's time went to
        `json.dumps` of these small dicts; a test holds both forms equal)."""
        if not self.notes and type(self.size) is type(self.offset) is type(self.length) is int:
            try:
                return (
                    f'{{"at":{self.offset},"hash":{_json_string(self.digest)},'
                    f'"id":{_json_string(self.item_id)},"len":{self.length},'
                    f'"pack":{_json_string(self.pack)},"size":{self.size}}}\n'
                ).encode()
            except UnicodeEncodeError:
                pass  # a lone surrogate: canonical_json writes it escaped
        return self.canonical_line()

    def canonical_line(self) -> bytes:
        """The entry's line through `canonical_json`, the one definition of its bytes."""
        value: dict[str, Any] = {
            "id": self.item_id,
            "hash": self.digest,
            "size": self.size,
            "pack": self.pack,
            "at": self.offset,
            "len": self.length,
        }
        if self.notes:
            value["notes"] = list(self.notes)
        return canonical_json(value) + b"\n"

    @classmethod
    def from_json(cls, collection: str, value: dict[str, Any]) -> Entry:
        """KeyError, TypeError or ValueError when `value` is not an entry."""
        entry = cls(
            collection,
            value["id"],
            value["hash"],
            value["size"],
            value["pack"],
            value["at"],
            value["len"],
            tuple(value.get("notes", ())),
        )
        if not all(isinstance(v, int) for v in (entry.size, entry.offset, entry.length)):
            raise TypeError("an entry's size and place are numbers")
        return entry


def removal_line(item_id: str) -> bytes:
    """A delta's line for an item the snapshot before had and this one has not."""
    return canonical_json({"id": item_id, "gone": True}) + b"\n"


@dataclass(slots=True)
class CollectionRecord:
    """One collection of a snapshot, in the checkpoint and in the manifest."""

    id: str
    # The hash of the collection's schema object (the Data Collections API's JSON).
    schema: str
    page_size: int
    status: str = PENDING
    items: int = 0
    # How many items Wix counted when the read began (the first page's total), if it said.
    total: int | None = None
    notes: int = 0
    # Where the read goes on (while reading), and why a missing collection is missing.
    cursor: str | None = None
    reason: str | None = None
    # Once committed: [{"hash", "entries"}], the base first, then the deltas in order.
    segments: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> CollectionRecord:
        return cls(**value)


@dataclass(frozen=True, slots=True)
class Manifest:
    """A complete snapshot; its entries are read with `manifest_entries`."""

    snapshot_id: str
    started_at: datetime
    finished_at: datetime
    collections: tuple[CollectionRecord, ...]
    items: int
    # Objects and bytes this snapshot wrote that no earlier one had (the dedup figure).
    new_objects: int
    new_bytes: int
    # The snapshot whose segments this one builds on, if any.
    parent: str | None = None

    @property
    def missing(self) -> tuple[CollectionRecord, ...]:
        return tuple(c for c in self.collections if c.status == MISSING)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "format": FORMAT,
            "snapshot_id": self.snapshot_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "items": self.items,
            "new_objects": self.new_objects,
            "new_bytes": self.new_bytes,
            "parent": self.parent,
            "collections": [
                {k: v for k, v in asdict(c).items() if k != "cursor"} for c in self.collections
            ],
        }


def write_manifest(store: ObjectStore, manifest: Manifest) -> None:
    """The snapshot's last write: from now on it is complete."""
    store.backend.sync()  # every pack and segment it names is durable first
    store.backend.put(
        manifest_key(manifest.snapshot_id), compress(canonical_json(manifest.as_json()))
    )


def _damaged(snapshot_id: str, what: str) -> ManifestError:
    return ManifestError(
        f"The manifest of snapshot {snapshot_id} ({manifest_key(snapshot_id)}) is damaged: {what}."
    )


def read_manifest(store: ObjectStore, snapshot_id: str) -> Manifest:
    """A complete snapshot's manifest; ObjectNotFound when it has none (never taken, still
    running, or interrupted), ManifestError when it does not read."""
    key = manifest_key(snapshot_id)
    raw = store.backend.get(key)
    try:
        value = json.loads(decompress(raw, key))
        if value.get("kind") != KIND:
            raise _damaged(snapshot_id, "it is not a manifest")
        if value.get("format") != FORMAT:
            raise ManifestError(
                f"Snapshot {snapshot_id} was written in a format this version does not read "
                f"(format {value.get('format')!r}): take a new snapshot."
            )
        collections = tuple(
            CollectionRecord.from_json({**c, "cursor": None}) for c in value["collections"]
        )
        for record in collections:
            if record.items and not record.segments:
                raise _damaged(snapshot_id, f"collection {record.id} names no segment")
        return Manifest(
            snapshot_id=value["snapshot_id"],
            started_at=datetime.fromisoformat(value["started_at"]),
            finished_at=datetime.fromisoformat(value["finished_at"]),
            collections=collections,
            items=value["items"],
            new_objects=value["new_objects"],
            new_bytes=value["new_bytes"],
            parent=value.get("parent"),
        )
    except CorruptObject as error:
        raise _damaged(snapshot_id, "it does not decompress") from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise _damaged(snapshot_id, f"it does not read ({error})") from error


def manifest_entries(store: ObjectStore, manifest: Manifest) -> Iterator[Entry]:
    """Every entry, collection by collection in the manifest's order, streamed."""
    for record in manifest.collections:
        yield from collection_entries(store, manifest.snapshot_id, record)


def collection_entries(
    store: ObjectStore, snapshot_id: str, record: CollectionRecord
) -> Iterator[Entry]:
    """The collection's entries: its base segment's order, each replaced by the last delta that
    names it (or left out when a delta removed it), then the items the deltas added, in the
    order they were added. ManifestError when the count is not the manifest's (a damaged or
    missing segment raises CorruptObject or ObjectNotFound as it is read)."""
    if not record.segments:
        entries: Iterator[Entry] = iter(())
    elif len(record.segments) == 1:
        entries = _plain(record.id, read_segment(store, record.segments[0]["hash"]))
    else:
        entries = _overlaid(store, record)
    count = 0
    for entry in entries:
        count += 1
        yield entry
    if count != record.items:
        raise _damaged(
            snapshot_id, f"collection {record.id} reads {count} items, not {record.items}"
        )


def _plain(collection: str, lines: Iterator[dict[str, Any]]) -> Iterator[Entry]:
    for value in lines:
        if not value.get("gone"):
            yield _entry(collection, value)


def _entry(collection: str, value: dict[str, Any]) -> Entry:
    try:
        return Entry.from_json(collection, value)
    except (KeyError, TypeError, ValueError) as error:
        raise ManifestError(f"An entry of collection {collection} does not read.") from error


def _overlaid(store: ObjectStore, record: CollectionRecord) -> Iterator[Entry]:
    with EntryIndex() as deltas:
        for segment in record.segments[1:]:
            deltas.add(
                (v["id"], None if v.get("gone") else "", canonical_json(v))
                for v in read_segment(store, segment["hash"])
            )
        batch: list[dict[str, Any]] = []
        for value in read_segment(store, record.segments[0]["hash"]):
            batch.append(value)
            if len(batch) == BATCH:
                yield from _replaced(record.id, batch, deltas)
                batch = []
        yield from _replaced(record.id, batch, deltas)
        for _item_id, digest, line in deltas.unseen():
            if digest is not None:
                yield _entry(record.id, json.loads(line))


def _replaced(collection: str, batch: list[dict[str, Any]], deltas: EntryIndex) -> Iterator[Entry]:
    ids = [value["id"] for value in batch]
    found = deltas.lookup(ids)
    deltas.mark_seen(list(found))
    for value in batch:
        newer = found.get(value["id"])
        if newer is None:
            yield _entry(collection, value)
        elif newer[0] is not None:
            yield _entry(collection, json.loads(newer[1]))
