"""The emulator's global clock: one move for every site's clock (AUTO backups, Wix's dates),
from the sandbox page (staff) or the command; each site's own `advance` still moves it alone."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from wixemulator import clock
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuSite

DAY = 86400


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw-123456789", is_staff=True)
    client.force_login(user)
    return client


def site_now(site_id) -> object:
    return EmuSite.objects.get(site_id=site_id).now()


def test_the_global_clock_moves_every_site_and_a_new_site_starts_on_it(db):
    one = emu.create_site(name="One")
    two = emu.create_site(name="Two")
    emu.advance_clock(two.site_id, seconds=3600)  # a site's own move, alone
    before = timezone.now()

    assert emu.advance_all_clocks(seconds=2 * DAY) == 2 * DAY

    assert site_now(one.site_id) - before >= timedelta(days=2)
    assert site_now(one.site_id) - timezone.now() < timedelta(days=2, seconds=5)
    assert site_now(two.site_id) - site_now(one.site_id) > timedelta(minutes=59)
    assert clock.now() - before >= timedelta(days=2)
    # Made after the move: on the global clock from the start, and a fresh week before its AUTO.
    late = emu.create_site(name="Late")
    assert abs(site_now(late.site_id) - clock.now()) < timedelta(seconds=5)
    row = EmuSite.objects.get(site_id=late.site_id)
    emu.settle(row, row.now())
    assert not EmuBackup.objects.filter(site=row).exists()
    with pytest.raises(ValueError, match="only moves forward"):
        emu.advance_all_clocks(seconds=-1)


def test_a_week_on_the_global_clock_brings_every_site_its_auto_backup(db):
    site = emu.create_site(name="Weekly")
    emu.advance_all_clocks(seconds=7 * DAY + 60)
    row = EmuSite.objects.get(site_id=site.site_id)
    emu.settle(row, row.now())
    (auto,) = EmuBackup.objects.filter(site=row, type=EmuBackup.AUTO)
    assert auto.status_at(row.now()) == "READY"


def test_the_sandbox_page_lets_time_pass_and_refuses_nonsense(staff_client, db):
    home = reverse("wixemulator:home")
    assert "0 days and 0 hours ahead" in staff_client.get(home).text
    answer = staff_client.post(reverse("wixemulator:clock-advance"), {"days": "1", "hours": "2"})
    assert answer.status_code == 302
    assert "1 day and 2 hours ahead" in staff_client.get(home).text
    for bad in ({"days": "-1"}, {"days": "0", "hours": "0"}, {"days": "x"}, {"hours": "30"}):
        refused = staff_client.post(reverse("wixemulator:clock-advance"), bad)
        assert refused.status_code == 400, bad
    assert "1 day and 2 hours ahead" in staff_client.get(home).text  # nothing moved


def test_the_sandbox_clock_is_for_staff_only(client, django_user_model, db):
    owner = django_user_model.objects.create_user("owner", password="pw-123456789")
    client.force_login(owner)
    assert client.post(reverse("wixemulator:clock-advance"), {"days": "1"}).status_code == 302
    assert clock.now() - timezone.now() < timedelta(minutes=1)


def test_the_command_moves_the_global_clock(db, capsys):
    before = timezone.now()
    call_command("emulator_site", "advance-all", "--days", "1", "--hours", "1")
    assert "global clock is 90000 s ahead" in capsys.readouterr().out
    assert clock.now() - before >= timedelta(hours=25)
