"""Verify as an operation on the snapshot queue, and the two commands for scripts
(`snapshot_site`, `export_snapshot`), on the real worker."""

import csv
import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from sites import engine
from sites.models import Operation, Snapshot
from sites.snapshots import manifest_entries, read_manifest
from sites.snapshots.packs import pack_key

from ..conftest import wait_finished
from .test_snapshots import DEMO, take


def test_verify_records_a_sound_snapshot_then_names_a_damaged_item(connect, owner):
    site, _ = connect("Checked")
    _, snapshot = take(site, owner)
    first = engine.snapshot_verify_request(snapshot=snapshot, user=owner)
    assert engine.snapshot_verify_request(snapshot=snapshot, user=owner) == first
    (first,) = wait_finished([first])
    assert first.state == Operation.State.SUCCEEDED, first.error
    snapshot.refresh_from_db()
    assert snapshot.verify_ok is True and snapshot.verified_at is not None
    assert (snapshot.damaged_count, snapshot.missing_count, snapshot.verify_problems) == (0, 0, [])

    # One stored item damaged on disk, as a failing disk would.
    store = engine.site_store(site.pk)
    entry = next(
        e
        for e in manifest_entries(store, read_manifest(store, snapshot.storage_id))
        if e.collection == "Customers"
    )
    path = Path(store.backend.root).joinpath(*pack_key(entry.pack).split("/"))
    data = bytearray(path.read_bytes())
    data[entry.offset + entry.length // 2] ^= 1
    path.write_bytes(bytes(data))
    second = engine.snapshot_verify_request(snapshot=snapshot, user=owner)
    (second,) = wait_finished([second])
    assert second.state == Operation.State.FAILED
    assert second.error.startswith("1 damaged and 0 missing items")
    snapshot.refresh_from_db()
    assert snapshot.verify_ok is False and snapshot.damaged_count == 1
    (problem,) = snapshot.verify_problems
    assert (problem["collection"], problem["item_id"], problem["kind"]) == (
        "Customers",
        entry.item_id,
        "damaged",
    )


def test_snapshot_site_waits_prints_progress_and_the_result(connect, owner):
    site, _ = connect("Scripted")
    out = StringIO()
    call_command("snapshot_site", site.name, "--wait", stdout=out)
    text = out.getvalue()
    snapshot = Snapshot.objects.get(site=site)
    assert f"Snapshot {snapshot.pk} of Scripted requested." in text
    assert f"is complete: {sum(DEMO.values())} items in 5 collections" in text
    assert "  Products: 300 of 300 items\n" in text


def test_snapshot_site_fails_with_the_reason_and_a_non_zero_exit(connect, owner):
    site, _ = connect("Blocked")
    root = Path(settings.WBM_SNAPSHOT_STORAGE) / "sites"
    root.mkdir(parents=True)
    (root / str(site.pk)).write_text("in the way")
    with pytest.raises(CommandError, match="The snapshot failed: ") as failure:
        call_command("snapshot_site", str(site.pk), "--wait", stdout=StringIO())
    assert failure.value.returncode == 1
    with pytest.raises(CommandError, match="No connected site matches"):
        call_command("snapshot_site", "no such site", stdout=StringIO())


def test_export_snapshot_writes_the_zip_or_one_csv_and_refuses_unknown_ids(
    connect, owner, tmp_path: Path
):
    site, _ = connect("Exported")
    _, snapshot = take(site, owner)
    out = tmp_path / "site.zip"
    call_command("export_snapshot", str(snapshot.pk), "--out", str(out), stdout=StringIO())
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        header = json.loads(archive.read("snapshot.json"))
        products = archive.read("collections/Products.jsonl").decode().splitlines()
    assert {"snapshot.json", "schemas.json", "collections/Stores%2FProducts.jsonl"} <= names
    assert not [name for name in names if name.endswith(".csv")]  # CSV is its own download
    assert header["items"] == sum(DEMO.values()) and len(products) == 300

    one = tmp_path / "customers.csv"
    call_command(
        "export_snapshot", str(snapshot.pk), "--out", str(one), "--csv", "Customers",
        stdout=StringIO(),
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(one.read_text())))
    assert len(rows) == 60 and "_id" in rows[0]

    with pytest.raises(CommandError, match="no collection 'Nope'"):
        call_command(
            "export_snapshot", str(snapshot.pk), "--out", str(tmp_path / "x.csv"),
            "--csv", "Nope", stdout=StringIO(),
        )  # fmt: skip
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(CommandError, match="No snapshot has the id"):
        call_command("export_snapshot", "00000000-0000-0000-0000-000000000000", "--out", str(out))
    with pytest.raises(CommandError, match="is not a snapshot id"):
        call_command("export_snapshot", "../etc", "--out", str(out))
