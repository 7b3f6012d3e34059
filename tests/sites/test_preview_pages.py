"""The restore preview's pages: starting one from a snapshot or a Wix backup's restore page, the
counts per collection, a count's list of items (constant queries whatever its length), one item's
field differences, and the refusals.

Real snapshots, taken and compared by the engine's own task code in this process from the
emulator over HTTP into a folder of the test's own; rows are written directly only where their
number alone matters (the list's query count).
"""

import html
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sites import engine, rules
from sites.models import Operation, Preview, PreviewChange, RestoreRun, Snapshot
from tests.factories import connect_emulated_store, make_backup
from wixemulator.models import EmuCollection, EmuItem


@pytest.fixture
def shop(emulator_url, settings, owner, tmp_path: Path):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")
    site, creds = connect_emulated_store(owner, emulator_url, name="Shop")
    site.emu_site_id = creds.site_id
    return site


def taken(site, owner) -> Snapshot:
    """A snapshot taken through the engine's own task code, here (as a worker runs it)."""
    operation = engine.snapshot_request(site=site, user=owner)
    engine.snapshot_operation_run(operation_id=operation.pk)
    snapshot = Snapshot.objects.get(operation=operation)
    assert snapshot.state == Snapshot.State.COMPLETE, snapshot.error
    return snapshot


def run(preview: Preview) -> None:
    """What the snapshot worker does: read the live data, then compare."""
    engine.snapshot_operation_run(operation_id=preview.live.operation_id)
    engine.snapshot_operation_run(operation_id=preview.operation_id)
    preview.refresh_from_db()
    assert preview.state == Preview.State.COMPLETE, preview.error


def edit(site) -> dict:
    """product-0001 and -0002 changed, -0003 deleted, a customer added, Events deleted; the
    data product-0001 had before."""
    products = EmuItem.objects.filter(
        collection__site__site_id=site.emu_site_id, collection__collection_id="Products"
    )
    before = products.get(item_id="product-0001").data
    for item in products.filter(item_id__in=["product-0001", "product-0002"]):
        item.data = {**item.data, "name": "Renamed", "stock": 999}
        item.save()
    products.filter(item_id="product-0003").delete()
    customers = EmuCollection.objects.get(site__site_id=site.emu_site_id, collection_id="Customers")
    EmuItem.objects.create(
        collection=customers, item_id="customer-new", data={"_id": "customer-new", "name": "Zed"}
    )
    EmuCollection.objects.filter(site__site_id=site.emu_site_id, collection_id="Events").delete()
    return before


def url(name: str, *args) -> str:
    return reverse(f"sites:{name}", args=args)


def test_preview_from_a_snapshot_counts_lists_and_item_differences(owner_client, shop, owner):
    source = taken(shop, owner)
    before = edit(shop)
    form = owner_client.get(url("preview_new", shop.pk, source.pk))
    assert form.status_code == 200 and 'value="Products" checked' in form.text
    answer = owner_client.post(
        url("preview_new", shop.pk, source.pk), {"collections": ["Products", "Customers", "Events"]}
    )
    preview = Preview.objects.get(site=shop)
    assert answer.status_code == 302 and answer["Location"] == url("preview", shop.pk, preview.pk)
    assert preview.collections == ["Customers", "Events", "Products"]  # the snapshot's order
    # While the live data is read, the page says so (and polls).
    reading = owner_client.get(answer["Location"]).text
    assert (
        "Reading the live data" in reading and url("preview_live", shop.pk, preview.pk) in reading
    )
    run(preview)

    page = owner_client.get(url("preview", shop.pk, preview.pk)).text
    assert "Compared with the live data as read" in page and "data-age" in page
    assert 'data-deleted-since="Events"' in page
    items = url("preview_items", shop.pk, preview.pk)
    assert f"{items}?collection=Products&amp;kind=revert" in page and "2 changed" in page
    assert "1 deleted" in page and "297 unchanged" in page and "1 added" in page
    assert "12 deleted" in page  # every Events item would come back

    listed = owner_client.get(items, {"collection": "Products", "kind": "revert"})
    assert listed.status_code == 200
    assert "Products: 2 items changed since" in html.unescape(listed.text)
    change = preview.changes.get(item_id="product-0001")
    assert url("preview_item", shop.pk, preview.pk, change.pk) in listed.text
    assert "product-0002" in listed.text and "product-0003" not in listed.text

    item = owner_client.get(url("preview_item", shop.pk, preview.pk, change.pk))
    assert item.status_code == 200
    text = html.unescape(item.text)
    # The fields that differ, the owner's first: name and stock, old value beside the new.
    assert text.index('data-field="name"') < text.index('data-field="stock"')
    assert 'data-field="price"' not in text  # unchanged fields are not listed
    name_row = text[text.index('data-field="name"') : text.index('data-field="stock"')]
    assert f'"{before["name"]}"' in name_row and '"Renamed"' in name_row
    stock_row = text[text.index('data-field="stock"') :]
    assert f"<pre>{before['stock']}</pre>" in stock_row and "<pre>999</pre>" in stock_row
    # An item of another preview of the same owner is not found through this one.
    other = Preview.objects.create(site=shop, source=source, collections=["Products"])
    stray = PreviewChange.objects.create(
        preview=other, collection_id="Products", item_id="x", kind="revert"
    )
    assert owner_client.get(url("preview_item", shop.pk, preview.pk, stray.pk)).status_code == 404
    # A list the preview has no count of is not found either.
    assert owner_client.get(items, {"collection": "Nope", "kind": "revert"}).status_code == 404
    assert owner_client.get(items, {"collection": "Products", "kind": "x"}).status_code == 404

    # The operation's page (linked from "Running now" and the activity) is the preview's.
    operation = owner_client.get(url("operation", shop.pk, preview.operation_id))
    assert operation.status_code == 302
    assert operation["Location"] == url("preview", shop.pk, preview.pk)

    # The live reading is listed with the snapshots, marked as taken for a preview.
    site_page = owner_client.get(url("site", shop.pk)).text
    assert site_page.count("data-for-preview") == 1
    assert url("preview_new", shop.pk, source.pk) in site_page


def test_the_restore_page_of_a_backup_offers_a_preview_only_with_its_snapshot(
    owner_client, shop, owner
):
    without = make_backup(shop)
    page = owner_client.get(url("restore", shop.pk, without.wix_id)).text
    assert "data-no-preview" in page and "needs a snapshot" in page
    assert 'name="confirm_name"' in page  # the plain restore, as today
    with_snapshot = make_backup(shop)
    snapshot = taken(shop, owner)
    Snapshot.objects.filter(pk=snapshot.pk).update(backup=with_snapshot)
    page = owner_client.get(url("restore", shop.pk, with_snapshot.wix_id)).text
    start = url("preview_new", shop.pk, snapshot.pk) + f"?backup={with_snapshot.wix_id}"
    assert start in html.unescape(page) and "Preview changes" in page
    answer = owner_client.post(
        url("preview_new", shop.pk, snapshot.pk),
        {"collections": ["Products"], "backup": with_snapshot.wix_id},
    )
    preview = Preview.objects.get(site=shop)
    assert answer.status_code == 302 and preview.backup == with_snapshot
    shown = owner_client.get(answer["Location"]).text
    assert url("restore", shop.pk, with_snapshot.wix_id) in shown


def test_ticked_items_open_the_restore_form_with_exactly_those_items(owner_client, shop, owner):
    source = taken(shop, owner)
    edit(shop)
    preview = engine.preview_request(site=shop, source=source, collections=["Products"])
    run(preview)
    listed = owner_client.get(
        url("preview_items", shop.pk, preview.pk), {"collection": "Products", "kind": "revert"}
    ).text
    first, second = preview.changes.filter(kind="revert").order_by("position")
    assert f'name="change" value="{first.pk}"' in listed and "Restore the ticked items" in listed
    assert url("preview_restore", shop.pk, preview.pk) in listed

    chosen = owner_client.get(url("preview_restore", shop.pk, preview.pk), {"change": [second.pk]})
    assert chosen.status_code == 200
    text = html.unescape(chosen.text)
    assert f"Products {second.item_id}</textarea>" in text and first.item_id not in text
    assert "checked" in text.split('value="items"')[1][:60]  # the chosen-items mode
    assert 'name="confirm_name"' in text  # still confirmed by typing the site's name
    assert f'action="{url("snapshot_restore", shop.pk, source.pk)}"' in text

    # An id of another preview (same owner), or not an id at all: not found, nothing requested.
    other = Preview.objects.create(site=shop, source=source, collections=["Products"])
    stray = PreviewChange.objects.create(
        preview=other, collection_id="Products", item_id="x", kind="revert"
    )
    restore = url("preview_restore", shop.pk, preview.pk)
    assert owner_client.get(restore, {"change": [first.pk, stray.pk]}).status_code == 404
    assert owner_client.get(restore, {"change": ["nope"]}).status_code == 404
    many = owner_client.get(restore, {"change": [first.pk] * 51})
    assert many.status_code == 400 and "Tick at most 50 items" in many.text
    assert not Operation.objects.filter(kind=Operation.Kind.RESTORE_SNAPSHOT).exists()

    # The form posts to the snapshot's restore: the ticked item alone, in chosen-items mode.
    answer = owner_client.post(
        url("snapshot_restore", shop.pk, source.pk),
        {"mode": "items", "items": f"Products {second.item_id}", "confirm_name": "Shop"},
    )
    assert answer.status_code == 302
    run_row = RestoreRun.objects.get(operation__site=shop)
    assert run_row.mode == RestoreRun.Mode.ITEMS and run_row.items == {"Products": [second.item_id]}


def test_an_items_history_lists_the_snapshots_holding_other_versions(
    owner_client, shop, owner, monkeypatch, settings
):
    items = EmuItem.objects.filter(
        collection__site__site_id=shop.emu_site_id, collection__collection_id="Products"
    )

    def rename(name: str) -> None:
        item = items.get(item_id="product-0001")
        item.data = {**item.data, "name": name}
        item.save()

    older = taken(shop, owner)
    rename("Second")
    newer = taken(shop, owner)
    rename("Third")
    # Linked from the item's page of a preview.
    preview = engine.preview_request(site=shop, source=older, collections=["Products"])
    run(preview)
    change = preview.changes.get(item_id="product-0001")
    history = url("item_history", shop.pk)
    item_page = owner_client.get(url("preview_item", shop.pk, preview.pk, change.pk)).text
    assert f"{history}?collection=Products&amp;item=product-0001" in item_page

    page = owner_client.get(history, {"collection": "Products", "item": "product-0001"})
    assert page.status_code == 200
    text = html.unescape(page.text)
    # The live reading of the preview holds the live version: not listed; newest first.
    assert text.count("data-version=") == 2
    assert text.index(f'data-version="{newer.pk}"') < text.index(f'data-version="{older.pk}"')
    newer_part = text[
        text.index(f'data-version="{newer.pk}"') : text.index(f'data-version="{older.pk}"')
    ]
    assert '<pre>"Second"</pre>' in newer_part and '<pre>"Third"</pre>' in newer_part
    assert text.count("Restore this version") == 2 and 'name="confirm_name"' in text

    # A page at a time (one snapshot a page here), older ones on the next; past the end: none.
    monkeypatch.setattr(rules, "HISTORY_PAGE_SIZE", 1)
    ask = {"collection": "Products", "item": "product-0001"}
    # Page 1: the preview's live reading, which holds the live version (not listed).
    first = html.unescape(owner_client.get(history, ask).text)
    assert "data-version=" not in first and "data-no-versions" in first
    assert "Older →" in first and "← Newer" not in first
    second = html.unescape(owner_client.get(history, {**ask, "page": 2}).text)
    assert f'data-version="{newer.pk}"' in second and f'data-version="{older.pk}"' not in second
    assert "Older →" in second and "← Newer" in second
    third = html.unescape(owner_client.get(history, {**ask, "page": 3}).text)
    assert f'data-version="{older.pk}"' in third and "Older →" not in third
    beyond = owner_client.get(history, {**ask, "page": 99})
    assert beyond.status_code == 200 and "data-no-versions" in beyond.text
    monkeypatch.undo()

    # An item deleted (a removal in the next snapshot's deltas), then made again with new data:
    # the snapshot without it is a version ("restoring it removes it"), and the one before.
    product = items.get(item_id="product-0002")
    kept = product.data
    product.delete()
    gone = taken(shop, owner)
    EmuItem.objects.create(
        collection=product.collection, item_id="product-0002", data={**kept, "name": "Remade"}
    )
    again = html.unescape(
        owner_client.get(history, {"collection": "Products", "item": "product-0002"}).text
    )
    assert again.count("data-version=") == 2 and again.count("data-not-held") == 1
    assert f'data-version="{gone.pk}"' in again
    # Newest first: the snapshot without the item leads.
    assert again.index("data-version=") == again.index(f'data-version="{gone.pk}"')
    assert f'<pre>"{kept["name"]}"</pre>' in again and '<pre>"Remade"</pre>' in again

    # Bad input: not found, nothing read or requested.
    assert owner_client.get(history, {"collection": "Products"}).status_code == 404
    assert owner_client.get(history, {"collection": "Pro ducts", "item": "x"}).status_code == 404
    unknown = owner_client.get(history, {"collection": "Products", "item": "no-such-item"})
    assert unknown.status_code == 200 and "data-no-versions" in unknown.text
    assert "The site holds no such item now." in unknown.text

    # The stored copies no longer read: said on the page (503), no version shown.
    for stored in Path(settings.WBM_SNAPSHOT_STORAGE).rglob("*"):
        if stored.is_file() and "objects" in stored.parts:
            stored.unlink()
    broken = owner_client.get(history, {"collection": "Products", "item": "product-0001"})
    assert broken.status_code == 503 and "A snapshot cannot be read" in broken.text
    assert "data-version=" not in broken.text


def test_bad_requests_are_refused_and_change_nothing(owner_client, shop, owner):
    source = taken(shop, owner)
    start = url("preview_new", shop.pk, source.pk)
    none = owner_client.post(start, {})
    assert none.status_code == 400 and "Choose at least one collection" in none.text
    unknown = owner_client.post(start, {"collections": ["Nope"]})
    assert unknown.status_code == 409 and "no collection named Nope" in unknown.text
    stranger = owner_client.post(start, {"collections": ["Products"], "backup": "no-such"})
    assert stranger.status_code == 404
    failed = Snapshot.objects.create(
        site=shop, storage_id=uuid.uuid4().hex, state=Snapshot.State.FAILED
    )
    refused = owner_client.post(url("preview_new", shop.pk, failed.pk), {"collections": ["x"]})
    assert refused.status_code == 409 and "failed" in refused.text
    assert not Preview.objects.exists()
    assert not Operation.objects.filter(kind=Operation.Kind.PREVIEW_RESTORE).exists()


def test_a_list_page_costs_the_same_queries_for_10_or_10000_items(owner_client, shop, owner):
    source = taken(shop, owner)
    counts = []
    for size in (10, 10_000):
        preview = Preview.objects.create(
            site=shop, source=source, live=source, collections=["Products"]
        )
        preview.counts.create(position=0, collection_id="Products", revert=size)
        PreviewChange.objects.bulk_create(
            PreviewChange(
                preview=preview,
                collection_id="Products",
                item_id=f"i{n}",
                kind="revert",
                position=n,
            )
            for n in range(size)
        )
        items = url("preview_items", shop.pk, preview.pk)
        with CaptureQueriesContext(connection) as queries:
            last = owner_client.get(
                items, {"collection": "Products", "kind": "revert", "page": 9999}
            )
        assert last.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert "Page 200 of 200" in last.text and "i9999" in last.text and "i9949" not in last.text
