"""The client against wixemulator/ over real HTTP: every method, app OAuth with expiry and refresh,
paging, and every error class, the faults coming from the emulator's own fault injection."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from wixapi import (
    ApiKeyAuth,
    AppOAuth,
    BackupStatus,
    BackupType,
    MemoryTokenCache,
    RestorationStatus,
    RestoreCollection,
    WixAuthError,
    WixBackupsClient,
    WixConflict,
    WixNotFound,
    WixPermissionError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
    WixValidationError,
)
from wixemulator import services as emu


class FrozenClock:
    """The client's idea of time, moved by hand (the emulator's token expiry uses real time)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(emulator_url, sleeps) -> Iterator[Callable[..., WixBackupsClient]]:
    clients: list[WixBackupsClient] = []

    def make(auth: Any, **options: Any) -> WixBackupsClient:
        options.setdefault("read_timeout", 10.0)
        options.setdefault("sleep", sleeps.append)
        client = WixBackupsClient(base_url=emulator_url, auth=auth, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def site(emu_site) -> emu.SiteCredentials:
    # Work takes a minute on the site's clock, so what a test sees PENDING stays PENDING however
    # slow the machine; finish_pending_work() moves the clock instead of sleeping.
    emu.set_delays(emu_site.site_id, backup_seconds=60, restore_seconds=60, delete_seconds=60)
    return emu_site


@pytest.fixture
def client(connect, site) -> WixBackupsClient:
    return connect(ApiKeyAuth(api_key=site.api_key, site_id=site.site_id))


def finish_pending_work(site) -> None:
    emu.advance_clock(site.site_id, seconds=61)


def find(client: WixBackupsClient, backup_id: str):
    return next(b for b in client.iter_backups() if b.id == backup_id)


# --- every method -------------------------------------------------------------------------------


def test_a_backup_goes_from_pending_to_ready_with_its_size_and_collections(client, site):
    backup = client.create_backup()

    assert backup.status is BackupStatus.PENDING
    assert backup.type is BackupType.ON_DEMAND
    assert isinstance(backup.requested_date, datetime)
    assert backup.requested_date.tzinfo is not None
    assert backup.size_in_bytes is None

    finish_pending_work(site)
    ready = find(client, backup.id)

    assert ready.status is BackupStatus.READY
    assert ready.finished_date is not None and ready.finished_date >= ready.requested_date
    assert isinstance(ready.size_in_bytes, int) and ready.size_in_bytes > 0
    assert ready.collections and all(c.id for c in ready.collections)


def test_list_backups_filters_by_status_and_type(client, site):
    on_demand = client.create_backup()
    finish_pending_work(site)
    auto = emu.take_auto_backup(site.site_id)

    ready = client.list_backups(status=[BackupStatus.READY], limit=50, offset=0)
    autos = client.list_backups(type=[BackupType.AUTO])
    pending_auto = client.list_backups(status=["PENDING"], type=["AUTO"])

    assert on_demand.id in [b.id for b in ready.items]
    assert all(b.status == "READY" for b in ready.items)
    assert [b.id for b in autos.items] == [str(auto.id)]
    assert autos.items[0].type is BackupType.AUTO
    assert [b.id for b in pending_auto.items] == [str(auto.id)]
    assert (ready.count, ready.offset, ready.total) == (len(ready.items), 0, len(ready.items))


def test_paging_reads_every_backup_across_more_than_one_page(client, site):
    made = [client.create_backup().id for _ in range(5)]
    emu.take_auto_backup(site.site_id)
    emu.take_auto_backup(site.site_id)
    everything = client.list_backups(limit=1000)

    first = client.list_backups(limit=3, offset=0)
    paged = list(client.iter_backups(page_size=3))

    assert everything.total == len(everything.items) == 7
    assert (first.count, first.total) == (3, 7)
    assert [b.id for b in paged] == [b.id for b in everything.items]
    assert set(made) <= {b.id for b in paged}
    # Newest first, as the contract says.
    dates = [b.requested_date for b in paged]
    assert dates == sorted(dates, reverse=True)


def test_a_fourth_on_demand_backup_evicts_the_oldest_which_stays_listed_deleted(client, site):
    first, *_ = [client.create_backup() for _ in range(4)]

    evicted = find(client, first.id)

    assert evicted.status is BackupStatus.DELETED
    assert evicted.deleted_date is not None


def test_a_full_restore_restores_every_collection_and_completes(client, site):
    backup = client.create_backup()
    finish_pending_work(site)

    restoration = client.restore_backup(backup.id)

    assert restoration.status is RestorationStatus.PENDING
    assert restoration.backup.id == backup.id
    assert restoration.backup.status is BackupStatus.READY
    backed_up = {c.id for c in find(client, backup.id).collections}
    assert {c.data_collection_id for c in restoration.restoration_collections} == backed_up
    assert all(c.destination_id is None for c in restoration.restoration_collections)

    finish_pending_work(site)
    (done,) = client.list_restorations(status=[RestorationStatus.COMPLETED]).items

    assert done.id == restoration.id
    assert done.finished_date is not None


def test_a_partial_restore_into_a_new_collection_reports_its_destination(client, site):
    backup = client.create_backup()
    finish_pending_work(site)
    source = find(client, backup.id).collections[0].id

    restoration = client.restore_partial_backup(
        backup.id, [RestoreCollection(source, "RestoredCopy", "Restored copy")]
    )

    assert restoration.restoration_collections == (
        RestoreCollection(source, "RestoredCopy", "Restored copy"),
    )
    assert [r.id for r in client.iter_restorations(status=["PENDING"])] == [restoration.id]


def test_iter_restorations_pages_through_every_restoration(client, site):
    backup = client.create_backup()
    ids = []
    for _ in range(3):
        finish_pending_work(site)
        ids.append(client.restore_backup(backup.id).id)
    finish_pending_work(site)

    paged = [r.id for r in client.iter_restorations(page_size=2)]

    assert paged == list(reversed(ids))
    assert client.list_restorations(limit=2).total == 3


def test_delete_answers_at_once_and_the_backup_turns_deleted(client, site):
    backup = client.create_backup()
    finish_pending_work(site)

    assert client.delete_backup(backup.id) is None

    finish_pending_work(site)
    deleted = find(client, backup.id)
    assert deleted.status is BackupStatus.DELETED
    assert deleted.deleted_date is not None


def test_a_backup_that_ends_failed_is_reported_failed(client, site):
    emu.set_faults(site.site_id, fail_rate=1.0)
    backup = client.create_backup()
    finish_pending_work(site)

    assert find(client, backup.id).status is BackupStatus.FAILED


# --- app OAuth ----------------------------------------------------------------------------------


def app_auth(site, **options: Any) -> AppOAuth:
    return AppOAuth(site.app_id, site.app_secret, site.instance_id, **options)


def test_every_method_works_with_app_oauth(connect, site):
    client = connect(app_auth(site))

    backup = client.create_backup()
    finish_pending_work(site)
    restoration = client.restore_backup(backup.id)
    finish_pending_work(site)
    collection = find(client, backup.id).collections[0].id
    partial = client.restore_partial_backup(backup.id, [RestoreCollection(collection)])
    finish_pending_work(site)
    client.delete_backup(backup.id)

    assert [r.id for r in client.iter_restorations()] == [partial.id, restoration.id]
    assert client.list_backups().items[0].id == backup.id


def test_a_token_is_renewed_before_it_expires(connect, site, settings):
    settings.WIXEMULATOR_TOKEN_SECONDS = 100
    clock = FrozenClock()
    cache = MemoryTokenCache()
    auth = app_auth(site, token_cache=cache, clock=clock)
    client = connect(auth)

    client.list_backups()
    first = cache.get(auth.cache_key(client.base_url))["access_token"]
    clock.now += 85
    client.list_backups()
    still = cache.get(auth.cache_key(client.base_url))["access_token"]
    clock.now += 10  # past 90 s: within a tenth of the 100 s lifetime
    client.list_backups()
    renewed = cache.get(auth.cache_key(client.base_url))["access_token"]

    assert first == still != renewed


def test_a_token_that_expired_at_wix_is_replaced_after_one_401(connect, site, settings):
    # The client's clock stands still, so only Wix knows the token expired (a skewed clock).
    settings.WIXEMULATOR_TOKEN_SECONDS = 1
    cache = MemoryTokenCache()
    auth = app_auth(site, token_cache=cache, clock=FrozenClock())
    client = connect(auth)
    client.list_backups()
    expired = cache.get(auth.cache_key(client.base_url))["access_token"]
    time.sleep(1.1)

    backup = client.create_backup()

    assert backup.status is BackupStatus.PENDING
    assert cache.get(auth.cache_key(client.base_url))["access_token"] != expired


class CountingCache(MemoryTokenCache):
    def __init__(self) -> None:
        super().__init__()
        self.stored = 0

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self.stored += 1
        super().set(key, value, timeout)


def test_workers_sharing_a_cache_fetch_one_token(connect, site):
    shared = CountingCache()
    workers = [connect(app_auth(site, token_cache=shared)) for _ in range(3)]

    for worker in workers:
        worker.list_backups()

    assert shared.stored == 1


def test_wrong_app_secret_is_an_auth_error(connect, site):
    client = connect(AppOAuth(site.app_id, "not-the-secret", site.instance_id))

    with pytest.raises(WixAuthError) as caught:
        client.list_backups()

    assert caught.value.code == "UNAUTHENTICATED"


def test_an_app_not_installed_on_the_instance_is_a_permission_error(connect, site):
    client = connect(AppOAuth(site.app_id, site.app_secret, str(uuid.uuid4())))

    with pytest.raises(WixPermissionError):
        client.list_backups()


# --- errors -------------------------------------------------------------------------------------


def test_an_unknown_api_key_is_an_auth_error_with_a_request_id(connect, site):
    client = connect(ApiKeyAuth(api_key="IST.unknown", site_id=site.site_id))

    with pytest.raises(WixAuthError) as caught:
        client.list_backups()

    assert caught.value.status == 401
    assert caught.value.request_id


def test_a_key_used_on_another_site_is_a_permission_error(connect, site):
    other = emu.create_site(name="Other")
    client = connect(ApiKeyAuth(api_key=site.api_key, site_id=other.site_id))

    with pytest.raises(WixPermissionError) as caught:
        client.create_backup()

    assert caught.value.code == "PERMISSION_DENIED"


def test_a_key_without_manage_backups_is_a_permission_error(connect, site):
    key = emu.add_api_key(site.site_id, can_manage_backups=False)
    client = connect(ApiKeyAuth(api_key=key, site_id=site.site_id))

    with pytest.raises(WixPermissionError):
        client.list_restorations()


def test_an_unknown_backup_is_not_found(client):
    with pytest.raises(WixNotFound) as caught:
        client.restore_backup(str(uuid.uuid4()))

    assert caught.value.code == "BACKUP_NOT_FOUND"


def test_a_page_larger_than_wix_allows_is_a_validation_error_naming_the_field(client):
    with pytest.raises(WixValidationError) as caught:
        client.list_backups(limit=1001)

    assert caught.value.field_violations[0]["field"] == "paging.limit"


def test_an_id_that_is_not_a_guid_is_a_validation_error(client):
    with pytest.raises(WixValidationError):
        client.delete_backup("not-a-guid")


def test_restoring_a_pending_backup_is_a_conflict(client):
    backup = client.create_backup()

    with pytest.raises(WixConflict) as caught:
        client.restore_backup(backup.id)

    assert (caught.value.status, caught.value.code) == (428, "BACKUP_NOT_READY")


def test_deleting_a_pending_backup_is_a_conflict(client):
    backup = client.create_backup()

    with pytest.raises(WixConflict) as caught:
        client.delete_backup(backup.id)

    assert (caught.value.status, caught.value.code) == (428, "BACKUP_IN_USE")


def test_a_second_restoration_while_one_runs_is_a_conflict(client, site):
    backup = client.create_backup()
    finish_pending_work(site)
    client.restore_backup(backup.id)

    with pytest.raises(WixConflict) as caught:
        client.restore_backup(backup.id)

    assert (caught.value.status, caught.value.code) == (409, "RESTORATION_IN_PROGRESS")


def test_past_the_rate_limit_a_long_retry_after_is_left_to_the_caller(client, settings, sleeps):
    settings.WIXEMULATOR_RATE_LIMIT = 3
    for _ in range(3):
        client.list_backups()

    with pytest.raises(WixRateLimited) as caught:
        client.list_backups()

    assert caught.value.code == "RESOURCE_EXHAUSTED"
    assert caught.value.retry_after > 30
    assert sleeps == []


# --- faults: retried GETs, never-retried POSTs ---------------------------------------------------


def test_a_get_rides_out_injected_server_errors(client, site, sleeps):
    emu.set_faults(site.site_id, error_rate=1.0, count=2)

    assert client.list_backups().items == ()
    assert len(sleeps) == 2


def test_a_get_that_keeps_failing_raises_a_server_error(connect, site, sleeps):
    client = connect(ApiKeyAuth(api_key=site.api_key, site_id=site.site_id), max_retries=2)
    emu.set_faults(site.site_id, error_rate=1.0)

    with pytest.raises(WixServerError) as caught:
        client.list_backups()

    assert caught.value.status in (500, 503)
    assert caught.value.transient
    assert len(sleeps) == 2


def test_a_get_waits_out_an_injected_429_and_succeeds(client, site, sleeps):
    emu.set_faults(site.site_id, rate_limit_rate=1.0, count=1)

    assert client.list_restorations().items == ()
    assert sleeps and sleeps[0] >= 1.0  # the emulator's Retry-After: 1


def test_a_create_hit_by_a_server_error_is_not_retried_and_made_nothing(client, site, sleeps):
    emu.set_faults(site.site_id, error_rate=1.0, count=1)

    with pytest.raises(WixServerError):
        client.create_backup()

    assert sleeps == []
    assert client.list_backups().items == ()


def test_a_dropped_create_is_unavailable_yet_may_have_happened(client, site, sleeps):
    emu.set_faults(site.site_id, drop_rate=1.0, count=1)

    with pytest.raises(WixUnavailable):
        client.create_backup()

    # Not retried, and the backup exists: the ambiguity the caller resolves by listing.
    assert sleeps == []
    assert len(client.list_backups().items) == 1


def test_a_get_with_a_dropped_connection_is_retried(client, site, sleeps):
    emu.set_faults(site.site_id, drop_rate=1.0, count=1)

    assert client.list_backups().total == 0
    assert len(sleeps) == 1


def test_a_delayed_answer_past_the_read_timeout_is_unavailable_and_a_get_retries(
    connect, site, sleeps
):
    client = connect(ApiKeyAuth(api_key=site.api_key, site_id=site.site_id), read_timeout=0.3)
    emu.set_faults(site.site_id, delay_rate=1.0, delay_seconds=1.0, count=2)

    with pytest.raises(WixUnavailable):
        client.delete_backup(str(uuid.uuid4()))
    page = client.list_backups()

    assert page.items == ()
    assert len(sleeps) == 1
    # The emulator still finishes the abandoned requests; let it, before the test database goes.
    time.sleep(1.0)
