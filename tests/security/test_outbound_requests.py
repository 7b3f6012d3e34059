"""Outbound requests go only to the allowed Wix base URLs: no request forgery through a site's
settings, the connect form, the shell command, or a redirect."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from sites import connections, crypto, engine
from sites.models import Operation, Site
from tests.factories import KEY, PASSWORD


@pytest.fixture
def owner(transactional_db, django_user_model):
    return django_user_model.objects.create_user("owner", password=PASSWORD)


SITE_ID = "1a2b3c4d-1234-5678-9abc-1a2b3c4d5e6f"


def test_the_connect_form_refuses_a_base_url_outside_the_allowed_list(
    client, owner, fake_host, settings
):
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    client.force_login(owner)
    answer = client.post(
        reverse("sites:connect"),
        {
            "name": "Shop",
            "wix_site_id": SITE_ID,
            "api_key": KEY,
            "api_base_url": fake_host.url,
        },
    )
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.text
    assert fake_host.requests == []
    assert not Site.objects.exists()


def test_the_service_and_the_shell_command_refuse_it_even_without_the_live_check(
    owner, fake_host, settings, monkeypatch
):
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    with pytest.raises(connections.ConnectionProblem, match="not allowed"):
        connections.site_connect(
            owner=owner,
            name="Shop",
            wix_site_id=SITE_ID,
            api_key=KEY,
            api_base_url=fake_host.url,
            check=False,
        )
    monkeypatch.setenv("WIX_API_KEY", KEY)
    with pytest.raises(CommandError, match="not allowed"):
        call_command(
            "connect_site",
            "--owner=owner",
            "--name=Shop",
            f"--wix-site-id={SITE_ID}",
            f"--base-url={fake_host.url}",
            "--skip-check",
            stdout=io.StringIO(),
        )
    assert fake_host.requests == []
    assert not Site.objects.exists()


def test_a_site_whose_base_url_is_no_longer_allowed_gets_no_request(owner, fake_host, settings):
    # Connected while allowed; the operator then narrowed the list (or the row was tampered with).
    settings.WIX_ALLOWED_BASE_URLS = [fake_host.url]
    site = Site.objects.create(
        owner=owner,
        name="Shop",
        wix_site_id=SITE_ID,
        secret_encrypted=crypto.encrypt(KEY),
        api_base_url=fake_host.url,
    )
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    operation = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP)
    engine.operation_submit(operation_id=operation.pk)
    engine.site_refresh(site_id=site.pk)
    operation.refresh_from_db()
    site.refresh_from_db()
    assert operation.state == Operation.State.FAILED
    assert "not allowed" in operation.error
    assert site.credentials_rejected and "not allowed" in site.last_sync_error
    assert fake_host.requests == []


def test_a_redirect_from_an_allowed_host_is_not_followed_and_the_key_goes_nowhere_else(
    owner, fake_host, other_host, settings
):
    settings.WIX_ALLOWED_BASE_URLS = [fake_host.url]
    fake_host.answer(302, b"", Location=other_host.url + "/steal")
    with pytest.raises(connections.ConnectionProblem):
        connections.site_connect(
            owner=owner, name="Shop", wix_site_id=SITE_ID, api_key=KEY, api_base_url=fake_host.url
        )
    assert [r.headers.get("Authorization") for r in fake_host.requests] == [KEY]
    assert other_host.requests == []
    assert not Site.objects.exists()
