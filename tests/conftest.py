"""Project-wide fixtures.

CI sets WBM_REQUIRE_SERVICES=1 (in .ci/run): there a skipped test is a failed test, so a test that
quietly skipped because Redis, PostgreSQL or Chromium was missing can never pass CI.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from sites.engine import operation_request
from sites.models import Operation, Site
from tests.factories import connect_emulated_store
from wixemulator import services as emu

from .processes import CeleryProcess, RedisServer, wait_for


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
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer | None]:
    """A real Redis for the whole run when redis-server is installed, else an in-memory broker.

    Tasks that views and services enqueue go to this broker; only the integration tests run a
    worker that consumes them (and flush what earlier tests left first). Its folder is pytest's
    (tmp_path_factory), so nothing is left in the temporary directory beyond pytest's own.
    """
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    # Celery reads CELERY_BROKER_URL from the environment before any setting.
    if server.binary is None:
        os.environ["CELERY_BROKER_URL"] = "memory://"
        yield None
        return
    server.start()
    os.environ["CELERY_BROKER_URL"] = server.url
    yield server
    server.stop()


# --- The operations engine for real: PostgreSQL, a Celery worker and beat on Redis, the emulator.
# The worker and beat are child processes on the same test database as this process; the
# emulator answers from this process's live server, over HTTP, exactly as Wix would.


POLL = 1.0


@dataclass
class Workers:
    redis: RedisServer
    worker: CeleryProcess
    beat: CeleryProcess
    base_url: str

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()


WORKER_DB_NAME = "wbm-test-worker"


@pytest.fixture
def workers(
    redis_server, live_server, transactional_db, settings, tmp_path: Path
) -> Iterator[Workers]:
    if redis_server is None:
        pytest.skip("redis-server is not installed (scripts/services ensure installs it)")
    if connection.vendor != "postgresql":
        pytest.skip("the engine tests need PostgreSQL (make test starts one)")
    base_url = live_server.url + "/sandbox"
    settings.WIX_ALLOWED_BASE_URLS = [base_url]
    # The worker's snapshots and this process's reads of them: the test's own folder.
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backupapp.settings",
        # Named, so a test can tell the worker's connections from everyone else's.
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            f"?application_name={WORKER_DB_NAME}"
        ),
        "REDIS_URL": redis_server.url,
        "WIX_ALLOWED_BASE_URLS": base_url,
        "SECRETS_ENCRYPTION_KEYS": ",".join(settings.SECRETS_ENCRYPTION_KEYS),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "WBM_SWEEP_INTERVAL": "0.5",
        "WBM_POLL_INTERVAL": str(POLL),
        "WBM_CLAIM_SECONDS": "8",
        "WBM_SYNC_INTERVAL": "3600",
        # The schedules' beat tick: a schedule made due by a test runs within a second.
        "WBM_SCHEDULE_TICK": "1",
        "WIX_READ_TIMEOUT": "2",
        "WIX_CONNECT_TIMEOUT": "2",
        # A create whose answer never came is waited for this long (engine/landing.py): long
        # enough for the late answers the tests inject (4 s), short enough for a test to see
        # the honest failure when the request never left (a worker killed just before it).
        "WBM_CREATE_LANDING_SECONDS": "20",
        "WBM_SNAPSHOT_STORAGE": settings.WBM_SNAPSHOT_STORAGE,
        # A killed worker's snapshot is resumed once this has passed since its last page.
        "WBM_SNAPSHOT_LEASE_SECONDS": "15",
        # A restore from a snapshot writes 100 items a call (Wix takes 1000), so the demo site's
        # 300 products take three calls and a test can stop it between two.
        "WBM_RESTORE_BULK_ITEMS": "100",
    }
    redis_server.flush()  # nothing left over from tests that enqueued without a worker
    # The worker's and beat's logs and beat's schedule: in the test's own tmp_path, which pytest
    # keeps for its last few runs (to read after a failure) and removes after that.
    running = Workers(
        redis=redis_server,
        worker=CeleryProcess("worker", env, tmp_path),
        beat=CeleryProcess("beat", env, tmp_path),
        base_url=base_url,
    )
    running.worker.start()
    running.beat.start()
    yield running
    running.stop()
    if redis_server.process is None:
        redis_server.start()


@pytest.fixture
def owner(transactional_db):
    return get_user_model().objects.create_user("owner", password="pw-owner-123456")


@pytest.fixture
def connect(workers, owner):
    """Connect a fresh emulated store the way the product does (credentials checked live)."""

    def make(name: str = "Store", **options: Any) -> tuple[Site, emu.SiteCredentials]:
        return connect_emulated_store(owner, workers.base_url, name=name, **options)

    return make


def wait_finished(operations: list[Operation], timeout: float = 120) -> list[Operation]:
    ids = [op.pk for op in operations]

    def done():
        rows = list(Operation.objects.filter(pk__in=ids))
        return rows if all(op.is_finished for op in rows) and len(rows) == len(ids) else None

    try:
        return wait_for(done, timeout, interval=0.25, what=f"{len(ids)} operations to finish")
    except AssertionError as error:
        # Say where each one stopped: the state alone tells which engine step never came.
        rows = Operation.objects.filter(pk__in=ids).values_list(
            "kind", "state", "backup_wix_id", "sent_at", "due_at", "claimed_until", "error"
        )
        raise AssertionError(f"{error}; operations: {list(rows)}") from None


def ready_backup(site: Site, owner) -> str:
    """Back up through the engine and return the READY backup's Wix id."""
    op = operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    (op,) = wait_finished([op])
    assert op.state == Operation.State.SUCCEEDED, op.error
    return op.backup_wix_id
