"""A snapshot being written: its progress under `pending/<id>/`, page by page, and the commit that
turns it into a complete snapshot (segments, then the manifest, written last).

- `part-000001`, `part-000002`…: the entries of one page each (a Zstandard frame of lines),
  written before the checkpoint that counts them. A line is an entry (segments.py's form)
  behind one byte: `+` an item new or changed since the parent snapshot (its bytes were
  written to a pack by this snapshot), `=` an item unchanged (it points into the parent's
  packs), `-` an item the parent had and this snapshot has not (the collection's last part).
- `checkpoint.json`: each collection's state (pending, reading with the cursor reached,
  complete, or missing and why), the parts so far, the parent, what the run has stored.

Resuming reads the checkpoint and goes on from the next page: a part written after the last
checkpoint is simply written again under the same number. The commit writes, per collection,
either a delta over the parent's segments (the `+` and `-` lines) or a new base (the `+` and `=`
lines); `delta_allowed` is the rule. Memory stays that of one part whatever the size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .errors import ManifestError, ObjectNotFound
from .index import EntryIndex
from .manifest import (
    COMPLETE,
    MISSING,
    PENDING,
    READING,
    CollectionRecord,
    Entry,
    Manifest,
    check_snapshot_id,
    removal_line,
    write_manifest,
)
from .objects import ObjectStore, canonical_json, compress, decompress
from .segments import read_segment, write_segment

FORMAT = 2
CHANGED, SAME, GONE = b"+", b"=", b"-"
# A snapshot's delta holds every change since its base (a differential, not an incremental: at
# most two segments, and a pruned snapshot's delta is nobody else's, so pruning frees it). It is
# written while it stays at most a quarter of the base's entries (or this floor, so a small
# collection is not rewritten for every few changes); past that, a new base.
MIN_DELTA_ENTRIES = 100


def pending_prefix(snapshot_id: str) -> str:
    return f"pending/{check_snapshot_id(snapshot_id)}/"


def checkpoint_key(snapshot_id: str) -> str:
    return pending_prefix(snapshot_id) + "checkpoint.json"


def part_key(snapshot_id: str, number: int) -> str:
    return pending_prefix(snapshot_id) + f"part-{number:06d}"


def delta_allowed(parent: CollectionRecord | None, entries: int) -> bool:
    """Whether a delta of `entries` (every change since the parent's base) is written over the
    parent's base rather than a new base."""
    if parent is None or not parent.segments:
        return False
    return entries <= max(MIN_DELTA_ENTRIES, parent.segments[0]["entries"] // 4)


@dataclass(slots=True)
class Checkpoint:
    snapshot_id: str
    started_at: str
    collections: list[CollectionRecord]
    # The complete snapshot this one is compared with (its unchanged items point into it).
    parent: str | None = None
    # [{"number", "collection", "entries", "changed"}], in the order of the manifest.
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
            parent=value["parent"],
            parts=list(value["parts"]),
            next_part=value["next_part"],
            new_objects=value["new_objects"],
            new_bytes=value["new_bytes"],
        )


class ManifestWriter:
    """Builds one snapshot page by page, checkpointed after each page."""

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
        parent: str | None = None,
    ) -> ManifestWriter:
        state = Checkpoint(
            check_snapshot_id(snapshot_id), started_at.isoformat(), list(collections), parent
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
        entries: Sequence[tuple[bool, Entry]],
        *,
        cursor: str | None,
        total: int | None,
        removed: Iterable[str] = (),
        new_objects: int = 0,
        new_bytes: int = 0,
    ) -> None:
        """One page read, each entry with whether it changed since the parent: its entries
        become a part, then the checkpoint says so. The last page (no `cursor` to go on from)
        brings the ids the parent had and the read did not find (`removed`), and completes the
        collection in the same checkpoint, so a crash straight after it never reads it again."""
        record = self.record(collection_id)
        lines = [(CHANGED if changed else SAME) + entry.line() for changed, entry in entries]
        changed = sum(1 for is_changed, _ in entries if is_changed)
        lines.extend(GONE + removal_line(item_id) for item_id in removed)
        changed += len(lines) - len(entries)
        if lines:
            number = self.state.next_part
            body = compress(b"".join(lines))
            self.store.backend.put(part_key(self.state.snapshot_id, number), body)
            self.state.parts.append(
                {
                    "number": number,
                    "collection": collection_id,
                    "entries": len(lines),
                    "changed": changed,
                }
            )
            self.state.next_part = number + 1
        record.status = READING if cursor else COMPLETE
        record.items += len(entries)
        record.notes += sum(1 for _, entry in entries if entry.notes)
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

    def part_lines(self, collection_id: str) -> Iterator[bytes]:
        """The lines of the collection's parts so far, each behind its `+`, `=` or `-`."""
        for part in self.state.parts:
            if part["collection"] == collection_id:
                yield from self._checked_part(part)

    def _save(self) -> None:
        # The packs a part points into must be durable before a checkpoint counts the part.
        self.store.backend.sync()
        key = checkpoint_key(self.state.snapshot_id)
        self.store.backend.put(key, canonical_json(self.state.as_json()))

    def commit(self, finished_at: datetime, parent: Manifest | None) -> Manifest:
        """Write each collection's segments and the manifest (the snapshot is complete from then
        on), then drop `pending/<id>/`. `parent` is the checkpoint's parent as read now, or None
        when it is gone: every collection is then written as a base of its own."""
        state = self.state
        unfinished = [c.id for c in state.collections if c.status not in (COMPLETE, MISSING)]
        if unfinished:
            raise ValueError(f"collections not finished: {', '.join(unfinished)}")
        before = self.store.written_objects, self.store.written_bytes
        parents = {c.id: c for c in parent.collections} if parent is not None else {}
        for record in state.collections:
            record.segments = self._segments(record, parents.get(record.id))
        manifest = Manifest(
            snapshot_id=state.snapshot_id,
            started_at=datetime.fromisoformat(state.started_at),
            finished_at=finished_at,
            collections=tuple(state.collections),
            items=sum(c.items for c in state.collections),
            new_objects=state.new_objects + self.store.written_objects - before[0],
            new_bytes=state.new_bytes + self.store.written_bytes - before[1],
            parent=parent.snapshot_id if parent is not None else None,
        )
        write_manifest(self.store, manifest)
        discard_pending(self.store, state.snapshot_id)
        return manifest

    def _segments(
        self, record: CollectionRecord, parent: CollectionRecord | None
    ) -> list[dict[str, Any]]:
        parts = [p for p in self.state.parts if p["collection"] == record.id]
        changed = sum(p["changed"] for p in parts)
        # A collection that vanished part way has no `-` lines (its read never ended): only a
        # base says exactly what was read of it.
        if record.status != MISSING and parent is not None and parent.segments:
            if not changed:
                return list(parent.segments)
            with EntryIndex() as since_base:
                # The parent's changes since the base, then this snapshot's over them.
                for segment in parent.segments[1:]:
                    since_base.add(
                        (v["id"], None, canonical_json(v) + b"\n")
                        for v in read_segment(self.store, segment["hash"])
                    )
                since_base.add(
                    (json.loads(line[1:])["id"], None, line[1:])
                    for line in self.part_lines(record.id)
                    if line[:1] in (CHANGED, GONE)
                )
                if delta_allowed(parent, since_base.size):
                    delta = write_segment(self.store, (line for _, _, line in since_base.unseen()))
                    base = parent.segments[0]
                    return [base, {"hash": delta.digest, "entries": delta.entries}]
        lines = (line[1:] for line in self.part_lines(record.id) if line[:1] in (CHANGED, SAME))
        segment = write_segment(self.store, lines)
        if not segment.entries:
            return []
        return [{"hash": segment.digest, "entries": segment.entries}]

    def _checked_part(self, part: dict[str, Any]) -> list[bytes]:
        # A part that lost entries must not become part of a "complete" snapshot.
        key = part_key(self.state.snapshot_id, part["number"])
        lines = decompress(self.store.backend.get(key), key).splitlines(keepends=True)
        if len(lines) != part["entries"]:
            raise ManifestError(f"{key} of snapshot {self.state.snapshot_id} lost entries.")
        return lines


def discard_pending(store: ObjectStore, snapshot_id: str) -> None:
    """Remove an interrupted (or just committed) snapshot's progress; the checkpoint goes last,
    so a crash part way still leaves it resumable or visibly committed."""
    keys = [obj.key for obj in store.backend.list(pending_prefix(snapshot_id))]
    checkpoint = checkpoint_key(snapshot_id)
    for key in sorted(keys, key=lambda k: k == checkpoint):
        store.backend.delete(key)
