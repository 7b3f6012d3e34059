"""One item's history (docs/snapshots.md, "Item history"): the site's complete snapshots, newest
first, in which the item holds a version other than the one after it (the next newer snapshot's,
or the live data's for the newest), each with its field differences against the live item.

Read on demand, never stored: the live item is one Data Items read from Wix, and each snapshot's
entry for the item is found in its manifest's segments of that one collection
(`snapshots.item_entry`); two snapshots naming the same segments share one lookup, and versions
are told apart by their entries' hashes before any item is read out of its pack.
"""

from dataclasses import dataclass
from typing import Any

from wixapi import WixError, WixNotFound

from .. import rules
from ..models import Site, Snapshot
from ..snapshots import (
    Entry,
    FieldDifference,
    PackReader,
    StorageError,
    canonical_json,
    field_differences,
    item_entry,
    read_item,
    read_manifest,
)
from ..snapshots.objects import digest_of
from ..wix_clients import BaseUrlNotAllowed, data_client_for
from .snapshot_store import site_store
from .words import owner_message


@dataclass(frozen=True)
class ItemVersion:
    snapshot: Snapshot
    # The item as the snapshot holds it; None when the snapshot does not hold it (restoring that
    # version removes the item).
    data: dict[str, Any] | None
    fields: list[FieldDifference]


@dataclass(frozen=True)
class ItemHistory:
    live: dict[str, Any] | None  # None: the site holds no such item now
    versions: list[ItemVersion]
    number: int
    more: bool  # older snapshots remain (the next page)
    problem: str = ""  # why the history cannot be shown (Wix or the storage failed)


def item_history(site: Site, collection_id: str, item_id: str, number: int = 1) -> ItemHistory:
    """Page `number` (from 1) of the item's history; `problem` says why it cannot be read."""
    size = rules.HISTORY_PAGE_SIZE
    start = (max(number, 1) - 1) * size
    # The snapshot just newer than the page (the first one's reference) and one past it (more?).
    window = list(
        Snapshot.objects.filter(site=site, state=Snapshot.State.COMPLETE)
        .exclude(storage_id="")
        .order_by("-started_at", "-pk")[max(start - 1, 0) : start + size + 1]
    )
    try:
        live = _live(site, collection_id, item_id)
    except (WixError, BaseUrlNotAllowed) as error:
        return ItemHistory(
            None, [], number, False, f"The live item cannot be read: {_words(error)}"
        )
    store = site_store(site.pk)
    looked_up: dict[tuple[str, ...], Entry | None] = {}
    try:
        entries = [_entry(store, s, collection_id, item_id, looked_up) for s in window]
        reference: str | bool | None = digest_of(canonical_json(live)) if live is not None else None
        if start > 0 and window:
            reference = _digest(entries.pop(0))
            window.pop(0)
        more = len(window) > size
        reader = PackReader(store.backend)
        versions = []
        for snapshot, entry in zip(window[:size], entries[:size], strict=False):
            if entry is not False and _digest(entry) != reference:
                data = read_item(store, entry, reader) if entry else None
                versions.append(ItemVersion(snapshot, data, field_differences(data, live)))
            reference = _digest(entry) if entry is not False else reference
    except StorageError as error:
        return ItemHistory(live, [], number, False, f"A snapshot cannot be read: {error.message}")
    return ItemHistory(live, versions, number, more)


def _live(site: Site, collection_id: str, item_id: str) -> dict[str, Any] | None:
    with data_client_for(site) as client:
        try:
            return client.get_item(collection_id, item_id, consistent_read=True).data
        except WixNotFound:
            return None  # deleted since, or its collection is


def _entry(
    store: Any,
    snapshot: Snapshot,
    collection_id: str,
    item_id: str,
    looked_up: dict[tuple[str, ...], Entry | None],
) -> Entry | bool | None:
    """The snapshot's entry of the item, None when it does not hold the item, False when it does
    not hold the collection (a version that cannot be restored: the snapshot is skipped)."""
    manifest = read_manifest(store, snapshot.storage_id)
    record = next((c for c in manifest.collections if c.id == collection_id), None)
    if record is None:
        return False
    key = tuple(str(s.get("hash")) for s in record.segments)
    if key not in looked_up:
        looked_up[key] = item_entry(store, record, item_id)
    return looked_up[key]


def _digest(entry: Entry | bool | None) -> str | bool | None:
    return entry.digest if isinstance(entry, Entry) else entry


def _words(error: Exception) -> str:
    if isinstance(error, BaseUrlNotAllowed):
        return "the site's Wix address is not allowed here."
    return owner_message(error)
