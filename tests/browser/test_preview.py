"""A restore preview, as a site owner uses it in a real browser: a real worker reads the live data
of the emulated store (a snapshot taken for the preview) and compares it with the snapshot;
the page follows the work live, then the owner opens a count's items and one item's fields.
Nothing here waits for a fixed time: every step waits for what the page shows."""

import re

from playwright.sync_api import Page, expect

from sites.models import Preview
from wixemulator.models import EmuCollection, EmuItem

from .test_owner_flows import sign_in
from .test_snapshots import snapshot_row, take_one


def test_owner_previews_a_restore_counts_list_and_item_difference(connect, owner, page: Page):
    site, creds = connect("Candle Shop")
    sign_in(page)
    page.goto(f"/sites/{site.pk}/")
    snapshot = take_one(page, site)

    # Since the snapshot: two products edited, one deleted, a customer added.
    products = EmuItem.objects.filter(
        collection__site__site_id=creds.site_id, collection__collection_id="Products"
    )
    before = products.get(item_id="product-0001").data
    second_before = products.get(item_id="product-0002").data
    for item in products.filter(item_id__in=["product-0001", "product-0002"]):
        item.data = {**item.data, "name": "Renamed in the shop"}
        item.save()
    products.filter(item_id="product-0003").delete()
    customers = EmuCollection.objects.get(site__site_id=creds.site_id, collection_id="Customers")
    EmuItem.objects.create(
        collection=customers, item_id="customer-new", data={"_id": "customer-new", "name": "Zed"}
    )

    snapshot_row(page, snapshot).get_by_role("link", name="Preview restore").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview a restore")
    expect(page.get_by_label("Products", exact=True)).to_be_checked()
    page.get_by_role("button", name="Preview changes").click()

    # The worker reads the live data, then compares; the page shows the counts by itself.
    page.evaluate("window.sameDocument = true")
    live = page.locator("#preview-live")
    expect(live).to_have_attribute("data-phase", "complete", timeout=60_000)
    assert page.evaluate("window.sameDocument") is True  # no reload: the poll redrew it
    expect(page.locator("[data-read-at]")).to_contain_text("Compared with the live data as read")
    row = page.locator('tr[data-collection="Products"]')
    expect(row.locator('[data-kind="restore"]')).to_have_text("1 deleted")
    expect(row.locator('[data-kind="revert"]')).to_have_text("2 changed")
    expect(row.locator('[data-kind="remove"]')).to_have_text("0")
    expect(row.locator('[data-kind="same"]')).to_have_text(re.compile(r"^\d+ unchanged$"))
    customers_row = page.locator('tr[data-collection="Customers"]')
    expect(customers_row.locator('[data-kind="remove"]')).to_have_text("1 added")

    # A count opens its items; an item opens its fields, old value beside the current one.
    row.get_by_role("link", name="2 changed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Products: 2 items changed since")
    expect(page.locator("[data-item]")).to_have_count(2)
    page.get_by_role("link", name="product-0001").click()
    name = page.locator('tr[data-field="name"]')
    expect(name.locator("[data-old]")).to_have_text(f'"{before["name"]}"')
    expect(name.locator("[data-current]")).to_have_text('"Renamed in the shop"')
    expect(page.locator('tr[data-field="price"]')).to_have_count(0)  # unchanged: not listed

    # Back on the site's page, the live reading is listed, marked as taken for the preview.
    preview = Preview.objects.get(site=site)
    page.goto(f"/sites/{site.pk}/")
    expect(snapshot_row(page, preview.live).locator("[data-for-preview]")).to_be_visible()

    # Tick one of the two changed products: the restore puts back that one alone.
    changed = products.get(item_id="product-0001").data
    page.goto(f"/sites/{site.pk}/previews/{preview.pk}/")
    page.locator('tr[data-collection="Products"]').get_by_role("link", name="2 changed").click()
    page.get_by_label("Tick product-0002").check()
    page.get_by_role("button", name="Restore the ticked items").click()
    expect(page.get_by_label("Chosen items", exact=True)).to_be_checked()
    expect(page.get_by_label("Items to restore")).to_have_value("Products product-0002")
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Restore requested. Follow it here.")).to_be_visible()
    expect(page.locator("[data-operation-state]")).to_contain_text("Succeeded", timeout=60_000)
    assert products.get(item_id="product-0002").data == second_before
    assert products.get(item_id="product-0001").data == changed  # not ticked: left as it is
    assert not products.filter(item_id="product-0003").exists()  # not ticked either
