"""Restore previews as operations, end to end: a real worker on the snapshot queue reads the live
data as a snapshot, then compares it with the snapshot restored from; the emulator over HTTP."""

import pytest

from sites import engine
from sites.models import Activity, Operation, Preview, Snapshot
from wixemulator.models import EmuCollection, EmuItem

from ..conftest import wait_finished
from .test_snapshots import DEMO, take


def finished(preview: Preview) -> tuple[Operation, Operation]:
    """The preview's operation and its live reading's, once both have ended."""
    rows = {op.kind: op for op in wait_finished([preview.operation, preview.live.operation])}
    return rows[Operation.Kind.PREVIEW_RESTORE], rows[Operation.Kind.SNAPSHOT]


def _edit_live_data(site_id: str) -> dict[str, list[str]]:
    """3 products changed, 2 deleted, 1 customer added, Events deleted, a field added to
    Customers' schema: what the preview must find."""
    products = EmuItem.objects.filter(
        collection__site__site_id=site_id, collection__collection_id="Products"
    ).order_by("item_id")
    changed = list(products[:3])
    for item in changed:
        item.data = {**item.data, "stock": item.data["stock"] + 10}
        item.save()
    deleted = list(products[3:5])
    EmuItem.objects.filter(pk__in=[i.pk for i in deleted]).delete()
    customers = EmuCollection.objects.get(site__site_id=site_id, collection_id="Customers")
    EmuItem.objects.create(
        collection=customers,
        item_id="customer-new",
        data={"_id": "customer-new", "name": "New Customer", "email": "new@example.com"},
    )
    customers.fields = [*customers.fields, {"key": "loyalty", "type": "NUMBER"}]
    customers.save()
    EmuCollection.objects.filter(site__site_id=site_id, collection_id="Events").delete()
    return {
        "revert": sorted(i.item_id for i in changed),
        "restore": sorted(i.item_id for i in deleted),
    }


def test_a_preview_reads_the_live_data_and_lists_what_a_restore_would_change(connect, owner):
    site, creds = connect("Preview")
    _, source = take(site, owner)
    expected = _edit_live_data(creds.site_id)

    preview = engine.preview_request(site=site, source=source, user=owner)
    # The live reading is a snapshot of its own, marked as taken for this preview.
    live = preview.live
    assert live is not None and live.pk != source.pk and preview.live_taken_for_preview
    operation, _ = finished(preview)
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    preview.refresh_from_db()
    live.refresh_from_db()
    assert preview.state == Preview.State.COMPLETE and live.state == Snapshot.State.COMPLETE
    # The live reading's parent is the source: it stored only what changed.
    assert live.new_objects < 10

    counts = {c.collection_id: c for c in preview.counts.all()}
    assert list(counts) == list(DEMO)  # the source's collections, in its order
    shown = {
        cid: (c.restore, c.revert, c.remove, c.same, c.in_current) for cid, c in counts.items()
    }
    assert shown == {
        "BlogPosts": (0, 0, 0, 24, True),
        "Customers": (0, 0, 1, 60, True),
        "Events": (12, 0, 0, 0, False),  # deleted since the snapshot: all brought back
        "Products": (2, 3, 0, 295, True),
        "Stores/Products": (0, 0, 0, 40, True),
    }
    assert counts["Customers"].fields_added == ["loyalty"]
    assert counts["Products"].fields_added == []

    def listed(collection_id: str, kind: str) -> list[str]:
        rows = preview.changes.filter(collection_id=collection_id, kind=kind)
        return sorted(rows.values_list("item_id", flat=True))

    assert listed("Products", "revert") == expected["revert"]
    assert listed("Products", "restore") == expected["restore"]
    assert listed("Customers", "remove") == ["customer-new"]
    assert preview.changes.count() == 2 + 3 + 1 + 12
    # Each list numbered from 0, so a page of it is a range.
    events = preview.changes.filter(collection_id="Events", kind="restore")
    assert sorted(events.values_list("position", flat=True)) == list(range(12))

    # One item's field differences, read on demand from both snapshots.
    change = preview.changes.get(collection_id="Products", item_id=expected["revert"][0])
    difference = engine.preview_item_difference(change)
    stock = next(d for d in difference.fields if d.field == "stock")
    assert stock.current == stock.old + 10
    assert [d.field for d in difference.fields] == ["stock"]  # nothing else was edited
    removed = engine.preview_item_difference(preview.changes.get(item_id="customer-new"))
    assert removed.old is None and removed.current["name"] == "New Customer"

    entries = Activity.objects.filter(operation=operation).values_list("outcome", "message")
    assert list(entries) == [(Activity.SUCCEEDED, "Preview a restore from the snapshot")]


def test_a_preview_of_chosen_collections_and_its_refusals(connect, owner):
    site, creds = connect("Chosen")
    _, source = take(site, owner)
    _edit_live_data(creds.site_id)
    with pytest.raises(engine.OperationRefused, match="no collection named Nope"):
        engine.preview_request(site=site, source=source, collections=["Nope"], user=owner)
    assert not Preview.objects.exists()
    preview = engine.preview_request(site=site, source=source, collections=["Events"], user=owner)
    (operation,) = wait_finished([preview.operation])
    assert operation.state == Operation.State.SUCCEEDED, operation.error
    assert [(c.collection_id, c.restore) for c in preview.counts.all()] == [("Events", 12)]
    # A failed snapshot cannot be previewed from.
    Snapshot.objects.filter(pk=source.pk).update(state=Snapshot.State.FAILED)
    source.refresh_from_db()
    with pytest.raises(engine.OperationRefused, match="failed"):
        engine.preview_request(site=site, source=source, user=owner)


def test_a_preview_whose_live_reading_fails_fails_with_the_reason(connect, owner):
    site, _ = connect("Failing")
    _, source = take(site, owner)
    # The stored key no longer decrypts: the live reading fails at once (no retry helps).
    type(site).objects.filter(pk=site.pk).update(secret_encrypted="not a token")
    preview = engine.preview_request(site=site, source=source, user=owner)
    operation, reading = finished(preview)
    preview.refresh_from_db()
    assert reading.state == Operation.State.FAILED
    assert operation.state == Operation.State.FAILED and preview.state == Preview.State.FAILED
    assert preview.error == f"The live data could not be read: {reading.error}"
    assert "replace the key" in preview.error
    assert not preview.counts.exists() and not preview.changes.exists()
