"""A restore preview step by step in this process (the worker's own code, the emulator over
HTTP): what a second worker does after the first died mid-comparison, and a preview run before
its live reading ended."""

from pathlib import Path

import pytest

from sites import engine
from sites.models import Operation, Preview, PreviewChange, Snapshot
from tests.factories import connect_emulated_store
from wixemulator.models import EmuItem


@pytest.fixture
def shop(emulator_url, settings, owner, tmp_path: Path):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")
    site, creds = connect_emulated_store(owner, emulator_url, name="Shop")
    site.emu_site_id = creds.site_id
    return site


def test_a_preview_waits_for_its_reading_then_a_resumed_one_writes_each_change_once(shop, owner):
    operation = engine.snapshot_request(site=shop, user=owner)
    engine.snapshot_operation_run(operation_id=operation.pk)
    source = Snapshot.objects.get(operation=operation)
    EmuItem.objects.filter(
        collection__site__site_id=shop.emu_site_id, item_id__in=["product-0001", "product-0002"]
    ).delete()
    preview = engine.preview_request(site=shop, source=source, user=owner)

    # Run before its live reading: it gives its claim back and waits (not counted as a try).
    engine.snapshot_operation_run(operation_id=preview.operation_id)
    waiting = Operation.objects.get(pk=preview.operation_id)
    assert waiting.state == Operation.State.QUEUED and waiting.claimed_until is None
    assert waiting.attempts == 0 and not preview.counts.exists()

    engine.snapshot_operation_run(operation_id=preview.live.operation_id)
    # What a worker that died while writing Products' changes leaves behind: some of its rows,
    # and no counts row for it.
    PreviewChange.objects.create(
        preview=preview, collection_id="Products", item_id="product-0001", kind="restore"
    )
    PreviewChange.objects.create(
        preview=preview, collection_id="Products", item_id="stray", kind="remove"
    )
    engine.snapshot_operation_run(operation_id=preview.operation_id)
    preview.refresh_from_db()
    assert preview.state == Preview.State.COMPLETE, preview.error
    assert preview.collections_done == len(preview.collections) == 5
    listed = sorted(preview.changes.values_list("collection_id", "item_id", "kind", "position"))
    assert listed == [
        ("Products", "product-0001", "restore", 0),
        ("Products", "product-0002", "restore", 1),
    ]
    products = preview.counts.get(collection_id="Products")
    assert (products.restore, products.revert, products.remove, products.same) == (2, 0, 0, 298)
    assert Operation.objects.get(pk=preview.operation_id).state == Operation.State.SUCCEEDED
    # Run again after the end: nothing more happens.
    engine.snapshot_operation_run(operation_id=preview.operation_id)
    assert preview.changes.count() == 2
