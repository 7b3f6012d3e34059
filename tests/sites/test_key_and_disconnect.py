"""Replacing a site's key (checked live first) and disconnecting (our records only)."""

import pytest
from django.db import transaction
from django.urls import reverse

from sites import connections, crypto, engine
from sites.models import Activity, Site
from tests.factories import make_backup, make_site
from wixemulator import services as emu
from wixemulator.models import EmuBackup


@pytest.fixture
def connected(owner, emulator_url, settings):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    store = emu.create_site(name="Candle Shop")
    site = connections.site_connect(
        owner=owner,
        name="Candle Shop",
        wix_site_id=store.site_id,
        api_key=store.api_key,
        api_base_url=emulator_url,
    )
    return site, store


def test_the_replace_key_page_shows_only_the_last_four_characters(owner_client, connected):
    site, store = connected
    html = owner_client.get(reverse("sites:replace_key", args=[site.pk])).text
    assert f"…{store.api_key[-4:]}" in html
    assert store.api_key not in html


def test_a_new_key_wix_accepts_replaces_the_old_one(owner_client, connected):
    site, store = connected
    new_key = emu.add_api_key(store.site_id)
    answer = owner_client.post(reverse("sites:replace_key", args=[site.pk]), {"api_key": new_key})
    assert answer.status_code == 302
    site.refresh_from_db()
    assert crypto.decrypt(site.secret_encrypted) == new_key
    assert site.secret_hint == new_key[-4:]
    assert site.activities.filter(message="Replaced the API key").exists()


def test_a_new_key_wix_refuses_is_reported_and_the_old_one_stays(owner_client, connected):
    site, store = connected
    weak = emu.add_api_key(store.site_id, can_manage_backups=False)
    answer = owner_client.post(reverse("sites:replace_key", args=[site.pk]), {"api_key": weak})
    assert answer.status_code == 200
    assert "“Manage Data Backups” permission" in answer.text
    assert weak not in answer.text
    site.refresh_from_db()
    assert crypto.decrypt(site.secret_encrypted) == store.api_key


def test_an_empty_new_key_is_a_form_error(owner_client, site):
    answer = owner_client.post(reverse("sites:replace_key", args=[site.pk]), {"api_key": ""})
    assert answer.context["form"].has_error("api_key")


def test_a_rejected_key_is_flagged_with_a_link_to_replace_it(owner_client, owner):
    site = make_site(
        owner,
        credentials_rejected=True,
        last_sync_error="Wix rejected the API key (it may have been deleted or mistyped).",
    )
    engine.incidents_check()  # the beat's check opens the key incident the page shows
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert "Wix rejected the API key" in html
    assert reverse("sites:replace_key", args=[site.pk]) in html


def test_disconnect_asks_first(owner_client, site):
    page = owner_client.get(reverse("sites:disconnect", args=[site.pk]))
    assert "Nothing changes on Wix" in page.text
    assert Site.objects.filter(pk=site.pk).exists()


def test_disconnect_removes_our_records_and_leaves_wix_alone(owner_client, connected):
    site, store = connected
    emu_site = emu.EmuSite.objects.get(site_id=store.site_id)
    with transaction.atomic():
        emu.create_backup(emu_site, emu_site.now())
    make_backup(site)
    answer = owner_client.post(reverse("sites:disconnect", args=[site.pk]))
    assert answer.status_code == 302 and answer["Location"] == reverse("sites:dashboard")
    assert not Site.objects.filter(pk=site.pk).exists()
    assert not Activity.objects.filter(site_id=site.pk).exists()
    assert EmuBackup.objects.filter(site__site_id=store.site_id).count() == 1
    assert "Nothing was changed or deleted on Wix" in owner_client.get("/").text
