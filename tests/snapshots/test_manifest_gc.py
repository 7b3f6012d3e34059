"""The manifest and its segments: 100,000 entries stream in constant memory, a delta over the
parent is read as one list, nothing damaged reads as whole; the garbage collector removes only
what no kept or pending snapshot needs, never a fresh pack."""

from __future__ import annotations

import json
import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sites.snapshots import (
    CollectionRecord,
    CorruptObject,
    Entry,
    LocalBackend,
    ManifestError,
    ObjectStore,
    PackReader,
    collect_garbage,
    delete_snapshot,
    list_snapshots,
    manifest_entries,
    read_manifest,
    verify_snapshot,
)
from sites.snapshots.manifest import manifest_key
from sites.snapshots.objects import canonical_json, digest_of, object_key
from sites.snapshots.packs import PackWriter
from sites.snapshots.pending import ManifestWriter
from tests.snapshots.conftest import damage

SCHEMA = {"id": "Items", "fields": [{"key": "_id", "type": "TEXT"}]}
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def write_snapshot(
    store: ObjectStore, snapshot_id: str, items: list[dict], parent: str | None = None
) -> ManifestWriter:
    """A one-collection snapshot of `items` through the writer a real snapshot uses, compared
    with `parent` as take.py compares (unchanged items point into the parent's packs); returned
    uncommitted, for the caller to commit or leave pending."""
    schema = store.put_json(SCHEMA).digest
    writer = ManifestWriter.start(
        store, snapshot_id, [CollectionRecord("Items", schema, 1000)], NOW, parent
    )
    before = (
        {e.item_id: e for e in manifest_entries(store, read_manifest(store, parent))}
        if parent
        else {}
    )
    packer = PackWriter(store.backend)
    made = []
    for data in items:
        raw = canonical_json(data)
        old = before.pop(data["_id"], None)
        if old is not None and old.digest == digest_of(raw):
            made.append((False, old))
        else:
            made.append(
                (True, (data["_id"], digest_of(raw), len(raw), packer.add(store.compress(raw))))
            )
    packer.flush()
    entries = [
        (False, e) if not changed
        else (True, Entry("Items", e[0], e[1], e[2], e[3].pack, e[3].offset, e[3].length))
        for changed, e in made
    ]  # fmt: skip
    writer.add_page("Items", entries, cursor=None, total=len(items), removed=list(before))
    return writer


def commit(store: ObjectStore, writer: ManifestWriter):
    parent = writer.state.parent
    return writer.commit(NOW, read_manifest(store, parent) if parent else None)


def items_of(store: ObjectStore, snapshot_id: str) -> list[dict]:
    reader = PackReader(store.backend)
    manifest = read_manifest(store, snapshot_id)
    return [json.loads(reader.item(e)) for e in manifest_entries(store, manifest)]


def packs(store: ObjectStore) -> set[str]:
    return {obj.key for obj in store.backend.list("packs/")}


A, B, C, D = ({"_id": name, "v": 1} for name in "abcd")
B2 = {"_id": "b", "v": 2}


def test_a_hundred_thousand_entries_stream_in_constant_memory(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    schema = store.put_json(SCHEMA).digest
    records = [CollectionRecord(f"C{n}", schema, 1000) for n in range(5)]
    writer = ManifestWriter.start(store, "big", records, NOW)
    fake = "ab" * 32  # the entries name packs; the packs need not exist for this test
    for record in records:
        for page in range(20):
            entries = [
                (True, Entry(record.id, f"{page}-{n}", fake, 100, fake, n * 40, 40))
                for n in range(1000)
            ]
            writer.add_page(record.id, entries, cursor=None if page == 19 else "c", total=20_000)
    tracemalloc.start()
    manifest = writer.commit(NOW, None)
    counted = sum(1 for _ in manifest_entries(store, manifest))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert counted == manifest.items == 100_000
    # One part (1000 entries) at a time, never a whole segment: a few MB at most.
    assert peak < 8 << 20, peak
    assert read_manifest(store, "big").items == 100_000


def test_a_snapshot_after_changes_stores_a_delta_and_reads_as_the_whole_list(store):
    commit(store, write_snapshot(store, "s1", [A, B, C]))
    second = commit(store, write_snapshot(store, "s2", [A, B2, D], parent="s1"))
    first = read_manifest(store, "s1")
    # The base is shared; the delta holds B changed, D added and C removed.
    assert second.collections[0].segments[0] == first.collections[0].segments[0]
    assert [s["entries"] for s in second.collections[0].segments] == [3, 3]
    assert items_of(store, "s2") == [A, B2, D]
    assert items_of(store, "s1") == [A, B, C]
    # Unchanged since s2: the same segments, and no pack or segment written.
    packs_before = packs(store)
    third = commit(store, write_snapshot(store, "s3", [A, B2, D], parent="s2"))
    assert third.collections[0].segments == second.collections[0].segments
    assert third.new_bytes == 0 and packs(store) == packs_before
    assert items_of(store, "s3") == [A, B2, D] and verify_snapshot(store, "s3").ok


def test_many_changes_make_a_new_base_not_a_long_delta(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    items = [{"_id": f"i{n}", "v": 1} for n in range(800)]
    commit(store, write_snapshot(store, "s1", items))
    # 300 of 800 changed: more than a quarter of the base, so a base of its own.
    changed = [{"_id": f"i{n}", "v": 2 if n < 300 else 1} for n in range(800)]
    manifest = commit(store, write_snapshot(store, "s2", changed, parent="s1"))
    assert [s["entries"] for s in manifest.collections[0].segments] == [800]
    assert items_of(store, "s2") == changed


def test_a_manifest_or_segment_damaged_never_reads_as_whole(store):
    commit(store, write_snapshot(store, "s1", [A, B, C]))
    commit(store, write_snapshot(store, "s2", [A, B2], parent="s1"))
    delta = read_manifest(store, "s2").collections[0].segments[1]["hash"]
    damage(store, object_key(delta), lambda data: data[: len(data) // 2])
    with pytest.raises(CorruptObject, match=object_key(delta)):
        list(manifest_entries(store, read_manifest(store, "s2")))
    damage(store, manifest_key("s1"), lambda data: data[:-5])
    with pytest.raises(ManifestError, match="s1"):
        read_manifest(store, "s1")


def test_a_segment_that_lost_lines_is_caught_by_the_count(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    manifest = commit(store, write_snapshot(store, "s1", [A, B, C]))
    record = manifest.collections[0]
    record.items = 4  # as if the manifest named one more item than the segment holds
    with pytest.raises(ManifestError, match="reads 3 items, not 4"):
        list(manifest_entries(store, manifest))


def test_gc_removes_what_only_pruned_snapshots_named(store):
    commit(store, write_snapshot(store, "s1", [A, B, C]))
    commit(store, write_snapshot(store, "s2", [B, C, D]))  # no parent: packs of its own
    delete_snapshot(store, "s1")
    later = NOW + timedelta(days=3650)
    dry = collect_garbage(store, ["s2"], cutoff=later, dry_run=True)
    # s1's pack and its segment; s2's pack, segment and the schema stay.
    assert (dry.deleted, dry.dry_run, dry.needed) == (2, True, 3)
    report = collect_garbage(store, ["s2"], cutoff=later)
    assert report.deleted == 2 and report.deleted_bytes > 0
    assert len(packs(store)) == 1
    assert list_snapshots(store) == ["s2"] and verify_snapshot(store, "s2").ok


def test_gc_keeps_the_parents_packs_and_segments_a_child_still_uses(store):
    commit(store, write_snapshot(store, "s1", [A, B, C]))
    commit(store, write_snapshot(store, "s2", [A, B2, C], parent="s1"))
    delete_snapshot(store, "s1")
    report = collect_garbage(store, ["s2"], cutoff=NOW + timedelta(days=3650))
    assert report.deleted == 0
    assert items_of(store, "s2") == [A, B2, C] and verify_snapshot(store, "s2").ok


def test_gc_never_removes_what_was_written_after_the_cutoff(store):
    before = datetime.now(UTC) - timedelta(hours=1)
    commit(store, write_snapshot(store, "s1", [A]))
    delete_snapshot(store, "s1")
    report = collect_garbage(store, [], cutoff=before)
    assert (report.deleted, report.recent) == (0, 3)  # pack, segment, schema: too fresh
    assert len(packs(store)) == 1


def test_gc_keeps_what_a_pending_snapshot_points_into(store):
    commit(store, write_snapshot(store, "s1", [A, B]))
    write_snapshot(store, "running", [A, B2], parent="s1")  # checkpointed, not committed
    delete_snapshot(store, "s1")
    report = collect_garbage(store, [], cutoff=NOW + timedelta(days=3650))
    # Only s1's segment goes: its pack holds A, which the running snapshot points into.
    assert report.deleted == 1
    assert len(packs(store)) == 2


def test_gc_refuses_while_a_snapshot_not_kept_is_still_listed(store):
    commit(store, write_snapshot(store, "s1", [A]))
    with pytest.raises(ValueError, match="s1"):
        collect_garbage(store, [], cutoff=datetime.now(UTC) + timedelta(days=1))
    # Written after the cutoff: committed just now, its row perhaps not recorded yet: kept.
    report = collect_garbage(store, [], cutoff=datetime.now(UTC) - timedelta(hours=1))
    assert report.deleted == 0


def test_gc_with_old_and_fresh_packs_side_by_side(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    commit(store, write_snapshot(store, "s1", [A, B]))
    delete_snapshot(store, "s1")
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    for prefix in ("objects/", "packs/"):
        for obj in store.backend.list(prefix):
            os.utime(tmp_path / obj.key, (two_days_ago, two_days_ago))
    fresh = PackWriter(store.backend)  # a running snapshot's pack, in no part yet
    fresh.add(store.compress(canonical_json({"_id": "fresh"})))
    fresh.flush()
    report = collect_garbage(store, [], cutoff=datetime.now(UTC) - timedelta(days=1))
    assert (report.deleted, report.recent) == (3, 1)  # pack, segment, schema; the fresh pack
    assert len(packs(store)) == 1


def test_a_manifest_of_an_older_format_says_to_take_a_new_snapshot(tmp_path: Path):
    store = ObjectStore(LocalBackend(tmp_path))
    old = {"kind": "wbm-snapshot", "format": 1, "snapshot_id": "old"}
    store.backend.put(manifest_key("old"), store.compress(canonical_json(old)))
    with pytest.raises(ManifestError, match="take a new snapshot"):
        read_manifest(store, "old")
