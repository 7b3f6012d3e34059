"""Verifying a snapshot: every object its manifest names is read again and its hash checked,
as `restic check --read-data` does. The report lists each damaged or missing item by name, so
the page can say which items a restore could not bring back; a collection whose segments do not
read is listed as a whole (item id None), since which items it held is what was lost."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CorruptObject, ObjectNotFound, StorageError
from .manifest import collection_entries, read_manifest
from .objects import ObjectStore
from .packs import PackReader


@dataclass(frozen=True, slots=True)
class Problem:
    collection: str
    # None for a collection's schema.
    item_id: str | None
    digest: str
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    snapshot_id: str
    items: int
    schemas: int
    # Objects read and found intact.
    intact: int
    damaged: tuple[Problem, ...]
    missing: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.missing


def verify_snapshot(store: ObjectStore, snapshot_id: str) -> VerifyReport:
    """Read every object of a complete snapshot back and check it. A manifest that cannot be
    read raises ManifestError (the snapshot as a whole is unusable); an object that is damaged
    or gone is listed, and the check goes on."""
    manifest = read_manifest(store, snapshot_id)
    damaged: list[Problem] = []
    missing: list[Problem] = []
    intact = items = 0

    reader = PackReader(store.backend)

    def listed(collection: str, item_id: str | None, digest: str, error: StorageError) -> None:
        problems = missing if isinstance(error, ObjectNotFound) else damaged
        problems.append(Problem(collection, item_id, digest, error.message))

    for record in manifest.collections:
        try:
            store.get_canonical(record.schema)
            intact += 1
        except (CorruptObject, ObjectNotFound) as error:
            listed(record.id, None, record.schema, error)
    for record in manifest.collections:
        entries = collection_entries(store, snapshot_id, record)
        try:
            for entry in entries:
                items += 1
                try:
                    reader.item(entry)
                except (CorruptObject, ObjectNotFound) as error:
                    listed(record.id, entry.item_id, entry.digest, error)
                else:
                    intact += 1
        except StorageError as error:
            # The list of the collection's items itself is damaged or gone.
            listed(record.id, None, "", error)
    return VerifyReport(
        snapshot_id, items, len(manifest.collections), intact, tuple(damaged), tuple(missing)
    )
