"""The manifest streams (100,000 entries in constant memory) and refuses to read short; the
garbage collector removes only what no kept or pending snapshot needs, never a fresh object."""

from __future__ import annotations

import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sites.snapshots import (
    CollectionRecord,
    Entry,
    LocalBackend,
    ManifestError,
    ObjectStore,
    collect_garbage,
    delete_snapshot,
    list_snapshots,
    manifest_entries,
    read_manifest,
    verify_snapshot,
)
from sites.snapshots.manifest import ManifestWriter, manifest_key
from sites.snapshots.objects import canonical_json, digest_of

SCHEMA = {"id": "Items", "fields": [{"key": "_id", "type": "TEXT"}]}


def write_snapshot(store: ObjectStore, snapshot_id: str, items: list[dict]) -> ManifestWriter:
    """A one-collection snapshot of `items`, through the same writer a real snapshot uses;
    returned uncommitted when the caller wants it pending."""
    schema = store.put_json(SCHEMA).digest
    writer = ManifestWriter.start(
        store, snapshot_id, [CollectionRecord("Items", schema, 1000)], datetime.now(UTC)
    )
    entries = []
    for data in items:
        put = store.put_json(data)
        entries.append(Entry("Items", data["_id"], put.digest, put.size))
    writer.add_page("Items", entries, cursor=None, total=len(items))
    return writer


def digest(data: dict) -> str:
    """An item's hash, computed without writing it."""
    return digest_of(canonical_json(data))


A, B, C, D = ({"_id": name, "v": 1} for name in "abcd")


def test_a_hundred_thousand_entries_stream_in_constant_memory(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    schema = store.put_json(SCHEMA).digest
    records = [CollectionRecord(f"C{n}", schema, 1000) for n in range(5)]
    writer = ManifestWriter.start(store, "big", records, datetime.now(UTC))
    fake = "ab" * 32  # the manifest names hashes; the objects need not exist for this test
    for record in records:
        for page in range(20):
            entries = [Entry(record.id, f"{page}-{n}", fake, 100) for n in range(1000)]
            writer.add_page(record.id, entries, cursor=None if page == 19 else "c", total=20_000)
    tracemalloc.start()
    manifest = writer.commit(datetime.now(UTC))
    counted = sum(1 for _ in manifest_entries(store, manifest))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert counted == manifest.items == 100_000
    # One part (1000 entries) at a time, never the manifest: a few MB at most.
    assert peak < 8 << 20, peak
    assert read_manifest(store, "big").items == 100_000


def test_a_manifest_cut_short_or_damaged_never_reads_as_whole(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    write_snapshot(store, "s1", [A, B, C]).commit(datetime.now(UTC))
    path = tmp_path / manifest_key("s1")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 20])
    manifest = read_manifest(store, "s1")
    with pytest.raises(ManifestError, match="s1"):
        list(manifest_entries(store, manifest))
    path.write_bytes(b"\x00" + whole[1:])
    with pytest.raises(ManifestError, match="damaged"):
        read_manifest(store, "s1")


def test_gc_removes_what_only_pruned_snapshots_named(store):
    write_snapshot(store, "s1", [A, B, C]).commit(datetime.now(UTC))
    write_snapshot(store, "s2", [B, C, D]).commit(datetime.now(UTC))
    delete_snapshot(store, "s1")
    later = datetime.now(UTC) + timedelta(days=1)
    dry = collect_garbage(store, ["s2"], cutoff=later, dry_run=True)
    assert (dry.deleted, dry.dry_run, dry.needed) == (1, True, 4)  # A; B, C, D and the schema
    assert store.has(digest(A))
    report = collect_garbage(store, ["s2"], cutoff=later)
    assert report.deleted == 1 and report.deleted_bytes > 0
    assert not store.has(digest(A)) and store.has(digest(B))
    assert list_snapshots(store) == ["s2"] and verify_snapshot(store, "s2").ok


def test_gc_never_removes_an_object_written_after_the_cutoff(store):
    before = datetime.now(UTC) - timedelta(hours=1)
    write_snapshot(store, "s1", [A]).commit(datetime.now(UTC))
    delete_snapshot(store, "s1")
    report = collect_garbage(store, [], cutoff=before)
    assert (report.deleted, report.recent) == (0, 2)  # A and the schema: too fresh to judge
    assert store.has(digest(A))


def test_gc_keeps_what_a_pending_snapshot_names(store):
    write_snapshot(store, "s1", [A, B]).commit(datetime.now(UTC))
    write_snapshot(store, "running", [A])  # checkpointed, not committed
    delete_snapshot(store, "s1")
    report = collect_garbage(store, [], cutoff=datetime.now(UTC) + timedelta(days=1))
    assert report.deleted == 1  # B; A is the running snapshot's
    assert store.has(digest(A))


def test_gc_refuses_while_a_snapshot_not_kept_is_still_listed(store):
    write_snapshot(store, "s1", [A]).commit(datetime.now(UTC))
    with pytest.raises(ValueError, match="s1"):
        collect_garbage(store, [], cutoff=datetime.now(UTC) + timedelta(days=1))
    # Written after the cutoff: committed just now, its row perhaps not recorded yet: kept.
    report = collect_garbage(store, [], cutoff=datetime.now(UTC) - timedelta(hours=1))
    assert report.deleted == 0


def test_gc_with_old_and_fresh_objects_side_by_side(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    write_snapshot(store, "s1", [A, B]).commit(datetime.now(UTC))
    delete_snapshot(store, "s1")
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    for obj in store.backend.list("objects/"):
        os.utime(tmp_path / obj.key, (two_days_ago, two_days_ago))
    fresh = store.put_json({"_id": "fresh", "v": 1})  # a running snapshot's, in no part yet
    report = collect_garbage(store, [], cutoff=datetime.now(UTC) - timedelta(days=1))
    assert (report.deleted, report.recent) == (3, 1)  # A, B and the schema; the fresh one
    assert store.has(fresh.digest) and not store.has(digest(A))
