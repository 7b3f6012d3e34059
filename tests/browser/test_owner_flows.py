"""What a site owner does, in a real browser, against a real worker and the emulator."""

import re
import zoneinfo

from django.utils import timezone
from playwright.sync_api import Page, expect

from sites.models import Backup, Operation, Profile
from wixemulator import services as emu

from ..conftest import ready_backup
from .conftest import SCREENSHOTS

PASSWORD = "pw-owner-123456"  # the `owner` fixture's
# What the browser does when the owner switches tabs (headless Chromium never hides a tab).
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def sign_in(page: Page, username: str = "owner", password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sites")).to_be_visible()


def test_owner_connects_a_site_backs_up_restores_and_deletes_watching_it_live(
    workers, owner, page: Page, staff_page: Page
):
    creds = emu.create_site(name="Candle Shop", demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=4, restore_seconds=2, delete_seconds=0.5)
    sign_in(page)

    # Connect: a wrong key is refused in plain words, the right one connects.
    page.get_by_role("link", name="Connect a site").click()
    page.get_by_label("Name").fill("Candle Shop")
    page.get_by_label("Wix site id").fill(creds.site_id)
    page.get_by_label("API key").fill("IST.a-key-wix-never-issued")
    page.get_by_role("button", name="Connect a site").click()
    expect(page.get_by_role("alert")).to_contain_text("Wix does not know this API key")
    page.get_by_label("API key").fill(creds.api_key)  # never sent back: typed again
    page.get_by_role("button", name="Connect a site").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Candle Shop")
    slots = page.locator("[data-slots]")
    expect(slots).to_have_text("0 of 3")

    # Back up now: the new backup turns READY on this page without a reload.
    page.get_by_role("button", name="Back up now").click()
    expect(page.get_by_text("Backup requested")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    row = page.locator("tr[data-backup]").first
    expect(row.locator("[data-status]")).to_have_text("PENDING")
    expect(row.locator("[data-status]")).to_have_text("READY")
    expect(page.locator("#announcer")).to_contain_text("is READY.")  # told to screen readers
    expect(slots).to_have_text("1 of 3")
    assert page.evaluate("window.sameDocument") is True

    # Change the data on the emulator: every product's stock to 0.
    staff_page.goto(f"/sandbox/sites/{creds.site_id}/collections/Products/")
    stock = staff_page.locator('[data-item="product-0001"] [data-field="stock"]')
    original = stock.inner_text()
    assert original != "0"
    staff_page.get_by_label("Field").fill("stock")
    staff_page.get_by_label("Value").fill("0")
    staff_page.get_by_role("button", name=re.compile(r"Apply to all \d+ items")).click()
    expect(stock).to_have_text("0")

    # Restore Products from the backup (a partial restore), confirmed by typing the site's name.
    page.get_by_role("link", name="Restore", exact=True).click()
    for name in ("Products", "Blog Posts", "Customers"):
        expect(page.get_by_role("checkbox", name=name)).to_be_checked()
    page.get_by_role("checkbox", name="Blog Posts").uncheck()
    page.get_by_role("checkbox", name="Customers").uncheck()
    expect(page.get_by_text("Restoring replaces the current content")).to_be_visible()
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("[data-restoration-status]")).to_contain_text("COMPLETED")
    expect(page.locator("[data-operation-state]")).to_have_text("Succeeded")
    expect(page.locator("#announcer")).to_contain_text("is COMPLETED.")

    # The emulator's page, reached from the link the restore offers, shows the old stock.
    staff_page.goto(page.get_by_role("link", name="Products", exact=True).get_attribute("href"))
    expect(stock).to_have_text(original)

    # The site's page, as the README shows it.
    page.get_by_role("link", name="← Candle Shop").click()
    expect(page.locator("tr[data-restoration] [data-status]")).to_have_text("COMPLETED")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "site-page.png"), full_page=True)

    # Delete the backup: after a confirmation, it turns DELETED and frees its slot.
    # The backup's Delete (the Snapshots table has one of its own).
    backups = page.get_by_role("table", name="Backups")
    backups.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete the on-demand backup")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("Deletion requested")).to_be_visible()
    expect(page.locator("tr[data-backup] [data-status]")).to_have_text("DELETED")
    expect(slots).to_have_text("0 of 3")


def test_with_all_slots_used_back_up_now_names_the_backup_wix_would_delete(
    connect, owner, page: Page
):
    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    site, creds = connect("Full Shop", backup=0.5)
    made = [ready_backup(site, owner) for _ in range(3)]
    oldest = Backup.objects.get(site=site, wix_id=made[0])
    sign_in(page)
    page.get_by_role("link", name="Full Shop").click()
    expect(page.locator("[data-slots]")).to_have_text("3 of 3")

    page.get_by_role("button", name="Back up now").click()
    tokyo = timezone.localtime(oldest.requested_at, zoneinfo.ZoneInfo("Asia/Tokyo"))
    when = f"{tokyo.day} {tokyo:%b %Y, %H:%M}"
    expect(page.get_by_role("alert")).to_contain_text(f"deletes the on-demand backup of {when}")
    assert (
        site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).count() == 3
    )  # nothing sent yet

    # Confirmed: Wix makes the backup and deletes the named one. While the tab is hidden the
    # page stops polling, and catches up as soon as it is shown again.
    emu.set_delays(creds.site_id, backup_seconds=4)
    page.get_by_role("button", name="Back up now").click()
    expect(page.get_by_text("Backup requested")).to_be_visible()
    page.evaluate(SET_VISIBILITY, "hidden")
    polls: list[str] = []
    page.on("request", lambda request: "/live/" in request.url and polls.append(request.url))
    page.wait_for_timeout(3000)  # what is checked is that nothing happens meanwhile
    assert polls == []
    with page.expect_request(lambda request: "/live/" in request.url, timeout=1000):
        page.evaluate(SET_VISIBILITY, "visible")
    evicted = page.locator(f'tr[data-backup="{oldest.wix_id}"] [data-status]')
    expect(evicted).to_have_text("DELETED")
    expect(page.locator("tr[data-backup] [data-status]").first).to_have_text("READY")
    expect(page.locator("[data-slots]")).to_have_text("3 of 3")
