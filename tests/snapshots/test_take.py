"""Taking snapshots of an emulated site over HTTP, on both backends: what they hold, dedup,
interruptions and resumes, a collection deleted mid-read, Wix failing mid-page."""

from __future__ import annotations

from collections import Counter

import pytest

from sites.snapshots import (
    COMPLETE,
    MISSING,
    ObjectNotFound,
    list_pending,
    list_snapshots,
    manifest_entries,
    read_manifest,
    take_snapshot,
)
from wixapi import WixServerError
from wixemulator import services as emu
from wixemulator.models import EmuCollection, EmuItem, EmuRequestLog

from .conftest import stored_item

DEMO = {"BlogPosts": 24, "Customers": 60, "Events": 12, "Products": 300, "Stores/Products": 40}


class Interrupt(Exception):
    """What a worker killed part way looks like to the snapshot: it stops, wherever it was."""


def _queries(site_id: str) -> int:
    return EmuRequestLog.objects.filter(
        site__site_id=site_id, path__endswith="/wix-data/v2/items/query", status=200
    ).count()


def _wix_items(client, collection_id):
    return {item.id: item.data for item in client.iter_items(collection_id)}


def test_a_snapshot_holds_every_collection_item_and_schema(emu_store, data_client, store):
    client = data_client(emu_store)
    seen = []
    manifest = take_snapshot(client, store, "s1", progress=seen.append)
    assert {c.id: c.items for c in manifest.collections} == DEMO
    assert {c.id: c.total for c in manifest.collections} == DEMO
    assert all(c.status == COMPLETE for c in manifest.collections)
    assert manifest.items == sum(DEMO.values())
    assert list_snapshots(store) == ["s1"] and list_pending(store) == []
    entries = list(manifest_entries(store, manifest))
    assert Counter(e.collection for e in entries) == DEMO
    assert not any(e.notes for e in entries)
    # Each item is stored exactly as Wix returned it.
    products = _wix_items(client, "Products")
    for entry in entries:
        if entry.collection == "Products":
            assert stored_item(store, entry) == products[entry.item_id]
    schema = store.get_json(next(c.schema for c in manifest.collections if c.id == "Customers"))
    assert schema["id"] == "Customers" and "email" in {f["key"] for f in schema["fields"]}
    # The schema as Wix sent it, extras included (a restore needs what a reference points to).
    posts = store.get_json(next(c.schema for c in manifest.collections if c.id == "BlogPosts"))
    author = next(f for f in posts["fields"] if f["key"] == "author")
    assert author["referencedCollectionId"] == "Customers"
    # Progress after every page, with Wix's count.
    assert seen[-1].collections_total == 5
    last = {p.collection_id: (p.items_done, p.total) for p in seen}
    assert last["Products"] == (300, 300)
    # A manifest read back equals the one returned.
    assert read_manifest(store, "s1") == manifest


def test_wix_calls_are_one_per_page_and_none_repeated(emu_store, data_client, store):
    take_snapshot(data_client(emu_store), store, "s1", page_size=100)
    # ⌈300/100⌉ + one page each for the others (Stores/Products caps pages at 100 anyway).
    assert _queries(emu_store.site_id) == 3 + 1 + 1 + 1 + 1


def test_a_second_snapshot_of_unchanged_data_stores_nothing_new(emu_store, data_client, store):
    client = data_client(emu_store)
    first = take_snapshot(client, store, "s1")
    second = take_snapshot(client, store, "s2", parent="s1")
    # Items, schemas, and one segment (list of entries) per collection.
    assert first.new_objects == sum(DEMO.values()) + len(DEMO) + len(DEMO)
    assert second.new_objects == 0 and second.new_bytes == 0
    assert second.items == first.items and second.parent == "s1"
    # It names the first's segments: its manifest is all it stored.
    assert [c.segments for c in second.collections] == [c.segments for c in first.collections]
    assert list(manifest_entries(store, second)) == list(manifest_entries(store, first))


def test_one_percent_changed_stores_one_percent_new(emu_store, data_client, store):
    client = data_client(emu_store)
    first = take_snapshot(client, store, "s1")
    changed = []
    for item in list(client.iter_items("Products"))[:4]:  # 4 of 436: about 1 %
        changed.append({**item.data, "stock": item.data["stock"] + 1})
    assert client.bulk_update("Products", changed).total_failures == 0
    second = take_snapshot(client, store, "s2", parent="s1")
    assert second.new_objects == 4 + 1  # the items, and the delta of Products' entries
    assert second.new_bytes < first.new_bytes * 0.03
    # Read back as one list, the snapshot is what Wix holds now, the changed items included.
    stored = {e.item_id: stored_item(store, e) for e in manifest_entries(store, second)}
    live = {i.id: i.data for name in DEMO for i in client.iter_items(name, page_size=100)}
    assert stored == live and [stored[c["_id"]]["stock"] for c in changed] == [
        c["stock"] for c in changed
    ]


def test_an_interrupted_snapshot_is_not_complete_and_resumes_from_its_last_page(
    emu_store, data_client, store
):
    client = data_client(emu_store)
    pages = []

    def crash_after_two_pages(progress):
        pages.append(progress)
        if len(pages) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        take_snapshot(client, store, "s1", page_size=100, progress=crash_after_two_pages)
    assert list_snapshots(store) == [] and list_pending(store) == ["s1"]
    with pytest.raises(ObjectNotFound):
        read_manifest(store, "s1")
    asked = _queries(emu_store.site_id)
    manifest = take_snapshot(client, store, "s1", page_size=100)
    assert list_snapshots(store) == ["s1"] and list_pending(store) == []
    assert {c.id: c.items for c in manifest.collections} == DEMO
    entries = list(manifest_entries(store, manifest))
    assert len({(e.collection, e.item_id) for e in entries}) == len(entries) == sum(DEMO.values())
    # The resume read only the pages not read yet: no page twice.
    assert asked == 2 and _queries(emu_store.site_id) == 7
    # Taking a complete snapshot again reads nothing and returns it.
    assert take_snapshot(client, store, "s1") == manifest
    assert _queries(emu_store.site_id) == 7


def test_a_resume_whose_cursor_expired_reads_that_collection_again(emu_store, data_client, store):
    client = data_client(emu_store)

    def crash_in_products(progress):
        if progress.collection_id == "Products" and progress.items_done == 200:
            raise Interrupt

    with pytest.raises(Interrupt):
        take_snapshot(client, store, "s1", page_size=100, progress=crash_in_products)
    emu.advance_clock(emu_store.site_id, seconds=31 * 60)  # Wix's cursor is gone by now
    manifest = take_snapshot(client, store, "s1", page_size=100)
    assert {c.id: c.items for c in manifest.collections} == DEMO
    entries = [e for e in manifest_entries(store, manifest) if e.collection == "Products"]
    assert len({e.item_id for e in entries}) == len(entries) == 300


def test_a_collection_read_anew_still_finds_what_was_removed_since_the_parent(
    emu_store, data_client, store
):
    client = data_client(emu_store)
    take_snapshot(client, store, "s0", page_size=100)

    def crash_in_products(progress):
        if progress.collection_id == "Products" and progress.items_done == 200:
            raise Interrupt

    with pytest.raises(Interrupt):
        take_snapshot(client, store, "s1", page_size=100, parent="s0", progress=crash_in_products)
    # An item of a page read before the interruption goes; the read must start over.
    EmuItem.objects.filter(
        collection__site__site_id=emu_store.site_id,
        collection__collection_id="Products",
        item_id="product-0001",
    ).delete()
    emu.advance_clock(emu_store.site_id, seconds=31 * 60)
    manifest = take_snapshot(client, store, "s1", page_size=100)
    products = {e.item_id for e in manifest_entries(store, manifest) if e.collection == "Products"}
    assert "product-0001" not in products and len(products) == 299
    assert manifest.parent == "s0"


def test_a_collection_deleted_mid_snapshot_is_recorded_missing(emu_store, data_client, store):
    client = data_client(emu_store)

    def delete_products(progress):
        if progress.collection_id == "Products" and progress.items_done == 100:
            EmuCollection.objects.filter(
                site__site_id=emu_store.site_id, collection_id="Products"
            ).delete()

    manifest = take_snapshot(client, store, "s1", page_size=100, progress=delete_products)
    assert list_snapshots(store) == ["s1"]
    (missing,) = manifest.missing
    assert missing.id == "Products" and missing.status == MISSING
    # The page after the first may have been read ahead before the collection went.
    assert missing.items in (100, 200) and "WDE0025" in missing.reason
    others = {c.id: c.items for c in manifest.collections if c.id != "Products"}
    assert others == {k: v for k, v in DEMO.items() if k != "Products"}
    assert read_manifest(store, "s1").missing == manifest.missing


def test_wix_failing_mid_snapshot_raises_its_error_and_the_resume_completes(
    emu_store, data_client, store
):
    client = data_client(emu_store)

    def break_wix(progress):
        if progress.items_done == 100:
            emu.set_faults(emu_store.site_id, error_rate=1.0)

    with pytest.raises(WixServerError):
        take_snapshot(client, store, "s1", page_size=100, progress=break_wix)
    assert list_snapshots(store) == []
    emu.set_faults(emu_store.site_id)
    manifest = take_snapshot(client, store, "s1", page_size=100)
    assert {c.id: c.items for c in manifest.collections} == DEMO


def test_odd_items_are_kept_as_wix_returned_them_with_a_note(emu_store, data_client, store):
    # Items Wix holds but its API would refuse today (written before a limit or a schema
    # change): put straight into the emulator's table.
    events = EmuCollection.objects.get(site__site_id=emu_store.site_id, collection_id="Events")
    EmuItem.objects.create(collection=events, item_id="odd", data={"capacity": "lots"})
    EmuItem.objects.create(collection=events, item_id="big", data={"title": "x" * 600_000})
    client = data_client(emu_store)
    manifest = take_snapshot(client, store, "s1")
    entries = {e.item_id: e for e in manifest_entries(store, manifest)}
    assert entries["odd"].notes == ("capacity is str, not NUMBER",)
    assert "over 500 KB" in entries["big"].notes[0]
    assert stored_item(store, entries["big"]) == client.get_item("Events", "big").data
    assert stored_item(store, entries["odd"])["capacity"] == "lots"
    assert next(c for c in manifest.collections if c.id == "Events").notes == 2
