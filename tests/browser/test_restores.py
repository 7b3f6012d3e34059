"""Restores from a snapshot and their Undo, as a site owner drives them in a real browser: a real
worker on both queues, the emulated store over HTTP. The page follows the work live; the emulated
data is checked after each step. Nothing here waits for a fixed time."""

from playwright.sync_api import Page, expect

from sites.models import Backup, Operation, RestoreRun
from wixemulator.models import EmuCollection, EmuItem

from ..conftest import ready_backup
from ..processes import wait_for
from .test_owner_flows import sign_in
from .test_snapshots import snapshot_row, take_one


def products(creds) -> dict[str, dict]:
    return {
        item.item_id: item.data
        for item in EmuItem.objects.filter(
            collection__site__site_id=creds.site_id, collection__collection_id="Products"
        )
    }


def test_owner_merges_a_snapshot_back_and_undoes_it(connect, owner, page: Page):
    site, creds = connect("Candle Shop")
    sign_in(page)
    page.goto(f"/sites/{site.pk}/")
    snapshot = take_one(page, site)
    original = products(creds)

    # Since the snapshot: one product edited, one deleted, one added (a visitor's, say).
    edited = EmuItem.objects.get(
        collection__site__site_id=creds.site_id,
        collection__collection_id="Products",
        item_id="product-0001",
    )
    edited.data = {**edited.data, "name": "Renamed by mistake"}
    edited.save(update_fields=["data"])
    EmuItem.objects.filter(collection__site__site_id=creds.site_id, item_id="product-0002").delete()
    EmuItem.objects.create(
        collection=EmuCollection.objects.get(site__site_id=creds.site_id, collection_id="Products"),
        item_id="added-by-a-visitor",
        data={"name": "New"},
    )
    after_edits = products(creds)

    # Merge: the edited and deleted products come back, the added one stays.
    snapshot_row(page, snapshot).get_by_role("link", name="Restore snapshot").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("from the snapshot of")
    expect(page.get_by_label("Merge")).to_be_checked()
    page.get_by_label("Type the site's name").fill("Wrong name")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Type “Candle Shop” exactly, to confirm.")).to_be_visible()
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Restore requested. Follow it here.")).to_be_visible()
    page.evaluate("window.sameDocument = true")
    expect(page.locator("[data-operation-state]")).to_contain_text("Succeeded")
    assert page.evaluate("window.sameDocument") is True  # followed live, without a reload
    expect(page.locator("[data-restore-mode]")).to_have_text("Merge")
    expect(page.locator("[data-restore-counts]")).to_contain_text(
        "Products: 1 brought back, 1 reverted, 0 removed"
    )
    expect(page.locator("[data-safety]")).to_contain_text("Complete")
    assert products(creds) == {**original, "added-by-a-visitor": {"name": "New"}}

    # Undo: after its confirmation page, the products are as they were before the restore.
    page.get_by_role("link", name="Undo this restore").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Undo this restore")
    expect(page.locator("#undo-warning")).to_contain_text("Products")
    page.get_by_role("button", name="Undo this restore").click()
    expect(page.get_by_text("Undo requested. Follow it here.")).to_be_visible()
    expect(page.locator("[data-operation-state]")).to_contain_text("Succeeded")
    expect(page.locator("[data-restore-mode]")).to_have_text("Whole collections")
    expect(page.locator("[data-restore-counts]")).to_contain_text(
        "Products: 0 brought back, 1 reverted, 1 removed"
    )
    assert products(creds) == after_edits

    # The restore it undid says so, and offers no second Undo.
    page.locator("dd a", has_text="the restore it undoes").click()
    expect(page.locator("[data-undone]")).to_contain_text("Undone")
    expect(page.get_by_role("link", name="Undo this restore")).to_have_count(0)

    # The activity log says what each changed and who asked.
    page.goto(f"/sites/{site.pk}/activity/?kind=restore")
    expect(page.get_by_text("Merge: BlogPosts: nothing to change")).to_be_visible()
    expect(page.get_by_text("Undo a restore: restore")).to_be_visible()


def test_owner_restores_an_older_version_from_an_items_history(connect, owner, page: Page):
    site, creds = connect("Candle Shop")
    sign_in(page)
    page.goto(f"/sites/{site.pk}/")
    first = take_one(page, site)
    original = products(creds)
    item = EmuItem.objects.get(
        collection__site__site_id=creds.site_id,
        collection__collection_id="Products",
        item_id="product-0001",
    )
    item.data = {**item.data, "name": "Second name"}
    item.save(update_fields=["data"])
    page.goto(f"/sites/{site.pk}/")
    second = take_one(page, site)
    item.data = {**item.data, "name": "Third name"}
    item.save(update_fields=["data"])
    before = products(creds)

    page.goto(f"/sites/{site.pk}/items/history/?collection=Products&item=product-0001")
    expect(page.get_by_role("heading", level=1)).to_have_text("History of Products / product-0001")
    expect(page.locator("[data-version]")).to_have_count(2)
    newer = page.locator(f'[data-version="{second.pk}"]')
    expect(newer.locator('tr[data-field="name"] [data-old]')).to_have_text('"Second name"')
    older = page.locator(f'[data-version="{first.pk}"]')
    expect(older.locator('tr[data-field="name"] [data-current]')).to_have_text('"Third name"')

    older.get_by_label("Type the site's name").fill("Candle Shop")
    older.get_by_role("button", name="Restore this version").click()
    expect(page.get_by_text("Restore requested. Follow it here.")).to_be_visible()
    expect(page.locator("[data-operation-state]")).to_contain_text("Succeeded", timeout=60_000)
    expect(page.locator("[data-restore-mode]")).to_have_text("Chosen items")
    assert products(creds) == {**before, "product-0001": original["product-0001"]}
    expect(page.get_by_role("link", name="Undo this restore")).to_be_visible()


def test_owner_restores_a_wix_backup_taking_a_wix_backup_first(connect, owner, page: Page):
    site, creds = connect("Candle Shop", backup=2, restore=2, delete=1)
    source_id = ready_backup(site, owner)
    sign_in(page)
    page.goto(f"/sites/{site.pk}/backups/{source_id}/restore/")
    box = page.get_by_label("Also take a Wix backup first")
    expect(box).not_to_be_checked()
    expect(page.locator("[data-wix-backup-plan]")).to_contain_text(
        "one is free: no backup is deleted"
    )
    box.check()
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_text("Restore requested. Follow it here.")).to_be_visible()
    expect(page.locator("[data-operation-state]")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("[data-wix-safety-backup]")).to_have_text("Succeeded")

    restore = site.operations.get(kind=Operation.Kind.RESTORE)
    made = site.backups.get(wix_id=restore.after.backup_wix_id)
    restoration = site.restorations.get(wix_id=restore.restoration_wix_id)
    assert made.status == Backup.READY and made.finished_at <= restoration.requested_at
    assert site.backups.get(wix_id=source_id).status == Backup.READY
    page.goto(f"/sites/{site.pk}/activity/?kind=restore")
    expect(page.get_by_text("A Wix safety backup is taken first, as asked")).to_be_visible()
    # What Wix's restore changed, read from the site afterwards by the snapshot worker: nothing
    # was edited since the backup, so every product is unchanged.
    products = EmuItem.objects.filter(
        collection__site__site_id=creds.site_id, collection__collection_id="Products"
    ).count()
    counted = page.get_by_text("What the restore changed, read from the site afterwards")
    wait_for(
        lambda: RestoreRun.objects.filter(operation=restore, counted_at__isnull=False).exists(),
        60,
        what="the restore's changes counted",
    )
    page.reload()
    expect(counted).to_contain_text(
        f"Products: 0 brought back, 0 reverted, 0 removed, {products} unchanged"
    )
