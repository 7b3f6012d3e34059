"""Issue 18: with the clock moved a day at a time (the emulator's global clock, which the product
follows here: settings.WBM_CLOCK), a site left to Wix's weekly AUTO backups goes stale and
recovers, while a site with a daily backup schedule stays quiet. A real worker and beat on
Redis, the emulator over HTTP and a real SMTP server; no sleeps, waits on conditions only."""

from datetime import time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sites import clock, connections, engine
from sites.engine.dispatch import enqueue_refresh
from sites.models import AlertDelivery, Incident, Operation, Schedule, Site
from tests.conftest import wait_finished
from tests.processes import wait_for
from wixemulator import services as emu

DAY = 24 * 3600
STALE = Incident.Cause.STALE


@pytest.fixture
def clock_workers(mail_settings, settings, monkeypatch, request):
    """The worker and beat (checks every second, mail to the real SMTP server) and this process
    (the pages, the emulator) all on the emulator's clock."""
    monkeypatch.setenv("WBM_CLOCK", "wixemulator.clock.now")
    settings.WBM_CLOCK = "wixemulator.clock.now"
    return request.getfixturevalue("workers")


def connect(owner, base_url: str, name: str) -> tuple[Site, object]:
    creds = emu.create_site(name=name, demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=1, restore_seconds=1, delete_seconds=0.5)
    emu.take_auto_backup(creds.site_id)  # Wix's weekly AUTO backup, today
    site = connections.site_connect(
        owner=owner, name=name, wix_site_id=creds.site_id, api_key=creds.api_key,
        api_base_url=base_url,
    )  # fmt: skip
    # Wix's backups only: a snapshot beside each backup is not what this test is about.
    Site.objects.filter(pk=site.pk).update(snapshot_with_backup=False)
    site.refresh_from_db()
    # The owner expects a copy at most 3 days old (the site's setting, as on the Alerts page).
    engine.site_expected_age_set(site, days=3)
    return site, creds


def synced(*sites: Site) -> None:
    """What the periodic sync (every 15 minutes, many times a day) would have seen by now: each
    site refreshed by the worker once more."""
    marks = {s.pk: Site.objects.get(pk=s.pk).last_synced_at for s in sites}
    for site in sites:
        enqueue_refresh(site.pk)

    def all_synced() -> bool:
        now = {s.pk: Site.objects.get(pk=s.pk).last_synced_at for s in sites}
        return all(now[pk] is not None and now[pk] != marks[pk] for pk in marks)

    wait_for(all_synced, 60, what="the sites synced")


def checked(workers) -> None:
    """Wait until the beat has sent its incident check (every second here) three more times, so
    the worker has looked at the sites after everything done so far (the worker logs no task
    lines; the end asserts the quiet site never had an incident, in case one was missed)."""

    def sent() -> int:
        return workers.beat.log().count("check-incidents")

    mark = sent()
    wait_for(lambda: sent() >= mark + 3, 60, interval=0.2, what="three more incident checks")


def ran_since(schedule: Schedule, since):
    def found() -> Schedule | None:
        row = Schedule.objects.select_related("last_operation").get(pk=schedule.pk)
        return row if row.last_run_at and row.last_run_at >= since else None

    return found


def open_stale(site: Site) -> list[Incident]:
    return list(Incident.objects.filter(site=site, cause=STALE, resolved_at__isnull=True))


def warnings(client: Client, site: Site) -> str:
    """The ⚠ cards of the site's page: what needs the owner's attention."""
    html = client.get(reverse("sites:site", args=[site.pk])).text
    return "\n".join(line for line in html.splitlines() if 'class="card attention"' in line)


def test_moving_the_clock_a_weekly_auto_only_site_goes_stale_and_a_daily_schedule_keeps_quiet(
    clock_workers, owner, smtp
):
    """With the default expected age (8 days) a weekly AUTO backup never goes stale, so the owner
    of both sites lowered it to 3 days. "Weekly" has only Wix's AUTO backups: stale from day 3
    (its newest backup is over 3 days old) until day 7, when Wix's next AUTO backup arrives.
    "Daily" has a daily backup schedule: it runs each moved day, and the schedule sets the age
    (two days), so it never opens the incident."""
    engine.channel_add_email(owner=owner, address="owner@example.com")
    base = clock_workers.base_url
    weekly, _ = connect(owner, base, "Weekly")
    daily, _ = connect(owner, base, "Daily")
    schedule = engine.schedule_set(
        site=daily, kind=Schedule.Kind.BACKUP, frequency="daily", at=time(3, 0), weekday=None,
        paused=False, user=owner,
    )  # fmt: skip
    emu.advance_all_clocks(seconds=60)  # today's AUTO backups are READY
    synced(weekly, daily)
    browser = Client()
    browser.force_login(owner)
    checked(clock_workers)
    assert open_stale(weekly) == open_stale(daily) == []
    started = clock.now()

    for day in range(1, 9):
        emu.advance_all_clocks(seconds=DAY)
        assert clock.now() - started >= timedelta(days=day)
        # The daily schedule runs once on the moved day, as the beat finds it due.
        ran = wait_for(
            ran_since(schedule, started + timedelta(days=day)), 60,
            what=f"the daily schedule's run of day {day}",
        )  # fmt: skip
        (run,) = wait_finished([ran.last_operation])
        assert (run.kind, run.state, run.via) == (
            Operation.Kind.CREATE_BACKUP, Operation.State.SUCCEEDED, "schedule",
        )  # fmt: skip
        synced(weekly, daily)
        if 3 <= day < 7:
            wait_for(lambda: open_stale(weekly), 60, what=f"Weekly stale on day {day}")
        elif day >= 7:
            wait_for(lambda: not open_stale(weekly), 60, what=f"Weekly resolved on day {day}")
        checked(clock_workers)
        assert bool(open_stale(weekly)) == (3 <= day < 7), day
        assert open_stale(daily) == [], day
        # What the owner sees: the site's page says why "Weekly" needs attention, "Daily" not.
        if 3 <= day < 7:
            # Opened on day 3, the incident says the age as it is now (one alert all the same).
            said = f"The newest READY backup is {day} days old."
            assert said in warnings(browser, weekly)
            assert said in browser.get(reverse("sites:dashboard")).text
        else:
            assert warnings(browser, weekly) == ""
        assert warnings(browser, daily) == ""
        # Its next run reads on the moved clock: within a day (on the real one, days ahead).
        page = browser.get(reverse("sites:site", args=[daily.pk])).text
        assert "next: today 03:00" in page or "next: tomorrow 03:00" in page

    # One incident in all, opened on day 3 and resolved on day 7, and one e-mail for each.
    (incident,) = Incident.objects.filter(cause=STALE)
    assert incident.site_id == weekly.pk and incident.resolved_at is not None
    assert timedelta(days=3) <= incident.opened_at - started < timedelta(days=4)
    assert timedelta(days=7) <= incident.resolved_at - started < timedelta(days=8)
    assert not Incident.objects.filter(site=daily).exists()
    wait_for(lambda: AlertDelivery.objects.filter(state=AlertDelivery.DELIVERED).count() == 2,
             60, what="both alerts delivered")  # fmt: skip
    subjects = [mail["Subject"] for mail in smtp.messages()]
    assert subjects == ["Weekly: No recent backup", "Weekly: resolved: No recent backup"]
    assert Site.objects.get(pk=weekly.pk).backups.filter(type="AUTO").count() >= 2
    assert timezone.now() - started < timedelta(days=1)  # the real clock did not move so far
