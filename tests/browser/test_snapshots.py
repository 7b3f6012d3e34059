"""Snapshots, as a site owner uses them in a real browser: a real worker consumes the snapshots
queue and reads the emulated store over HTTP; the page follows the work live, without a reload.
Nothing here waits for a fixed time: every step waits for what the page shows."""

import json
import zipfile

from playwright.sync_api import Page, expect

from sites.models import Snapshot

from .test_owner_flows import sign_in


def snapshot_row(page: Page, snapshot: Snapshot):
    return page.locator(f'tr[data-snapshot="{snapshot.pk}"]')


def take_one(page: Page, site) -> Snapshot:
    """Take a snapshot from the page and watch it complete there."""
    before = set(Snapshot.objects.filter(site=site).values_list("pk", flat=True))
    page.get_by_role("button", name="Take a snapshot").click()
    expect(page.get_by_text("Snapshot started.")).to_be_visible()
    (snapshot,) = Snapshot.objects.filter(site=site).exclude(pk__in=before)
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    row = snapshot_row(page, snapshot)
    expect(row).to_have_attribute("data-state", "complete")
    assert page.evaluate("window.sameDocument") is True  # completed live, by the poll
    snapshot.refresh_from_db()
    expect(row.locator("[data-holds]")).to_have_text(
        f"{snapshot.item_count:,} items in {snapshot.collection_count} collections"
    )
    return snapshot


def test_owner_takes_downloads_pins_and_deletes_snapshots(connect, owner, page: Page):
    site, _creds = connect("Candle Shop")
    sign_in(page)
    page.goto(f"/sites/{site.pk}/")
    expect(page.get_by_text("No snapshots yet")).to_be_visible()

    first = take_one(page, site)
    row = snapshot_row(page, first)

    # The zip: one JSONL file per collection, each line an item as Wix returned it.
    with page.expect_download() as download:
        row.get_by_role("link", name="Download zip").click()
    assert download.value.suggested_filename.startswith("candle-shop-snapshot-")
    with zipfile.ZipFile(download.value.path()) as archive:
        lines = archive.read("collections/Products.jsonl").decode().splitlines()
        products = next(c for c in first.collections if c["id"] == "Products")
        assert len(lines) == products["items"] > 0
        assert {json.loads(line)["_id"] for line in lines} >= {"product-0001"}
        assert "schemas.json" in archive.namelist()

    # New retention rules show what they would remove (a dry run) before anything is saved.
    second = take_one(page, site)
    page.get_by_role("link", name="Snapshot settings").click()
    page.get_by_label("Keep the last").fill("-1")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Enter 0 or more.")).to_be_visible()
    for label, value in (("Keep the last", "1"), ("Daily", "0"), ("Weekly", "0")):
        page.get_by_label(label).fill(value)
    page.get_by_label("Monthly").fill("0")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-pruned]")).to_contain_text("the snapshot of")
    expect(page.locator(f'[data-pruned] [data-snapshot="{first.pk}"]')).to_be_visible()
    expect(page.locator(f'[data-pruned] [data-snapshot="{second.pk}"]')).to_have_count(0)
    page.get_by_role("link", name="Change the rules").click()  # not saved
    site.refresh_from_db()
    assert site.snapshot_keep_last == 10
    page.get_by_role("link", name="Candle Shop").first.click()

    # Pinned: retention keeps it, and it cannot be deleted until unpinned (said in the row).
    row = snapshot_row(page, first)
    row.get_by_role("button", name="Pin").click()
    expect(page.get_by_text("Pinned: retention will never remove this snapshot.")).to_be_visible()
    row = snapshot_row(page, first)
    expect(row.locator("[data-pinned]")).to_be_visible()
    expect(row.get_by_role("button", name="Unpin")).to_be_visible()
    expect(row.get_by_role("button", name="Delete")).to_be_disabled()
    expect(row).to_contain_text("unpin it before deleting it")

    # The second one, deleted after the confirmation page names it.
    snapshot_row(page, second).get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete the snapshot of")
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Snapshot deleted.")).to_be_visible()
    expect(snapshot_row(page, second)).to_have_count(0)
    expect(snapshot_row(page, first)).to_be_visible()
    assert list(Snapshot.objects.filter(site=site).values_list("pk", "pinned")) == [
        (first.pk, True)
    ]
