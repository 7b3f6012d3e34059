"""An entry's line in a segment is its canonical JSON, whichever way it is written."""

import json

import pytest

from sites.snapshots import Entry, LocalBackend

IDS = [
    "product-0001",
    'with "quotes" and \\ backslash',
    "tab\there, newline\n, nul \x00 and \x1f",
    "café — 商品 🛒",
    "lone \ud800 surrogate",
    "",
]


@pytest.mark.parametrize("item_id", IDS)
@pytest.mark.parametrize("notes", [(), ("over 500 KB (600000 bytes)",)])
def test_the_direct_line_equals_the_canonical_one(item_id, notes):
    entry = Entry("Stores/Products", item_id, "ab" * 32, 123, "cd" * 32, 0, 4096, notes)
    assert entry.line() == entry.canonical_line()
    assert json.loads(entry.line())["id"] == item_id
    assert Entry.from_json("Stores/Products", json.loads(entry.line())) == entry


def test_sizes_that_are_not_plain_ints_go_the_canonical_way():
    entry = Entry("C", "x", "ab" * 32, True, "cd" * 32, 0, 1)
    assert entry.line() == entry.canonical_line()


def test_sync_makes_what_was_written_since_durable_once(tmp_path):
    backend = LocalBackend(tmp_path)
    backend.put("packs/aa/one", b"1")
    backend.put("objects/bb/two", b"2")
    backend.put("snapshots/s.manifest", b"m")  # durable as it is written
    assert backend._unsynced == {tmp_path / "packs/aa/one", tmp_path / "objects/bb/two"}
    backend.sync()
    assert backend._unsynced == set()
    assert backend.get("packs/aa/one") == b"1"
    backend.sync()  # nothing left: nothing to do
