"""Project-wide fixtures.

CI sets WBM_REQUIRE_SERVICES=1 (in .ci/run): there a skipped test is a failed test, so a test that
quietly skipped because Redis, PostgreSQL or Chromium was missing can never pass CI.
"""

import os
from collections.abc import Iterator

import pytest

from wixemulator import services as emu

from .processes import RedisServer


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and os.environ.get("WBM_REQUIRE_SERVICES")
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped, and skips are failures here (WBM_REQUIRE_SERVICES): {report.longrepr}"
        )


@pytest.fixture
def emulator_url(live_server) -> str:
    """Base URL of the emulator over real HTTP: a drop-in for https://www.wixapis.com."""
    return live_server.url + "/sandbox"


@pytest.fixture
def emu_site(transactional_db) -> emu.SiteCredentials:
    """An emulated store with demo content whose operations finish quickly."""
    creds = emu.create_site(name="Test Store", demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=0.3, restore_seconds=0.3, delete_seconds=0.1)
    return creds


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> Iterator[RedisServer | None]:
    """A real Redis for the whole run when redis-server is installed, else an in-memory broker.

    Tasks that views and services enqueue go to this broker; only the integration tests run a
    worker that consumes them (and flush what earlier tests left first).
    """
    server = RedisServer()
    # Celery reads CELERY_BROKER_URL from the environment before any setting.
    if server.binary is None:
        os.environ["CELERY_BROKER_URL"] = "memory://"
        yield None
        return
    server.start()
    os.environ["CELERY_BROKER_URL"] = server.url
    yield server
    server.stop()
