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

from .. import schedules
from ..models import Activity, Operation, Site
from ..schedules_models import Schedule
from .errors import OperationRefused
from .requests import operation_request
from .snapshot_requests import snapshot_request
from .states import site_touch

logger = logging.getLogger(__name__)

# Upper bound of schedules one tick runs, so one tick stays short whatever the backlog; the rest
# are still due at the next tick.
TICK_BATCH = 500


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
    now = timezone.now()
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
    now = timezone.now()
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


def schedules_run_due() -> TickResult:
    """The beat tick: run every due schedule once (compare-and-swap claims, see above)."""
    now = timezone.now()
    due = list(
        Schedule.objects.filter(paused=False, next_run_at__lte=now)
        .select_related("site")
        .annotate(zone_name=F("site__owner__wbm_profile__time_zone"))
        .order_by("next_run_at")[:TICK_BATCH]
    )
    result = TickResult()
    for schedule in due:
        outcome = _run(schedule, now)
        if outcome is not None:
            result.ran.append(str(schedule.pk))
            if outcome:
                result.refused.append(str(schedule.pk))
    return result


def _run(schedule: Schedule, now: datetime) -> str | None:
    """Claim one due schedule and ask for its operation, in one transaction: a tick that dies
    in between leaves the slot due (run by the next tick), never claimed and not run. Returns
    None when another tick had claimed it, else why the rules refused the run ("" when they
    did not)."""
    new = _next(schedule, schedule.zone_name, now)
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
        site_touch(schedule.site_id)  # the page's "next:" moved
    logger.info("schedule %s of site %s ran %s", schedule.kind, schedule.site_id, error or "")
    return error
