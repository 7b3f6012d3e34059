"""Verifying a snapshot: every object its manifest names is read again and its hash checked,
as `restic check --read-data` does. The report lists each damaged or missing item by name, so
the page can say which items a restore could not bring back."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CorruptObject, ObjectNotFound
from .manifest import manifest_entries, read_manifest
from .objects import ObjectStore


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

    def check(collection: str, item_id: str | None, digest: str) -> None:
        nonlocal intact
        try:
            store.get_canonical(digest)
        except CorruptObject as error:
            damaged.append(Problem(collection, item_id, digest, error.message))
        except ObjectNotFound as error:
            missing.append(Problem(collection, item_id, digest, error.message))
        else:
            intact += 1

    for record in manifest.collections:
        check(record.id, None, record.schema)
    for entry in manifest_entries(store, manifest):
        items += 1
        check(entry.collection, entry.item_id, entry.digest)
    return VerifyReport(
        snapshot_id, items, len(manifest.collections), intact, tuple(damaged), tuple(missing)
    )
