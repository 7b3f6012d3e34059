"""Where a site's snapshots are stored: its own part of the store the settings name, so pruning
and garbage collection of one site never touch another's objects, and a site's data can be
removed as one folder (or prefix)."""

from collections.abc import Iterator
from typing import Any

from ..models import Snapshot
from ..snapshots import ObjectStore, export_csv, export_zip, store_from_settings


def site_store(site_id: Any) -> ObjectStore:
    """The store of one site's snapshots: `<WBM_SNAPSHOT_STORAGE>/sites/<site id>`."""
    return store_from_settings(f"sites/{site_id}")


def snapshot_download(snapshot: Snapshot) -> Iterator[bytes]:
    """The snapshot as a zip (JSONL per collection, schemas), in chunks for a streamed
    response. A snapshot that is not complete, or whose manifest is gone, raises StorageError
    (ObjectNotFound) before the first chunk; a damaged object stops the stream with its error."""
    if not snapshot.is_complete:
        raise ValueError("only a complete snapshot can be downloaded")
    return export_zip(site_store(snapshot.site_id), snapshot.storage_id)


def snapshot_csv(snapshot: Snapshot, collection_id: str) -> Iterator[bytes]:
    """One collection of a complete snapshot as CSV, in chunks (the same errors as above, and
    KeyError for a collection the snapshot does not hold)."""
    if not snapshot.is_complete:
        raise ValueError("only a complete snapshot can be downloaded")
    return export_csv(site_store(snapshot.site_id), snapshot.storage_id, collection_id)
