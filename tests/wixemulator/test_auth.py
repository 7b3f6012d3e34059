import pytest
import requests

from wixemulator import services as emu
from wixemulator.models import EmuBackup

from .conftest import BACKUPS


def token_for(emulator_url, creds, **overrides):
    body = {
        "grant_type": "client_credentials",
        "client_id": creds.app_id,
        "client_secret": creds.app_secret,
        "instance_id": creds.instance_id,
        **overrides,
    }
    return requests.post(emulator_url + "/oauth2/token", json=body, timeout=10)


def test_api_key_with_its_site_is_accepted(wix):
    assert wix.call("GET", BACKUPS).status_code == 200


def test_unknown_key_is_401(wix):
    answer = wix.call("GET", BACKUPS, headers={"Authorization": "IST.not-a-key"})
    assert answer.status_code == 401
    assert answer.headers["X-Wix-Request-Id"]
    assert answer.json()["message"]


@pytest.mark.parametrize("site_header", ["", "00000000-0000-0000-0000-000000000000"])
def test_missing_or_wrong_site_header_is_403(wix, site_header):
    answer = wix.call("POST", BACKUPS, headers={"wix-site-id": site_header})
    assert answer.status_code == 403
    assert not EmuBackup.objects.exists()


def test_missing_authorization_is_403(wix, emulator_url):
    answer = requests.get(
        emulator_url + BACKUPS, headers={"wix-site-id": wix.creds.site_id}, timeout=10
    )
    assert answer.status_code == 403


def test_a_key_of_another_site_is_403_for_this_site(wix):
    other = emu.create_site(name="Other")
    answer = wix.call("POST", BACKUPS, headers={"Authorization": other.api_key})
    assert answer.status_code == 403
    assert not EmuBackup.objects.exists()


def test_a_key_lacking_manage_data_backups_is_403(wix):
    weak = emu.add_api_key(wix.creds.site_id, can_manage_backups=False)
    answer = wix.call("GET", BACKUPS, headers={"Authorization": weak})
    assert answer.status_code == 403
    assert "MANAGE-BACKUPS" in answer.json()["message"]


def test_bearer_prefix_is_not_part_of_wix_auth(wix):
    answer = wix.call("GET", BACKUPS, headers={"Authorization": "Bearer " + wix.creds.api_key})
    assert answer.status_code == 401


def test_oauth_client_credentials_token_acts_on_the_installed_site(emulator_url, emu_site):
    answer = token_for(emulator_url, emu_site)
    assert answer.status_code == 200
    assert answer.headers["X-Wix-Request-Id"]
    token = answer.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 14400

    created = requests.post(
        emulator_url + BACKUPS,
        json={},
        headers={"Authorization": token["access_token"]},
        timeout=10,
    )
    assert created.status_code == 200
    assert EmuBackup.objects.get().site_id.hex == emu_site.site_id.replace("-", "")


def test_oauth_token_expires_after_expires_in(emulator_url, emu_site, settings):
    settings.WIXEMULATOR_TOKEN_SECONDS = 0
    token = token_for(emulator_url, emu_site).json()
    assert token["expires_in"] == 0
    answer = requests.get(
        emulator_url + BACKUPS, headers={"Authorization": token["access_token"]}, timeout=10
    )
    assert answer.status_code == 401
    assert "expired" in answer.json()["message"]


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"client_secret": "wrong"}, 401),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 401),
        ({"instance_id": "00000000-0000-0000-0000-000000000000"}, 403),
        ({"grant_type": "password"}, 400),
        ({"instance_id": "not-a-guid"}, 400),
        ({"client_secret": None}, 400),
    ],
)
def test_oauth_refuses_bad_credentials(emulator_url, emu_site, overrides, status):
    answer = token_for(emulator_url, emu_site, **overrides)
    assert answer.status_code == status
    assert "access_token" not in answer.text


def test_oauth_token_endpoint_refuses_bad_json_and_wrong_method(emulator_url, emu_site):
    bad = requests.post(emulator_url + "/oauth2/token", data=b"{nope", timeout=10)
    assert bad.status_code == 400
    assert bad.json()["message"]
    assert requests.get(emulator_url + "/oauth2/token", timeout=10).status_code == 405
