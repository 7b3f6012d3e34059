"""The owner's dashboard: every site with what runs and what needs attention."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .. import access, clock, rules
from ..models import Operation, Site
from .live import (
    Announcement,
    Live,
    dashboard_version_text,
    encode_watch,
    finished_operations,
    parse_watch,
)
from .schedules import next_backup_words
from .state import SiteState, site_attention, site_states


@dataclass
class DashboardRow:
    site: Site
    running: list[Operation]
    attention: list[rules.Attention]
    state: SiteState | None = None
    now: datetime | None = None

    @property
    def next_backup(self) -> str:
        """The next scheduled backup ("tomorrow 03:00", "paused"), in the zone the page is drawn
        in (read at drawing)."""
        if self.state is None or self.now is None:
            return ""
        return next_backup_words(self.state, self.now, timezone.get_current_timezone())

    @property
    def slots_free(self) -> int:
        return rules.slots_free(self.site.slots_used)


@dataclass
class Dashboard:
    rows: list[DashboardRow]
    live: Live

    @property
    def slots(self) -> int:
        return rules.slot_count()


def dashboard(*, owner: AbstractBaseUser, watched: str = "") -> Dashboard:
    now = clock.now()  # "next: …" on the business clock (clock.py), read once for the page
    sites = access.sites_to_view(owner)
    rows = [
        DashboardRow(site, state.running_operations(), site_attention(site), state=state, now=now)
        for site, state in zip(sites, site_states(sites), strict=True)
    ]
    states = {f"o.{op.pk}": op.state for row in rows for op in row.running}
    in_flight = any(
        r.running or r.site.pending_backups or r.site.pending_restorations for r in rows
    )
    previous = parse_watch(watched)
    announcements = []
    if previous:
        finished = finished_operations([s.pk for s in sites], previous)
        for key in previous:
            op = finished.get(key[2:])
            if op is not None:
                announcements.append(Announcement("operation", op, op.state, site=op.site))
    version = dashboard_version_text((s.pk, s.version) for s in sites)
    live = Live(version, encode_watch(states), in_flight, announcements)
    return Dashboard(rows=rows, live=live)
