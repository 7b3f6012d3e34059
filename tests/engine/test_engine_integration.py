"""End to end: real worker and beat on real Redis and PostgreSQL, the emulator over HTTP."""

import itertools
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from sites import engine
from sites.engine import landing
from sites.models import Backup, Operation, Restoration, RestoreRun, Snapshot
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuItem, EmuRequestLog

from ..conftest import POLL, WORKER_DB_NAME, ready_backup, wait_finished
from ..processes import wait_for

LIST_PATH = "/sandbox/wix-data/v2/backups"


def stock(site_id: str, item_id: str = "product-0001") -> int:
    return EmuItem.objects.get(
        collection__site_id=site_id, collection__collection_id="Products", item_id=item_id
    ).data["stock"]


def set_stock(site_id: str, value: int) -> None:
    items = list(
        EmuItem.objects.filter(collection__site_id=site_id, collection__collection_id="Products")
    )
    for item in items:
        item.data = {**item.data, "stock": value}
    EmuItem.objects.bulk_update(items, ["data"])


def request(site, kind, owner, **kwargs) -> Operation:
    return engine.operation_request(site=site, kind=kind, user=owner, **kwargs)


def test_forty_operations_on_five_sites_end_right_with_one_list_call_per_site_per_poll(
    connect, owner
):
    sites = [connect(f"Store {n}") for n in range(5)]
    started = emu.EmuSite.objects.get(site_id=sites[0][1].site_id).now()
    originals = {creds.site_id: stock(creds.site_id) for _, creds in sites}

    # Three READY backups per site, one after the other (15 operations).
    backups = {site.pk: [ready_backup(site, owner) for _ in range(3)] for site, _ in sites}

    # In flight together on every site: a full restore from the newest backup, two deletes and a
    # new backup (20 operations).
    for _, creds in sites:
        set_stock(creds.site_id, 0)
    batch = []
    for site, _ in sites:
        first, second, third = backups[site.pk]
        batch += [
            request(site, Operation.Kind.RESTORE, owner, backup_wix_id=third),
            request(site, Operation.Kind.DELETE_BACKUP, owner, backup_wix_id=first),
            request(site, Operation.Kind.DELETE_BACKUP, owner, backup_wix_id=second),
            request(site, Operation.Kind.CREATE_BACKUP, owner),
        ]
    finished = wait_finished(batch)
    assert [op.error for op in finished if op.state != Operation.State.SUCCEEDED] == []
    for _, creds in sites:
        assert stock(creds.site_id) == originals[creds.site_id]  # the restore brought it back

    # Then a partial restore into another collection on every site (5 operations).
    for _, creds in sites:
        set_stock(creds.site_id, 0)
    partial = [
        request(
            site,
            Operation.Kind.RESTORE_PARTIAL,
            owner,
            backup_wix_id=backups[site.pk][2],
            collections=[
                {
                    "dataCollectionId": "Products",
                    "restoreDestination": {"dataCollectionId": "Recovered", "displayName": "R"},
                }
            ],
        )
        for site, _ in sites
    ]
    finished = wait_finished(partial)
    assert {op.state for op in finished} == {Operation.State.SUCCEEDED}

    # Once Wix completed each restore, the site was read again and what it changed counted.
    wait_for(
        lambda: not RestoreRun.objects.filter(counted_at__isnull=True).exists(),
        120,
        what="every Wix restore's changes counted",
    )
    assert Operation.objects.exclude(kind=Operation.Kind.SNAPSHOT).count() == 40
    # Each of the 20 "Back up now" also took a snapshot (the sites' setting, on by default), and
    # every restore one first, its safety net, complete before Wix was asked, and one after Wix
    # completed it (its reading): a restore and a snapshot asked while one runs share it (one
    # snapshot of a site at a time).
    snapshots = Operation.objects.filter(kind=Operation.Kind.SNAPSHOT)
    assert 20 <= snapshots.count() <= 40
    for restore in Operation.objects.filter(kind__in=Operation.RESTORES):
        safety = RestoreRun.objects.get(operation=restore).safety
        # Sent to Wix only after its safety snapshot completed: Wix received the restore (its
        # requestedDate, to the millisecond) after the snapshot's end. (Not the attempt's start:
        # a claim may begin just before the snapshot ends and see it complete when it looks.)
        assert safety.state == Snapshot.State.COMPLETE
        received = Restoration.objects.get(
            site=restore.site_id, wix_id=restore.restoration_wix_id
        ).requested_at
        ended = safety.finished_at
        assert ended.replace(microsecond=ended.microsecond // 1000 * 1000) <= received
    assert {op.state for op in snapshots} == {Operation.State.SUCCEEDED}
    for site, creds in sites:
        first, second, third = backups[site.pk]
        mirror = {b.wix_id: b.status for b in site.backups.all()}
        assert mirror[first] == mirror[second] == Backup.DELETED
        assert mirror[third] == Backup.READY
        assert sum(status == Backup.READY for status in mirror.values()) == 2
        assert (
            list(site.restorations.values_list("status", flat=True)) == [Restoration.COMPLETED] * 2
        )
        assert stock(creds.site_id) == 0  # the partial restore went elsewhere
        recovered = EmuItem.objects.get(
            collection__site_id=creds.site_id,
            collection__collection_id="Recovered",
            item_id="product-0001",
        )
        assert recovered.data["stock"] == originals[creds.site_id]

    # One list call per site per poll: a refresh serves all of a site's operations, so the list
    # calls of one site never come in bursts (one per operation would be milliseconds apart).
    for _, creds in sites:
        times = list(
            EmuRequestLog.objects.filter(
                site_id=creds.site_id, method="GET", path=LIST_PATH, at__gte=started
            )
            .order_by("at")
            .values_list("at", flat=True)
        )[1:]  # the first follows the connection check
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert times, "the site was never polled"
        assert min(gaps) > timedelta(seconds=POLL / 4), gaps


def test_with_a_fifth_of_requests_failing_every_operation_ends_right_and_none_twice(connect, owner):
    sites = [connect(f"Flaky {n}") for n in range(2)]
    for _, creds in sites:
        emu.set_faults(
            creds.site_id,
            error_rate=0.05,
            rate_limit_rate=0.05,
            delay_rate=0.05,
            delay_seconds=2.5,  # past the worker's 2 s read timeout: ambiguous
            drop_rate=0.05,
        )
    made = {site.pk: [ready_backup(site, owner) for _ in range(3)] for site, _ in sites}
    ops = []
    for site, _ in sites:
        ops.append(request(site, Operation.Kind.RESTORE, owner, backup_wix_id=made[site.pk][1]))
        ops.append(
            request(site, Operation.Kind.DELETE_BACKUP, owner, backup_wix_id=made[site.pk][0])
        )
    finished = wait_finished(ops, timeout=180)
    assert [op.error for op in finished if op.state != Operation.State.SUCCEEDED] == []

    for site, creds in sites:
        on_demand = EmuBackup.objects.filter(site_id=creds.site_id, type="ON_DEMAND")
        # Exactly one backup per request: no retry ever made a second one (or evicted one).
        assert on_demand.count() == 3
        assert sorted(str(b.id) for b in on_demand) == sorted(made[site.pk])
        assert on_demand.filter(delete_requested_at__isnull=False).count() == 1
        assert site.restorations.get().status == Restoration.COMPLETED
        assert emu.EmuRestoration.objects.filter(site_id=creds.site_id).count() == 1


def test_a_worker_killed_mid_operation_then_restarted_finishes_every_operation(
    workers, connect, owner
):
    sites = [connect(f"Crash {n}", backup=2.0) for n in range(3)]
    for _, creds in sites:
        # Slow answers keep the worker inside Wix calls when it dies.
        emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=1.0, count=1)
    ops = [request(site, Operation.Kind.CREATE_BACKUP, owner) for site, _ in sites]
    wait_for(
        lambda: EmuBackup.objects.filter(site_id__in=[c.site_id for _, c in sites]).exists(),
        30,
        what="a create to reach the emulator",
    )
    workers.worker.kill()
    workers.worker.start()

    finished = wait_finished(ops)
    for op, (_, creds) in zip(sorted(finished, key=lambda o: o.site.name), sites, strict=True):
        made = EmuBackup.objects.filter(site_id=creds.site_id)
        if op.state == Operation.State.SUCCEEDED:
            assert made.count() == 1  # adopted after the crash, not made again
            assert str(made.get().id) == op.backup_wix_id
        else:
            # Killed after noting the create as sent but before it left: never sent again, so
            # Wix made nothing, and the owner is told so once the landing window is over.
            assert op.error == landing.NOT_CONFIRMED
            assert made.count() == 0
    # The one whose create reached Wix before the kill was adopted.
    assert any(op.state == Operation.State.SUCCEEDED for op in finished)


def test_redis_down_when_the_owner_clicks_keeps_the_operation_and_completes_after(
    workers, connect, owner
):
    site, creds = connect("Outage")
    workers.redis.stop()

    op = request(site, Operation.Kind.CREATE_BACKUP, owner)
    op.refresh_from_db()
    assert op.state == Operation.State.QUEUED  # kept, although the broker is down

    workers.redis.start()
    (op,) = wait_finished([op], timeout=120)
    assert op.state == Operation.State.SUCCEEDED, op.error
    assert EmuBackup.objects.filter(site_id=creds.site_id).count() == 1


def test_backup_site_command_waits_for_ready_or_fails_with_the_reason(workers, connect, owner):
    site, creds = connect("Scripted")
    out = StringIO()
    call_command("backup_site", site.wix_site_id, "--wait", "--timeout", "120", stdout=out)
    assert "is READY" in out.getvalue()
    assert site.backups.get().status == Backup.READY

    emu.set_faults(creds.site_id, fail_rate=1.0)
    with pytest.raises(CommandError, match="Wix could not complete the backup") as failure:
        call_command("backup_site", site.name, "--wait", "--timeout", "120", stdout=StringIO())
    assert failure.value.returncode == 1


def test_the_worker_keeps_its_database_connection_from_task_to_task(connect, owner, workers):
    site, _ = connect("Shop")
    first = ready_backup(site, owner)
    second = ready_backup(site, owner)
    done = site.operations.filter(backup_wix_id__in=[first, second]).order_by("finished_at")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT backend_start FROM pg_stat_activity WHERE application_name = %s",
            [WORKER_DB_NAME],
        )
        opened = [row[0] for row in cursor.fetchall()]
    # Still connected between tasks, on a connection that already served the first backup's:
    # not one new PostgreSQL connection per task (CELERY_DB_REUSE_MAX, backupapp/celery.py).
    assert opened, "the worker holds no database connection between tasks"
    assert min(opened) < done[0].finished_at
