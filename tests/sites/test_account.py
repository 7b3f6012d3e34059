"""The owner's time zone: chosen once, used for every time on every page."""

import zoneinfo

from django.urls import reverse

from sites.models import Profile
from tests.factories import make_backup


def test_the_owner_picks_a_time_zone_and_pages_show_times_in_it(owner_client, owner, site):
    backup = make_backup(site)
    page = owner_client.get(reverse("sites:account"))
    assert "This installation&#x27;s zone (UTC)" in page.text
    answer = owner_client.post(reverse("sites:account"), {"time_zone": "America/Los_Angeles"})
    assert answer.status_code == 302
    assert Profile.objects.get(user=owner).time_zone == "America/Los_Angeles"
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    local = backup.requested_at.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert f"{local:%-d %b %Y, %H:%M}" in html
    assert "Times are shown in America/Los_Angeles" in html


def test_an_unknown_time_zone_is_a_form_error(owner_client, owner):
    answer = owner_client.post(reverse("sites:account"), {"time_zone": "Mars/Olympus_Mons"})
    assert answer.status_code == 200
    assert "is not a time zone we know" in answer.text
    assert not Profile.objects.filter(user=owner).exists()


def test_a_zone_no_longer_known_falls_back_to_the_default(owner_client, owner, site):
    Profile.objects.create(user=owner, time_zone="Gone/Zone")
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert "Times are shown in UTC" in html


def test_the_account_page_links_to_change_password(owner_client):
    assert reverse("password_change") in owner_client.get(reverse("sites:account")).text
