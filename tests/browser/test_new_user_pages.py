"""What a new user stumbled on (issue 19), in a real browser: each test shows the fixed page.

No worker here: sites and their mirror are written to the database as a sync would
(tests/factories.py), except where the web server of `make run` itself is what is tested.
"""

import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from sites.models import Activity, Backup, Operation, Profile, Site
from tests.factories import make_backup, make_operation, make_restoration, make_site
from tests.processes import ROOT, free_port, stop_process_group, wait_for
from wixapi import ApiKeyAuth, WixBackupsClient
from wixemulator import services as emu

from ..conftest import ready_backup
from .conftest import TIMEOUT_MS
from .test_owner_flows import sign_in


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own local server
            return True
    except OSError as error:
        return getattr(error, "code", None) is not None  # an HTTP error is an answer too


@pytest.fixture
def make_run_server(transactional_db, tmp_path) -> Iterator[str]:
    """The web server as `make run` starts it (scripts/run-env, its runserver options), on the
    test database; its URL."""
    db = connection.settings_dict
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_DEBUG", "PORT")}
    env.update(
        {
            "PORT": str(port),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            if connection.vendor == "postgresql"
            else f"sqlite:///{db['NAME']}",
        }
    )
    script = (
        '. scripts/run-env && exec "$0" manage.py runserver $RUN_WEB_OPTIONS --noreload '
        '"127.0.0.1:$PORT"'
    )
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(  # noqa: S603 - our own script and interpreter
        ["bash", "-c", script, sys.executable],  # noqa: S607
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url + "/accounts/login/"), 60, what="make run's web server")
        yield url
    finally:
        stop_process_group(process)


def test_make_run_shows_the_products_404_for_another_owners_site(
    owner, make_run_server: str, browser: Browser
):
    stranger = get_user_model().objects.create_user("stranger")
    theirs = make_site(stranger, name="Not Yours")
    context = browser.new_context(base_url=make_run_server)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(page)
        answer = page.goto(f"/sites/{theirs.pk}/")
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.locator("main")).to_contain_text("not yours to see")
        # No debug page: neither Django's URL list nor its "DEBUG = True" notice, and the
        # product's own style sheet is served (as `make run` serves static files).
        body = page.content()
        assert "DEBUG = True" not in body and "URLconf" not in body
        assert "Not Yours" not in body
        css = page.evaluate("getComputedStyle(document.querySelector('.topbar')).display")
        assert css == "flex"
    finally:
        context.close()


# --- Point 8: the dashboard says each piece of work once; messages go; plain labels; zones ----


def test_the_dashboard_reports_a_running_backup_once(owner, page: Page, live_server):
    site = make_site(owner, name="Candle Shop")
    making = make_backup(site, status=Backup.PENDING, age=timedelta(seconds=5))
    make_operation(site, state=Operation.State.SUBMITTED, backup_wix_id=making.wix_id)
    other = make_site(owner, name="Wix's Own")
    make_backup(other, status=Backup.PENDING, type=Backup.AUTO, age=timedelta(seconds=5))
    sign_in(page)

    running = page.locator(f'tr[data-site="{site.pk}"] td').nth(2)
    expect(running).to_contain_text("Back up")
    expect(running).not_to_contain_text("being made")
    # Wix's own backup, which none of ours stands for, is still reported.
    expect(page.locator(f'tr[data-site="{other.pk}"]')).to_contain_text("1 backup being made")


def test_the_backup_requested_message_goes_once_the_backup_is_ready(connect, owner, page: Page):
    connect("Candle Shop", backup=1)
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    page.get_by_role("button", name="Back up now").click()
    message = page.get_by_text("Backup requested")
    expect(message).to_be_visible()
    expect(page.locator("tr[data-backup] [data-status]").first).to_have_text("READY")
    expect(message).to_have_count(0)
    # Opened again later, the page does not bring it back either.
    page.reload()
    expect(page.locator("tr[data-backup] [data-status]").first).to_have_text("READY")
    expect(page.locator(".messages")).to_have_count(0)


def test_form_labels_end_without_colons(owner, page: Page):
    page.goto("/")
    labels = page.locator("main label")
    expect(labels.first).to_be_visible()
    texts = labels.all_inner_texts()
    sign_in(page)
    for path in ("/sites/connect/", "/account/", "/accounts/password_change/"):
        page.goto(path)
        expect(labels.first).to_be_visible()
        texts += labels.all_inner_texts()
    assert "Username" in texts and "Wix site id" in texts and "Time zone" in texts
    assert [text for text in texts if text.strip().endswith(":")] == []


def test_the_time_zone_is_searched_by_name_and_the_browsers_zone_is_offered_first(
    owner, browser: Browser, live_server
):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(page)
        page.get_by_role("link", name="Account").click()
        field = page.get_by_label("Time zone")
        assert field.get_attribute("list") == "time-zones"
        options = page.locator("#time-zones option")
        assert options.count() > 400
        expect(options.first).to_have_attribute("value", "Asia/Tokyo")

        # A name the list does not hold: a clear error, nothing saved.
        field.fill("Mars/Olympus")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("main")).to_contain_text("is not a time zone we know")
        assert not Profile.objects.filter(user=owner).exists()

        # Typed as people type it ("new york"), it is found.
        page.get_by_label("Time zone").fill("new york")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("footer")).to_contain_text("Times are shown in America/New_York")

        page.get_by_role("button", name="Use Asia/Tokyo (this browser's zone)").click()
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("footer")).to_contain_text("Times are shown in Asia/Tokyo")
        assert Profile.objects.get(user=owner).time_zone == "Asia/Tokyo"
    finally:
        context.close()


# --- Point 2: collections by their display names everywhere -----------------------------------


def test_collections_are_named_as_the_backup_names_them_on_every_page(owner, page: Page):
    site = make_site(owner, name="Candle Shop")
    backup = make_backup(site)
    make_restoration(site, backup, restoration_collections=[{"dataCollectionId": "BlogPosts"}])
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    restored = page.locator("tr[data-restoration]")
    expect(restored).to_contain_text("Blog Posts")

    # A partial restore asked for in the browser: its page and the activity log say the same.
    page.locator(f'tr[data-backup="{backup.wix_id}"]').get_by_role("link", name="Restore").click()
    page.get_by_role("checkbox", name="Products").uncheck()
    page.get_by_role("checkbox", name="Customers").uncheck()
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.locator("dl.facts")).to_contain_text("Blog Posts")
    page.get_by_role("link", name="← Candle Shop").click()
    expect(page.locator("table.activity")).to_contain_text("Restore Blog Posts from the backup")
    assert "BlogPosts" not in page.locator("main").inner_text()


# --- Point 1: backups of the same minute read apart wherever one is named ---------------------


def test_backups_made_in_the_same_minute_are_named_apart_everywhere(owner, page: Page):
    site = make_site(owner, name="Candle Shop")
    minute = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    made = [
        make_backup(site, requested_at=minute + timedelta(seconds=s), age=timedelta(0))
        for s in (5, 20, 40)
    ]
    oldest = made[0]
    utc = timezone.localtime(oldest.requested_at, UTC)
    name = f"{utc.day} {utc:%b %Y, %H:%M:%S}"  # the owner's zone: the installation's, UTC
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()

    # Each row's time is its own: no two read the same.
    cells = page.locator("tr[data-backup] td:first-child time").all_inner_texts()
    assert len(cells) == 3 and len(set(cells)) == 3 and name in cells
    # Named the same way next to "Back up now", on the confirmation, restore and delete pages.
    expect(page.locator("[data-evicts]")).to_contain_text(f"on-demand backup of {name}.")
    page.get_by_role("button", name="Back up now").click()
    expect(page.locator("[data-evicted]")).to_have_text(f"on-demand backup of {name}")
    row = page.locator("tr.evicted")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(name)
    page.goto(f"/sites/{site.pk}/backups/{oldest.wix_id}/delete/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Delete the on-demand backup of {name}?"
    )
    page.goto(f"/sites/{site.pk}/backups/{oldest.wix_id}/restore/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Restore Candle Shop from the on-demand backup of {name}"
    )
    # And in the activity log and the restorations' "From backup", once restored from.
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore", exact=True).click()
    page.get_by_role("link", name="← Candle Shop").click()
    expect(page.locator("table.activity")).to_contain_text(
        f"Restore all collections from the backup of {name}"
    )
    make_restoration(site, oldest)
    page.reload()
    expect(page.locator("tr[data-restoration]")).to_contain_text(f"On demand, {name}")


# --- Point 7: the site page names what the next backup would make Wix delete -------------------


def test_with_every_slot_used_back_up_now_says_which_backup_wix_would_delete(owner, page: Page):
    site = make_site(owner, name="Candle Shop")
    oldest = make_backup(site, age=timedelta(days=3))
    make_backup(site, age=timedelta(days=2))
    make_backup(site, type=Backup.AUTO, age=timedelta(days=4))  # never evicted
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    button = page.get_by_role("button", name="Back up now")
    expect(button).not_to_have_attribute("aria-describedby", re.compile("."))
    expect(page.locator("[data-evicts]")).to_have_count(0)

    make_backup(site, age=timedelta(days=1))  # the third slot: the page is drawn again
    page.reload()
    utc = timezone.localtime(oldest.requested_at, UTC)
    name = f"on-demand backup of {utc.day} {utc:%b %Y, %H:%M:%S}"
    expect(button).to_have_accessible_description(
        f"All 3 slots are used: the next backup makes Wix delete the {name}."
    )
    note = page.locator(".actions [data-evicts]")
    expect(note).to_be_visible()
    assert note.get_attribute("data-evicts") == oldest.wix_id


# --- Point 6: the demo's connect form starts on the emulator; an unreachable API says more -----


def test_the_connect_form_defaults_to_the_emulator_and_names_what_could_not_be_reached(
    owner, page: Page, live_server, settings
):
    emulator = live_server.url + "/sandbox"
    nowhere = f"http://127.0.0.1:{free_port()}"  # an allowed API that never answers
    settings.WIXEMULATOR_BASE_URL = emulator
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com", nowhere, emulator]
    creds = emu.create_site(name="Candle Shop", demo_data=True)
    sign_in(page)
    page.get_by_role("link", name="Connect a site").click()
    api = page.get_by_label("Wix API")
    expect(api).to_have_value(emulator)

    page.get_by_label("Name").fill("Candle Shop")
    page.get_by_label("Wix site id").fill(creds.site_id)
    page.get_by_label("API key").fill(creds.api_key)
    api.select_option(nowhere)
    page.get_by_role("button", name="Connect a site").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"Could not reach {nowhere} to check the key.")
    expect(alert).to_contain_text(
        f"you can also choose Wix (www.wixapis.com) or Wix emulator ({emulator})"
    )
    assert not Site.objects.exists()

    # The choice suggested works.
    page.get_by_label("Wix API").select_option(emulator)
    page.get_by_label("API key").fill(creds.api_key)  # never sent back: typed again
    page.get_by_role("button", name="Connect a site").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Candle Shop")


# --- Point 9: a restoration passes through IN_PROGRESS, as Wix's do ----------------------------


def test_a_restore_is_seen_pending_then_in_progress_then_completed(connect, owner, page: Page):
    # An hour-long restore on the emulator: it waits a minute before Wix starts writing, and its
    # clock is moved on to each next step (no test waits out a real duration).
    site, creds = connect("Candle Shop", backup=0.5, restore=3600)
    backup = ready_backup(site, owner)
    sign_in(page)
    page.goto(f"/sites/{site.pk}/backups/{backup}/restore/")
    page.get_by_label("Type the site's name").fill("Candle Shop")
    page.get_by_role("button", name="Restore", exact=True).click()
    status = page.locator("[data-restoration-status] .badge")
    expect(status).to_have_text("PENDING")

    emu.advance_clock(creds.site_id, seconds=120)
    expect(status).to_have_text("IN_PROGRESS")
    expect(page.locator("#announcer")).to_contain_text("is IN_PROGRESS.")
    expect(page.locator("[data-operation-state]")).to_contain_text("Sent to Wix")
    # Still a restore running: the site's page keeps polling and its backup cannot be deleted.
    page.get_by_role("link", name="← Candle Shop").click()
    restoration = page.locator("tr[data-restoration] [data-status]")
    expect(restoration).to_have_text("IN_PROGRESS")
    row = page.locator(f'tr[data-backup="{backup}"]')
    expect(row.get_by_role("button", name="Delete")).to_be_disabled()

    emu.advance_clock(creds.site_id, seconds=3600)
    expect(restoration).to_have_text("COMPLETED")
    expect(row.get_by_role("link", name="Delete")).to_be_visible()


# --- Point 3: what Wix does by itself is in the activity log -----------------------------------


def _in_utc(value: datetime) -> str:
    """A backup's time as the pages name it, in the installation's zone (UTC here)."""
    at = timezone.localtime(value, UTC)
    return f"{at.day} {at:%b %Y, %H:%M:%S}"


def _backup_name(backup: Backup) -> str:
    return f"on-demand backup of {_in_utc(backup.requested_at)}"


def test_wix_evicting_deleting_and_backing_up_by_itself_is_in_the_activity_log(
    workers, connect, owner, page: Page
):
    site, creds = connect("Candle Shop", backup=0.5, delete=0.5)
    made = [ready_backup(site, owner) for _ in range(3)]
    oldest, second = (Backup.objects.get(site=site, wix_id=wix_id) for wix_id in made[:2])
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    page.get_by_role("button", name="Back up now").click()
    page.get_by_role("button", name="Back up now").click()  # confirmed: Wix evicts the oldest
    expect(page.locator(f'tr[data-backup="{oldest.wix_id}"] [data-status]')).to_have_text("DELETED")
    log = page.locator("table.activity")
    expect(log).to_contain_text(
        f"Wix deleted the {_backup_name(oldest)}: to make room for a new one: all on-demand "
        "slots were used"
    )

    # In Wix's own screens (another client of Wix's API): a backup deleted, and Wix's weekly
    # backup taken. The next refresh (the page, opened after a while) finds both.
    with WixBackupsClient(workers.base_url, ApiKeyAuth(creds.api_key, creds.site_id)) as wix:
        wix.delete_backup(second.wix_id)
    emu.advance_clock(creds.site_id, seconds=5)  # the deletion is done
    auto = emu.take_auto_backup(creds.site_id)
    Site.objects.filter(pk=site.pk).update(last_synced_at=timezone.now() - timedelta(minutes=5))
    page.reload()
    expect(page.locator(f'tr[data-backup="{second.wix_id}"] [data-status]')).to_have_text("DELETED")
    expect(log).to_contain_text(
        f"Wix deleted the {_backup_name(second)}: not from here (in Wix's own screens, or by "
        "another app)"
    )
    expect(log).to_contain_text(
        f"Wix made its weekly automatic backup of {_in_utc(auto.requested_at)}"
    )
    # Each said once, by nobody here.
    assert log.get_by_text("Wix deleted the").count() == 2


# --- Point 4: one entry per action, updated in place; the whole log, by kind ------------------


def test_an_action_is_one_entry_whose_outcome_changes_in_place(connect, owner, page: Page):
    connect("Candle Shop", backup=2)
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    page.get_by_role("button", name="Back up now").click()
    entry = page.locator("table.activity tr", has_text="Back up now")
    expect(entry).to_have_count(1)
    expect(entry.locator(".outcome")).to_have_text("Requested")
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    expect(entry.locator(".outcome")).to_have_text("Succeeded")
    expect(entry).to_have_count(1)
    assert page.evaluate("window.sameDocument") is True


def test_the_whole_log_is_paged_and_filtered_by_kind(owner, page: Page):
    site = make_site(owner, name="Candle Shop")
    backup = make_backup(site)
    start = timezone.now() - timedelta(days=2)
    Activity.objects.bulk_create(
        [
            Activity(
                site=site,
                actor=owner,
                created_at=start + timedelta(minutes=n),
                outcome=Activity.SUCCEEDED,
                message="Back up now" if n % 2 else "Delete the backup",
                kind=Activity.BACKUP if n % 2 else Activity.DELETE,
                backup_at=None if n % 2 else backup.requested_at,
            )
            for n in range(70)
        ]
    )
    sign_in(page)
    page.get_by_role("link", name="Candle Shop").click()
    rows = page.locator("table.activity tbody tr")
    expect(rows).to_have_count(20)  # the site's page: the newest

    page.get_by_role("link", name="All activity, older entries included").click()
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Older →").click()
    expect(rows).to_have_count(20)
    expect(page.get_by_role("link", name="Older →")).to_have_count(0)
    page.get_by_role("link", name="← Newer").click()
    expect(rows).to_have_count(50)

    page.get_by_label("Show").select_option(label="Deletions")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(35)
    assert all(
        text.startswith("Delete the backup")
        for text in rows.locator("td:nth-child(3)").all_inner_texts()
    )
    expect(page.get_by_label("Show")).to_have_value(Activity.DELETE)

    # A kind the log does not have: said plainly, with the whole log.
    answer = page.goto(f"/sites/{site.pk}/activity/?kind=nonsense")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_contain_text("has no kind “nonsense”")
