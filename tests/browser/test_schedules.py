"""Schedules and pins, as a site owner uses them in a real browser, with a real worker and beat
on Redis: set a backup schedule, pin two backups, and see the scheduled backup delete the right
one (the oldest unpinned) first. Nothing here waits for a fixed time."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from sites import engine
from sites.models import Operation, Schedule, Site
from tests.conftest import ready_backup, wait_finished
from tests.processes import wait_for

from .test_owner_flows import sign_in


def backup_row(page: Page, wix_id: str):
    return page.locator(f'tr[data-backup="{wix_id}"]')


def test_a_scheduled_backup_rotates_past_the_pinned_ones(connect, owner, page: Page):
    site, _creds = connect("Candle Shop")
    Site.objects.filter(pk=site.pk).update(snapshot_with_backup=False)
    oldest, middle, newest = (ready_backup(site, owner) for _ in range(3))
    sign_in(page)
    page.goto(f"/sites/{site.pk}/")

    # A daily backup schedule, with a bad time first: refused in words, nothing saved.
    schedules = page.locator("table.schedules")
    expect(schedules.locator('tr[data-schedule="backup"]')).to_contain_text("paused")
    schedules.locator('tr[data-schedule="backup"]').get_by_role("link", name="Edit").click()
    page.get_by_label("How often").select_option("daily")
    page.get_by_label("At (your time)").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a time of day, like 03:00.")).to_be_visible()
    assert not Schedule.objects.filter(site=site).exists()
    page.get_by_label("At (your time)").fill("03:00")
    page.get_by_role("button", name="Save").click()
    row = page.locator('table.schedules tr[data-schedule="backup"]')
    expect(row).to_contain_text("Every day at 03:00")
    expect(row.locator("[data-next]")).to_contain_text("03:00")
    expect(row.locator("[data-next]")).to_contain_text("next:")

    # Pin the oldest and the newest: the note under Back up now names the middle one.
    for wix_id in (oldest, newest):
        backup_row(page, wix_id).get_by_role("button", name="Pin", exact=True).click()
        expect(backup_row(page, wix_id).locator("[data-pinned]")).to_be_visible()
    expect(backup_row(page, middle).get_by_role("button", name="Pin", exact=True)).to_be_disabled()
    expect(backup_row(page, middle)).to_contain_text("At most 2 backups can be pinned")
    note = page.locator("[data-evicts]")
    assert note.get_attribute("data-evicts") == middle
    expect(note).to_contain_text("the oldest is pinned: the next backup first deletes")

    # The schedule falls due (as if 03:00 had come): the beat's tick asks for the backup.
    Schedule.objects.filter(site=site).update(next_run_at=timezone.now() - timedelta(minutes=1))
    engine.site_touch(site.pk)

    def scheduled() -> Operation | None:
        return site.operations.filter(kind=Operation.Kind.CREATE_BACKUP, via="schedule").first()

    asked = wait_for(scheduled, 60, interval=0.25, what="the scheduled backup to be asked for")
    wait_finished([asked])
    create = scheduled()
    assert create.state == Operation.State.SUCCEEDED, create.error
    assert create.after.backup_wix_id == middle

    page.reload()
    expect(backup_row(page, middle).locator("[data-status]")).to_have_text("DELETED")
    for wix_id in (oldest, newest, create.backup_wix_id):
        expect(backup_row(page, wix_id).locator("[data-status]")).to_have_text("READY")
    # The activity log says the schedule asked, and why the middle one went.
    activity = page.locator("table.activity")
    expect(activity.locator("tr", has_text="Back up now").first).to_contain_text("schedule")
    expect(activity).to_contain_text("Rotation: the oldest slot holds a pinned backup")
    expect(row.locator("[data-next]")).to_contain_text("next:")
