"""One item's entry in a snapshot, without building the collection's entries: the deltas are read
newest first (the last one that names the item decides), and the base segment only when no delta
names it. Used by an item's history, which looks one item up in many snapshots."""

from typing import Any

from .errors import ManifestError
from .manifest import CollectionRecord, Entry
from .objects import ObjectStore
from .segments import read_segment


def item_entry(store: ObjectStore, record: CollectionRecord, item_id: str) -> Entry | None:
    """The item's entry in this collection record, or None when the record does not hold it
    (never saved, or removed by a delta). A damaged segment raises as `read_segment` does."""
    for segment in reversed(record.segments[1:]):
        found: dict[str, Any] | None = None
        for value in read_segment(store, segment["hash"]):
            if value.get("id") == item_id:
                found = value  # a later line of the same delta replaces an earlier one
        if found is not None:
            return None if found.get("gone") else _entry(record.id, found)
    found = None
    if record.segments:
        # Read to its end even once found: a segment's hash is checked at its end.
        for value in read_segment(store, record.segments[0]["hash"]):
            if value.get("id") == item_id and not value.get("gone"):
                found = value
    return _entry(record.id, found) if found is not None else None


def _entry(collection: str, value: dict[str, Any]) -> Entry:
    try:
        return Entry.from_json(collection, value)
    except (KeyError, TypeError, ValueError) as error:
        raise ManifestError(f"An entry of collection {collection} does not read.") from error
