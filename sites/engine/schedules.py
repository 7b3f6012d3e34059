"""Schedules: what the owner sets, and the one beat tick that runs the due ones.

A schedule is a row (`Schedule`); its `next_run_at` is the only time the tick reads. The tick
claims a due row by compare-and-swap on that time (`filter(pk=…, next_run_at=old)
.update(next_run_at=new)`), so two ticks racing run each slot once, and asks for the operation
through the same path as a click (`operation_request`, `snapshot_request`) with `via=schedule`.
The new time is the next slot after *now*: runs missed while workers or Redis were down are
followed by one run, not one per missed slot.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import clock, schedules
from ..models import Activity, Operation, Site
from ..schedules_models import Schedule
from .errors import OperationRefused
from .requests import operation_request
from .snapshot_requests import snapshot_request
from .states import site_touch

logger = logging.getLogger(__name__)

# Upper bound of schedules one tick runs, so one tick ends whatever the backlog (the rest are
# still due at the next); taken TICK_GROUP rows per transaction.
TICK_BATCH = 5000
TICK_GROUP = 25


def _next(schedule: Schedule, zone_name: str | None, after: datetime) -> datetime | None:
    if schedule.paused:
        return None
    return schedules.next_run(
        frequency=schedule.frequency,
        at=schedule.at,
        weekday=schedule.weekday,
        zone=schedules.zone_named(zone_name),
        after=after,
    )


def _owner_zone_name(site: Site) -> str | None:
    owner = Site.objects.filter(pk=site.pk).values_list("owner__wbm_profile__time_zone", flat=True)
    return owner.first()


def schedule_set(
    *,
    site: Site,
    kind: str,
    frequency: str,
    at: time,
    weekday: int | None,
    paused: bool,
    user: AbstractBaseUser | None = None,
) -> Schedule:
    """Save a site's schedule of this kind (refused with the reason when it cannot be set) and
    work out its next run on the owner's clock."""
    reason = schedules.schedule_refusal(kind=kind, frequency=frequency, weekday=weekday)
    if reason:
        raise OperationRefused(reason)
    now = clock.now()
    values = {
        "frequency": frequency,
        "at": at.replace(second=0, microsecond=0),
        "weekday": weekday if weekday is not None else 0,
        "paused": paused,
        "updated_at": now,
    }
    with transaction.atomic():
        schedule, _ = Schedule.objects.select_for_update().get_or_create(
            site=site, kind=kind, defaults=values
        )
        for name, value in values.items():
            setattr(schedule, name, value)
        schedule.next_run_at = _next(schedule, _owner_zone_name(site), now)
        schedule.save()
        view = schedules.schedule_view(schedule)
        what = f"{view.label}: paused" if paused else f"{view.label}: {view.every.lower()}"
        Activity.objects.create(
            site=site, actor=user, outcome=Activity.INFO, message=f"Set the schedule of {what}"
        )
        site_touch(site.pk)
    return schedule


def schedules_replan(*, owner: AbstractBaseUser) -> int:
    """Work the next runs of an owner's schedules out again (their time zone changed)."""
    now = clock.now()
    changed = 0
    found = Schedule.objects.filter(site__owner=owner, paused=False).annotate(
        zone_name=F("site__owner__wbm_profile__time_zone")
    )
    for schedule in found:
        new = _next(schedule, schedule.zone_name, now)
        changed += Schedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
            next_run_at=new
        )
        site_touch(schedule.site_id)
    return changed


@dataclass
class TickResult:
    ran: list[str] = field(default_factory=list)  # schedules this tick ran
    refused: list[str] = field(default_factory=list)  # of those, the ones the rules refused


def schedules_run_due(*, limit: int = TICK_BATCH) -> TickResult:
    """The beat tick: run every due schedule once.

    The due rows are taken a group at a time, locked FOR UPDATE SKIP LOCKED for the group's
    transaction, so two ticks at once (a tick longer than the beat's interval) share the work
    rather than wait on or repeat each other's; a tick that dies leaves its group due.
    """
    result = TickResult()
    for _ in range(-(-limit // TICK_GROUP)):
        # Business time (clock.py), read once per group: which runs are due, and their next.
        now = clock.now()
        with transaction.atomic():
            group = list(
                Schedule.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(paused=False, next_run_at__lte=now)
                .select_related("site")
                .annotate(zone_name=F("site__owner__wbm_profile__time_zone"))
                .order_by("next_run_at")[:TICK_GROUP]
            )
            for schedule in group:
                outcome = _run_safely(schedule, now)
                if outcome is not None:
                    result.ran.append(str(schedule.pk))
                    if outcome:
                        result.refused.append(str(schedule.pk))
        if len(group) < TICK_GROUP:
            break
    return result


def _run_safely(schedule: Schedule, now: datetime) -> str | None:
    """`_run`, and a schedule whose run failed unexpectedly moves on to its next slot anyway
    (logged), so it is not retried at every tick."""
    try:
        return _run(schedule, now)
    except Exception:
        logger.exception("schedule %s of site %s failed to run", schedule.pk, schedule.site_id)
        new = _next(schedule, schedule.zone_name, now)
        Schedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
            next_run_at=new, last_run_at=now, last_error="The run failed; see the logs."
        )
        return "The run failed."


def _run(schedule: Schedule, now: datetime) -> str | None:
    """Claim one due schedule and ask for its operation, in one transaction: a tick that dies
    in between leaves the slot due (run by the next tick), never claimed and not run. Returns
    None when another tick had claimed it, else why the rules refused the run ("" when they
    did not)."""
    new = _next(schedule, schedule.zone_name, now)
    # Rows are stamped on the real clock: an operation made from here on is newer than this.
    began = timezone.now()
    with transaction.atomic():
        claimed = Schedule.objects.filter(
            pk=schedule.pk, paused=False, next_run_at=schedule.next_run_at
        ).update(next_run_at=new, last_run_at=now, updated_at=now)
        if not claimed:
            return None
        operation: Operation | None = None
        error = ""
        try:
            if schedule.kind == Schedule.Kind.BACKUP:
                operation = operation_request(
                    site=schedule.site, kind=Operation.Kind.CREATE_BACKUP, via=Activity.SCHEDULE
                )
            else:
                operation = snapshot_request(site=schedule.site, via=Activity.SCHEDULE)
        except OperationRefused as refused:
            # Logged by the request itself (who asked, and why not); the schedule says so too.
            error = str(refused)
        Schedule.objects.filter(pk=schedule.pk).update(last_operation=operation, last_error=error)
        if operation is not None and operation.created_at < began:
            # The one already running was returned (nothing new written): the page's "next:"
            # still moved. A new or refused request moved the version already.
            site_touch(schedule.site_id)
    logger.info("schedule %s of site %s ran %s", schedule.kind, schedule.site_id, error or "")
    return error
