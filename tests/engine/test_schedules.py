"""The schedules' beat tick (engine/schedules.py): a due schedule runs exactly once, through the
same path as a click, even with two ticks racing; runs missed while nothing ran collapse to one."""

import threading
from datetime import UTC, time, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from sites import engine
from sites.engine.schedules import _run
from sites.models import Activity, Operation, Schedule
from sites.profiles import profile_set_time_zone
from tests.factories import make_site


def scheduled(site, kind=Schedule.Kind.BACKUP, frequency="daily", **fields) -> Schedule:
    schedule = engine.schedule_set(
        site=site, kind=kind, frequency=frequency, at=time(3, 0), weekday=0, paused=False
    )
    if fields:
        Schedule.objects.filter(pk=schedule.pk).update(**fields)
        schedule.refresh_from_db()
    return schedule


def due(site, kind=Schedule.Kind.BACKUP, ago=timedelta(minutes=1), **options) -> Schedule:
    return scheduled(site, kind, next_run_at=timezone.now() - ago, **options)


def test_a_due_backup_schedule_asks_for_a_backup_as_a_click_does_with_schedule_as_who_asked(
    transactional_db, owner
):
    site = make_site(owner)
    schedule = due(site)

    result = engine.schedules_run_due()

    assert result.ran == [str(schedule.pk)]
    operation = site.operations.get(kind=Operation.Kind.CREATE_BACKUP)
    assert (operation.kind, operation.state, operation.via) == (
        Operation.Kind.CREATE_BACKUP,
        Operation.State.QUEUED,
        Activity.SCHEDULE,
    )
    entry = site.activities.get(operation=operation)
    assert (entry.actor, entry.via, entry.outcome) == (None, "schedule", Activity.REQUESTED)
    schedule.refresh_from_db()
    assert schedule.last_operation == operation
    assert schedule.next_run_at > timezone.now()
    # The slot is taken: the next tick runs nothing.
    assert engine.schedules_run_due().ran == []
    assert site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).count() == 1
    # The site's setting holds for scheduled backups as for clicked ones: a snapshot beside it.
    assert site.operations.get(kind=Operation.Kind.SNAPSHOT).via == "schedule"


def test_a_snapshot_schedule_takes_a_snapshot(transactional_db, owner):
    site = make_site(owner, snapshot_with_backup=False)
    due(site, Schedule.Kind.SNAPSHOT, frequency="hourly")

    engine.schedules_run_due()

    operation = site.operations.get()
    assert (operation.kind, operation.via) == (Operation.Kind.SNAPSHOT, "schedule")
    assert operation.snapshot.state == "running"


def test_runs_missed_for_days_run_once_and_the_next_is_the_next_future_slot(
    transactional_db, owner
):
    site = make_site(owner, snapshot_with_backup=False)
    schedule = due(site, ago=timedelta(days=5, hours=3))

    assert engine.schedules_run_due().ran == [str(schedule.pk)]
    assert engine.schedules_run_due().ran == []

    assert site.operations.count() == 1
    schedule.refresh_from_db()
    now = timezone.now()
    assert now < schedule.next_run_at <= now + timedelta(days=1)


def test_a_paused_schedule_never_runs_and_has_no_next_run(transactional_db, owner):
    site = make_site(owner)
    schedule = due(site)
    engine.schedule_set(
        site=site,
        kind=Schedule.Kind.BACKUP,
        frequency="daily",
        at=time(3, 0),
        weekday=None,
        paused=True,
    )
    schedule.refresh_from_db()
    assert schedule.next_run_at is None
    assert engine.schedules_run_due().ran == []
    assert not site.operations.exists()


def test_a_tick_that_read_the_schedule_before_another_claimed_it_runs_nothing(
    transactional_db, owner
):
    site = make_site(owner, snapshot_with_backup=False)
    due(site)
    read_by_both = list(
        Schedule.objects.filter(site=site).annotate(
            zone_name=F("site__owner__wbm_profile__time_zone")
        )
    )

    first = _run(read_by_both[0], timezone.now())
    second = _run(read_by_both[0], timezone.now())

    assert (first, second) == ("", None)
    assert site.operations.count() == 1


@pytest.mark.concurrent
def test_two_ticks_racing_run_each_due_schedule_exactly_once(transactional_db, owner):
    if connection.vendor != "postgresql":
        pytest.skip("two ticks at once need PostgreSQL (make test starts one)")
    sites = [make_site(owner, name=f"S{n}", snapshot_with_backup=False) for n in range(30)]
    schedules = [due(site) for site in sites]
    start = threading.Barrier(2)
    results = []

    def tick():
        try:
            start.wait()
            results.append(engine.schedules_run_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    ran = [pk for result in results for pk in result.ran]
    assert sorted(ran) == sorted(str(s.pk) for s in schedules)  # each once, by one tick
    assert Operation.objects.filter(site__in=sites).count() == len(sites)


def test_a_backup_the_rules_refuse_is_logged_and_the_schedule_moves_on(transactional_db, owner):
    site = make_site(owner)
    schedule = due(site)
    running = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)

    engine.schedules_run_due()

    # A backup already running: the schedule's run is that one (as a second click would be).
    schedule.refresh_from_db()
    assert schedule.last_operation == running
    assert site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).count() == 1


def test_a_new_time_zone_moves_the_next_runs_to_the_new_clock(transactional_db, owner):
    site = make_site(owner)
    profile_set_time_zone(user=owner, time_zone="UTC")
    schedule = scheduled(site)
    assert schedule.next_run_at.astimezone(UTC).hour == 3

    profile_set_time_zone(user=owner, time_zone="Asia/Tokyo")  # UTC+9: 03:00 there is 18:00 UTC

    schedule.refresh_from_db()
    assert schedule.next_run_at.astimezone(UTC).hour == 18
