"""The dashboard: every site at a glance, in a fixed number of queries."""

import zoneinfo
from datetime import datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sites import engine
from sites.models import Backup, Operation, Profile, Restoration
from tests.factories import make_backup, make_operation, make_restoration, make_site


def dashboard(client) -> str:
    answer = client.get(reverse("sites:dashboard"))
    assert answer.status_code == 200
    return answer.text


def row_of(html: str, site) -> str:
    start = html.index(f'data-site="{site.pk}"')
    return html[start : html.index("</tr>", start)]


def test_a_new_owner_is_invited_to_connect_a_site(owner_client):
    html = dashboard(owner_client)
    assert "No sites yet" in html
    assert f'<a class="button" href="{reverse("sites:connect")}">Connect a site</a>' in html


def shown(value: datetime, zone: str) -> str:
    """How a backup's request time is rendered: absolute, in the zone, to the second (backups of
    the same minute read apart); the browser adds its age (ages.js)."""
    there = value.astimezone(zoneinfo.ZoneInfo(zone))
    iso = value.isoformat(timespec="milliseconds")
    return f'<time datetime="{iso}" data-age>{there.day} {there:%b %Y, %H:%M:%S}</time>'


def test_each_site_shows_its_newest_ready_backups_of_both_kinds(owner_client, owner, site):
    Profile.objects.create(user=owner, time_zone="Asia/Kolkata")
    auto = make_backup(site, type=Backup.AUTO, age=timedelta(days=2))
    older = make_backup(site, type=Backup.AUTO, age=timedelta(days=9))
    on_demand = make_backup(site, age=timedelta(hours=3))
    pending = make_backup(site, status=Backup.PENDING, age=timedelta(minutes=1))
    row = row_of(dashboard(owner_client), site)
    assert f"Automatic: {shown(auto.requested_at, 'Asia/Kolkata')}" in row
    assert f"On demand: {shown(on_demand.requested_at, 'Asia/Kolkata')}" in row
    assert older.requested_at.isoformat(timespec="milliseconds") not in row
    assert pending.requested_at.isoformat(timespec="milliseconds") not in row
    assert " ago" not in row and 'class="age"' not in row  # ages are the browser's job


def test_each_site_shows_its_on_demand_slots_in_use(owner_client, site):
    make_backup(site)
    make_backup(site, status=Backup.PENDING)
    make_backup(site, type=Backup.AUTO)
    make_backup(site, status=Backup.DELETED)
    assert "<td data-slots>2 of 3</td>" in row_of(dashboard(owner_client), site)


def test_each_site_shows_what_is_running_now(owner_client, site):
    make_backup(site, type=Backup.AUTO, status=Backup.PENDING)
    make_restoration(site, make_backup(site), status=Restoration.PENDING)
    make_operation(site, kind=Operation.Kind.DELETE_BACKUP, state=Operation.State.SUBMITTED)
    make_operation(site, kind=Operation.Kind.CREATE_BACKUP, state=Operation.State.SUCCEEDED)
    row = row_of(dashboard(owner_client), site)
    assert "Delete backup" in row and "Sent to Wix" in row
    assert "Back up <span" not in row  # finished operations are not running
    assert "1 backup being made" in row
    assert "A restore is running" in row


def test_a_quiet_healthy_site_says_so(owner_client, site):
    make_backup(site, type=Backup.AUTO, age=timedelta(days=1))
    row = row_of(dashboard(owner_client), site)
    assert "Nothing" in row and "All good" in row


def test_a_site_without_a_ready_backup_newer_than_8_days_needs_attention(owner_client, owner):
    stale = make_site(owner, name="Stale")
    make_backup(stale, type=Backup.AUTO, age=timedelta(days=9))
    make_backup(stale, status=Backup.FAILED, age=timedelta(days=1))
    fresh = make_site(owner, name="Fresh")
    make_backup(fresh, type=Backup.AUTO, age=timedelta(days=7, hours=23))
    never = make_site(owner, name="Never")
    # "Needs attention" is the open incidents, which the beat's check opens (one rule).
    engine.incidents_check()
    html = dashboard(owner_client)
    assert "The newest READY backup is 9 days old." in row_of(html, stale)
    assert "All good" in row_of(html, fresh)
    assert "There is no READY backup of this site." in row_of(html, never)


def test_wix_unreachable_for_over_an_hour_and_a_rejected_key_need_attention(owner_client, owner):
    now = timezone.now()
    failing = make_site(
        owner,
        name="Failing",
        last_sync_error="Wix did not answer in time.",
        sync_failing_since=now - timedelta(minutes=61),
    )
    # Failing for less than an hour: retried quietly, no incident yet.
    blip = make_site(
        owner,
        name="Blip",
        last_sync_error="Wix did not answer in time.",
        sync_failing_since=now - timedelta(minutes=59),
    )
    rejected = make_site(
        owner, name="Rejected", credentials_rejected=True, last_sync_error="Wix rejected the key."
    )
    for site in (failing, blip, rejected):
        make_backup(site, type=Backup.AUTO)
    engine.incidents_check()
    html = dashboard(owner_client)
    assert "The last sync with Wix failed: Wix did not answer in time." in row_of(html, failing)
    assert "over an hour" in row_of(html, failing)
    assert "All good" in row_of(html, blip)
    rejected_row = row_of(html, rejected)
    assert "Wix rejected the key." in rejected_row
    assert reverse("sites:replace_key", args=[rejected.pk]) in rejected_row


def test_a_site_never_synced_yet_is_not_flagged(owner_client, owner):
    site = make_site(owner, last_synced_at=None)
    engine.incidents_check()
    assert "All good" in row_of(dashboard(owner_client), site)


def test_each_site_offers_back_up_now(owner_client, site):
    row = row_of(dashboard(owner_client), site)
    assert f'action="{reverse("sites:backup_now", args=[site.pk])}"' in row
    assert ">Back up now</button>" in row


def test_the_number_of_queries_does_not_grow_with_sites(owner_client, owner):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            dashboard(owner_client)
        return len(queries)

    def add_site(n: int) -> None:
        site = make_site(owner, name=f"Shop {n}")
        make_backup(site, type=Backup.AUTO)
        make_backup(site, status=Backup.PENDING)
        make_operation(site, state=Operation.State.SUBMITTED)

    add_site(0)
    one = count()
    for n in range(1, 8):
        add_site(n)
    assert count() == one


def test_it_polls_while_something_runs_and_not_when_all_is_quiet(owner_client, site):
    make_backup(site)
    assert "hx-get" not in dashboard(owner_client)
    make_operation(site)
    html = dashboard(owner_client)
    assert f'hx-get="{reverse("sites:dashboard_live")}?v=' in html
    assert 'hx-trigger="every 2s, visibilitychange from:document"' in html


def test_a_restore_in_progress_in_wixs_own_screens_counts_as_running(owner_client, site):
    # Started in Wix's screens (no operation here), past PENDING: still a restore that runs.
    backup = make_backup(site)
    make_restoration(site, backup, status="IN_PROGRESS", finished_at=None)
    row = row_of(dashboard(owner_client), site)
    assert "A restore is running" in row
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert 'hx-get="' in page  # the page keeps polling until it ends
    assert "A restore from this backup is running; delete it afterwards." in page
