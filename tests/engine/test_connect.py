"""Connecting a site, step by step: the credentials are checked live against the emulator,
refused in plain words, and kept encrypted (also after a key rotation)."""

import pytest

from sites import connections, crypto
from sites.models import Site
from wixemulator import services as emu
from wixemulator.models import EmuRequestLog


def test_connect_keeps_the_key_encrypted_with_only_its_last_four_characters_readable(store):
    site, creds = store
    site.refresh_from_db()
    assert creds.api_key not in site.secret_encrypted
    assert crypto.decrypt(site.secret_encrypted) == creds.api_key
    assert site.secret_hint == creds.api_key[-4:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_key": "IST.unknown"}, "does not know this API key"),
        ({"wix_site_id": "00000000-0000-0000-0000-000000000000"}, "check the site id"),
    ],
)
def test_connect_refuses_bad_credentials_in_plain_words_and_keeps_nothing(
    emulator_url, settings, owner, change, message
):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    creds = emu.create_site(name="Shop")
    fields = {"wix_site_id": creds.site_id, "api_key": creds.api_key, **change}
    with pytest.raises(connections.ConnectionProblem, match=message):
        connections.site_connect(owner=owner, name="Shop", api_base_url=emulator_url, **fields)
    assert not Site.objects.exists()


def test_connect_refuses_a_key_without_manage_data_backups(emulator_url, settings, owner):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    creds = emu.create_site(name="Shop")
    weak = emu.add_api_key(creds.site_id, can_manage_backups=False)
    with pytest.raises(connections.ConnectionProblem, match="Manage Data Backups"):
        connections.site_connect(
            owner=owner,
            name="S",
            wix_site_id=creds.site_id,
            api_key=weak,
            api_base_url=emulator_url,
        )


def test_connect_refuses_a_base_url_outside_the_allowed_list(emulator_url, settings, owner):
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    creds = emu.create_site(name="Shop")
    with pytest.raises(connections.ConnectionProblem, match="not allowed"):
        connections.site_connect(
            owner=owner,
            name="S",
            wix_site_id=creds.site_id,
            api_key=creds.api_key,
            api_base_url=emulator_url,
        )
    assert not EmuRequestLog.objects.exists()  # no request left for a host not allowed


def test_connect_says_when_wix_cannot_be_reached(settings, owner, transactional_db):
    settings.WIX_ALLOWED_BASE_URLS = ["http://127.0.0.1:9/sandbox"]
    with pytest.raises(connections.ConnectionProblem, match="Could not reach"):
        connections.site_connect(
            owner=owner,
            name="S",
            wix_site_id="x",
            api_key="k",
            api_base_url="http://127.0.0.1:9/sandbox",
        )


def test_rotation_re_encrypts_with_the_new_key_and_old_key_can_go(store, settings):
    from cryptography.fernet import Fernet

    site, creds = store
    new_key = Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [new_key, *settings.SECRETS_ENCRYPTION_KEYS]
    assert connections.secrets_rotate() == 1
    settings.SECRETS_ENCRYPTION_KEYS = [new_key]
    site.refresh_from_db()
    assert crypto.decrypt(site.secret_encrypted) == creds.api_key
