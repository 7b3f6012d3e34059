"""The Schedules section of a site's page, its edit form and the dashboard's next backup."""

from datetime import time, timedelta

from django.urls import reverse
from django.utils import timezone

from sites import engine
from sites.models import Schedule
from sites.profiles import profile_set_time_zone


def edit_url(site, kind="backup"):
    return reverse("sites:schedule_edit", args=[site.pk, kind])


def section(html: str, kind: str) -> str:
    return html.split(f'data-schedule="{kind}"', 1)[1].split("</tr>", 1)[0]


def test_a_site_never_scheduled_shows_both_schedules_paused(owner_client, site):
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert 'id="schedules"' in html
    for kind in ("backup", "snapshot"):
        row = section(html, kind)
        assert "paused" in row and "not set" in row
        assert edit_url(site, kind) in row


def test_saving_a_daily_backup_schedule_shows_its_next_run_on_the_owners_clock(
    owner_client, owner, site
):
    profile_set_time_zone(user=owner, time_zone="Asia/Tokyo")
    answer = owner_client.post(
        edit_url(site), {"frequency": "daily", "at": "03:00", "weekday": "0"}
    )
    assert answer.status_code == 302

    schedule = Schedule.objects.get(site=site, kind="backup")
    assert (schedule.frequency, schedule.at, schedule.paused) == ("daily", time(3, 0), False)
    tokyo = schedule.next_run_at.astimezone(timezone.get_fixed_timezone(9 * 60))
    assert (tokyo.hour, tokyo.minute) == (3, 0)
    row = section(owner_client.get(reverse("sites:site", args=[site.pk])).text, "backup")
    assert "Every day at 03:00" in row
    assert "next: today 03:00" in row or "next: tomorrow 03:00" in row
    assert site.activities.filter(message__contains="Wix backups: every day at 03:00").exists()

    dashboard = owner_client.get(reverse("sites:dashboard")).text
    cell = dashboard.split("data-next-backup>", 1)[1].split("</td>", 1)[0]
    assert cell in ("today 03:00", "tomorrow 03:00")


def test_a_weekly_run_further_than_tomorrow_is_named_by_its_weekday(owner_client, owner, site):
    profile_set_time_zone(user=owner, time_zone="UTC")
    engine.schedule_set(
        site=site, kind="snapshot", frequency="weekly", at=time(4, 30), weekday=2, paused=False
    )
    # Move the next run to a known day, three days from now, as the tick would have set it.
    when = (timezone.now() + timedelta(days=3)).replace(hour=4, minute=30, second=0)
    Schedule.objects.filter(site=site).update(next_run_at=when)
    engine.site_touch(site.pk)
    row = section(owner_client.get(reverse("sites:site", args=[site.pk])).text, "snapshot")
    assert f"next: {when:%A} 04:30" in row
    assert "Every Wednesday at 04:30" in row


def test_pausing_shows_paused_and_the_dashboard_says_so(owner_client, site):
    owner_client.post(edit_url(site), {"frequency": "weekly", "at": "03:00", "weekday": "6"})
    owner_client.post(
        edit_url(site), {"frequency": "weekly", "at": "03:00", "weekday": "6", "paused": "on"}
    )
    schedule = Schedule.objects.get(site=site, kind="backup")
    assert schedule.paused and schedule.next_run_at is None
    row = section(owner_client.get(reverse("sites:site", args=[site.pk])).text, "backup")
    assert "paused" in row and "next:" not in row
    dashboard = owner_client.get(reverse("sites:dashboard")).text
    assert "data-next-backup>paused</td>" in dashboard


def test_bad_input_is_refused_with_a_clear_reason_and_changes_nothing(owner_client, site):
    cases = [
        ({"frequency": "hourly", "at": "03:00"}, "Choose how often from the list."),
        ({"frequency": "daily", "at": "25:99"}, "Enter a time of day as hours and minutes"),
        ({"frequency": "daily", "at": ""}, "Enter a time of day, like 03:00."),
        ({"frequency": "weekly", "at": "03:00", "weekday": ""}, "Choose the day of the week"),
        ({"frequency": "weekly", "at": "03:00", "weekday": "9"}, "Choose a day of the week"),
        ({"frequency": "x" * 5000, "at": "03:00"}, "Choose how often from the list."),
    ]
    for data, reason in cases:
        answer = owner_client.post(edit_url(site), data)
        assert answer.status_code == 400, data
        assert reason in answer.text, data
    assert not Schedule.objects.exists()
    assert not site.activities.exists()


def test_snapshots_may_be_hourly_and_an_unknown_schedule_is_404(owner_client, site):
    answer = owner_client.post(edit_url(site, "snapshot"), {"frequency": "hourly", "at": "00:15"})
    assert answer.status_code == 302
    assert Schedule.objects.get(site=site, kind="snapshot").frequency == "hourly"
    assert owner_client.get(edit_url(site, "monthly")).status_code == 404


def test_the_form_shows_the_saved_settings(owner_client, site):
    engine.schedule_set(
        site=site, kind="backup", frequency="weekly", at=time(22, 45), weekday=4, paused=True
    )
    html = owner_client.get(edit_url(site)).text
    assert 'value="22:45"' in html
    assert '<option value="4" selected>Friday</option>' in html
    assert 'name="paused" id="id_paused" checked' in html
