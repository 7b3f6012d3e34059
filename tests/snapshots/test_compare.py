"""Comparing two snapshots of an emulated site (what a restore would change), on both backends:
items edited, deleted and added since, a collection deleted or created since, schema drift, the
field differences of one item, and flat memory on a large collection."""

from __future__ import annotations

import tracemalloc

import pytest

from sites.snapshots import (
    REMOVE,
    RESTORE,
    REVERT,
    CollectionCounts,
    FieldDifference,
    collection_ids,
    compare_collection,
    count_changes,
    field_differences,
    read_item,
    schema_drift,
    take_snapshot,
)
from sites.snapshots.manifest import collection_entries
from wixemulator.models import EmuCollection, EmuItem

from .test_take import DEMO


def _edit(client):
    """Change 3 products, delete 2, add 1; delete Events; leave the rest alone."""
    products = list(client.iter_items("Products"))
    changed = [{**i.data, "stock": i.data["stock"] + 7} for i in products[:3]]
    assert client.bulk_update("Products", changed).total_failures == 0
    assert client.bulk_remove("Products", [i.id for i in products[3:5]]).total_failures == 0
    added = {**products[5].data, "_id": "product-new", "name": "New"}
    added.pop("_createdDate", None)
    added.pop("_updatedDate", None)
    assert client.bulk_insert("Products", [added]).total_failures == 0
    return products


def test_changes_since_a_snapshot_are_listed_by_kind(emu_store, data_client, store):
    client = data_client(emu_store)
    source = take_snapshot(client, store, "s1")
    products = _edit(client)
    # The live reading: a snapshot with the newest as its parent, so it stores only changes.
    current = take_snapshot(client, store, "live", parent="s1")
    changes = list(compare_collection(store, source, current, "Products"))
    by_kind = {
        kind: sorted(c.item_id for c in changes if c.kind == kind)
        for kind in (RESTORE, REVERT, REMOVE)
    }
    assert by_kind == {
        REVERT: sorted(i.id for i in products[:3]),
        RESTORE: sorted(i.id for i in products[3:5]),
        REMOVE: ["product-new"],
    }
    for change in changes:
        assert change.collection == "Products"
        assert (change.source is None) == (change.kind == REMOVE)
        assert (change.current is None) == (change.kind == RESTORE)
    assert count_changes(store, source, current, "Products") == CollectionCounts(
        "Products", restore=2, revert=3, remove=1, same=300 - 5
    )
    # Untouched collections: nothing to list, everything the same.
    assert list(compare_collection(store, source, current, "Customers")) == []
    assert count_changes(store, source, current, "Customers") == CollectionCounts(
        "Customers", 0, 0, 0, DEMO["Customers"]
    )
    # A reverted item's fields: the old value and the current one, system fields last.
    revert = next(c for c in changes if c.kind == REVERT)
    old, new = read_item(store, revert.source), read_item(store, revert.current)
    differences = field_differences(old, new)
    assert differences[0] == FieldDifference("stock", old["stock"], old["stock"] + 7)
    assert all(d.field.startswith("_") for d in differences[1:])
    # A deleted item read back whole, as the restore will write it.
    restored = next(c for c in changes if c.kind == RESTORE)
    assert read_item(store, restored.source) == products[3].data


def test_a_collection_deleted_or_created_since_is_all_restore_or_remove(
    emu_store, data_client, store
):
    client = data_client(emu_store)
    source = take_snapshot(client, store, "s1")
    EmuCollection.objects.filter(site__site_id=emu_store.site_id, collection_id="Events").delete()
    events = EmuCollection.objects.get(site__site_id=emu_store.site_id, collection_id="BlogPosts")
    events.pk, events.collection_id = None, "Drafts"
    events.save()  # a collection created since (with no items)
    current = take_snapshot(client, store, "live", parent="s1")
    assert collection_ids(source, current) == [*DEMO, "Drafts"]
    changes = list(compare_collection(store, source, current, "Events"))
    assert len(changes) == DEMO["Events"] and {c.kind for c in changes} == {RESTORE}
    assert count_changes(store, source, current, "Events") == CollectionCounts(
        "Events", DEMO["Events"], 0, 0, 0
    )
    drift = schema_drift(store, source, current, "Events")
    assert drift.deleted_since and not drift.created_since
    assert schema_drift(store, source, current, "Drafts").created_since
    # The other way round (a restore to the older reading): all REMOVE.
    back = list(compare_collection(store, current, source, "Events"))
    assert {c.kind for c in back} == {REMOVE} and len(back) == DEMO["Events"]
    assert count_changes(store, current, source, "Events").remove == DEMO["Events"]
    assert list(compare_collection(store, source, current, "Nowhere")) == []


def test_schema_drift_names_fields_added_removed_and_retyped(emu_store, data_client, store):
    client = data_client(emu_store)
    source = take_snapshot(client, store, "s1")
    customers = EmuCollection.objects.get(
        site__site_id=emu_store.site_id, collection_id="Customers"
    )
    before = {f["key"]: f["type"] for f in customers.fields}
    gone = next(k for k in before if k != "email")
    fields = [
        {**f, "type": "NUMBER"} if f["key"] == "email" else f
        for f in customers.fields
        if f["key"] != gone
    ]
    fields.append({"key": "loyalty", "displayName": "Loyalty", "type": "NUMBER"})
    customers.fields = fields
    customers.save()
    current = take_snapshot(client, store, "live", parent="s1")
    drift = schema_drift(store, source, current, "Customers")
    assert drift.drifted and not drift.deleted_since
    assert drift.added == ("loyalty",) and drift.removed == (gone,)
    assert drift.retyped == (("email", before["email"], "NUMBER"),)
    assert not schema_drift(store, source, current, "Products").drifted


def test_field_differences_compare_exact_json_and_say_which_side_lacks_a_field():
    old = {"_id": "a", "_updatedDate": "1", "price": 1, "flag": True, "tags": ["x"], "gone": 0}
    new = {"_id": "a", "_updatedDate": "2", "price": 1.0, "flag": 1, "tags": ["x"], "new": None}
    assert field_differences(old, new) == [
        FieldDifference("flag", True, 1),
        FieldDifference("gone", 0, None, current_present=False),
        FieldDifference("new", None, None, old_present=False),
        FieldDifference("price", 1, 1.0),
        FieldDifference("_updatedDate", "1", "2"),
    ]
    assert field_differences(old, old) == []
    # An item on one side only: every field, from nothing or to nothing.
    only = field_differences(None, {"b": 2, "_id": "x"})
    assert [(d.field, d.old_present, d.current) for d in only] == [
        ("b", False, 2),
        ("_id", False, "x"),
    ]
    assert [d.field for d in field_differences({"b": 2}, None)] == ["b"]


@pytest.mark.parametrize("backend_kind", ["local"], indirect=True)
def test_comparing_a_large_collection_keeps_memory_flat(emu_store, data_client, store):
    """20,000 entries compared: Python's allocations stay far under what holding them costs
    (some 4 MB for the entries alone), since the source's entries wait in SQLite on disk."""
    collection = EmuCollection.objects.get(site__site_id=emu_store.site_id, collection_id="Events")
    EmuItem.objects.bulk_create(
        EmuItem(collection=collection, item_id=f"e-{n:05}", data={"_id": f"e-{n:05}", "n": n})
        for n in range(20_000)
    )
    client = data_client(emu_store)
    source = take_snapshot(client, store, "s1")
    EmuItem.objects.filter(
        collection=collection, item_id__startswith="e-", item_id__endswith="7"
    ).delete()
    current = take_snapshot(client, store, "live", parent="s1")
    record = next(c for c in current.collections if c.id == "Events")
    assert sum(1 for _ in collection_entries(store, "live", record)) == record.items
    tracemalloc.start()
    try:
        count = 0
        for change in compare_collection(store, source, current, "Events"):
            assert change.kind == RESTORE
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 2000
    assert peak < 3 << 20, peak
