"""Which snapshots a store holds: complete ones (a manifest) and interrupted or running ones
(a checkpoint under `pending/`), and removing one."""

from __future__ import annotations

from .manifest import check_snapshot_id, manifest_key
from .objects import ObjectStore
from .pending import discard_pending

_SUFFIX = ".manifest"


def list_snapshots(store: ObjectStore) -> list[str]:
    """The ids of complete snapshots: those whose manifest was written. An interrupted one has
    none, so it is never listed here, whatever it holds."""
    ids = []
    for obj in store.backend.list("snapshots/"):
        name = obj.key.removeprefix("snapshots/")
        if name.endswith(_SUFFIX) and "/" not in name:
            ids.append(name.removesuffix(_SUFFIX))
    return sorted(ids)


def list_pending(store: ObjectStore) -> list[str]:
    """The ids of snapshots begun and not committed (running, or interrupted and resumable)."""
    ids = set()
    for obj in store.backend.list("pending/"):
        sid, _, rest = obj.key.removeprefix("pending/").partition("/")
        if rest == "checkpoint.json":
            ids.add(sid)
    return sorted(ids)


def delete_snapshot(store: ObjectStore, snapshot_id: str) -> None:
    """Remove a snapshot's manifest (and any progress of it): from then on it is gone, and its
    objects are the garbage collector's to remove once no kept snapshot names them."""
    store.backend.delete(manifest_key(check_snapshot_id(snapshot_id)))
    discard_pending(store, snapshot_id)
