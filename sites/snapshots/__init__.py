"""Snapshots: every collection's items kept off Wix, in storage the owner controls
(docs/snapshots.md). A library of plain functions over a client and a store, with no models:
the engine runs them as operations, the pages show what they return.

    store = store_from_settings()                       # or ObjectStore(LocalBackend(path))
    manifest = take_snapshot(client, store, "42", progress=print)   # again: resumes
    report = verify_snapshot(store, "42")
    response = StreamingHttpResponse(export_zip(store, "42"))
    plan = plan_retention(refs, RetentionRules(keep_last=5))
    for sid in plan.pruned:
        delete_snapshot(store, sid)
    collect_garbage(store, plan.kept, cutoff=now - timedelta(hours=6))
"""

from .backends import Backend, LocalBackend, StoredObject
from .catalog import delete_snapshot, list_pending, list_snapshots
from .compare import (
    REMOVE,
    RESTORE,
    REVERT,
    Change,
    CollectionCounts,
    FieldDifference,
    SchemaDrift,
    collection_ids,
    compare_collection,
    count_changes,
    field_differences,
    read_item,
    schema_drift,
)
from .config import backend_for, store_from_settings
from .errors import CorruptObject, ManifestError, ObjectNotFound, StorageError
from .export import export_csv, export_zip
from .garbage import GarbageReport, collect_garbage
from .item_lookup import item_entry
from .manifest import (
    COMPLETE,
    MISSING,
    CollectionRecord,
    Entry,
    Manifest,
    collection_entries,
    manifest_entries,
    read_manifest,
)
from .objects import ObjectStore, canonical_json
from .packs import PackReader
from .retention import DEFAULT_RULES, RetentionPlan, RetentionRules, SnapshotRef, plan_retention
from .take import Progress, take_snapshot
from .verify import Problem, VerifyReport, verify_snapshot

__all__ = [
    "COMPLETE",
    "DEFAULT_RULES",
    "MISSING",
    "REMOVE",
    "RESTORE",
    "REVERT",
    "Backend",
    "Change",
    "CollectionCounts",
    "CollectionRecord",
    "CorruptObject",
    "Entry",
    "FieldDifference",
    "GarbageReport",
    "LocalBackend",
    "Manifest",
    "ManifestError",
    "ObjectNotFound",
    "ObjectStore",
    "PackReader",
    "Problem",
    "Progress",
    "RetentionPlan",
    "RetentionRules",
    "SchemaDrift",
    "SnapshotRef",
    "StorageError",
    "StoredObject",
    "VerifyReport",
    "backend_for",
    "canonical_json",
    "collect_garbage",
    "collection_entries",
    "collection_ids",
    "compare_collection",
    "count_changes",
    "delete_snapshot",
    "export_csv",
    "export_zip",
    "field_differences",
    "item_entry",
    "list_pending",
    "list_snapshots",
    "manifest_entries",
    "plan_retention",
    "read_item",
    "read_manifest",
    "schema_drift",
    "store_from_settings",
    "take_snapshot",
    "verify_snapshot",
]


def __getattr__(name: str) -> object:
    # S3Backend is imported when first asked for (boto3 is heavy; config.backend_for).
    if name == "S3Backend":
        from .s3 import S3Backend

        return S3Backend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
