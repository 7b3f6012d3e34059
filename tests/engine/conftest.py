"""Fixtures of the engine's step-by-step tests; those the browser tests share live in
tests/conftest.py (`owner`, `engine`, `connect`, ...)."""

import pytest

from sites import services
from wixemulator import services as emu


@pytest.fixture
def store(emulator_url, settings, owner):
    """A connected emulated store whose work takes a minute (tests move its clock)."""
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    creds = emu.create_site(name="Shop", demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=60, restore_seconds=60, delete_seconds=60)
    site = services.site_connect(
        owner=owner,
        name="Shop",
        wix_site_id=creds.site_id,
        api_key=creds.api_key,
        api_base_url=emulator_url,
    )
    return site, creds
