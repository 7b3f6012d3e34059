"""When a schedule next runs (sites/schedules.py): the owner's wall clock, DST included."""

import itertools
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from sites import schedules
from sites.schedules_models import Schedule

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def nxt(frequency: str, after: datetime, at: time = time(3, 0), weekday: int = 0, zone=PARIS):
    return schedules.next_run(frequency=frequency, at=at, weekday=weekday, zone=zone, after=after)


def test_daily_runs_at_the_owners_time_today_if_still_ahead_else_tomorrow():
    # 01:00 UTC in January is 02:00 in Paris: 03:00 Paris today is 02:00 UTC.
    assert nxt("daily", utc(2026, 1, 10, 1, 0)) == utc(2026, 1, 10, 2, 0)
    assert nxt("daily", utc(2026, 1, 10, 2, 0)) == utc(2026, 1, 11, 2, 0)  # strictly after
    # Summer: Paris is UTC+2, so 03:00 there is 01:00 UTC.
    assert nxt("daily", utc(2026, 7, 10, 0, 59)) == utc(2026, 7, 10, 1, 0)


def test_daily_keeps_the_wall_clock_across_both_dst_changes():
    # Spring forward in Paris on 29 March 2026 (02:00 → 03:00): 03:00 CEST is 01:00 UTC.
    assert nxt("daily", utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1, 0)
    assert nxt("daily", utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 30, 1, 0)
    # Fall back on 25 October 2026 (03:00 → 02:00): 03:00 CET is 02:00 UTC.
    assert nxt("daily", utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 2, 0)


def test_a_time_the_clock_skips_runs_once_an_hour_later_and_a_repeated_one_runs_once():
    at = time(2, 30)
    # 02:30 does not exist in Paris on 29 March 2026: it runs at 03:30 CEST (01:30 UTC).
    assert nxt("daily", utc(2026, 3, 28, 12), at=at) == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 25 October 2026: the first (CEST, 00:30 UTC), and not again.
    first = nxt("daily", utc(2026, 10, 24, 12), at=at)
    assert first == utc(2026, 10, 25, 0, 30)
    assert nxt("daily", first, at=at) == utc(2026, 10, 26, 1, 30)


def test_weekly_picks_the_weekday_on_the_owners_calendar():
    # 11 January 2026 is a Sunday. Monday 03:00 in New York (UTC-5) is 08:00 UTC.
    assert nxt("weekly", utc(2026, 1, 11, 12), weekday=0, zone=NEW_YORK) == utc(2026, 1, 12, 8)
    # Just after it: a week later.
    assert nxt("weekly", utc(2026, 1, 12, 8), weekday=0, zone=NEW_YORK) == utc(2026, 1, 19, 8)
    # Late Sunday in New York is already Monday in UTC: the owner's Sunday counts.
    at = time(22, 0)
    assert nxt("weekly", utc(2026, 1, 12, 2), at=at, weekday=6, zone=NEW_YORK) == utc(
        2026, 1, 12, 3
    )


def test_hourly_runs_every_real_hour_at_the_owners_minute():
    at = time(0, 15)
    assert nxt("hourly", utc(2026, 1, 10, 1, 0), at=at) == utc(2026, 1, 10, 1, 15)
    assert nxt("hourly", utc(2026, 1, 10, 1, 15), at=at) == utc(2026, 1, 10, 2, 15)
    # Kolkata is UTC+5:30: :15 there is :45 UTC.
    assert nxt("hourly", utc(2026, 1, 10, 1, 0), at=at, zone=KOLKATA) == utc(2026, 1, 10, 1, 45)
    # Through the autumn change: hour after hour, 60 minutes apart.
    runs, when = [], utc(2026, 10, 24, 23, 30)
    for _ in range(4):
        when = nxt("hourly", when, at=at)
        runs.append(when)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(runs)] == [3600] * 3


def test_a_run_missed_for_days_is_followed_by_the_next_future_slot_only():
    missed_since = utc(2026, 1, 1, 2, 0)
    now = utc(2026, 1, 9, 12, 0)
    assert nxt("daily", now) == utc(2026, 1, 10, 2, 0)
    assert nxt("daily", now) > missed_since


def test_naive_times_and_unknown_frequencies_are_refused():
    with pytest.raises(ValueError):
        nxt("daily", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        nxt("monthly", utc(2026, 1, 1))


@pytest.mark.parametrize(
    ("kind", "frequency", "weekday", "refused"),
    [
        (Schedule.Kind.BACKUP, "hourly", 0, "Wix backups can be scheduled every day, every week"),
        (Schedule.Kind.BACKUP, "daily", None, ""),
        (Schedule.Kind.SNAPSHOT, "hourly", None, ""),
        (Schedule.Kind.SNAPSHOT, "weekly", None, "Choose the day of the week"),
        (Schedule.Kind.SNAPSHOT, "weekly", 7, "Choose the day of the week"),
        (Schedule.Kind.SNAPSHOT, "weekly", 6, ""),
        ("nothing", "daily", 0, "Unknown schedule."),
    ],
)
def test_what_a_schedule_may_be_set_to(kind, frequency, weekday, refused):
    reason = schedules.schedule_refusal(kind=kind, frequency=frequency, weekday=weekday)
    assert reason.startswith(refused) if refused else reason == ""


def test_next_words_read_on_the_owners_clock():
    now = utc(2026, 1, 10, 12, 0)  # Saturday
    assert schedules.next_words(None, now, PARIS) == "paused"
    assert schedules.next_words(utc(2026, 1, 10, 20, 0), now, PARIS) == "today 21:00"
    assert schedules.next_words(utc(2026, 1, 11, 2, 0), now, PARIS) == "tomorrow 03:00"
    assert schedules.next_words(utc(2026, 1, 12, 2, 0), now, PARIS) == "Monday 03:00"
    assert schedules.next_words(utc(2026, 1, 20, 2, 0), now, PARIS) == "20 Jan 03:00"
