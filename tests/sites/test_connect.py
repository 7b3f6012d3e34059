"""Connecting a site: the form checks the credentials live, against the emulator over HTTP."""

import re

import pytest
import responses
from django.test import RequestFactory
from django.urls import reverse

from sites import crypto, views
from sites.models import Activity, Site
from wixemulator import services as emu

from ..processes import free_port


@pytest.fixture
def wix(emulator_url, settings) -> str:
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    return emulator_url


@pytest.fixture
def store(transactional_db) -> emu.SiteCredentials:
    return emu.create_site(name="Candle Shop", demo_data=False)


def connect(client, **fields):
    return client.post(reverse("sites:connect"), fields)


def fields(store, wix, **overrides) -> dict[str, str]:
    return {
        "name": "Candle Shop",
        "wix_site_id": store.site_id,
        "api_key": store.api_key,
        "api_base_url": wix,
        **overrides,
    }


def test_the_form_offers_only_the_allowed_wix_addresses(owner_client, wix, settings):
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com", wix]
    html = owner_client.get(reverse("sites:connect")).text
    assert re.findall(r'<option value="([^"]+)"', html) == ["https://www.wixapis.com", wix]
    assert ">Connect a site</button>" in html
    assert "App instance id" not in html  # the app's OAuth credentials are not configured


def test_good_credentials_connect_the_site_and_keep_the_key_encrypted(
    owner_client, owner, wix, store
):
    answer = connect(owner_client, **fields(store, wix))
    site = Site.objects.get(owner=owner)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sites:site", args=[site.pk])
    assert site.name == "Candle Shop" and site.wix_site_id == store.site_id
    assert store.api_key not in site.secret_encrypted
    assert crypto.decrypt(site.secret_encrypted) == store.api_key
    assert site.secret_hint == store.api_key[-4:]
    assert Activity.objects.get(site=site).message == "Connected the site"
    page = owner_client.get(answer["Location"]).text
    assert f"Wix accepted the key ending …{store.api_key[-4:]}" in page
    assert store.api_key not in page


def test_an_unknown_key_is_refused_in_plain_words_and_nothing_is_saved(owner_client, wix, store):
    answer = connect(owner_client, **fields(store, wix, api_key="IST.never-issued-key"))
    assert answer.status_code == 200
    assert "Wix does not know this API key" in answer.text
    assert not Site.objects.exists()


def test_a_key_without_manage_data_backups_is_refused(owner_client, wix, store):
    weak = emu.add_api_key(store.site_id, can_manage_backups=False)
    answer = connect(owner_client, **fields(store, wix, api_key=weak))
    assert "“Manage Data Backups” permission" in answer.text
    assert not Site.objects.exists()


def test_a_key_of_another_site_is_refused(owner_client, wix, store):
    other = emu.create_site(name="Other")
    answer = connect(owner_client, **fields(store, wix, api_key=other.api_key))
    assert "Wix refused the key for this site: check the site id" in answer.text
    assert not Site.objects.exists()


def test_unreachable_wix_is_reported(owner_client, wix, store, settings):
    nowhere = f"http://127.0.0.1:{free_port()}/sandbox"
    settings.WIX_ALLOWED_BASE_URLS = [wix, nowhere]
    answer = connect(owner_client, **fields(store, wix, api_base_url=nowhere))
    assert f"Could not reach Wix emulator ({nowhere}) to check the key" in answer.text
    assert not Site.objects.exists()


def test_a_site_wix_does_not_know_is_reported(owner_client, settings):
    # The emulator answers 403 for a site it does not know; real Wix may answer 404, which only a
    # stand-in for www.wixapis.com can produce here.
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    with responses.RequestsMock() as wix:
        wix.get(
            re.compile(r"https://www\.wixapis\.com/wix-data/v2/backups.*"),
            status=404,
            json={"message": "site not found", "details": {}},
        )
        answer = owner_client.post(
            reverse("sites:connect"),
            {
                "name": "Ghost",
                "wix_site_id": "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
                "api_key": "IST.some-key",
                "api_base_url": "https://www.wixapis.com",
            },
        )
    assert "Wix does not know this site id" in answer.text
    assert not Site.objects.exists()


def test_the_key_is_never_sent_back_to_the_browser_after_a_refusal(owner_client, wix, store):
    answer = connect(owner_client, **fields(store, wix, api_key="IST.never-issued-key"))
    assert "IST.never-issued-key" not in answer.text
    assert 'value="Candle Shop"' in answer.text  # the rest of the form is kept


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"wix_site_id": "my-shop"}, "wix_site_id", "A Wix site id looks like"),
        ({"api_key": ""}, "api_key", "Paste the site&#x27;s API key."),
        ({"api_key": "IST.two words"}, "api_key", "An API key has no spaces"),
        ({"api_key": "IST.“curly”"}, "api_key", "An API key has no spaces"),
        ({"api_base_url": "http://evil.example/sandbox"}, "api_base_url", "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error_and_asks_nothing_of_wix(
    owner_client, owner, overrides, field, message, settings
):
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    data = {
        "name": "Shop",
        "wix_site_id": "0b7c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
        "api_key": "IST.key",
        "api_base_url": "https://www.wixapis.com",
        **overrides,
    }
    with responses.RequestsMock():  # any call to Wix would fail this test
        answer = owner_client.post(reverse("sites:connect"), data)
    assert answer.status_code == 200
    assert answer.context["form"].has_error(field)
    assert message in answer.text
    assert not Site.objects.exists()


def test_a_site_already_connected_is_refused(owner_client, owner, wix, store):
    assert connect(owner_client, **fields(store, wix)).status_code == 302
    again = connect(owner_client, **fields(store, wix, name="Again"))
    assert "You have already connected this site (as “Candle Shop”)" in again.text
    assert Site.objects.filter(owner=owner).count() == 1


def test_the_same_wix_site_may_be_connected_by_two_owners(owner_client, outsider, wix, store):
    Site.objects.create(owner=outsider, name="Theirs", wix_site_id=store.site_id, api_base_url=wix)
    assert connect(owner_client, **fields(store, wix)).status_code == 302


def test_app_installations_connect_by_instance_id_when_the_app_is_configured(
    owner_client, owner, wix, store, settings
):
    settings.WIX_APP_ID, settings.WIX_APP_SECRET = store.app_id, store.app_secret
    html = owner_client.get(reverse("sites:connect")).text
    assert "App instance id" in html
    answer = connect(
        owner_client,
        **fields(store, wix, api_key="", auth=Site.APP, instance_id=store.instance_id),
    )
    assert answer.status_code == 302
    site = Site.objects.get(owner=owner)
    assert site.auth_kind == Site.APP and site.instance_id == store.instance_id
    assert site.secret_encrypted == ""


def test_connecting_through_the_app_needs_the_instance_id(owner_client, wix, store, settings):
    settings.WIX_APP_ID, settings.WIX_APP_SECRET = store.app_id, store.app_secret
    answer = connect(owner_client, **fields(store, wix, auth=Site.APP, instance_id=""))
    assert "Enter the app instance id." in answer.text
    assert not Site.objects.exists()


def test_the_key_is_kept_out_of_error_reports(owner):
    request = RequestFactory().post(reverse("sites:connect"), {"api_key": "IST.secret"})
    request.user = owner
    views.site_connect(request)
    assert request.sensitive_post_parameters == ("api_key",)
