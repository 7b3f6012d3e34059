"""Verifying a snapshot finds damaged and missing objects by item; the zip and CSV downloads
hold what Wix returned, streamed."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from urllib.parse import quote

import pytest

from sites.snapshots import (
    CorruptObject,
    ObjectNotFound,
    PackReader,
    export_csv,
    export_zip,
    manifest_entries,
    take_snapshot,
    verify_snapshot,
)
from sites.snapshots.export import csv_columns, csv_row
from sites.snapshots.objects import object_key
from sites.snapshots.packs import pack_key
from wixemulator.models import EmuCollection, EmuItem

from .conftest import damage, damage_item, flip_byte


@pytest.fixture
def snapshot(emu_store, data_client, store):
    client = data_client(emu_store)
    return client, take_snapshot(client, store, "s1")


def test_verify_passes_a_sound_snapshot(snapshot, store):
    _, manifest = snapshot
    report = verify_snapshot(store, "s1")
    assert report.ok and report.items == manifest.items == 436
    assert report.intact == 436 + 5 and report.schemas == 5


def test_verify_names_each_damaged_and_missing_item(snapshot, store):
    _, manifest = snapshot
    entries = list(manifest_entries(store, manifest))
    customers = [e for e in entries if e.collection == "Customers"]
    damage_item(store, customers[1])
    # A whole pack gone (a page of Events): each of its items is listed as missing.
    events = [e for e in entries if e.collection == "Events"]
    store.backend.delete(pack_key(events[0].pack))
    gone_ids = [e.item_id for e in entries if e.pack == events[0].pack]
    report = verify_snapshot(store, "s1")
    assert not report.ok
    (bad,) = report.damaged
    assert (bad.collection, bad.item_id) == ("Customers", customers[1].item_id)
    assert pack_key(customers[1].pack) in bad.message
    assert [(p.collection, p.item_id) for p in report.missing] == [
        ("Events", item_id) for item_id in gone_ids
    ]
    assert report.intact == 436 + 5 - 1 - len(gone_ids)


def test_verify_names_a_collection_whose_list_of_items_is_damaged(snapshot, store):
    _, manifest = snapshot
    record = next(c for c in manifest.collections if c.id == "Customers")
    damage(store, object_key(record.segments[0]["hash"]), flip_byte)
    report = verify_snapshot(store, "s1")
    # The collection's list is named as damaged (whatever entry the flipped byte also spoilt).
    (whole,) = [p for p in report.damaged if p.item_id is None]
    assert whole.collection == "Customers" and "damaged" in whole.message
    assert not report.ok


def _zip(store) -> zipfile.ZipFile:
    chunks = list(export_zip(store, "s1"))
    assert all(isinstance(c, bytes) and len(c) <= 1 << 16 for c in chunks)
    return zipfile.ZipFile(io.BytesIO(b"".join(chunks)))


def _stored_items(store, manifest, collection):
    """The stored canonical JSON of a collection's items, in the manifest's order."""
    reader = PackReader(store.backend)
    entries = manifest_entries(store, manifest)
    return [reader.item(e) for e in entries if e.collection == collection]


def test_the_zip_holds_exactly_the_header_schemas_and_one_jsonl_per_collection(snapshot, store):
    client, manifest = snapshot
    archive = _zip(store)
    assert archive.testzip() is None
    ids = [c.id for c in manifest.collections]
    assert archive.namelist() == [
        "snapshot.json",
        "schemas.json",
        *(f"collections/{quote(i, safe='')}.jsonl" for i in ids),
    ]
    assert "collections/Stores%2FProducts.jsonl" in archive.namelist()
    header = json.loads(archive.read("snapshot.json"))
    assert header["snapshot_id"] == "s1" and header["items"] == 436
    assert [(c["id"], c["items"]) for c in header["collections"]] == [
        (c.id, c.items) for c in manifest.collections
    ]
    schemas = json.loads(archive.read("schemas.json"))
    assert schemas == {c.id: store.get_json(c.schema) for c in manifest.collections}
    for record in manifest.collections:
        # Each line is the stored item byte for byte, in the manifest's order.
        stored = _stored_items(store, manifest, record.id)
        jsonl = archive.read(f"collections/{quote(record.id, safe='')}.jsonl")
        assert jsonl == b"".join(item + b"\n" for item in stored)
        assert len(stored) == record.items
        # ... which is what Wix returned.
        wix = {item.id: item.data for item in client.iter_items(record.id, page_size=100)}
        assert [json.loads(line) for line in jsonl.splitlines()] == [
            wix[json.loads(item)["_id"]] for item in stored
        ]
        assert len(wix) == record.items


def _expected_cell(value) -> str:
    """The CSV rules of docs/snapshots.md, written out plainly (the oracle)."""
    if value is None:
        return ""
    if isinstance(value, dict) and list(value) == ["$date"] and isinstance(value["$date"], str):
        value = value["$date"]
    if isinstance(value, str):
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_each_collections_csv_holds_a_header_and_one_row_per_stored_item(snapshot, store):
    _, manifest = snapshot
    for record in manifest.collections:
        schema = store.get_json(record.schema)
        text = b"".join(export_csv(store, "s1", record.id)).decode()
        rows = list(csv.reader(io.StringIO(text)))
        keys = [f["key"] for f in schema["fields"]]
        header = (keys if "_id" in keys else ["_id", *keys]) + ["_other"]
        assert rows[0] == header and header[0] == "_id"
        items = [json.loads(x) for x in _stored_items(store, manifest, record.id)]
        assert len(rows) == 1 + len(items) == 1 + record.items
        for row, item in zip(rows[1:], items, strict=True):
            other = {k: v for k, v in item.items() if k not in header[:-1]}
            assert row == [_expected_cell(item.get(k)) for k in header[:-1]] + [
                _expected_cell(other) if other else ""
            ]
    customers = list(
        csv.DictReader(io.StringIO(b"".join(export_csv(store, "s1", "Customers")).decode()))
    )
    assert customers[0]["lastSeen"].startswith("20") and customers[0]["_other"] == ""


def test_csv_keeps_unknown_fields_and_disarms_formulas():
    schema = {"fields": [{"key": "_id"}, {"key": "name"}, {"key": "price"}, {"key": "ok"}]}
    columns = csv_columns(schema)
    row = csv_row(
        {"_id": "a", "name": "=HYPERLINK(1)", "price": -5, "ok": True, "extra": [1]}, columns
    )
    assert row == ["a", "'=HYPERLINK(1)", "-5", "true", '{"extra":[1]}']
    # A key named like the last column, which the schema lacks, is kept in it too.
    assert csv_row({"_id": "b", "_other": 1}, columns) == ["b", "", "", "", '{"_other":1}']


def test_odd_items_export_exactly_as_stored(emu_store, data_client, store):
    events = EmuCollection.objects.get(site__site_id=emu_store.site_id, collection_id="Events")
    EmuItem.objects.create(collection=events, item_id="odd", data={"capacity": "lots", "x": 1})
    client = data_client(emu_store)
    take_snapshot(client, store, "s1")
    archive = _zip(store)
    lines = [json.loads(x) for x in archive.read("collections/Events.jsonl").splitlines()]
    assert client.get_item("Events", "odd").data in lines


def test_a_damaged_object_stops_the_download_with_its_name(snapshot, store):
    _, manifest = snapshot
    entry = next(e for e in manifest_entries(store, manifest) if e.collection == "Products")
    damage_item(store, entry)
    with pytest.raises(CorruptObject, match=pack_key(entry.pack)):
        b"".join(export_zip(store, "s1"))


def test_a_snapshot_not_taken_fails_before_the_first_chunk(store):
    with pytest.raises(ObjectNotFound):
        export_zip(store, "never")
    with pytest.raises(ObjectNotFound):
        export_csv(store, "never", "Products")
