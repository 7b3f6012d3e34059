"""Fixtures of the engine's step-by-step tests; those the browser tests share live in
tests/conftest.py (`owner`, `workers`, `connect`, ...)."""

import pytest

from tests.factories import connect_emulated_store


@pytest.fixture
def store(emulator_url, settings, owner):
    """A connected emulated store whose work takes a minute (tests move its clock)."""
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    return connect_emulated_store(
        owner, emulator_url, name="Shop", backup=60, restore=60, delete=60
    )
