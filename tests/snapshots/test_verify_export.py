"""Verifying a snapshot finds damaged and missing objects by item; the zip and CSV downloads
hold what Wix returned, streamed."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from sites.snapshots import (
    CorruptObject,
    ObjectNotFound,
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


def _zip(store, **options) -> zipfile.ZipFile:
    chunks = list(export_zip(store, "s1", **options))
    assert all(isinstance(c, bytes) and len(c) <= 1 << 16 for c in chunks)
    return zipfile.ZipFile(io.BytesIO(b"".join(chunks)))


def test_the_zip_holds_jsonl_csv_and_schemas(snapshot, store):
    client, manifest = snapshot
    archive = _zip(store)
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[:2] == ["snapshot.json", "schemas.json"]
    assert "collections/Stores%2FProducts.jsonl" in names
    assert "collections/Stores%2FProducts.csv" in names
    header = json.loads(archive.read("snapshot.json"))
    assert header["snapshot_id"] == "s1" and header["items"] == 436
    schemas = json.loads(archive.read("schemas.json"))
    assert sorted(schemas) == sorted(c.id for c in manifest.collections)
    wix = {item.id: item.data for item in client.iter_items("Customers")}
    lines = archive.read("collections/Customers.jsonl").decode().splitlines()
    assert [json.loads(line) for line in lines] == list(wix.values())
    rows = list(csv.reader(io.StringIO(archive.read("collections/Customers.csv").decode())))
    columns = csv_columns(schemas["Customers"])
    assert rows[0] == columns and columns[0] == "_id" and columns[-1] == "_other"
    assert len(rows) == 61
    first = dict(zip(rows[0], rows[1], strict=True))
    data = wix[first["_id"]]
    assert first["name"] == data["name"] and first["orders"] == str(data["orders"])
    assert first["lastSeen"] == data["lastSeen"]["$date"]
    assert json.loads(first["address"]) == data["address"]
    assert first["_other"] == ""


def test_the_zip_without_csv_and_a_csv_alone(snapshot, store):
    archive = _zip(store, csv=False)
    assert not [n for n in archive.namelist() if n.endswith(".csv")]
    alone = b"".join(export_csv(store, "s1", "Events")).decode()
    inside = _zip(store).read("collections/Events.csv").decode()
    assert alone == inside and len(alone.splitlines()) == 13


def test_csv_keeps_unknown_fields_and_disarms_formulas():
    schema = {"fields": [{"key": "_id"}, {"key": "name"}, {"key": "price"}, {"key": "ok"}]}
    columns = csv_columns(schema)
    row = csv_row(
        {"_id": "a", "name": "=HYPERLINK(1)", "price": -5, "ok": True, "extra": [1]}, columns
    )
    assert row == ["a", "'=HYPERLINK(1)", "-5", "true", '{"extra":[1]}']


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
