"""What the site page's Schedules section and the dashboard show of a site's schedules.

Read from the site's kept state (pages/state.py), so they cost no query of their own; the words
("next: tomorrow 03:00") are made per view, on the clock of the person looking.
"""

from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.utils import timezone

from .. import schedules
from ..schedules_models import Schedule
from .state import SiteState

# The order of the section: the Wix backups first, as on the page's tables.
KINDS = (Schedule.Kind.BACKUP, Schedule.Kind.SNAPSHOT)


@dataclass(frozen=True)
class ScheduleRow:
    schedule: schedules.ScheduleView
    now: datetime

    @property
    def kind(self) -> str:
        return self.schedule.kind

    @property
    def next_words(self) -> str:
        """ "tomorrow 03:00" or "paused", in the zone the page is drawn in (read at drawing)."""
        view = self.schedule
        when = None if view.paused else view.next_run_at
        return schedules.next_words(when, self.now, timezone.get_current_timezone())


def schedule_views(state: SiteState) -> dict[str, schedules.ScheduleView]:
    """Each kind's schedule: the saved one, or a paused default never saved."""
    saved = {values[0]: schedules.ScheduleView(*values) for values in state.schedules}
    return {kind: saved.get(kind) or schedules.default_schedule(kind) for kind in KINDS}


def schedule_rows(state: SiteState, now: datetime) -> list[ScheduleRow]:
    return [ScheduleRow(view, now) for view in schedule_views(state).values()]


def next_backup_words(state: SiteState, now: datetime, zone: tzinfo) -> str:
    """The dashboard's "next scheduled backup": "tomorrow 03:00", "paused" or "not scheduled"."""
    view = schedule_views(state)[Schedule.Kind.BACKUP]
    if not view.saved:
        return "not scheduled"
    return schedules.next_words(None if view.paused else view.next_run_at, now, zone)
