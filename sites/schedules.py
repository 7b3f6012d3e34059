"""The schedule rules, each once: when a schedule next runs, what may be set, how it reads.

Pure functions of their arguments (no database, no clock): the engine's beat tick, the edit form
and the pages all ask here. Times are aware datetimes; the owner's wall clock is `zone`.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from .schedules_models import Schedule

HOURLY, DAILY, WEEKLY = (
    Schedule.Frequency.HOURLY,
    Schedule.Frequency.DAILY,
    Schedule.Frequency.WEEKLY,
)
# What each kind may be set to: Wix keeps only a few on-demand backups, so not hourly.
FREQUENCIES = {
    Schedule.Kind.SNAPSHOT: (HOURLY, DAILY, WEEKLY),
    Schedule.Kind.BACKUP: (DAILY, WEEKLY),
}
INTERVAL = {HOURLY: timedelta(hours=1), DAILY: timedelta(days=1), WEEKLY: timedelta(days=7)}


def zone_named(name: str | None) -> tzinfo:
    """The owner's zone from their Profile's name; blank or unknown: the installation's."""
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _at_local(day: date, at: time, zone: tzinfo) -> datetime:
    """The instant the owner's clock reads `at` on `day`.

    A time the clock skips (spring forward, 02:30 in Paris) is read with the offset before the
    change, so it falls an hour later on the new clock (03:30); a time the clock reads twice
    (fall back) is its first reading (fold=0): each day gives one instant, so a daily schedule
    runs once on those days too.
    """
    return datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=zone).astimezone(UTC)


def next_run(*, frequency: str, at: time, weekday: int, zone: tzinfo, after: datetime) -> datetime:
    """The first run of the schedule strictly after `after` (UTC).

    Hourly: every real hour, at the minute `at.minute` of the owner's clock (an hour the clock
    repeats in autumn runs twice, an hour it skips not at all: it runs every 60 minutes).
    Daily: at `at` on the owner's clock each day. Weekly: at `at` on `weekday` (Monday 0).
    Called with `after` = now, a run missed while nothing ran is followed by the next future
    slot, never by the slots it missed.
    """
    if after.tzinfo is None:
        raise ValueError("`after` must be an aware datetime")
    if frequency == HOURLY:
        local = after.astimezone(zone)
        candidate = local.replace(minute=at.minute, second=0, microsecond=0).astimezone(UTC)
        while candidate <= after:
            candidate += timedelta(hours=1)
        return candidate
    if frequency not in (DAILY, WEEKLY):
        raise ValueError(f"unknown frequency {frequency!r}")
    day = after.astimezone(zone).date() - timedelta(days=1)  # the day before covers any offset
    for _ in range(16):
        if frequency == DAILY or day.weekday() == weekday:
            candidate = _at_local(day, at, zone)
            if candidate > after:
                return candidate
        day += timedelta(days=1)
    raise AssertionError("a weekly slot falls within 16 days")  # pragma: no cover


def schedule_refusal(*, kind: str, frequency: str, weekday: int | None) -> str:
    """Why these settings cannot be saved ("" when they can)."""
    allowed = FREQUENCIES.get(kind)
    if allowed is None:
        return "Unknown schedule."
    if frequency not in allowed:
        names = ", ".join(Schedule.Frequency(f).label.lower() for f in allowed)
        what = Schedule.Kind(kind).label.lower()
        return f"{what.capitalize()} can be scheduled {names}; not {frequency or 'blank'}."
    if frequency == WEEKLY and (weekday is None or not 0 <= weekday <= 6):
        return "Choose the day of the week a weekly schedule runs on."
    return ""


@dataclass(frozen=True)
class ScheduleView:
    """What the site page and the dashboard show of one schedule."""

    kind: str
    frequency: str
    at: time
    weekday: int
    paused: bool
    next_run_at: datetime | None
    last_error: str = ""
    saved: bool = True

    @property
    def label(self) -> str:
        return Schedule.Kind(self.kind).label

    @property
    def every(self) -> str:
        """ "Every day at 03:00", "Every week on Monday at 03:00", "Every hour at :15"."""
        if self.frequency == HOURLY:
            return f"Every hour at :{self.at.minute:02d}"
        if self.frequency == WEEKLY:
            return f"Every {dict(Schedule.WEEKDAYS)[self.weekday]} at {self.at:%H:%M}"
        return f"Every day at {self.at:%H:%M}"


def default_schedule(kind: str) -> ScheduleView:
    """A schedule never set: shown paused, offered at the usual settings."""
    frequency = DAILY if kind == Schedule.Kind.SNAPSHOT else WEEKLY
    return ScheduleView(kind, frequency, time(3, 0), 0, True, None, saved=False)


def schedule_view(schedule: Schedule) -> ScheduleView:
    return ScheduleView(
        schedule.kind,
        schedule.frequency,
        schedule.at,
        schedule.weekday,
        schedule.paused,
        schedule.next_run_at,
        schedule.last_error,
    )


def next_words(when: datetime | None, now: datetime, zone: tzinfo) -> str:
    """ "today 03:00", "tomorrow 03:00", "Monday 03:00", "12 Mar 03:00" on the owner's clock."""
    if when is None:
        return "paused"
    local, today = when.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if days <= 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days < 7:
        return f"{local:%A} {clock}"
    return f"{local.day} {local:%b} {clock}"
