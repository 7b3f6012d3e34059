"""Fixtures of the engine's step-by-step tests; those the browser tests share live in
tests/conftest.py (`owner`, `workers`, `connect`, ...)."""

import pytest

from tests.factories import connect_emulated_store


@pytest.fixture
def store(emulator_url, settings, owner, tmp_path):
    """A connected emulated store whose work takes a minute (tests move its clock); its snapshots
    (the safety snapshot of every restore) in the test's own folder."""
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")
    return connect_emulated_store(
        owner, emulator_url, name="Shop", backup=60, restore=60, delete=60
    )
