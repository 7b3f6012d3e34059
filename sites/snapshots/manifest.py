"""A snapshot's manifest: which items it holds, by (collection, item id, hash), and each
collection's schema and counts. It is written last, as an object of its own; a snapshot is
complete once, and only once, its manifest exists (`snapshots/<id>.manifest`).

While a snapshot runs, its progress lives under `pending/<id>/` and survives a crash:

- `part-000001`, `part-000002`…: the entries of one page each (a Zstandard frame of JSON
  lines), written before the checkpoint that counts them;
- `checkpoint.json`: each collection's state (pending, reading with the cursor reached,
  complete, or missing and why), the parts so far and what the run has stored.

Resuming reads the checkpoint and goes on from the next page: a part written after the last
checkpoint is simply written again under the same number. Memory stays that of one page
whatever the size: `commit` streams the header and the parts into a temporary file, stores it
as the manifest in one write, then removes `pending/<id>/`.

Manifest format (docs/snapshots.md): a Zstandard stream of JSON lines (one frame per part);
line one is the header, every other line an entry, grouped by collection in the header's order.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import zstandard

from .errors import ManifestError, ObjectNotFound
from .objects import ObjectStore, canonical_json, compress, decompress

FORMAT = 1
KIND = "wbm-snapshot"
PENDING, READING, COMPLETE, MISSING = "pending", "reading", "complete", "missing"
_SNAPSHOT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_snapshot_id(snapshot_id: str) -> str:
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ValueError(f"not a snapshot id: {snapshot_id!r:.80}")
    return snapshot_id


def manifest_key(snapshot_id: str) -> str:
    return f"snapshots/{check_snapshot_id(snapshot_id)}.manifest"


def pending_prefix(snapshot_id: str) -> str:
    return f"pending/{check_snapshot_id(snapshot_id)}/"


def checkpoint_key(snapshot_id: str) -> str:
    return pending_prefix(snapshot_id) + "checkpoint.json"


def part_key(snapshot_id: str, number: int) -> str:
    return pending_prefix(snapshot_id) + f"part-{number:06d}"


@dataclass(frozen=True, slots=True)
class Entry:
    collection: str
    item_id: str
    digest: str
    # Bytes of the item's canonical JSON.
    size: int
    # What was odd about the item as Wix returned it (kept as it was all the same).
    notes: tuple[str, ...] = ()

    def line(self) -> bytes:
        value: dict[str, Any] = {
            "collection": self.collection,
            "id": self.item_id,
            "hash": self.digest,
            "size": self.size,
        }
        if self.notes:
            value["notes"] = list(self.notes)
        return canonical_json(value) + b"\n"

    @classmethod
    def from_json(cls, value: Any) -> Entry:
        return cls(
            value["collection"],
            value["id"],
            value["hash"],
            value["size"],
            tuple(value.get("notes", ())),
        )


@dataclass(slots=True)
class CollectionRecord:
    """One collection of a snapshot, in the checkpoint and in the manifest's header."""

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

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> CollectionRecord:
        return cls(**value)


@dataclass(frozen=True, slots=True)
class Manifest:
    """The header of a complete snapshot; its entries are read with `manifest_entries`."""

    snapshot_id: str
    started_at: datetime
    finished_at: datetime
    collections: tuple[CollectionRecord, ...]
    items: int
    # Objects and bytes this snapshot wrote that no earlier one had (the dedup figure).
    new_objects: int
    new_bytes: int

    @property
    def missing(self) -> tuple[CollectionRecord, ...]:
        return tuple(c for c in self.collections if c.status == MISSING)


@dataclass(slots=True)
class Checkpoint:
    snapshot_id: str
    started_at: str
    collections: list[CollectionRecord]
    # [{"number", "collection", "entries"}], in the order they go into the manifest.
    parts: list[dict[str, Any]] = field(default_factory=list)
    next_part: int = 1
    new_objects: int = 0
    new_bytes: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Checkpoint:
        if value.get("format") != FORMAT:
            raise ValueError(f"unknown checkpoint format {value.get('format')!r}")
        return cls(
            snapshot_id=value["snapshot_id"],
            started_at=value["started_at"],
            collections=[CollectionRecord.from_json(c) for c in value["collections"]],
            parts=list(value["parts"]),
            next_part=value["next_part"],
            new_objects=value["new_objects"],
            new_bytes=value["new_bytes"],
        )


class ManifestWriter:
    """Builds one snapshot's manifest page by page, checkpointed after each page."""

    def __init__(self, store: ObjectStore, state: Checkpoint) -> None:
        self.store = store
        self.state = state

    @classmethod
    def start(
        cls,
        store: ObjectStore,
        snapshot_id: str,
        collections: Sequence[CollectionRecord],
        started_at: datetime,
    ) -> ManifestWriter:
        state = Checkpoint(
            check_snapshot_id(snapshot_id), started_at.isoformat(), list(collections)
        )
        writer = cls(store, state)
        writer._save()
        return writer

    @classmethod
    def resume(cls, store: ObjectStore, snapshot_id: str) -> ManifestWriter | None:
        """The writer of an interrupted snapshot, as its last checkpoint left it; None if none."""
        key = checkpoint_key(snapshot_id)
        try:
            raw = store.backend.get(key)
        except ObjectNotFound:
            return None
        try:
            return cls(store, Checkpoint.from_json(json.loads(raw)))
        except (ValueError, KeyError, TypeError) as error:
            raise ManifestError(
                f"The checkpoint of snapshot {snapshot_id} ({key}) cannot be read: {error}."
            ) from error

    def record(self, collection_id: str) -> CollectionRecord:
        for record in self.state.collections:
            if record.id == collection_id:
                return record
        raise KeyError(collection_id)

    def add_page(
        self,
        collection_id: str,
        entries: Sequence[Entry],
        *,
        cursor: str | None,
        total: int | None,
        new_objects: int = 0,
        new_bytes: int = 0,
    ) -> None:
        """One page read: its entries become a part, then the checkpoint says so. The last page
        (no `cursor` to go on from) completes the collection in the same checkpoint, so a crash
        straight after it never reads the collection again."""
        record = self.record(collection_id)
        if entries:
            number = self.state.next_part
            body = b"".join(entry.line() for entry in entries)
            self.store.backend.put(part_key(self.state.snapshot_id, number), compress(body))
            self.state.parts.append(
                {"number": number, "collection": collection_id, "entries": len(entries)}
            )
            self.state.next_part = number + 1
        record.status = READING if cursor else COMPLETE
        record.items += len(entries)
        record.notes += sum(1 for entry in entries if entry.notes)
        record.cursor = cursor
        if total is not None:
            record.total = total
        self.state.new_objects += new_objects
        self.state.new_bytes += new_bytes
        self._save()

    def collection_missing(self, collection_id: str, reason: str) -> None:
        """The collection vanished while it was read (what was read of it is kept)."""
        record = self.record(collection_id)
        record.status = MISSING
        record.reason = reason
        record.cursor = None
        self._save()

    def restart_collection(self, collection_id: str) -> None:
        """Forget what was read of the collection (its cursor no longer works): read it anew."""
        record = self.record(collection_id)
        self.state.parts = [p for p in self.state.parts if p["collection"] != collection_id]
        record.status, record.items, record.notes, record.cursor = PENDING, 0, 0, None
        self._save()

    def _save(self) -> None:
        # The objects a part names must be durable before a checkpoint counts the part.
        self.store.backend.sync()
        key = checkpoint_key(self.state.snapshot_id)
        self.store.backend.put(key, canonical_json(self.state.as_json()))

    def commit(self, finished_at: datetime) -> Manifest:
        """Write the manifest (the snapshot is complete from then on) and drop `pending/<id>/`."""
        state = self.state
        unfinished = [c.id for c in state.collections if c.status not in (COMPLETE, MISSING)]
        if unfinished:
            raise ValueError(f"collections not finished: {', '.join(unfinished)}")
        manifest = Manifest(
            snapshot_id=state.snapshot_id,
            started_at=datetime.fromisoformat(state.started_at),
            finished_at=finished_at,
            collections=tuple(state.collections),
            items=sum(c.items for c in state.collections),
            new_objects=state.new_objects,
            new_bytes=state.new_bytes,
        )
        backend = self.store.backend
        backend.sync()
        fd, temp = tempfile.mkstemp(prefix="wbm-manifest-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(compress(canonical_json(_header_json(manifest)) + b"\n"))
                for part in state.parts:
                    out.write(self._checked_part(part))
            backend.put_file(manifest_key(state.snapshot_id), Path(temp))
        finally:
            os.unlink(temp)
        discard_pending(self.store, state.snapshot_id)
        return manifest

    def _checked_part(self, part: dict[str, Any]) -> bytes:
        # A part that lost entries must not become part of a "complete" snapshot.
        key = part_key(self.state.snapshot_id, part["number"])
        raw = self.store.backend.get(key)
        if decompress(raw, key).count(b"\n") != part["entries"]:
            raise ManifestError(f"{key} of snapshot {self.state.snapshot_id} lost entries.")
        return raw


def discard_pending(store: ObjectStore, snapshot_id: str) -> None:
    """Remove an interrupted (or just committed) snapshot's progress; the checkpoint goes last,
    so a crash part way still leaves it resumable or visibly committed."""
    keys = [obj.key for obj in store.backend.list(pending_prefix(snapshot_id))]
    checkpoint = checkpoint_key(snapshot_id)
    for key in sorted(keys, key=lambda k: k == checkpoint):
        store.backend.delete(key)


def _header_json(manifest: Manifest) -> dict[str, Any]:
    return {
        "kind": KIND,
        "format": FORMAT,
        "snapshot_id": manifest.snapshot_id,
        "started_at": manifest.started_at.isoformat(),
        "finished_at": manifest.finished_at.isoformat(),
        "items": manifest.items,
        "new_objects": manifest.new_objects,
        "new_bytes": manifest.new_bytes,
        "collections": [
            {k: v for k, v in asdict(c).items() if k != "cursor"} for c in manifest.collections
        ],
    }


def _lines(stream: Any) -> Iterator[bytes]:
    reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    yield from io.BufferedReader(reader, 1 << 16)


def _damaged(snapshot_id: str, what: str) -> ManifestError:
    return ManifestError(
        f"The manifest of snapshot {snapshot_id} ({manifest_key(snapshot_id)}) is damaged: {what}."
    )


def read_manifest(store: ObjectStore, snapshot_id: str) -> Manifest:
    """The header of a complete snapshot (reads only its first line); ObjectNotFound when the
    snapshot has no manifest (never taken, still running, or interrupted)."""
    with store.backend.open(manifest_key(snapshot_id)) as stream:
        try:
            first = next(_lines(stream), b"")
            value = json.loads(first)
            if value.get("kind") != KIND or value.get("format") != FORMAT:
                raise _damaged(snapshot_id, "not a manifest of a format this version reads")
            return Manifest(
                snapshot_id=value["snapshot_id"],
                started_at=datetime.fromisoformat(value["started_at"]),
                finished_at=datetime.fromisoformat(value["finished_at"]),
                collections=tuple(
                    CollectionRecord.from_json({**c, "cursor": None}) for c in value["collections"]
                ),
                items=value["items"],
                new_objects=value["new_objects"],
                new_bytes=value["new_bytes"],
            )
        except (zstandard.ZstdError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise _damaged(snapshot_id, f"its header does not read ({error})") from error


def manifest_entries(store: ObjectStore, manifest: Manifest) -> Iterator[Entry]:
    """Every entry, streamed (one line in memory), grouped by collection in the header's order.
    A manifest cut short or out of order raises ManifestError rather than end quietly."""
    sid = manifest.snapshot_id
    expected = [(c.id, c.items) for c in manifest.collections if c.items]
    position, seen = 0, 0
    with store.backend.open(manifest_key(sid)) as stream:
        lines = _lines(stream)
        try:
            next(lines)  # the header
            for number, line in enumerate(lines, start=2):
                try:
                    entry = Entry.from_json(json.loads(line))
                except (ValueError, KeyError, TypeError) as error:
                    raise _damaged(sid, f"line {number} does not read") from error
                while position < len(expected) and seen == expected[position][1]:
                    position, seen = position + 1, 0
                if position == len(expected) or entry.collection != expected[position][0]:
                    raise _damaged(sid, f"line {number} is not where the header says")
                seen += 1
                yield entry
        except zstandard.ZstdError as error:
            raise _damaged(sid, f"it does not decompress ({error})") from error
    while position < len(expected) and seen == expected[position][1]:
        position, seen = position + 1, 0
    if position != len(expected):
        raise _damaged(sid, "it ends before its last entry")
