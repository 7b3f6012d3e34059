"""What the owner sees when two actions on one backup would collide, in a real browser."""

from playwright.sync_api import Page, expect

from tests.factories import connect_emulated_store

from ..conftest import ready_backup
from .test_owner_flows import sign_in

BEING_DELETED = "This backup is being deleted, so it can no longer be restored."


def test_a_backup_being_deleted_is_no_longer_offered_for_restore(workers, owner, page: Page):
    # The deletion takes two emulated minutes, so the backup stays "being deleted" throughout.
    site, _ = connect_emulated_store(
        owner, workers.base_url, name="Candle Shop", backup=1, delete=120
    )
    backup = ready_backup(site, owner)
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    row = page.locator(f'tr[data-backup="{backup}"]')
    expect(row.get_by_role("link", name="Restore")).to_be_visible()

    row.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Deletion requested")).to_be_visible()
    expect(row.get_by_role("link", name="Restore")).to_have_count(0)
    expect(row.get_by_role("button", name="Restore")).to_be_disabled()
    expect(row).to_contain_text(BEING_DELETED)

    # A restore page opened from an old tab or a bookmark says why, and offers no form.
    page.goto(f"/sites/{site.pk}/backups/{backup}/restore/")
    expect(page.get_by_role("alert")).to_have_text(BEING_DELETED)
    expect(page.get_by_role("button", name="Restore", exact=True)).to_have_count(0)
