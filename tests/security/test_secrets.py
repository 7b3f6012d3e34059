"""Secrets: encrypted at rest, and absent from error reports, admin pages and exceptions."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from sites import connections, crypto, views
from sites.models import Site
from sites.wix_clients import client_for
from tests.factories import KEY, make_site
from wixapi import WixAuthError

SITE_ID = "1a2b3c4d-1234-5678-9abc-1a2b3c4d5e6f"


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("owner", password="pw-owner-123456")


def test_an_error_report_of_a_failed_connect_holds_no_key(owner, monkeypatch, settings):
    # What the operator would get by e-mail (AdminEmailHandler) or in Sentry-like tools.
    settings.DEBUG = False
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]

    def broken(*, site: Site) -> None:
        raise RuntimeError("a bug while checking the key")

    monkeypatch.setattr(connections, "credentials_check", broken)
    request = RequestFactory().post(
        "/sites/connect/",
        {
            "name": "Shop",
            "wix_site_id": SITE_ID,
            "api_key": KEY,
            "api_base_url": "https://www.wixapis.com",
        },
    )
    request.user = owner
    request._dont_enforce_csrf_checks = True
    with pytest.raises(RuntimeError) as failure:
        views.site_connect(request)
    reporter = ExceptionReporter(request, failure.type, failure.value, failure.tb)
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "a bug while checking the key" in text  # the report is there, and useful
    assert "site_connect" in text
    for report in (text, html):
        assert KEY not in report
        assert KEY[-12:] not in report


def test_the_key_is_stored_encrypted_and_no_table_of_ours_holds_it(owner):
    site = make_site(owner)
    stored = Site.objects.values_list("secret_encrypted", flat=True).get(pk=site.pk)
    assert KEY not in stored and crypto.decrypt(stored) == KEY
    dump = io.StringIO()
    # The emulator stands in for Wix, which must know the key; every table of ours must not.
    call_command("dumpdata", "--exclude", "wixemulator", stdout=dump)
    assert KEY not in dump.getvalue()


def test_rotation_under_a_new_key_keeps_sites_working_without_downtime(owner, settings):
    site = make_site(owner)
    old = list(settings.SECRETS_ENCRYPTION_KEYS)
    from cryptography.fernet import Fernet

    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    # Before rotation both keys read: requests keep working while rotate_secrets runs.
    assert crypto.decrypt(Site.objects.get(pk=site.pk).secret_encrypted) == KEY
    assert connections.secrets_rotate() == 1
    settings.SECRETS_ENCRYPTION_KEYS = settings.SECRETS_ENCRYPTION_KEYS[:1]
    assert crypto.decrypt(Site.objects.get(pk=site.pk).secret_encrypted) == KEY


def test_admin_list_and_detail_pages_show_no_key(owner, client):
    site = make_site(owner)
    staff = get_user_model().objects.create_user("staff", is_staff=True, is_superuser=True)
    client.force_login(staff)
    for url in [
        "/admin/sites/site/",
        f"/admin/sites/site/{site.pk}/change/",
        "/admin/sites/activity/",
        "/admin/sites/operation/",
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert KEY not in page.text and site.secret_encrypted not in page.text, url


def test_clients_auth_and_errors_never_print_the_key(owner, emulator_url, settings):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    site = make_site(owner, api_base_url=emulator_url)
    with client_for(site) as client:
        assert KEY not in repr(client) and KEY not in str(client)
        with pytest.raises(WixAuthError) as refused:  # the emulator does not know this key
            client.list_backups(limit=1)
    assert KEY not in str(refused.value) and KEY not in repr(refused.value)
    assert KEY not in repr(site) and KEY not in str(site)
