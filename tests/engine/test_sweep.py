"""The sweeper driven step by step: what is due is claimed once, a site as a whole, in a few
queries however many sites; pending work nobody here asked for is watched until it ends."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sites import engine
from sites.models import Backup, Operation, Site
from wixemulator import services as emu

from .steps import advance, drive, ready_backup


def test_sweep_claims_a_site_once_however_many_operations_are_due(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    for kind, extra in (
        (Operation.Kind.CREATE_BACKUP, {}),
        (Operation.Kind.RESTORE, {"backup_wix_id": backup.wix_id}),
    ):
        drive(engine.operation_request(site=site, kind=kind, user=owner, **extra))
    Operation.objects.filter(state=Operation.State.SUBMITTED).update(due_at=timezone.now())

    first = engine.sweep()
    second = engine.sweep()

    assert first.refreshes == [str(site.pk)]
    assert second.refreshes == []  # still claimed: no second refresh while one may run


def test_sweep_watches_pending_work_nobody_here_asked_for_until_it_ends(store, settings):
    site, creds = store
    settings.WBM_WATCH_INTERVAL = 10
    emu.take_auto_backup(creds.site_id)  # PENDING for a minute on this site
    engine.site_refresh(site_id=site.pk, full=True)
    assert site.backups.get().status == Backup.PENDING

    assert engine.sweep().watches == []  # just refreshed
    Site.objects.filter(pk=site.pk).update(last_synced_at=timezone.now() - timedelta(seconds=11))
    assert engine.sweep().watches == [str(site.pk)]
    assert engine.sweep().watches == []  # claimed: one refresh at a time

    advance(creds)
    engine.site_refresh(site_id=site.pk, full=True, claimed=True)
    assert site.backups.get().status == Backup.READY
    Site.objects.filter(pk=site.pk).update(last_synced_at=timezone.now() - timedelta(seconds=11))
    assert engine.sweep().watches == []  # nothing pending any more


def test_sweep_claims_every_free_due_site_at_once_and_skips_those_held(store, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site, _ = store

    def due_sites(count: int) -> list[Site]:
        made = []
        for n in range(count):
            other = Site.objects.create(
                owner=owner,
                name=f"S{n}",
                wix_site_id=str(uuid.uuid4()),
                api_base_url=site.api_base_url,
            )
            Operation.objects.create(
                site=other,
                kind=Operation.Kind.CREATE_BACKUP,
                state=Operation.State.SUBMITTED,
                backup_wix_id=f"b{n}",
                due_at=timezone.now(),
            )
            made.append(other)
        return made

    def swept() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as queries:
            result = engine.sweep()
        return result.refreshes, len(queries)

    one = due_sites(1)
    refreshes, few = swept()
    assert refreshes == [str(one[0].pk)]
    many = due_sites(6)
    held = many[0]
    Site.objects.filter(pk=held.pk).update(
        refresh_claimed_until=timezone.now() + timedelta(seconds=60)
    )
    refreshes, queries = swept()
    assert refreshes == sorted(str(s.pk) for s in many[1:])  # the held one is left alone
    assert queries == few  # not one query per site
    assert engine.sweep().refreshes == []  # all claimed now


@pytest.mark.parametrize(
    ("due", "sizes"),
    [
        (0, []),
        (1, [1]),
        (4, [1, 1, 1, 1]),  # few due: one per task, each on a free worker at once
        (9, [3, 3, 3]),
        (40, [10, 10, 10, 10]),
        (1000, [10] * 100),  # a backlog: ten per task, a task's own cost paid once for ten
    ],
)
def test_due_sites_are_handed_out_in_small_groups(due, sizes):
    ids = [str(uuid.uuid4()) for _ in range(due)]
    chunks = list(engine.refresh_chunks(ids))
    assert [len(c) for c in chunks] == sizes
    assert [x for c in chunks for x in c] == ids  # each once, in order
